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
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
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
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      // The listener goes when the sleeper wakes, so a long-lived signal does not collect them.
      const sleeper: Sleeper = {
        wakeAtMs: this.current + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wake();
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
