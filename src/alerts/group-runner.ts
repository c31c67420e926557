/**
 * group-runner: the periodic loop of one rule group, after Prometheus' `Group.run`. It is the
 * only alerting code that reads the clock: it turns "now" into slotted evaluation timestamps
 * (`floor((now - offset) / interval) * interval + offset`, the offset a hash of the group so
 * groups do not all evaluate at once), counts the slots it missed instead of drifting, and
 * passes the slot down as `evalTimeMs`.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';

/** RunnableGroup is what the runner needs of a rule group. */
export interface RunnableGroup {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number;
}

/** GroupRunnerOptions configure one runner. */
export interface GroupRunnerOptions {
  readonly group: RunnableGroup;
  readonly clock: Clock;
  /**
   * evaluate runs one evaluation at the slotted `evalTimeMs`. It should record rule failures
   * itself; a throw is logged and counted here and the loop carries on.
   */
  readonly evaluate: (evalTimeMs: number, signal: AbortSignal) => Promise<void> | void;
  readonly logger?: Logger;
  readonly onMissed?: (missed: number) => void;
  readonly onFailed?: (err: unknown) => void;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

/** groupOffsetMs is the group's slot offset in [0, interval): a 64-bit FNV-1a of file and name. */
export function groupOffsetMs(file: string, name: string, intervalMs: number): number {
  let h = FNV_OFFSET;
  for (const b of new TextEncoder().encode(`${file}\u00ff${name}`)) {
    h ^= BigInt(b);
    h = (h * FNV_PRIME) & MASK64;
  }
  return Number(h % BigInt(Math.max(1, Math.trunc(intervalMs))));
}

/** evalTimestampMs is the slot at or before `nowMs` for a group with this interval and offset. */
export function evalTimestampMs(nowMs: number, intervalMs: number, offsetMs: number): number {
  const adj = nowMs - offsetMs;
  return adj - (((adj % intervalMs) + intervalMs) % intervalMs) + offsetMs;
}

/**
 * GroupRunner evaluates its group once per slot, sequentially: an evaluation that outlasts its
 * interval makes the runner skip (and count) the slots it overran rather than overlap itself.
 */
export class GroupRunner {
  readonly group: RunnableGroup;
  /** lastEvaluationMs is the wall-clock time the last evaluation started (for /api/v1/rules). */
  lastEvaluationMs = 0;
  /** lastEvalTimestampMs is the slotted evaluation time of the last evaluation. */
  lastEvalTimestampMs = 0;
  /** lastDurationMs is how long the last evaluation took on the clock. */
  lastDurationMs = 0;
  /** iterationsMissed counts slots skipped because an evaluation overran or the process stalled. */
  iterationsMissed = 0;
  iterationsTotal = 0;
  private readonly opts: GroupRunnerOptions;
  private readonly logger: Logger;
  private readonly offsetMs: number;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(options: GroupRunnerOptions) {
    this.opts = options;
    this.group = options.group;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.offsetMs = groupOffsetMs(options.group.file, options.group.name, options.group.intervalMs);
  }

  /** start begins the loop; the first evaluation happens at the next slot, as in Prometheus. */
  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal);
  }

  /** stop aborts the loop and waits for a running evaluation to finish, at most until `deadlineMs`. */
  async stop(deadlineMs: number): Promise<void> {
    if (!this.controller || !this.loop) return;
    this.controller.abort(new Error(`rule group '${this.group.name}' stopped`));
    const loop = this.loop;
    this.loop = undefined;
    // Clamped: Node timers overflow past 2^31 ms (a deadline on another clock than ours).
    const waitMs = Math.min(2 ** 31 - 1, Math.max(0, deadlineMs - this.opts.clock.nowMs()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([loop, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /** isRunning is true between start and stop. */
  get isRunning(): boolean {
    return this.loop !== undefined;
  }

  /** nextSlotAfter is the first evaluation slot strictly after `nowMs`. */
  nextSlotAfter(nowMs: number): number {
    return evalTimestampMs(nowMs, this.group.intervalMs, this.offsetMs) + this.group.intervalMs;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.opts;
    const interval = this.group.intervalMs;
    let next = this.nextSlotAfter(clock.nowMs());
    while (!signal.aborted) {
      try {
        await clock.sleep(next - clock.nowMs(), signal);
      } catch {
        return;
      }
      const now = clock.nowMs();
      const missed = Math.floor((now - next) / interval);
      if (missed > 0) {
        // Evaluate the newest slot, not every stale one: old slots would only repeat work.
        this.iterationsMissed += missed;
        this.opts.onMissed?.(missed);
        this.logger.warn({ group: this.group.name, file: this.group.file, missed }, 'rule group missed evaluations');
        next += missed * interval;
      }
      this.iterationsTotal += 1;
      this.lastEvaluationMs = now;
      this.lastEvalTimestampMs = next;
      try {
        await this.opts.evaluate(next, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.opts.onFailed?.(err);
        this.logger.error({ group: this.group.name, file: this.group.file, err: (err as Error).message }, 'rule group evaluation failed');
      }
      this.lastDurationMs = clock.nowMs() - now;
      next += interval;
    }
  }
}
