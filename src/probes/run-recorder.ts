/**
 * RunRecorder: turns finished probe runs into store samples and prom-client metrics, and writes
 * stale markers for series a probe stopped producing.
 *
 * Timestamps: every sample of a run is stamped with the run's completion time (`completedAtMs`,
 * from the clock), not its slot. Runs of one probe never overlap, so completion times of one
 * probe only grow, and a sample never claims to be older than the measurement it carries.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { registeredMetric } from '../telemetry/index.js';
import type { Logger } from 'pino';
import { labelsKey } from '../store/index.js';
import type { AppendResult, Appender, Labels } from '../store/index.js';
import type { ProbeRunOutcome } from './probe-runner.js';
import type { ProbeSample } from './types.js';

/**
 * RunLabels mark samples taken while a drill runs, so planned chaos is separable from organic
 * trouble. They go on each run's own samples and on `sentinel_probe_success`/`_duration_seconds`
 * in the store; cumulative instruments (counters, histograms) are stored without them, exactly
 * as /metrics shows them, because splitting a counter into a new series would hide its increase
 * at the boundary from `rate()`.
 */
export interface RunLabels {
  readonly drill?: string;
  readonly stage?: string;
}

/** SampleSink is the part of a store the recorder needs. */
export interface SampleSink {
  appender(): Appender;
}

/** InstrumentSnapshot is anything that can report its cumulative samples (RegistryInstruments). */
export interface InstrumentSnapshot {
  snapshot(): Promise<ProbeSample[]>;
}

/** RunRecorderOptions configure a RunRecorder. */
export interface RunRecorderOptions {
  readonly store: SampleSink;
  /** registry receives the `sentinel_probe_*` metrics; a private one is used without it. */
  readonly registry?: Registry;
  readonly logger: Logger;
}

/** RunRecorder records runs of many probes; one per scheduler. */
export class RunRecorder {
  private readonly store: SampleSink;
  private readonly logger: Logger;
  private readonly success: Gauge<'probe'>;
  private readonly duration: Gauge<'probe'>;
  private readonly runs: Counter<'probe' | 'result'>;
  private readonly skipped: Counter<'probe'>;
  /** lastSeries holds, per probe, the per-run series it wrote last time (for stale markers). */
  private readonly lastSeries = new Map<string, Map<string, Labels>>();

  constructor(options: RunRecorderOptions) {
    this.store = options.store;
    this.logger = options.logger;
    const registry = options.registry ?? new Registry();
    this.success = registeredMetric(registry, Gauge, { name: 'sentinel_probe_success', help: 'Whether the last run of the probe succeeded (1) or not (0).', labelNames: ['probe'] });
    this.duration = registeredMetric(registry, Gauge, { name: 'sentinel_probe_duration_seconds', help: 'Duration of the last run of the probe, in seconds.', labelNames: ['probe'] });
    this.runs = registeredMetric(registry, Counter, { name: 'sentinel_probe_runs_total', help: 'Probe runs by result (the reason class; ok for success).', labelNames: ['probe', 'result'] });
    this.skipped = registeredMetric(registry, Counter, { name: 'sentinel_probe_skipped_total', help: 'Scheduled probe runs skipped because the previous run was still going.', labelNames: ['probe'] });
  }

  /** initProbe creates a probe's counters at zero, so rate() sees their first increase. */
  initProbe(probe: string): void {
    this.skipped.inc({ probe }, 0);
  }

  /** noteSkipped counts a skipped tick. */
  noteSkipped(probe: string): void {
    this.skipped.inc({ probe });
  }

  /** record stores one finished run; never throws (a store failure is logged and counted there). */
  async record(probe: string, outcome: ProbeRunOutcome, runLabels: RunLabels, instruments?: InstrumentSnapshot): Promise<AppendResult | undefined> {
    const { result, reason, completedAtMs: t } = outcome;
    const durationSeconds = Math.max(0, result.durationMs) / 1000;
    this.success.set({ probe }, result.ok ? 1 : 0);
    this.duration.set({ probe }, durationSeconds);
    this.runs.inc({ probe, result: reason });
    try {
      const extra = definedLabels(runLabels);
      const current = new Map<string, Labels>();
      const app = this.store.appender();
      const put = (labels: Labels, v: number): void => {
        const key = labelsKey(labels);
        // A probe reporting one series twice in a run keeps the first value; the store would refuse the second.
        if (current.has(key)) return;
        current.set(key, labels);
        app.append(labels, t, v);
      };
      for (const s of result.samples) put({ ...(s.labels ?? {}), ...extra, __name__: s.name }, s.value);
      put({ __name__: 'sentinel_probe_success', probe, ...extra }, result.ok ? 1 : 0);
      put({ __name__: 'sentinel_probe_duration_seconds', probe, ...extra }, durationSeconds);
      const previous = this.lastSeries.get(probe);
      if (previous) for (const [key, labels] of previous) if (!current.has(key)) app.appendStale(labels, t);
      this.lastSeries.set(probe, current);

      const cumulative: ProbeSample[] = [...(await counterSamples(this.runs, probe)), ...(await counterSamples(this.skipped, probe))];
      if (instruments) cumulative.push(...(await instruments.snapshot()));
      for (const s of cumulative) app.append({ ...(s.labels ?? {}), __name__: s.name }, t, s.value);
      const appended = app.commit();
      if (appended.outOfOrder > 0 || appended.refusedSeriesLimit > 0) {
        this.logger.debug({ probe, ...appended }, 'store refused some probe samples');
      }
      return appended;
    } catch (err) {
      this.logger.error({ probe, err }, 'could not store the samples of a probe run');
      return undefined;
    }
  }
}

async function counterSamples(counter: Counter<string>, probe: string): Promise<ProbeSample[]> {
  const data = await counter.get();
  return data.values
    .filter((v) => v.labels['probe'] === probe)
    .map((v) => {
      const labels: Record<string, string> = {};
      for (const [k, lv] of Object.entries(v.labels)) if (lv !== undefined) labels[k] = String(lv);
      return { name: data.name, labels, value: v.value };
    });
}

function definedLabels(labels: RunLabels): Record<string, string> {
  const out: Record<string, string> = {};
  if (labels.drill) out['drill'] = labels.drill;
  if (labels.stage) out['stage'] = labels.stage;
  return out;
}
