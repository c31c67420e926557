/**
 * startLabEnvironment: the lab and its fault proxy on ephemeral loopback ports plus a sentinel
 * configuration pointing at them, written from the shipped `config/lab.yaml` with only this run's
 * addresses and paths substituted. `sentinel demo`, the end-to-end tests and the benchmarks use it,
 * so they exercise the shipped configuration rather than a copy of it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { Clock } from '../time/index.js';
import { ToxiproxyFaultDriver } from '../drills/index.js';
import { labStackOptionsFromConfig, startLabStack } from './lab.js';
import type { LabStack } from './lab.js';

/** REPO_ROOT is the checkout (or installed package) this file belongs to. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** LabEnvironmentOptions say where this run keeps its files and what to change in the config. */
export interface LabEnvironmentOptions {
  /** workDir holds the lab's state and secrets, the daemon's data and the written config. */
  readonly workDir: string;
  /** evidenceDir receives drill evidence. */
  readonly evidenceDir: string;
  /** drillFiles replace `config/drills/*.yaml` (absolute globs). */
  readonly drillFiles?: readonly string[];
  /** knobs are applied to the lab at start (as POST /lab/knobs). */
  readonly knobs?: Record<string, unknown>;
  /** patchConfig edits the YAML document before it is written (shorter timeouts in tests). */
  readonly patchConfig?: (doc: Document) => void;
  /** idleTimeoutMs replaces SpacetimeDB's 30 s idle drop in the lab (tests). */
  readonly idleTimeoutMs?: number;
  /** clock drives the lab's time; tests share one ManualClock between the lab and the daemon. */
  readonly clock?: Clock;
  /** tickMs is the period of the lab's traffic and counter ticker (default 100 ms). */
  readonly tickMs?: number;
}

/** LabEnvironment is a running lab with a config file for the sentinel to watch it with. */
export interface LabEnvironment {
  readonly stack: LabStack;
  readonly configFile: string;
  /** urls are what the sentinel uses: the fault proxy's ports in front of each service. */
  readonly urls: { readonly spacetimedb: string; readonly runtime: string; readonly control: string; readonly toxiproxy: string; readonly admin: string };
  close(): Promise<void>;
}

function labConfigYaml(env: LabEnvironment['urls'], options: LabEnvironmentOptions, secrets: string): string {
  const doc = parseDocument(readFileSync(join(REPO_ROOT, 'config', 'lab.yaml'), 'utf8'));
  doc.setIn(['target', 'spacetimedb', 'base_url'], env.spacetimedb);
  doc.setIn(['target', 'runtime', 'base_url'], env.runtime);
  doc.setIn(['target', 'control', 'base_url'], env.control);
  doc.setIn(['target', 'control', 'session_token'], `\${file:${join(secrets, 'control-session-token')}}`);
  doc.setIn(['target', 'control', 'jwt_signing_key'], `\${file:${join(secrets, 'jwt-signing-key')}}`);
  doc.setIn(['rules', 'files'], [join(REPO_ROOT, 'config', 'rules', '*.rules.yaml')]);
  doc.setIn(['drills', 'files'], [...(options.drillFiles ?? [join(REPO_ROOT, 'config', 'drills', '*.yaml')])]);
  doc.setIn(['drills', 'toxiproxy_url'], env.toxiproxy);
  doc.setIn(['drills', 'evidence_dir'], options.evidenceDir);
  doc.setIn(['server', 'listen'], '127.0.0.1:0');
  doc.setIn(['storage', 'data_dir'], join(options.workDir, 'data'));
  doc.setIn(['log', 'level'], 'warn');
  doc.deleteIn(['lab']);
  options.patchConfig?.(doc);
  return doc.toString();
}

/** startLabEnvironment starts the lab stack and writes `<workDir>/sentinel.yaml`. */
export async function startLabEnvironment(options: LabEnvironmentOptions): Promise<LabEnvironment> {
  mkdirSync(options.workDir, { recursive: true });
  const base = labStackOptionsFromConfig(join(REPO_ROOT, 'config', 'lab.yaml'), REPO_ROOT);
  const stateDir = join(options.workDir, 'lab');
  const stack = await startLabStack({
    ...base,
    lab: {
      ...base.lab,
      stateDir,
      ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 },
      ...(options.knobs ? { knobs: options.knobs } : {}),
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
    },
    faultProxyApiPort: 0,
    proxyPorts: { spacetimedb: 0, runtime: 0, control: 0 },
  });
  try {
    const toxiproxy = stack.faultProxy?.url ?? '';
    // The proxies were created on port 0: read the ports they were given.
    const proxies = new Map((await new ToxiproxyFaultDriver({ url: toxiproxy }).listProxies()).map((p) => [p.name, `http://${p.listen}`]));
    const urls = { spacetimedb: proxies.get('spacetimedb') ?? '', runtime: proxies.get('runtime') ?? '', control: proxies.get('control') ?? '', toxiproxy, admin: stack.lab.urls.admin };
    const configFile = join(options.workDir, 'sentinel.yaml');
    writeFileSync(configFile, labConfigYaml(urls, options, join(stateDir, 'secrets')));
    return { stack, configFile, urls, close: () => stack.close() };
  } catch (err) {
    await stack.close();
    throw err;
  }
}
