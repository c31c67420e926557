/**
 * loadConfig: reads, resolves and validates the daemon's configuration file. Validation
 * collects every problem; the caller gets either a complete `Config` or a ConfigError whose
 * `issues` are all the `FILE:LINE:COL: ...` lines. On reload, build a new Config and swap it
 * in only when this succeeds.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { formatIssues } from './config-issue.js';
import type { ConfigIssue } from './config-issue.js';
import { DAEMON_KEY_HINTS, daemonSchema } from './daemon-schema.js';
import { listenAddress } from './field-schemas.js';
import type { DaemonFile } from './daemon-schema.js';
import { LOG_LEVELS, PROBE_NAMES } from './types.js';
import type { Config, LogLevel, ProbeConfig, ProbeName, ProbeParams, ProbesConfig, RemoteWriteTarget } from './types.js';
import { checkSection } from './validate-section.js';
import { readYamlSource } from './read-yaml.js';
import type { YamlFile, YamlPath } from '../yaml/index.js';
import { formatDurationMs } from '../time/index.js';

/** LoadConfigOptions: where references resolve from, and what overrides the file. */
export interface LoadConfigOptions {
  /** env resolves `${ENV_VAR}` references, `LOG_LEVEL` and `SENTINEL_LISTEN`; pass `io.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** cwd resolves a relative `file` (default: process.cwd()). */
  readonly cwd?: string;
  /** overrides come from command-line flags. */
  readonly overrides?: ConfigOverrides;
}

/**
 * ConfigOverrides are the settings a container sets from outside the file: a command-line flag
 * wins over the environment variable, which wins over the file.
 */
export interface ConfigOverrides {
  /** listen is `--listen HOST:PORT`; else `SENTINEL_LISTEN`; else `server.listen`. */
  readonly listen?: string;
  /** logLevel is `--log-level LEVEL`; else `LOG_LEVEL`; else `log.level`. */
  readonly logLevel?: string;
}

/**
 * ConfigCheck is the outcome of checkConfig. `overridden` names each setting that did not come
 * from the file and where it came from (`{"server.listen": "SENTINEL_LISTEN (environment)"}`).
 */
export type ConfigCheck =
  | { readonly ok: true; readonly config: Config; readonly overridden: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly issues: readonly string[] };

type Params = DaemonFile['probes'];

function toProbeParams(name: ProbeName, raw: Record<string, unknown>, file: DaemonFile): ProbeParams[ProbeName] {
  switch (name) {
    case 'replay_lag':
      return { ...(raw.streams === undefined ? {} : { streams: raw.streams as string[] }), activityWindowMs: raw.activity_window as number };
    case 'delivery':
      return { canaryStream: raw.canary_stream as string, receiveTimeoutMs: raw.receive_timeout as number };
    case 'resume':
      return { stream: raw.stream as string, clientId: raw.client_id as string, eventsWhileAway: raw.events_while_away as number, receiveTimeoutMs: raw.receive_timeout as number };
    case 'connections':
      return { sessions: raw.sessions as number, settleTimeoutMs: raw.settle_timeout as number };
    case 'token':
      return {
        mintsPerRun: raw.mints_per_run as number,
        clockSkewMs: raw.clock_skew as number,
        ...(raw.scopes !== undefined ? { scopes: raw.scopes as string[] } : {}),
        ...(raw.ttl_seconds !== undefined ? { ttlSeconds: raw.ttl_seconds as number } : {}),
        ...(raw.issuer !== undefined ? { issuer: raw.issuer as string } : {}),
        ...(raw.audience !== undefined ? { audience: raw.audience as string } : {}),
      };
    case 'retired_routes':
      return raw.extra_routes === undefined ? {} : { extraRoutes: raw.extra_routes as string[] };
    case 'health':
      return { services: [...new Set(raw.services as ProbeParams['health']['services'])] };
    case 'preflight':
      return { env: (raw.env as DaemonFile['environment'] | undefined) ?? file.environment };
    default:
      return {};
  }
}

/** WAIT_PARAMS are the params a probe waits on inside its own timeout. */
const WAIT_PARAMS: Readonly<Record<string, string>> = { delivery: 'receive_timeout', resume: 'receive_timeout', connections: 'settle_timeout' };

function crossCheck(file: DaemonFile): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const probes = file.probes as Params;
  for (const name of PROBE_NAMES) {
    const probe = probes[name];
    const waitKey = WAIT_PARAMS[name];
    if (!probe || !waitKey) continue;
    const waitMs = (probe.params as Record<string, number>)[waitKey];
    if (probe.timeout <= waitMs) {
      issues.push({
        path: ['probes', name, 'timeout'],
        at: 'value',
        message: `timeout ${formatDurationMs(probe.timeout)} does not leave room for params.${waitKey} ${formatDurationMs(waitMs)} (expected a timeout longer than ${formatDurationMs(waitMs)})`,
      });
    }
  }
  // The canaries write only under their namespace (streams and checkpoint client ids).
  const namespace = file.probes.canary.namespace;
  const canaryIds: Array<[ProbeName, string, string | undefined]> = [
    ['delivery', 'canary_stream', probes.delivery?.params.canary_stream],
    ['resume', 'stream', probes.resume?.params.stream],
    ['resume', 'client_id', probes.resume?.params.client_id],
  ];
  for (const [name, key, value] of canaryIds) {
    if (value !== undefined && !value.startsWith(namespace)) {
      issues.push({ path: ['probes', name, 'params', key], at: 'value', message: `${value} is outside the canary namespace ${JSON.stringify(namespace)} (probes.canary.namespace); the sentinel writes only under it` });
    }
  }
  issues.push(...remoteWriteIssues(file));
  if (file.query_source?.basic_auth && file.query_source.bearer_token) issues.push({ path: ['query_source', 'bearer_token'], at: 'key', message: 'basic_auth and bearer_token are both set (expected at most one of them)' });
  return issues;
}

/** remoteWriteIssues checks what the remote-write schema cannot: one credential, unique names, sane queue bounds. */
function remoteWriteIssues(file: DaemonFile): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  file.export.remote_write.forEach((r, i) => {
    const at = ['export', 'remote_write', i];
    if (r.basic_auth && r.bearer_token) issues.push({ path: [...at, 'bearer_token'], at: 'key', message: 'basic_auth and bearer_token are both set (expected at most one of them)' });
    const name = remoteWriteName(r);
    const first = seen.get(name);
    if (first !== undefined) {
      issues.push({ path: [...at, r.name === undefined ? 'url' : 'name'], at: 'value', message: `remote_write[${first}] already uses the name ${JSON.stringify(name)} (expected a distinct name per endpoint: set name, which names the queue file and the remote_name label)` });
    } else seen.set(name, i);
    if (r.queue.max_backoff < r.queue.min_backoff) issues.push({ path: [...at, 'queue', 'max_backoff'], at: 'value', message: `max_backoff ${formatDurationMs(r.queue.max_backoff)} is shorter than min_backoff ${formatDurationMs(r.queue.min_backoff)} (expected max_backoff >= min_backoff)` });
    if (r.queue.capacity < r.queue.max_samples_per_send) issues.push({ path: [...at, 'queue', 'capacity'], at: 'value', message: `capacity ${r.queue.capacity} is smaller than max_samples_per_send ${r.queue.max_samples_per_send} (expected capacity >= max_samples_per_send)` });
  });
  return issues;
}

/** remoteWriteName is an endpoint's name: the configured one, else its host and port. */
export function remoteWriteName(entry: { readonly name?: string; readonly url: string }): string {
  if (entry.name !== undefined) return entry.name;
  const url = new URL(entry.url);
  return `${url.hostname}_${url.port || (url.protocol === 'https:' ? '443' : '80')}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function toRemoteWrite(r: DaemonFile['export']['remote_write'][number], dataDir: string): RemoteWriteTarget {
  const name = remoteWriteName(r);
  return {
    name,
    url: r.url,
    timeoutMs: r.remote_timeout,
    externalLabels: r.external_labels,
    ...(r.basic_auth ? { basicAuth: { username: r.basic_auth.username, password: r.basic_auth.password } } : {}),
    ...(r.bearer_token ? { bearerToken: r.bearer_token } : {}),
    queue: {
      capacity: r.queue.capacity,
      maxSamplesPerSend: r.queue.max_samples_per_send,
      batchSendDeadlineMs: r.queue.batch_send_deadline,
      minBackoffMs: r.queue.min_backoff,
      maxBackoffMs: r.queue.max_backoff,
    },
    queueFile: resolve(dataDir, 'remote-write', `${name}.sqlite`),
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

function toConfig(f: DaemonFile, absFile: string, baseDir: string, logLevel: LogLevel): Config {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const probes: Record<string, ProbeConfig> = {};
  for (const name of PROBE_NAMES) {
    const p = f.probes[name];
    if (!p) continue;
    probes[name] = {
      name,
      enabled: p.enabled,
      schedule: p.schedule,
      timeoutMs: p.timeout,
      retries: p.retries,
      jitterMs: p.jitter,
      params: toProbeParams(name, p.params as Record<string, unknown>, f),
    } as ProbeConfig;
  }
  const s = f.target.spacetimedb;
  const dataDir = at(f.storage.data_dir);
  const listen = f.server.listen;
  const listenHost = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return deepFreeze({
    file: absFile,
    baseDir,
    environment: f.environment,
    target: {
      spacetimedb: {
        baseUrl: s.base_url,
        database: s.database,
        websocketPath: s.websocket_path.replaceAll('{database}', encodeURIComponent(s.database)),
        healthPath: s.health_path,
        ...(s.token ? { token: s.token } : {}),
        requestTimeoutMs: s.request_timeout,
        maxResponseBytes: s.max_response_bytes,
      },
      runtime: {
        baseUrl: f.target.runtime.base_url,
        metricsPath: f.target.runtime.metrics_path,
        ...(f.target.runtime.token ? { token: f.target.runtime.token } : {}),
        requestTimeoutMs: f.target.runtime.request_timeout,
      },
      control: {
        baseUrl: f.target.control.base_url,
        sessionToken: f.target.control.session_token,
        ...(f.target.control.jwt_signing_key ? { jwtSigningKey: f.target.control.jwt_signing_key } : {}),
        jwtFallbackSigningKeys: f.target.control.jwt_fallback_signing_keys ?? [],
        requestTimeoutMs: f.target.control.request_timeout,
      },
    },
    probes: probes as ProbesConfig,
    canary: { readOnly: f.probes.read_only, namespace: f.probes.canary.namespace, dailyEventBudget: f.probes.canary.daily_event_budget },
    rules: {
      files: f.rules.files.map(at),
      evaluationIntervalMs: f.rules.evaluation_interval,
      lookbackDeltaMs: f.rules.lookback_delta,
      queryTimeoutMs: f.rules.query_timeout,
    },
    alerting: {
      resendDelayMs: f.alerting.resend_delay,
      externalUrl: f.alerting.external_url ?? `http://${listenHost}:${listen.port}`,
      externalLabels: f.alerting.external_labels,
      queueCapacity: f.alerting.queue_capacity,
      queueDir: f.alerting.queue_dir === undefined ? resolve(dataDir, 'notify') : at(f.alerting.queue_dir),
      alertmanagers: f.alerting.alertmanagers.map((a) => ({ url: a.url, timeoutMs: a.timeout, ...(a.bearer_token ? { bearerToken: a.bearer_token } : {}) })),
      webhooks: f.alerting.webhooks.map((w) => ({ url: w.url, timeoutMs: w.timeout, receiver: w.receiver, ...(w.bearer_token ? { bearerToken: w.bearer_token } : {}) })),
      log: f.alerting.log,
    },
    drills: {
      files: f.drills.files.map(at),
      toxiproxyUrl: f.drills.toxiproxy_url,
      evidenceDir: at(f.drills.evidence_dir),
      allowProd: f.drills.allow_prod,
      ...(f.drills.manifest_hmac_key ? { manifestHmacKey: f.drills.manifest_hmac_key } : {}),
      schedules: f.drills.schedules.map((d) => ({ drill: d.drill, cron: d.cron })),
      ...(f.drills.lease
        ? {
            lease: {
              postgres: { url: f.drills.lease.postgres.url, ...(f.drills.lease.postgres.password ? { password: f.drills.lease.postgres.password } : {}) },
              name: f.drills.lease.name ?? `spacetime-sentinel/${f.environment}`,
              ...(f.drills.lease.holder ? { holder: f.drills.lease.holder } : {}),
              ttlMs: f.drills.lease.ttl,
            },
          }
        : {}),
      evidenceRetention: { keepLast: f.drills.evidence_retention.keep_last, keepWithinMs: f.drills.evidence_retention.keep_within },
      gate: {
        requiredDrills: f.drills.gate.required_drills,
        maxEvidenceAgeMs: f.drills.gate.max_evidence_age,
        soakWindowMs: f.drills.gate.soak_window,
        deliveryP95MaxSeconds: f.drills.gate.delivery_p95_max_seconds,
        errorBudgetRatioMax: f.drills.gate.error_budget_ratio_max,
      },
    },
    server: {
      listen: { host: listen.host, port: listen.port },
      ...(f.server.admin_token ? { adminToken: f.server.admin_token } : {}),
      shutdownTimeoutMs: f.server.shutdown_timeout,
      queryTimeoutMs: f.server.query_timeout,
      queryMaxSamples: f.server.query_max_samples,
    },
    storage: { dataDir, retentionMs: f.storage.retention, maxSeries: f.storage.max_series },
    rollout: {
      outputDir: at(f.rollout.output_dir),
      sloWindowMs: f.rollout.slo_window,
      cohortEffectTimeoutMs: f.rollout.cohort_effect_timeout,
      statusPollIntervalMs: f.rollout.status_poll_interval,
      soak: { probes: f.rollout.soak.probes, probeIntervalMs: f.rollout.soak.probe_interval, failedProbeStreak: f.rollout.soak.failed_probe_streak },
      ...(f.rollout.chaos_suite ? { chaosSuite: f.rollout.chaos_suite } : {}),
      rollbackDrill: { recoveryTimeoutMs: f.rollout.rollback_drill.recovery_timeout, ...(f.rollout.rollback_drill.user_id ? { userId: f.rollout.rollback_drill.user_id } : {}) },
    },
    export: { compatMetrics: f.export.compat_metrics, remoteWrite: f.export.remote_write.map((r) => toRemoteWrite(r, dataDir)) },
    ...(f.query_source
      ? {
          querySource: {
            url: f.query_source.url,
            timeoutMs: f.query_source.timeout,
            ...(f.query_source.basic_auth ? { basicAuth: { username: f.query_source.basic_auth.username, password: f.query_source.basic_auth.password } } : {}),
            ...(f.query_source.bearer_token ? { bearerToken: f.query_source.bearer_token } : {}),
          },
        }
      : {}),
    log: { level: logLevel },
    ...(f.lab ? { lab: f.lab } : {}),
  });
}

/** isNameMapPath: `probes` is keyed by probe names, and one probe is called `token`. */
function isNameMapPath(path: YamlPath): boolean {
  return path.length === 1 && path[0] === 'probes';
}

/**
 * isPlainPath: subtrees whose keys are data (label maps, whose label may well be called `token`)
 * or validated elsewhere (lab), never secrets. The path is the subtree's own key.
 */
function isPlainPath(path: YamlPath): boolean {
  return (
    (path.length === 2 && path[0] === 'alerting' && path[1] === 'external_labels') ||
    (path.length === 4 && path[0] === 'export' && path[1] === 'remote_write' && path[3] === 'external_labels') ||
    (path.length === 1 && path[0] === 'lab')
  );
}

/** Override is a setting taken from a flag or the environment, with where it came from. */
interface Override {
  readonly value: string;
  readonly from: string;
}

/** overrideOf returns the flag when given, else the environment variable when set and not empty. */
function overrideOf(flag: string | undefined, flagName: string, env: Readonly<Record<string, string | undefined>>, envName: string): Override | undefined {
  if (flag !== undefined && flag !== '') return { value: flag, from: flagName };
  const value = env[envName];
  return value !== undefined && value !== '' ? { value, from: `${envName} (environment)` } : undefined;
}

/** checkSource validates an already parsed daemon config file. */
export function checkSource(source: YamlFile, absFile: string, env: Readonly<Record<string, string | undefined>>, overrides: ConfigOverrides = {}): ConfigCheck {
  const baseDir = dirname(absFile);
  if (source.doc.contents === null) {
    return { ok: false, issues: [`${source.file}:1:1: (top level): the file is empty (expected a mapping with at least environment and target)`] };
  }
  const result = checkSection(source, [], daemonSchema, { references: { baseDir, env, isPlain: isPlainPath, isNameMap: isNameMapPath }, keyHints: DAEMON_KEY_HINTS });
  const lines: string[] = [];
  if (!result.ok) lines.push(...formatIssues(source, result.issues));
  else lines.push(...formatIssues(source, crossCheck(result.value)));
  const level = overrideOf(overrides.logLevel, '--log-level', env, 'LOG_LEVEL');
  if (level && !(LOG_LEVELS as readonly string[]).includes(level.value)) {
    lines.push(`${source.file}: ${level.from}: invalid value ${JSON.stringify(level.value)} (expected one of ${LOG_LEVELS.join(', ')})`);
  }
  const listen = overrideOf(overrides.listen, '--listen', env, 'SENTINEL_LISTEN');
  const listenParsed = listen ? listenAddress.safeParse(listen.value) : undefined;
  if (listen && listenParsed && !listenParsed.success) {
    lines.push(`${source.file}: ${listen.from}: ${listenParsed.error.issues[0]?.message ?? `invalid listen address ${JSON.stringify(listen.value)}`}`);
  }
  if (!result.ok || lines.length > 0) return { ok: false, issues: lines };
  const overridden: Record<string, string> = {};
  let file = result.value;
  if (listen && listenParsed?.success) {
    file = { ...file, server: { ...file.server, listen: listenParsed.data } };
    overridden['server.listen'] = listen.from;
  }
  if (level) overridden['log.level'] = level.from;
  return { ok: true, config: toConfig(file, absFile, baseDir, level ? (level.value as LogLevel) : file.log.level), overridden };
}

/** checkConfig reads and validates a daemon config file; it returns every problem instead of throwing. */
export function checkConfig(file: string, options: LoadConfigOptions = {}): ConfigCheck {
  const absFile = resolve(options.cwd ?? process.cwd(), file);
  let source: YamlFile;
  try {
    source = readYamlSource(absFile, file);
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, issues: err.issues };
    throw err;
  }
  return checkSource(source, absFile, options.env ?? {}, options.overrides);
}

/** loadConfig returns the validated Config or throws a ConfigError listing every problem. */
export function loadConfig(file: string, options: LoadConfigOptions = {}): Config {
  const result = checkConfig(file, options);
  if (!result.ok) throw new ConfigError(result.issues.join('\n'), result.issues);
  return result.config;
}
