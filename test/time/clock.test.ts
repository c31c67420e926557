import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/time/index.js';

describe('ManualClock', () => {
  it('wakes sleepers in time order as it advances', async () => {
    const clock = new ManualClock(1000);
    const woke: number[] = [];
    void clock.sleep(500).then(() => woke.push(clock.nowMs()));
    void clock.sleep(100).then(() => woke.push(clock.nowMs()));
    await clock.advance(50);
    expect(woke).toEqual([]);
    await clock.advance(1000);
    expect(woke).toEqual([1100, 1500]);
    expect(clock.nowMs()).toBe(2050);
  });

  it('rejects a sleep whose signal aborts', async () => {
    const clock = new ManualClock();
    const ctl = new AbortController();
    const p = clock.sleep(1000, ctl.signal);
    ctl.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });

  it('leaves no abort listener behind on a long-lived signal once a sleeper wakes', async () => {
    const clock = new ManualClock();
    const ctl = new AbortController();
    for (let i = 0; i < 20; i++) {
      const p = clock.sleep(10, ctl.signal);
      await clock.advance(10);
      await p;
    }
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });
});
