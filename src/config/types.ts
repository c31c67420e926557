/**
 * Config types: the validated, deeply readonly daemon configuration. YAML keys are snake_case;
 * here they are camelCase with units in the names (`timeoutMs`). Relative paths are already
 * resolved against the config file's directory.
 */
import type { Secret } from './secret.js';

/** ENVIRONMENTS is the closed list of deployment environments. */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
/** Environment is one of ENVIRONMENTS. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** PROBE_NAMES are the fixed probe names (also the `probe` label of their metrics). */
export const PROBE_NAMES = ['runtime_metrics', 'replay_lag', 'delivery', 'resume', 'connections', 'token', 'cutover_state', 'retired_routes', 'preflight', 'health'] as const;
/** ProbeName is one of PROBE_NAMES. */
export type ProbeName = (typeof PROBE_NAMES)[number];

/** HEALTH_CHECKED_SERVICES are the services the health probe can check. */
export const HEALTH_CHECKED_SERVICES = ['runtime', 'control', 'spacetimedb'] as const;
/** HealthCheckedService is one of HEALTH_CHECKED_SERVICES. */
export type HealthCheckedService = (typeof HEALTH_CHECKED_SERVICES)[number];

/** LOG_LEVELS are pino's levels. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** LogLevel is one of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** SpacetimedbTarget is the SpacetimeDB host holding the watched database. */
export interface SpacetimedbTarget {
  /** baseUrl has no trailing slash. */
  readonly baseUrl: string;
  readonly database: string;
  /** websocketPath has `{database}` already replaced. */
  readonly websocketPath: string;
  readonly healthPath: string;
  /** token is absent for anonymous access. */
  readonly token?: Secret;
  readonly requestTimeoutMs: number;
  readonly maxResponseBytes: number;
}

/** RuntimeTarget is the runtime service (its metrics route has no auth). */
export interface RuntimeTarget {
  readonly baseUrl: string;
  readonly metricsPath: string;
  /** token, when set, is sent as a Bearer (for a proxy in front; the runtime ignores it). */
  readonly token?: Secret;
  readonly requestTimeoutMs: number;
}

/** ControlTarget is the control service (sync tokens, cutover status). */
export interface ControlTarget {
  readonly baseUrl: string;
  readonly sessionToken: Secret;
  /** jwtSigningKey lets the token probe verify HS256 signatures. */
  readonly jwtSigningKey?: Secret;
  /** jwtFallbackSigningKeys are tried after jwtSigningKey fails (key rotation). */
  readonly jwtFallbackSigningKeys: readonly Secret[];
  readonly requestTimeoutMs: number;
}

/** TargetConfig groups the three services the sentinel watches. */
export interface TargetConfig {
  readonly spacetimedb: SpacetimedbTarget;
  readonly runtime: RuntimeTarget;
  readonly control: ControlTarget;
}

/** ProbeParams maps each probe name to its (already defaulted) parameters. */
export interface ProbeParams {
  readonly runtime_metrics: Readonly<Record<string, never>>;
  readonly replay_lag: { readonly streams?: readonly string[]; readonly activityWindowMs: number };
  readonly delivery: { readonly canaryStream: string; readonly receiveTimeoutMs: number };
  readonly resume: { readonly stream: string; readonly clientId: string; readonly eventsWhileAway: number; readonly receiveTimeoutMs: number };
  readonly connections: { readonly sessions: number; readonly settleTimeoutMs: number };
  readonly token: {
    readonly mintsPerRun: number;
    readonly clockSkewMs: number;
    readonly scopes?: readonly string[];
    readonly ttlSeconds?: number;
    readonly issuer?: string;
    readonly audience?: string;
  };
  readonly cutover_state: Readonly<Record<string, never>>;
  readonly retired_routes: { readonly extraRoutes?: readonly string[] };
  readonly preflight: { readonly env: Environment };
  readonly health: { readonly services: readonly HealthCheckedService[] };
}

/** ProbeConfig is one scheduled probe. */
export interface ProbeConfig<N extends ProbeName = ProbeName> {
  readonly name: N;
  readonly enabled: boolean;
  /** schedule is a node-cron expression (5 fields, or 6 with seconds first). */
  readonly schedule: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly jitterMs: number;
  readonly params: ProbeParams[N];
}

/** ProbesConfig holds the configured probes; a missing probe is not scheduled. */
export type ProbesConfig = { readonly [N in ProbeName]?: ProbeConfig<N> };

/**
 * CanaryConfig says what the canary probes may write into the watched database (YAML
 * `probes.read_only` and `probes.canary`): nothing in read-only mode; otherwise only streams and
 * checkpoint client ids under `namespace`, at most `dailyEventBudget` events per UTC day.
 */
export interface CanaryConfig {
  readonly readOnly: boolean;
  readonly namespace: string;
  readonly dailyEventBudget: number;
}

/** RulesConfig says which rule files to load and how to evaluate them. */
export interface RulesConfig {
  /** files are absolute glob patterns (see resolveFileGlobs). */
  readonly files: readonly string[];
  readonly evaluationIntervalMs: number;
  readonly lookbackDeltaMs: number;
  readonly queryTimeoutMs: number;
}

/** AlertmanagerTarget is one Alertmanager (API v2). */
export interface AlertmanagerTarget {
  readonly url: string;
  readonly timeoutMs: number;
  readonly bearerToken?: Secret;
}

/** WebhookTarget is one webhook receiver (Alertmanager webhook payload version 4). */
export interface WebhookTarget {
  readonly url: string;
  readonly timeoutMs: number;
  readonly bearerToken?: Secret;
  /** receiver is the `receiver` field of the payload. */
  readonly receiver: string;
}

/** AlertingConfig configures notification. */
export interface AlertingConfig {
  readonly resendDelayMs: number;
  readonly externalUrl: string;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly queueCapacity: number;
  /** queueDir is absolute; defaults to `<storage.dataDir>/notify`. */
  readonly queueDir: string;
  readonly alertmanagers: readonly AlertmanagerTarget[];
  readonly webhooks: readonly WebhookTarget[];
  /** log also writes every notification to the log. */
  readonly log: boolean;
}

/** DrillSchedule runs one drill on a cron schedule. */
export interface DrillSchedule {
  readonly drill: string;
  readonly cron: string;
}

/** GateConfig sets the promotion gate's thresholds. */
export interface GateConfig {
  readonly requiredDrills: readonly string[];
  readonly maxEvidenceAgeMs: number;
  readonly soakWindowMs: number;
  readonly deliveryP95MaxSeconds: number;
  readonly errorBudgetRatioMax: number;
}

/**
 * EvidenceRetentionConfig says which drill evidence the daemon keeps: each drill's newest
 * `keepLast` runs and every run younger than `keepWithinMs`; the rest is pruned at start and after
 * each run.
 */
export interface EvidenceRetentionConfig {
  readonly keepLast: number;
  readonly keepWithinMs: number;
}

/**
 * DrillLeaseConfig shares the drill lease of an HA pair in PostgreSQL (an advisory lock); absent,
 * the lease is the single-host file lock in the evidence directory.
 */
export interface DrillLeaseConfig {
  readonly postgres: { readonly url: string; readonly password?: Secret };
  /** name is the lease's name (default `spacetime-sentinel/<environment>`); one drill at a time per name. */
  readonly name: string;
  /** holder names this sentinel to the other one (default `<hostname>:<pid>`). */
  readonly holder?: string;
  readonly ttlMs: number;
}

/** DrillsConfig configures chaos drills and the gate. */
export interface DrillsConfig {
  /** files are absolute glob patterns. */
  readonly files: readonly string[];
  readonly toxiproxyUrl: string;
  /** evidenceDir is absolute. */
  readonly evidenceDir: string;
  readonly allowProd: boolean;
  readonly manifestHmacKey?: Secret;
  readonly schedules: readonly DrillSchedule[];
  readonly lease?: DrillLeaseConfig;
  readonly evidenceRetention: EvidenceRetentionConfig;
  readonly gate: GateConfig;
}

/** ListenAddress is a parsed `host:port`; port 0 asks for an ephemeral port. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** ServerConfig configures the daemon's HTTP server. */
export interface ServerConfig {
  readonly listen: ListenAddress;
  readonly adminToken?: Secret;
  readonly shutdownTimeoutMs: number;
  /** queryTimeoutMs bounds one `/api/v1/query(_range)` query (rules have `rules.queryTimeoutMs`). */
  readonly queryTimeoutMs: number;
  /** queryMaxSamples bounds the samples one API query holds at its peak (Prometheus' `query.max-samples`). */
  readonly queryMaxSamples: number;
}

/** StorageConfig configures the sample store. */
export interface StorageConfig {
  /** dataDir is absolute. */
  readonly dataDir: string;
  readonly retentionMs: number;
  readonly maxSeries: number;
}

/** RemoteWriteQueueConfig is one endpoint's queue (Prometheus' queue_config, one shard). */
export interface RemoteWriteQueueConfig {
  /** capacity bounds the samples kept on disk while the endpoint does not take them (oldest dropped). */
  readonly capacity: number;
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadlineMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** RemoteWriteTarget is one Prometheus remote-write (protocol 1.0) endpoint. */
export interface RemoteWriteTarget {
  /** name labels the endpoint's metrics (`remote_name`) and names its queue file. */
  readonly name: string;
  readonly url: string;
  readonly timeoutMs: number;
  /** externalLabels are added to every series sent (a replica label keeps two sentinels apart). */
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly basicAuth?: { readonly username: string; readonly password: Secret };
  readonly bearerToken?: Secret;
  readonly queue: RemoteWriteQueueConfig;
  /** queueFile is absolute: `<storage.dataDir>/remote-write/<name>.sqlite`. */
  readonly queueFile: string;
}

/** ExportConfig configures what the sentinel exports to other systems besides /metrics. */
export interface ExportConfig {
  /**
   * compatMetrics also exposes the sentinel's measurements under the metric names the operators'
   * deploy rules and Grafana dashboard query (`openagents_runtime_sync_*`, `openagents_sync_client_*`).
   */
  readonly compatMetrics: boolean;
  /** remoteWrite lists the endpoints every recorded sample is sent to (none by default). */
  readonly remoteWrite: readonly RemoteWriteTarget[];
}

/**
 * QuerySourceConfig is an external Prometheus HTTP API (`/api/v1/query`) that the rules, the
 * drill conditions and the gate query instead of the embedded store.
 */
export interface QuerySourceConfig {
  /** url is the API's base, e.g. https://prometheus.example. */
  readonly url: string;
  readonly timeoutMs: number;
  readonly basicAuth?: { readonly username: string; readonly password: Secret };
  readonly bearerToken?: Secret;
}

/** LogConfig configures the logger; `LOG_LEVEL` in the environment overrides `level`. */
export interface LogConfig {
  readonly level: LogLevel;
}

/** SoakConfig says how a rollout watches each cohort's soak. */
export interface SoakConfig {
  /** probes run every `probeIntervalMs` during a soak; a streak of failed rounds blocks. */
  readonly probes: readonly ProbeName[];
  readonly probeIntervalMs: number;
  readonly failedProbeStreak: number;
}

/** RolloutConfig configures `sentinel rollout`, `sentinel announce-cutover` and the served SLO snapshot. */
export interface RolloutConfig {
  /** outputDir is absolute; runs go to `<outputDir>/staging-<UTC>/`, `production-<UTC>/`, `cutover-state-<UTC>/`. */
  readonly outputDir: string;
  /** sloWindowMs is the window of the served SLO snapshot and of the rollout's baseline checks. */
  readonly sloWindowMs: number;
  /** cohortEffectTimeoutMs bounds the wait for a cohort to take effect. */
  readonly cohortEffectTimeoutMs: number;
  readonly statusPollIntervalMs: number;
  readonly soak: SoakConfig;
  /** chaosSuite names the drills of the chaos gate; absent means every configured drill the environment allows. */
  readonly chaosSuite?: readonly string[];
  readonly rollbackDrill: { readonly recoveryTimeoutMs: number; readonly userId?: string };
}

/** Config is one validated daemon configuration file. */
export interface Config {
  /** file is the absolute path of the config file. */
  readonly file: string;
  /** baseDir is the directory relative paths in the file are resolved against. */
  readonly baseDir: string;
  readonly environment: Environment;
  readonly target: TargetConfig;
  readonly probes: ProbesConfig;
  readonly canary: CanaryConfig;
  readonly rules: RulesConfig;
  readonly alerting: AlertingConfig;
  readonly drills: DrillsConfig;
  readonly server: ServerConfig;
  readonly storage: StorageConfig;
  readonly rollout: RolloutConfig;
  readonly export: ExportConfig;
  /** querySource, when set, replaces the embedded store for rules, drill conditions and the gate. */
  readonly querySource?: QuerySourceConfig;
  readonly log: LogConfig;
  /** lab is the raw `lab:` section (validated by the lab itself), when present. */
  readonly lab?: Readonly<Record<string, unknown>>;
}
