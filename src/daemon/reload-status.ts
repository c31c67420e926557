/**
 * ReloadStatus: what the daemon tells about its configuration reloads, with Prometheus' metrics
 * (`cmd/prometheus/main.go`: `prometheus_config_last_reload_successful`,
 * `prometheus_config_last_reload_success_timestamp_seconds`) under the sentinel's prefix. The
 * configuration loaded at start counts as the first successful load, as in Prometheus.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** ReloadAttempt is the outcome of one reload, as `/api/v1/status` and `POST /-/reload` show it. */
export interface ReloadAttempt {
  readonly atMs: number;
  readonly ok: boolean;
  /** issues are the `FILE:LINE:COL: ...` problems of a refused file. */
  readonly issues?: readonly string[];
  /** restartRequired names the settings the file changes that only a restart applies. */
  readonly restartRequired?: readonly string[];
  /** deferred says what waits, and for what, before it takes effect (a drill or rollout in progress). */
  readonly deferred?: string;
}

/** ReloadStatus keeps the last reload's outcome and its metrics. */
export class ReloadStatus {
  private readonly successful: Gauge;
  private readonly successTimestamp: Gauge;
  private last: ReloadAttempt;
  private generationNumber = 1;

  constructor(registry: Registry, loadedAtMs: number) {
    this.successful = new Gauge({ name: 'sentinel_config_last_reload_successful', help: 'Whether the last configuration reload attempt was successful (1) or refused (0, the previous configuration runs on).', registers: [registry] });
    this.successTimestamp = new Gauge({ name: 'sentinel_config_last_reload_success_timestamp_seconds', help: 'Timestamp of the last successful configuration load or reload (Unix seconds).', registers: [registry] });
    this.last = { atMs: loadedAtMs, ok: true };
    this.successful.set(1);
    this.successTimestamp.set(loadedAtMs / 1000);
  }

  /** generation counts the configurations put in effect (1 is the one loaded at start). */
  get generation(): number {
    return this.generationNumber;
  }

  /** lastAttempt is the latest reload (or the start-up load). */
  get lastAttempt(): ReloadAttempt {
    return this.last;
  }

  /** succeeded records a configuration put in effect. */
  succeeded(attempt: Omit<ReloadAttempt, 'ok'>): void {
    this.generationNumber += 1;
    this.last = { ...attempt, ok: true };
    this.successful.set(1);
    this.successTimestamp.set(attempt.atMs / 1000);
  }

  /** failed records a refused configuration; the running one stays. */
  failed(attempt: Omit<ReloadAttempt, 'ok'>): void {
    this.last = { ...attempt, ok: false };
    this.successful.set(0);
  }
}
