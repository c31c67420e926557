/**
 * ProbeScheduler: runs every configured probe on its cron schedule, one run of a probe at a time,
 * and records each run. The only part of `src/probes` that holds a wall clock (a SystemClock by
 * default); the cron trigger is replaceable so tests fire ticks by hand.
 */
import type { Tracer } from '@opentelemetry/api';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError, UsageError } from '../errors.js';
import { CronSchedule, cronTrigger, SystemClock } from '../time/index.js';
import type { Clock, CronTrigger } from '../time/index.js';
import { runProbe } from './probe-runner.js';
import type { ProbeRunOutcome, ProbeRunPolicy } from './probe-runner.js';
import { RunRecorder } from './run-recorder.js';
import type { InstrumentSnapshot, RunLabels, SampleSink } from './run-recorder.js';
import type { Probe } from './types.js';

/** ScheduledProbe is one probe with its schedule and run policy. */
export interface ScheduledProbe extends ProbeRunPolicy {
  readonly probe: Probe;
  /** schedule is a cron expression in node-cron's grammar: 5 fields, or 6 with seconds first. */
  readonly schedule: string;
  /** jitterMs delays each scheduled run by a random 0..jitterMs, so probes do not all fire at once. */
  readonly jitterMs?: number;
  /** instruments are the probe's cumulative instruments, appended to the store after each run. */
  readonly instruments?: InstrumentSnapshot;
}

/** ProbeRunReport is one finished run, as `runOnce` returns it. */
export interface ProbeRunReport {
  readonly probe: string;
  readonly scheduledAtMs: number;
  readonly outcome: ProbeRunOutcome;
  /** cutOff is true when the caller abandoned the run (`ProbeRunOptions.cutOff`): nothing was recorded. */
  readonly cutOff?: boolean;
}

/** ProbeRunOptions shape one `runOnce` run. */
export interface ProbeRunOptions {
  /** signal aborts the run (the caller is stopping); it is recorded as a timeout, like a run at shutdown. */
  readonly signal?: AbortSignal;
  /** labels mark this run's samples (a drill phase) instead of the labels set by `setRunLabels`. */
  readonly labels?: RunLabels;
  /**
   * cutOff abandons the run when it aborts (a drill phase ended while the run was still stuck in
   * the fault): the run is aborted and not recorded, because it measured nothing; the report says so.
   */
  readonly cutOff?: AbortSignal;
}

/** ProbeSchedulerOptions configure a ProbeScheduler. */
export interface ProbeSchedulerOptions {
  readonly probes: readonly ScheduledProbe[];
  readonly store: SampleSink;
  readonly registry?: Registry;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly tracer?: Tracer;
  /** trigger replaces the cron timer (tests fire ticks by hand). */
  readonly trigger?: CronTrigger;
  /** random returns [0, 1) for jitter (tests make it deterministic). */
  readonly random?: () => number;
}

interface ProbeState {
  readonly entry: ScheduledProbe;
  /** busy is the run in flight (jitter included), if any. */
  busy: Promise<void> | undefined;
  last: ProbeRunReport | undefined;
}

/**
 * linkSignals aborts one signal when any of `signals` aborts, until `dispose`. Unlike
 * AbortSignal.any it removes its listeners, so the scheduler's long-lived stop signal does not
 * collect one per run.
 */
function linkSignals(signals: ReadonlyArray<AbortSignal | undefined>): { readonly signal: AbortSignal; dispose(): void } {
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  const controller = new AbortController();
  const listeners = sources.map((source) => {
    const onAbort = (): void => controller.abort(source.reason);
    if (source.aborted) controller.abort(source.reason);
    else source.addEventListener('abort', onAbort, { once: true });
    return { source, onAbort };
  });
  return {
    signal: controller.signal,
    dispose: () => {
      for (const { source, onAbort } of listeners) source.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * ProbeScheduler is the daemon component (`start`/`stop`/`isReady`) that schedules probes.
 * Invariants: never two runs of one probe at once (a tick that finds the probe busy is skipped and
 * counted in `sentinel_probe_skipped_total`); every run ends with a recorded result, even when
 * the probe throws or hangs; drill code sets `drill`/`stage` labels through `setRunLabels`.
 */
export class ProbeScheduler {
  readonly name = 'probes';
  private readonly states = new Map<string, ProbeState>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly tracer: Tracer | undefined;
  private readonly trigger: CronTrigger;
  private readonly random: () => number;
  private readonly recorder: RunRecorder;
  private readonly stopController = new AbortController();
  private triggers: Array<{ stop(): void }> = [];
  private runLabels: RunLabels = {};
  /** reserved probes run only through runOnce (a drill paces them); their cron ticks are held. */
  private reserved = new Set<string>();
  private started = false;
  private stopped = false;

  constructor(options: ProbeSchedulerOptions) {
    this.clock = options.clock ?? new SystemClock();
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.tracer = options.tracer;
    this.trigger = options.trigger ?? cronTrigger;
    this.random = options.random ?? Math.random;
    this.recorder = new RunRecorder({ store: options.store, registry: options.registry, logger: this.logger });
    const issues: string[] = [];
    for (const entry of options.probes) {
      const name = entry.probe.name;
      if (this.states.has(name)) issues.push(`probes.${name}: configured twice`);
      if (CronSchedule.parse(entry.schedule) === undefined) issues.push(`probes.${name}.schedule: ${JSON.stringify(entry.schedule)} is not a cron expression; use 5 fields, or 6 with seconds first (like "*/30 * * * * *")`);
      if (!(entry.timeoutMs > 0)) issues.push(`probes.${name}.timeout: must be > 0`);
      if ((entry.jitterMs ?? 0) < 0) issues.push(`probes.${name}.jitter: must be >= 0`);
      this.states.set(name, { entry, busy: undefined, last: undefined });
      this.recorder.initProbe(name);
    }
    if (issues.length > 0) throw new ConfigError(issues[0], issues);
  }

  /** probeNames lists the scheduled probes in configuration order. */
  probeNames(): string[] {
    return [...this.states.keys()];
  }

  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const [name, state] of this.states) {
      this.triggers.push(
        this.trigger(state.entry.schedule, () => this.tick(name), {
          onMissed: (firings) => this.logger.warn({ probe: name, firings }, 'probe firings missed: the event loop was busy or the host was suspended at the scheduled time'),
          onError: (err) => this.logger.error({ probe: name, err }, 'probe tick failed'),
        }),
      );
    }
    this.logger.info({ probes: this.probeNames() }, 'probe scheduler started');
  }

  isReady(): boolean {
    return this.started && !this.stopped;
  }

  /** stop ends scheduling, aborts runs in flight and waits for them until `deadlineMs` (epoch ms). */
  async stop(deadlineMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.triggers) t.stop();
    this.triggers = [];
    this.stopController.abort(new Error('probe scheduler stopping'));
    const inFlight = [...this.states.values()].map((s) => s.busy).filter((b): b is Promise<void> => b !== undefined);
    if (inFlight.length > 0) {
      const waitStop = new AbortController();
      const waitMs = Math.min(2 ** 31 - 1, Math.max(0, deadlineMs - this.clock.nowMs()));
      await Promise.race([Promise.allSettled(inFlight), this.clock.sleep(waitMs, waitStop.signal).catch(() => undefined)]);
      waitStop.abort();
    }
    await this.closeProbes();
  }

  /**
   * retire ends scheduling but lets the runs in flight finish (until `deadlineMs`), then stops:
   * the hand-over of a configuration reload, where an aborted run would be recorded as a
   * failure the watched system never had.
   */
  async retire(deadlineMs: number): Promise<void> {
    for (const t of this.triggers) t.stop();
    this.triggers = [];
    const wait = new AbortController();
    const waitMs = Math.min(2 ** 31 - 1, Math.max(0, deadlineMs - this.clock.nowMs()));
    await Promise.race([this.whenIdle(), this.clock.sleep(waitMs, wait.signal).catch(() => undefined)]);
    wait.abort();
    await this.stop(deadlineMs);
  }

  /** closeProbes releases every probe's resources (also for `sentinel probe`, which never starts). */
  async closeProbes(): Promise<void> {
    for (const { entry } of this.states.values()) {
      try {
        await entry.probe.close?.();
      } catch (err) {
        this.logger.warn({ probe: entry.probe.name, err }, 'probe did not close cleanly');
      }
    }
  }

  /** setRunLabels marks runs that start from now on with `drill`/`stage` labels. */
  setRunLabels(labels: RunLabels): void {
    this.runLabels = { ...labels };
  }

  /** clearRunLabels ends the drill marking. */
  clearRunLabels(): void {
    this.runLabels = {};
  }

  /** whenIdle resolves when no run is in flight (tests, drills waiting out a stage). */
  async whenIdle(): Promise<void> {
    for (;;) {
      const inFlight = [...this.states.values()].map((s) => s.busy).filter((b): b is Promise<void> => b !== undefined);
      if (inFlight.length === 0) return;
      await Promise.allSettled(inFlight);
    }
  }

  /** lastRun is the latest finished run of a probe, if any. */
  lastRun(name: string): ProbeRunReport | undefined {
    return this.states.get(name)?.last;
  }

  /**
   * reserve hands `names` to a caller that paces them itself (a drill): their cron ticks are held
   * until `reserve(undefined)`, so a scheduled run cannot occupy a probe when a drill stage needs
   * it, nor be measured as part of the stage.
   */
  reserve(names: readonly string[] | undefined): void {
    this.reserved = new Set(names ?? []);
  }

  /** whenProbesIdle resolves once none of `names` has a run in flight, or when `signal` aborts. */
  async whenProbesIdle(names: readonly string[], signal: AbortSignal): Promise<void> {
    for (;;) {
      const busy = names.map((n) => this.states.get(n)?.busy).filter((b): b is Promise<void> => b !== undefined);
      if (busy.length === 0 || signal.aborted) return;
      await Promise.race([Promise.allSettled(busy), new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }))]);
    }
  }

  /** isBusy tells whether a run of the probe is in flight (a drill starts none then). */
  isBusy(name: string): boolean {
    return this.states.get(name)?.busy !== undefined;
  }

  /**
   * runOnce runs one probe (or `all`, concurrently) now, without jitter, waiting for a run in
   * flight to finish first, and records the results like scheduled runs. For `sentinel probe`
   * and for drills that need a probe at drill cadence. When the probe is idle the run is in
   * flight (`isBusy`) as soon as this returns its promise.
   */
  async runOnce(name: string, options?: AbortSignal | ProbeRunOptions): Promise<ProbeRunReport[]> {
    const names = name === 'all' ? this.probeNames() : [name];
    for (const n of names) {
      if (!this.states.has(n)) {
        throw new UsageError(`unknown probe '${n}'; configured probes: ${this.probeNames().join(', ') || '(none)'}`);
      }
    }
    const opts: ProbeRunOptions = options instanceof AbortSignal ? { signal: options } : (options ?? {});
    return Promise.all(names.map((n) => this.runExclusive(n, opts)));
  }

  /** tick is one cron firing for a probe: skipped (and counted) when the probe is still busy. */
  private tick(name: string): void {
    const state = this.states.get(name);
    if (!state || this.stopped) return;
    if (this.reserved.has(name)) {
      this.logger.debug({ probe: name }, 'scheduled probe run held: a drill is pacing this probe');
      return;
    }
    if (state.busy) {
      this.recorder.noteSkipped(name);
      this.logger.warn({ probe: name }, 'probe run skipped: the previous run is still going; widen the schedule or lower the timeout');
      return;
    }
    // Cron fires on whole seconds; the slot is that second even if the callback ran a bit late.
    const scheduledAtMs = Math.floor(this.clock.nowMs() / 1000) * 1000;
    const run = async (): Promise<void> => {
      const jitterMs = Math.floor(this.random() * (state.entry.jitterMs ?? 0));
      if (jitterMs > 0) {
        try {
          await this.clock.sleep(jitterMs, this.stopController.signal);
        } catch {
          return;
        }
      }
      await this.execute(state, scheduledAtMs, this.stopController.signal);
    };
    state.busy = run().finally(() => {
      state.busy = undefined;
    });
  }

  private async runExclusive(name: string, options: ProbeRunOptions): Promise<ProbeRunReport> {
    const state = this.states.get(name) as ProbeState;
    while (state.busy) await state.busy.catch(() => undefined);
    const linked = linkSignals([this.stopController.signal, options.signal, options.cutOff]);
    let report: ProbeRunReport | undefined;
    const run = this.execute(state, this.clock.nowMs(), linked.signal, options).then((r) => {
      report = r;
    });
    state.busy = run.finally(() => {
      linked.dispose();
      state.busy = undefined;
    });
    await state.busy;
    return report as ProbeRunReport;
  }

  private async execute(state: ProbeState, scheduledAtMs: number, signal: AbortSignal, options: ProbeRunOptions = {}): Promise<ProbeRunReport> {
    const { entry } = state;
    const runLabels = options.labels ?? this.runLabels;
    const outcome = await runProbe(entry.probe, entry, scheduledAtMs, { clock: this.clock, logger: this.logger, tracer: this.tracer }, signal);
    // An abort shows as a timeout result; a run whose own answer beat the cut-off is kept.
    if (options.cutOff?.aborted && outcome.reason === 'timeout' && !this.stopController.signal.aborted && !options.signal?.aborted) {
      this.logger.debug({ probe: entry.probe.name, durationMs: outcome.result.durationMs }, 'probe run cut off by its caller; not recorded');
      return { probe: entry.probe.name, scheduledAtMs, outcome, cutOff: true };
    }
    await this.recorder.record(entry.probe.name, outcome, runLabels, entry.instruments);
    const report: ProbeRunReport = { probe: entry.probe.name, scheduledAtMs, outcome };
    state.last = report;
    const log = { probe: entry.probe.name, ok: outcome.result.ok, reason: outcome.reason, durationMs: outcome.result.durationMs, attempts: outcome.attempts };
    if (outcome.result.ok) this.logger.debug(log, 'probe run finished');
    else this.logger.warn(log, 'probe run failed');
    return report;
  }
}
