/**
 * cronTrigger: calls a function at each firing of a cron expression (CronSchedule), on a
 * timer armed for the next firing.
 *
 * Lateness follows node-cron 4's runner (`planBeat` in its `dist/_shared.js`): a firing whose
 * timer runs up to MISSED_TOLERANCE_MS late still runs, unless a later firing is also due;
 * a firing later than that is missed. Missed firings are reported through `onMissed` (node-cron
 * printed them on the console); they are not run afterwards.
 */
import { CronSchedule } from './cron-schedule.js';

/** MISSED_TOLERANCE_MS is how late a firing may still run (node-cron's DEFAULT_MISSED_EXECUTION_TOLERANCE). */
export const MISSED_TOLERANCE_MS = 1000;
/** MAX_TIMER_MS re-arms a timer for a far firing at least this often, so a wall clock set back or forward is noticed. */
const MAX_TIMER_MS = 3_600_000;
/** MAX_COUNTED_MISSES bounds the walk over missed firings after a long stall (a suspended host); the count stops there. */
const MAX_COUNTED_MISSES = 10_000;

/** CronTriggerHooks report what the trigger cannot pass to `onTick`. */
export interface CronTriggerHooks {
  /** onMissed receives how many firings passed without running (the event loop was busy, or the host slept). */
  readonly onMissed?: (firings: number) => void;
  /** onError receives what `onTick` threw; the trigger carries on. */
  readonly onError?: (err: unknown) => void;
}

/** CronTrigger calls `onTick` on the schedule until stopped. */
export type CronTrigger = (expression: string, onTick: () => void, hooks?: CronTriggerHooks) => { stop(): void };

/** cronTriggerOn builds a trigger reading the wall clock from `now`, on `setTimeout` (tests pass a clock that runs ahead of the timers, as a busy loop does). */
export const cronTriggerOn = (now: () => number): CronTrigger => (expression, onTick, hooks = {}) => {
  const schedule = CronSchedule.parse(expression);
  if (schedule === undefined) throw new Error(`invalid cron expression ${JSON.stringify(expression)}`);
  let next = schedule.nextAfter(now());
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const arm = (): void => {
    if (stopped || next === null) return;
    timer = setTimeout(due, Math.min(MAX_TIMER_MS, Math.max(0, next - now())));
  };

  const due = (): void => {
    const at = now();
    if (next === null || at < next) {
      arm();
      return;
    }
    // `next` is due. Every due firing but the last is missed; the last runs unless it is too late.
    let slot = next;
    let missed = 0;
    let following = schedule.nextAfter(slot);
    while (following !== null && following <= at && missed < MAX_COUNTED_MISSES) {
      missed++;
      slot = following;
      following = schedule.nextAfter(slot);
    }
    const runs = at - slot <= MISSED_TOLERANCE_MS && (following === null || following > at);
    if (!runs) missed++;
    next = following !== null && following > at ? following : schedule.nextAfter(at);
    arm();
    if (missed > 0) report(hooks.onMissed, missed);
    if (runs) report(onTick);
  };

  const report = <A extends unknown[]>(fn: ((...args: A) => void) | undefined, ...args: A): void => {
    try {
      fn?.(...args);
    } catch (err) {
      hooks.onError?.(err);
    }
  };

  arm();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
};

/** cronTrigger is the production trigger, on the wall clock. */
export const cronTrigger: CronTrigger = cronTriggerOn(() => Date.now());
