/**
 * `sentinel lab [--config FILE] [--rotate-secrets]`: runs the embedded reference system
 * (SpacetimeDB-compatible host, runtime and control services, traffic, admin API) and the Toxiproxy-compatible fault
 * proxy with the proxies `spacetimedb`, `runtime`, `control` in front, in the foreground until
 * SIGINT/SIGTERM. Reads only the optional `lab:` section of the config file: the rest of the
 * file references secrets this command is about to create. The lab keeps the secrets it finds
 * under its state directory (so a running sentinel keeps working across lab restarts);
 * `--rotate-secrets` starts it with fresh ones.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { pino } from 'pino';
import { LOG_LEVELS, durationMs, readYamlSource, validateSection, expecting } from '../config/index.js';
import { createLogger } from '../telemetry/index.js';
import { FaultProxyError } from '../errors.js';
import { httpExchange } from '../net/index.js';
import type { ExchangeResponse } from '../net/index.js';
import type { Lab, LabOptions } from '../lab/index.js';
import { DEFAULT_DATABASE_NAME, DEFAULT_LAB_PORTS, startLab } from '../lab/index.js';
import type { FaultProxyServer } from '../lab/fault-proxy/index.js';
import { startFaultProxy } from '../lab/fault-proxy/index.js';
import type { Command, CommandArgs, CommandIO } from './types.js';
import { ExitCodes } from './types.js';

/** DEFAULT_FAULT_PROXY_PORTS are the fixed fault-proxy ports of `sentinel lab` (the ones config/lab.yaml names). */
export const DEFAULT_FAULT_PROXY_PORTS = { api: 17474, spacetimedb: 17310, runtime: 17311, control: 17312 } as const;

const port = z.number(expecting('a port number 0-65535')).int().min(0).max(65535);

/** labSectionSchema validates the `lab:` section of a sentinel config file. */
const labSectionSchema = z
  .strictObject({
    host: z.string(expecting('a loopback address such as 127.0.0.1')).optional(),
    database: z.string(expecting('a database name')).min(1).optional(),
    state_dir: z.string(expecting('a directory path (relative to the config file)')).optional(),
    persist: z.boolean(expecting('true or false')).optional(),
    ports: z.strictObject({ spacetimedb: port.optional(), runtime: port.optional(), control: port.optional(), admin: port.optional(), fault_proxy_api: port.optional() }).optional(),
    proxies: z.strictObject({ spacetimedb: port.optional(), runtime: port.optional(), control: port.optional() }).optional(),
    fault_proxy: z.boolean(expecting('true or false (start the fault proxy)')).optional(),
    log_level: z.enum(LOG_LEVELS, expecting(`one of ${LOG_LEVELS.join(', ')}`)).optional(),
    websocket: z.strictObject({ ping_interval: durationMs.optional(), idle_timeout: durationMs.optional() }).optional(),
    token: z.strictObject({ issuer: z.string().min(1).optional(), audience: z.string().min(1).optional(), ttl: durationMs.optional() }).optional(),
    traffic: z
      .strictObject({
        streams: z.array(z.string().min(1), expecting('a list of stream ids')).optional(),
        clients: z.array(z.strictObject({ id: z.string().min(1), apply_per_second: z.number().min(0) }), expecting('a list of {id, apply_per_second}')).optional(),
        ack_interval: durationMs.optional(),
      })
      .optional(),
    knobs: z.record(z.string(), z.unknown(), expecting('a mapping of knob names to values (as POST /lab/knobs takes)')).optional(),
  })
  .optional();

/** LabSection is the validated `lab:` section. */
type LabSection = NonNullable<z.output<typeof labSectionSchema>>;

interface LabPlan {
  readonly options: LabOptions;
  readonly faultProxy: boolean;
  readonly apiPort: number;
  readonly proxies: { readonly spacetimedb: number; readonly runtime: number; readonly control: number };
}

function planFrom(section: LabSection, baseDir: string): LabPlan {
  const stateDir = section.state_dir === undefined ? resolve(baseDir, '.sentinel/lab') : isAbsolute(section.state_dir) ? section.state_dir : resolve(baseDir, section.state_dir);
  return {
    options: {
      host: section.host ?? '127.0.0.1',
      databaseName: section.database ?? DEFAULT_DATABASE_NAME,
      stateDir,
      persist: section.persist ?? false,
      ports: {
        spacetimedb: section.ports?.spacetimedb ?? DEFAULT_LAB_PORTS.spacetimedb,
        runtime: section.ports?.runtime ?? DEFAULT_LAB_PORTS.runtime,
        control: section.ports?.control ?? DEFAULT_LAB_PORTS.control,
        admin: section.ports?.admin ?? DEFAULT_LAB_PORTS.admin,
      },
      pingIntervalMs: section.websocket?.ping_interval,
      idleTimeoutMs: section.websocket?.idle_timeout,
      tokenIssuer: section.token?.issuer,
      tokenAudience: section.token?.audience,
      tokenTtlSeconds: section.token?.ttl === undefined ? undefined : Math.max(1, Math.round(section.token.ttl / 1000)),
      traffic: {
        streams: section.traffic?.streams,
        clients: section.traffic?.clients?.map((c) => ({ id: c.id, applyPerSecond: c.apply_per_second })),
        ackIntervalMs: section.traffic?.ack_interval,
      },
      knobs: section.knobs,
      // Logs go to stderr so stdout keeps the list of URLs.
      logger: createLogger({ level: section.log_level ?? 'warn', destination: pino.destination(2), base: { service: 'sentinel-lab' } }),
    },
    faultProxy: section.fault_proxy ?? true,
    apiPort: section.ports?.fault_proxy_api ?? DEFAULT_FAULT_PROXY_PORTS.api,
    proxies: {
      spacetimedb: section.proxies?.spacetimedb ?? DEFAULT_FAULT_PROXY_PORTS.spacetimedb,
      runtime: section.proxies?.runtime ?? DEFAULT_FAULT_PROXY_PORTS.runtime,
      control: section.proxies?.control ?? DEFAULT_FAULT_PROXY_PORTS.control,
    },
  };
}

/**
 * labStackOptionsFromConfig reads the `lab:` section of a config file (when given; paths are
 * relative to that file) into `startLabStack` options; without a file, DEFAULT_LAB_PORTS and
 * DEFAULT_FAULT_PROXY_PORTS.
 */
export function labStackOptionsFromConfig(configPath: string | undefined, cwd: string): LabStackOptions {
  const plan = loadLabPlan(configPath, cwd);
  return { lab: plan.options, faultProxy: plan.faultProxy, faultProxyApiPort: plan.apiPort, proxyPorts: plan.proxies };
}

/** loadLabPlan reads the `lab:` section of `--config` (when given); paths are relative to that file. */
function loadLabPlan(configPath: string | undefined, cwd: string): LabPlan {
  if (configPath === undefined) return planFrom({}, cwd);
  const abs = resolve(cwd, configPath);
  const source = readYamlSource(abs, configPath);
  const section = validateSection(source, ['lab'], labSectionSchema) ?? {};
  return planFrom(section, dirname(abs));
}

/** POPULATE_TIMEOUT_MS bounds the fault proxy's answer to creating the three proxies. */
const POPULATE_TIMEOUT_MS = 5000;

/** MAX_POPULATE_ANSWER_BYTES caps that answer: three proxies with their toxics are a few kilobytes. */
const MAX_POPULATE_ANSWER_BYTES = 1024 * 1024;

function hostPort(url: string): string {
  return new URL(url).host;
}

/**
 * createProxies puts the three proxies in front of the lab's services through the fault proxy's
 * API and returns each proxy's actual listen address (`host:port`; ports may have been 0).
 */
async function createProxies(apiUrl: string, host: string, lab: Lab, ports: LabPlan['proxies']): Promise<Map<string, string>> {
  const body = [
    { name: 'spacetimedb', listen: `${host}:${ports.spacetimedb}`, upstream: hostPort(lab.urls.spacetimedb), enabled: true },
    { name: 'runtime', listen: `${host}:${ports.runtime}`, upstream: hostPort(lab.urls.runtime), enabled: true },
    { name: 'control', listen: `${host}:${ports.control}`, upstream: hostPort(lab.urls.control), enabled: true },
  ];
  let res: ExchangeResponse;
  try {
    res = await httpExchange({
      method: 'POST',
      url: new URL(`${apiUrl}/populate`),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: POPULATE_TIMEOUT_MS,
      maxResponseBytes: MAX_POPULATE_ANSWER_BYTES,
    });
  } catch (err) {
    throw new FaultProxyError(`POST ${apiUrl}/populate failed; the lab's fault proxy did not answer (${(err as Error).message})`, { cause: err });
  }
  const text = res.body.toString('utf8');
  if (res.status !== 201 && res.status !== 200) {
    throw new FaultProxyError(`POST ${apiUrl}/populate answered ${res.status}: ${text.slice(0, 200)}; check that ports ${ports.spacetimedb}, ${ports.runtime} and ${ports.control} are free`, { status: res.status });
  }
  const listens = new Map<string, string>();
  try {
    const parsed = JSON.parse(text) as { proxies?: Array<{ name?: unknown; listen?: unknown }> };
    for (const p of parsed.proxies ?? []) if (typeof p.name === 'string' && typeof p.listen === 'string') listens.set(p.name, p.listen);
  } catch (err) {
    throw new FaultProxyError(`POST ${apiUrl}/populate answered a body that is not JSON; is ${apiUrl} a Toxiproxy-compatible API?`, { cause: err });
  }
  return listens;
}

/** LabStackOptions: the lab's options plus where the fault proxy and its three proxies listen. */
export interface LabStackOptions {
  readonly lab: LabOptions;
  /** faultProxy: start the fault proxy (default true). */
  readonly faultProxy?: boolean;
  readonly faultProxyApiPort?: number;
  readonly proxyPorts?: { readonly spacetimedb: number; readonly runtime: number; readonly control: number };
}

/** LabStack is a running lab with its fault proxy (what `sentinel lab` and the demo run). */
export interface LabStack {
  readonly lab: Lab;
  readonly faultProxy: FaultProxyServer | undefined;
  /** proxyUrls are the base URLs the sentinel should use (through the fault proxy), when started. */
  readonly proxyUrls: { readonly spacetimedb: string; readonly runtime: string; readonly control: string } | undefined;
  close(): Promise<void>;
}

/**
 * startLabStack starts the lab and, unless disabled, the fault proxy with the proxies
 * `spacetimedb`, `runtime`, `control` in front of it; on failure nothing is left running.
 */
export async function startLabStack(options: LabStackOptions): Promise<LabStack> {
  const host = options.lab.host ?? '127.0.0.1';
  const lab = await startLab(options.lab);
  let proxy: FaultProxyServer | undefined;
  let listens = new Map<string, string>();
  const ports = options.proxyPorts ?? { spacetimedb: DEFAULT_FAULT_PROXY_PORTS.spacetimedb, runtime: DEFAULT_FAULT_PROXY_PORTS.runtime, control: DEFAULT_FAULT_PROXY_PORTS.control };
  try {
    if (options.faultProxy ?? true) {
      const apiPort = options.faultProxyApiPort ?? DEFAULT_FAULT_PROXY_PORTS.api;
      try {
        proxy = await startFaultProxy({ host, port: apiPort, logger: options.lab.logger });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') throw new FaultProxyError(`lab option ports.fault_proxy_api: cannot listen on ${host}:${apiPort} (${code}); stop whatever uses it or choose another port`, { cause: err });
        throw err;
      }
      listens = await createProxies(proxy.url, host, lab, ports);
    }
  } catch (err) {
    await proxy?.close();
    await lab.close();
    throw err;
  }
  return {
    lab,
    faultProxy: proxy,
    proxyUrls: proxy
      ? {
          spacetimedb: `http://${listens.get('spacetimedb') ?? `${host}:${ports.spacetimedb}`}`,
          runtime: `http://${listens.get('runtime') ?? `${host}:${ports.runtime}`}`,
          control: `http://${listens.get('control') ?? `${host}:${ports.control}`}`,
        }
      : undefined,
    async close(): Promise<void> {
      await proxy?.close();
      await lab.close();
    },
  };
}

async function run(args: CommandArgs, io: CommandIO): Promise<number> {
  const configPath = typeof args.options.config === 'string' ? args.options.config : undefined;
  if (args.positionals.length > 0) {
    io.stderr.write(`sentinel lab: unexpected argument '${args.positionals[0]}'; pass the file with --config FILE\n`);
    return ExitCodes.usage;
  }
  const planned = labStackOptionsFromConfig(configPath, io.cwd);
  const options: LabStackOptions = args.options['rotate-secrets'] === true ? { ...planned, lab: { ...planned.lab, rotateSecrets: true } } : planned;
  const stack = await startLabStack(options);
  const { lab, faultProxy: proxy } = stack;
  const out = io.stdout;
  out.write(`sentinel lab: database '${lab.databaseName}' is up\n`);
  out.write(`  spacetimedb   ${lab.urls.spacetimedb}   (ws ${lab.urls.spacetimedb.replace(/^http/, 'ws')}/v1/database/${lab.databaseName}/subscribe)\n`);
  out.write(`  runtime       ${lab.urls.runtime}/internal/v1/spacetime/sync/metrics\n`);
  out.write(`  control       ${lab.urls.control}/api/sync/token\n`);
  out.write(`  lab admin     ${lab.urls.admin}/lab/state  (POST ${lab.urls.admin}/lab/knobs)\n`);
  if (proxy) {
    out.write(`  fault proxy   ${proxy.url}  (Toxiproxy API)\n`);
    const urls = stack.proxyUrls;
    out.write(`    proxy spacetimedb  ${urls?.spacetimedb} -> ${hostPort(lab.urls.spacetimedb)}\n`);
    out.write(`    proxy runtime      ${urls?.runtime} -> ${hostPort(lab.urls.runtime)}\n`);
    out.write(`    proxy control      ${urls?.control} -> ${hostPort(lab.urls.control)}\n`);
  }
  if (lab.secretFiles) {
    out.write(`  secrets (mode 0600; ${options.lab.rotateSecrets ? 'rotated at this start' : 'kept from the last start when present'}):\n`);
    out.write(`    control session token  ${lab.secretFiles.controlSessionToken}\n`);
    out.write(`    control PAT            ${lab.secretFiles.controlPersonalAccessToken}\n`);
    out.write(`    JWT signing key        ${lab.secretFiles.jwtSigningKey}\n`);
  }
  out.write('Press Ctrl-C to stop.\n');
  await new Promise<void>((resolveWait) => {
    if (io.signal.aborted) resolveWait();
    else io.signal.addEventListener('abort', () => resolveWait(), { once: true });
  });
  out.write('sentinel lab: stopping\n');
  await stack.close();
  out.write('sentinel lab: stopped\n');
  return ExitCodes.ok;
}

/** labCommand is `sentinel lab`. */
export const labCommand: Command = {
  options: { config: { type: 'string' }, 'rotate-secrets': { type: 'boolean' } },
  run,
};
