import { afterEach, describe, expect, it, vi } from 'vitest';
import { cronTrigger, cronTriggerOn, MISSED_TOLERANCE_MS } from '../../src/time/index.js';

const BASE = new Date(2026, 0, 1, 10, 0, 3).getTime();

/**
 * laggingTrigger reads a wall clock `lag` ms ahead of the fake timers: a timer callback then
 * runs `lag` ms after its firing, as it does when the event loop was busy that long.
 */
function laggingTrigger(): { trigger: ReturnType<typeof cronTriggerOn>; now(): number; stall(ms: number): void } {
  let lag = 0;
  const now = (): number => Date.now() + lag;
  return { trigger: cronTriggerOn(now), now, stall: (ms) => void (lag += ms) };
}

describe('cronTrigger', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at each firing of the expression, on the second', () => {
    vi.useFakeTimers({ now: BASE });
    const fired: number[] = [];
    const handle = cronTrigger('*/10 * * * * *', () => fired.push(Date.now()));
    vi.advanceTimersByTime(35_000);
    handle.stop();
    expect(fired.map((t) => new Date(t).getSeconds())).toEqual([10, 20, 30]);
    expect(fired[0]).toBe(new Date(2026, 0, 1, 10, 0, 10).getTime());
  });

  it('fires no more once stopped, even from inside a tick', () => {
    vi.useFakeTimers({ now: BASE });
    let ticks = 0;
    const handle = cronTrigger('* * * * * *', () => {
      ticks++;
      if (ticks === 2) handle.stop();
    });
    vi.advanceTimersByTime(10_000);
    expect(ticks).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs a firing up to the tolerance late, and reports the ones later than that as missed', () => {
    vi.useFakeTimers({ now: BASE });
    const clock = laggingTrigger();
    const fired: number[] = [];
    const missed: number[] = [];
    const handle = clock.trigger('*/10 * * * * *', () => fired.push(clock.now()), { onMissed: (n) => missed.push(n) });
    // Busy until just inside the tolerance past :10: the :10 firing still runs.
    clock.stall(MISSED_TOLERANCE_MS - 50);
    vi.advanceTimersToNextTimer();
    expect(fired.map((t) => t - new Date(2026, 0, 1, 10, 0, 10).getTime())).toEqual([MISSED_TOLERANCE_MS - 50]);
    expect(missed).toEqual([]);
    // Busy through :20 to 1.5 s past :30: both are missed, and the next to run is :40.
    clock.stall(11_500);
    vi.advanceTimersToNextTimer();
    expect(fired).toHaveLength(1);
    expect(missed).toEqual([2]);
    vi.advanceTimersToNextTimer();
    handle.stop();
    expect(fired[1]).toBe(new Date(2026, 0, 1, 10, 0, 40).getTime());
  });

  it('after a long stall counts the missed firings and runs the one just due', () => {
    vi.useFakeTimers({ now: BASE });
    const clock = laggingTrigger();
    const fired: number[] = [];
    let missed = 0;
    const handle = clock.trigger('* * * * * *', () => fired.push(clock.now()), { onMissed: (n) => (missed += n) });
    clock.stall(3_600_000); // the :04 timer runs an hour late
    vi.advanceTimersToNextTimer();
    handle.stop();
    expect(fired).toEqual([new Date(2026, 0, 1, 11, 0, 4).getTime()]);
    expect(missed).toBe(3600);
  });

  it('hands what the tick throws to onError and keeps firing', () => {
    vi.useFakeTimers({ now: BASE });
    const errors: unknown[] = [];
    let ticks = 0;
    const handle = cronTrigger(
      '* * * * * *',
      () => {
        ticks++;
        throw new Error('tick failed');
      },
      { onError: (err) => errors.push(err) },
    );
    vi.advanceTimersByTime(3000);
    handle.stop();
    expect(ticks).toBe(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(['tick failed', 'tick failed', 'tick failed']);
  });

  it('re-arms a far firing at least hourly, so a wall clock set forward is noticed', () => {
    vi.useFakeTimers({ now: BASE });
    const clock = laggingTrigger();
    const fired: number[] = [];
    const handle = clock.trigger('0 0 12 * * *', () => fired.push(clock.now())); // noon, two hours away
    clock.stall(3_596_500); // the wall clock is set 59m56.5s forward
    vi.advanceTimersByTime(3_600_000 + 1000); // the hourly re-arm sees 11:59:59.5 and waits the last half second
    handle.stop();
    expect(fired).toEqual([new Date(2026, 0, 1, 12, 0, 0).getTime()]);
  });

  it('refuses an expression node-cron would not read', () => {
    expect(() => cronTrigger('61 * * * * *', () => undefined)).toThrow(/invalid cron expression/);
  });

  it('fires on the real clock without Intl, whose ICU tables the node-cron matcher would map in', async () => {
    const spy = vi.spyOn(Intl, 'DateTimeFormat').mockImplementation(() => {
      throw new Error('Intl.DateTimeFormat used');
    });
    let ticks = 0;
    try {
      const handle = cronTrigger('* * * * * *', () => ticks++);
      const deadline = Date.now() + 3000;
      while (ticks === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      handle.stop();
    } finally {
      spy.mockRestore();
    }
    expect(ticks).toBeGreaterThan(0);
    expect(spy).not.toHaveBeenCalled();
  });
});
