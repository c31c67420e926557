/**
 * StatusInfo: the body of `GET /api/v1/status`. Built from the Config with secrets removed
 * (only whether each one is set).
 */
import type { ReloadAttempt } from '../daemon/index.js';
import type { Config } from '../config/index.js';

/** TargetStatus describes one watched service without its credentials. */
export interface TargetStatus {
  readonly baseUrl: string;
  readonly hasToken: boolean;
  readonly [key: string]: string | number | boolean;
}

/** ScheduleStatus is one scheduled job and its next run. */
export interface ScheduleStatus {
  readonly kind: 'probe' | 'rules' | 'drill';
  readonly name: string;
  readonly schedule: string;
  /** nextRunMs is epoch ms, or null when the job is disabled or not scheduled yet. */
  readonly nextRunMs: number | null;
}

/** ConfigStatus says which configuration runs and how the last reload went. */
export interface ConfigStatus {
  /** generation counts the configurations put in effect since start (1 = the one loaded at start). */
  readonly generation: number;
  /** lastReload is the last reload's outcome; what waits is `pending`, not repeated here. */
  readonly lastReload: Omit<ReloadAttempt, 'deferred'>;
  /** pending says what of a newer configuration waits, and for what (a drill or rollout in progress). */
  readonly pending?: string;
}

/** StatusInfo is what the status endpoint reports. */
export interface StatusInfo {
  readonly version: string;
  readonly startTimeMs: number;
  readonly uptimeSeconds: number;
  readonly environment: string;
  readonly configFile: string;
  readonly targets: Readonly<Record<string, TargetStatus>>;
  readonly schedules: readonly ScheduleStatus[];
  readonly config?: ConfigStatus;
}

/** StatusSource is what buildStatusInfo reads: the config (secrets are reported only as set or not). */
export interface StatusSource {
  readonly version: string;
  readonly startTimeMs: number;
  readonly nowMs: number;
  readonly config: Config;
  readonly schedules: readonly ScheduleStatus[];
  /** configStatus is the reload bookkeeping (absent outside the daemon). */
  readonly configStatus?: ConfigStatus;
}

/** buildStatusInfo describes the daemon without any secret value: only `hasToken` flags. */
export function buildStatusInfo(source: StatusSource): StatusInfo {
  const { spacetimedb, runtime, control } = source.config.target;
  return {
    version: source.version,
    startTimeMs: source.startTimeMs,
    uptimeSeconds: Math.max(0, (source.nowMs - source.startTimeMs) / 1000),
    environment: source.config.environment,
    configFile: source.config.file,
    targets: {
      spacetimedb: {
        baseUrl: spacetimedb.baseUrl,
        database: spacetimedb.database,
        websocketPath: spacetimedb.websocketPath,
        healthPath: spacetimedb.healthPath,
        hasToken: spacetimedb.token !== undefined,
      },
      runtime: { baseUrl: runtime.baseUrl, metricsPath: runtime.metricsPath, hasToken: runtime.token !== undefined },
      control: { baseUrl: control.baseUrl, hasToken: true, hasJwtSigningKey: control.jwtSigningKey !== undefined },
      toxiproxy: { baseUrl: source.config.drills.toxiproxyUrl, hasToken: false },
      ...Object.fromEntries(source.config.alerting.alertmanagers.map((a, i) => [`alertmanager-${i}`, { baseUrl: a.url, hasToken: a.bearerToken !== undefined }])),
      ...Object.fromEntries(source.config.alerting.webhooks.map((w, i) => [`webhook-${i}`, { baseUrl: w.url, receiver: w.receiver, hasToken: w.bearerToken !== undefined }])),
    },
    schedules: source.schedules,
    ...(source.configStatus ? { config: source.configStatus } : {}),
  };
}
