/**
 * The probe contract: what a probe receives for one run and what it returns. The framework
 * (scheduler, runner) turns results into store samples and prom-client metrics; probes never
 * touch the store, never know about drills, and never judge (alert rules do).
 */
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';

/**
 * ReasonClasses is the closed vocabulary of why a run ended the way it did. `ok` for success;
 * transport failures (`timeout`, `unreachable`, `http_status`, `bad_response`, `auth`); a broken
 * contract of the watched system (`contract_violation`); resume/stream findings (`gap`,
 * `duplicate`, `reorder`, `stale`, `not_streaming`); a leaked connection row (`leak`); a secret
 * or setting the run needs that cannot be used (`config`: a secret file gone or unreadable, never
 * the watched system's fault); `error` for anything else, including a probe that threw; and `disabled` for a probe that chose
 * not to run (it would write, and the sentinel is read-only or out of canary budget): not a
 * failure, reported with `ok: true`.
 */
export const ReasonClasses = [
  'ok',
  'timeout',
  'unreachable',
  'http_status',
  'bad_response',
  'auth',
  'contract_violation',
  'gap',
  'duplicate',
  'reorder',
  'stale',
  'leak',
  'not_streaming',
  'config',
  'error',
  'disabled',
] as const;
export type ReasonClass = (typeof ReasonClasses)[number];

/** ProbeLabels are extra labels of one sample or instrument observation (no `__name__`). */
export type ProbeLabels = Readonly<Record<string, string>>;

/**
 * ProbeSample is one gauge-like value measured by THIS run (`sentinel_replay_lag_events{...}`).
 * A series a run stops producing gets a stale marker, so report every series on every run.
 * Cumulative values (counters, histograms) go through `ProbeInstruments` instead.
 */
export interface ProbeSample {
  /** name is the metric name, e.g. `sentinel_replay_lag_events`. */
  readonly name: string;
  readonly labels?: ProbeLabels;
  readonly value: number;
}

/**
 * ProbeResult is the outcome of one run. A probe returns `ok: false` with a reason when the
 * target failed; it throws only on bugs (the runner then records `error`).
 */
export interface ProbeResult {
  readonly ok: boolean;
  /** reason defaults to `ok` when `ok` is true and `error` when false. */
  readonly reason?: ReasonClass;
  /** durationMs is how long the probe's own work took, from `ctx.clock`. */
  readonly durationMs: number;
  /** detail is shown by `sentinel probe` and logged; never put secrets here. */
  readonly detail: Record<string, unknown>;
  readonly samples: readonly ProbeSample[];
}

/** ProbeContext is what one run receives. */
export interface ProbeContext {
  /** signal aborts at the run's deadline or at shutdown; pass it to every call. */
  readonly signal: AbortSignal;
  /** scheduledAtMs is the slot this run belongs to (epoch ms), not the wall time it started. */
  readonly scheduledAtMs: number;
  /** deadlineMs is the epoch ms (on `clock`) at which `signal` aborts. */
  readonly deadlineMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tracer?: Tracer;
}

/** Probe is one kind of measurement; `name` is its config key (`replay_lag`, `resume`, ...). */
export interface Probe {
  readonly name: string;
  run(ctx: ProbeContext): Promise<ProbeResult>;
  /**
   * close releases what a probe keeps between runs (the delivery probe's long-lived subscriber);
   * called once by the scheduler's `stop` and by `sentinel probe`, after the last run.
   */
  close?(): Promise<void>;
}

/** ProbeCounter is a cumulative counter; `inc(labels, 0)` creates a series at zero. */
export interface ProbeCounter {
  inc(labels?: ProbeLabels, value?: number): void;
}

/** ProbeHistogram is a cumulative histogram with fixed buckets (upper bounds, base units). */
export interface ProbeHistogram {
  observe(labels: ProbeLabels, value: number): void;
}

/**
 * ProbeInstruments creates the cumulative instruments a probe keeps across runs. A probe gets
 * one at construction and creates its instruments once there. They live in the prom-client
 * registry (/metrics) and the framework appends their current values to the store after every
 * run of that probe, so the store and /metrics agree. A histogram becomes `<name>_bucket{le}`,
 * `<name>_sum` and `<name>_count` series. Names follow Prometheus rules: `_total` for counters,
 * base units.
 */
export interface ProbeInstruments {
  counter(name: string, help: string, labelNames?: readonly string[]): ProbeCounter;
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): ProbeHistogram;
  /**
   * describe declares the HELP text of a per-run sample (`ProbeResult.samples`) for /metrics,
   * where it is a gauge. Counters and histograms created here describe themselves. A sample
   * nobody describes is still exposed, with a generic help text.
   */
  describe(name: string, help: string): void;
}
