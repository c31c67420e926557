/**
 * ProbeRounds: the pacing of one drill phase. A round starts every idle probe of the phase; a
 * probe still stuck in the fault from an earlier round is skipped (never run twice at once), so
 * rounds keep their cadence whatever the fault does to one probe. When the phase ends, runs still
 * in flight are cut off: aborted, recorded as cut off, and not counted as measurements.
 */
import type { Clock } from '../time/index.js';
import type { DrillLabels, DrillProbes } from './drill-probes.js';
import type { ProbeRunRecord } from './exercise.js';

/** ProbeRounds starts runs for one phase and reports each one to `onRun`. */
export class ProbeRounds {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly cutOffController = new AbortController();
  private waiters: Array<() => void> = [];
  private finishedSinceTake = 0;

  constructor(
    private readonly probes: DrillProbes,
    private readonly clock: Clock,
    private readonly onRun: (run: ProbeRunRecord) => void,
  ) {}

  /** running is the number of runs in flight. */
  get running(): number {
    return this.inFlight.size;
  }

  /** start starts one run of each named probe that is idle; it returns the probes skipped as busy. */
  start(names: readonly string[], labels: DrillLabels): { readonly started: readonly string[]; readonly busy: readonly string[] } {
    const started: string[] = [];
    const busy: string[] = [];
    for (const name of names) {
      if (this.inFlight.has(name) || this.probes.isBusy(name)) {
        busy.push(name);
        continue;
      }
      started.push(name);
      const startedAtMs = this.clock.nowMs();
      const run = this.probes.runProbe(name, labels, this.cutOffController.signal).then(
        (r) => this.finish(name, { probe: name, phase: labels.stage, startedAtMs: r.startedAtMs, endedAtMs: r.endedAtMs, ok: r.ok, reason: r.reason, cutOff: r.cutOff }),
        // runProbe never rejects for a failed probe; a rejection is a bug in the wiring, recorded as such.
        (err: unknown) => this.finish(name, { probe: name, phase: labels.stage, startedAtMs, endedAtMs: this.clock.nowMs(), ok: false, reason: `error: ${(err as Error).message}`, cutOff: false }),
      );
      this.inFlight.set(name, run);
    }
    return { started, busy };
  }

  /** takeFinished returns how many runs finished since the last call. */
  takeFinished(): number {
    const n = this.finishedSinceTake;
    this.finishedSinceTake = 0;
    return n;
  }

  /**
   * wait resolves after `ms`, or as soon as a run finishes (at once if one finished since the
   * last `takeFinished`: a loop around it must call `takeFinished`, or it never yields to timers);
   * it rejects when `signal` aborts.
   */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.finishedSinceTake > 0 || ms <= 0) return;
    // A listener removed afterwards, not AbortSignal.any: the run's signal lives for the whole
    // drill, and every wait would leave it one more listener until garbage collection.
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let wake: () => void = () => undefined;
    const finished = new Promise<void>((r) => (wake = r));
    this.waiters.push(wake);
    try {
      await Promise.race([this.clock.sleep(ms, stop.signal).catch(() => undefined), finished]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      stop.abort();
      this.waiters = this.waiters.filter((w) => w !== wake);
    }
    signal.throwIfAborted();
  }

  /** settle waits for every run in flight to end by itself. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** cutOff aborts every run in flight and waits until each has been recorded as cut off. */
  async cutOff(): Promise<void> {
    this.cutOffController.abort(new Error('the drill phase ended while the run was in flight'));
    await this.settle();
  }

  private finish(name: string, run: ProbeRunRecord): void {
    this.inFlight.delete(name);
    this.finishedSinceTake += 1;
    this.onRun(run);
    for (const w of this.waiters.splice(0)) w();
  }
}
