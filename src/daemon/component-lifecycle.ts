/**
 * startComponents / stopComponents: the daemon's lifecycle. Components start in order and stop
 * in reverse; one that overruns the shutdown deadline is logged and left behind, so it cannot
 * hold up the others (or the exit).
 */
import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';
import type { Component } from './component.js';

/** STOP_GRACE_MS: how long past the deadline a component may take before it is left behind. */
export const STOP_GRACE_MS = 1000;

/** StopReport says how the shutdown went. */
export interface StopReport {
  readonly isClean: boolean;
  /** overrun lists components still stopping at deadline + STOP_GRACE_MS. */
  readonly overrun: readonly string[];
  /** failed lists components whose stop threw. */
  readonly failed: readonly string[];
}

/**
 * startComponents starts each component in order and returns those started. It stops early
 * (without error) when `signal` aborts. If a start throws, the components already started are
 * stopped in reverse by `deadlineMs()` and the error is rethrown.
 */
export async function startComponents(
  components: readonly Component[],
  options: { readonly signal: AbortSignal; readonly logger: Logger; readonly clock: Clock; readonly deadlineMs: () => number },
): Promise<Component[]> {
  const started: Component[] = [];
  for (const component of components) {
    if (options.signal.aborted) break;
    try {
      await component.start();
    } catch (err) {
      options.logger.error({ err, component: component.name }, 'component failed to start; stopping the others');
      await stopComponents(started, { deadlineMs: options.deadlineMs(), clock: options.clock, logger: options.logger });
      throw err;
    }
    started.push(component);
    options.logger.debug({ component: component.name }, 'component started');
  }
  return started;
}

/** stopComponents stops `started` in reverse order, each given the same deadline. */
export async function stopComponents(started: readonly Component[], options: { readonly deadlineMs: number; readonly clock: Clock; readonly logger: Logger }): Promise<StopReport> {
  const overrun: string[] = [];
  const failed: string[] = [];
  for (const component of [...started].reverse()) {
    const giveUp = new AbortController();
    const graceMs = Math.max(0, options.deadlineMs - options.clock.nowMs()) + STOP_GRACE_MS;
    const timedOut = options.clock.sleep(graceMs, giveUp.signal).then(
      () => 'overrun' as const,
      () => 'stopped' as const,
    );
    try {
      const outcome = await Promise.race([component.stop(options.deadlineMs).then(() => 'stopped' as const), timedOut]);
      if (outcome === 'overrun') {
        overrun.push(component.name);
        options.logger.error({ component: component.name }, 'component did not stop by the shutdown deadline; leaving it behind');
      } else {
        options.logger.debug({ component: component.name }, 'component stopped');
      }
    } catch (err) {
      failed.push(component.name);
      options.logger.error({ err, component: component.name }, 'component failed to stop');
    } finally {
      giveUp.abort();
    }
  }
  return { isClean: overrun.length === 0 && failed.length === 0, overrun, failed };
}
