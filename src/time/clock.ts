/**
 * Clock is the only source of time below the schedulers. Timestamps are integer epoch ms.
 * Only schedulers and cli.ts hold a SystemClock; everything else receives a Clock or an
 * explicit `evalTimeMs`, so tests advance a ManualClock instead of sleeping.
 */
export interface Clock {
  nowMs(): number;
  /** sleep resolves after `ms`, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** SystemClock reads the wall clock and sleeps on real timers. */
export class SystemClock implements Clock {
  nowMs(): number {
    return Date.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableSleep(signal, (wake) => {
      const timer = setTimeout(wake, Math.max(0, ms));
      return () => clearTimeout(timer);
    });
  }
}

/**
 * abortableSleep is the part both clocks share: `arm` starts a sleep that calls `wake` when it is
 * over and returns how to cancel it; an abort cancels it and rejects with the signal's reason.
 * The abort listener goes when the sleep ends, so a long-lived signal does not collect them.
 */
function abortableSleep(signal: AbortSignal | undefined, arm: (wake: () => void) => () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let cancel = (): void => {};
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason);
    };
    // Listening first: a sleep may be over within `arm` (ManualClock, 0 ms), removing the listener.
    signal?.addEventListener('abort', onAbort, { once: true });
    cancel = arm(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

interface Sleeper {
  wakeAtMs: number;
  resolve: () => void;
}

/** ManualClock is a Clock for tests: time moves only through `advance` or `set`. */
export class ManualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];

  constructor(startMs = 0) {
    this.current = startMs;
  }

  nowMs(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableSleep(signal, (wake) => {
      const sleeper: Sleeper = { wakeAtMs: this.current + Math.max(0, ms), resolve: wake };
      this.sleepers.push(sleeper);
      this.wake();
      return () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
      };
    });
  }

  /** advance moves time forward and wakes every sleeper whose time has come, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.sleepers.filter((s) => s.wakeAtMs <= target).sort((a, b) => a.wakeAtMs - b.wakeAtMs)[0];
      if (!next) break;
      this.current = Math.max(this.current, next.wakeAtMs);
      this.wake();
      // Let the woken continuations run before time moves on.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.current = target;
    this.wake();
    await new Promise<void>((r) => setImmediate(r));
  }

  set(ms: number): void {
    this.current = ms;
    this.wake();
  }

  private wake(): void {
    const due = this.sleepers.filter((s) => s.wakeAtMs <= this.current);
    this.sleepers = this.sleepers.filter((s) => s.wakeAtMs > this.current);
    for (const s of due) s.resolve();
  }
}
