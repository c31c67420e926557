import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/time/index.js';
import { MemoryStore, StoreComponent } from '../../src/store/index.js';

describe('StoreComponent', () => {
  it('applies retention at start and every interval, and keeps going after a failed pass', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ retentionMs: 60_000 });
    const app = store.appender();
    for (let t = 0; t <= 300_000; t += 10_000) app.append({ __name__: 'x' }, t, t);
    app.commit();
    let calls = 0;
    let failNext = false;
    const wrapped = {
      applyRetention: (now: number) => {
        calls++;
        if (failNext) {
          failNext = false;
          throw new Error('disk went away');
        }
        store.applyRetention(now);
      },
      close: () => store.close(),
    };
    const loop = new StoreComponent({ store: wrapped, clock, intervalMs: 60_000 });
    await loop.start();
    expect(calls).toBe(1);
    failNext = true;
    await clock.advance(60_000);
    expect(calls).toBe(2);
    await clock.advance(240_000); // now 300 s: keep [240 s, 300 s]
    expect(calls).toBe(6);
    const samples = store.select([{ name: '__name__', type: '=', value: 'x' }], 0, Infinity)[0].samples;
    expect(samples[0].t).toBe(240_000);
    expect(loop.isReady()).toBe(true);
    await loop.stop(0);
    expect(loop.isReady()).toBe(false);
    await clock.advance(600_000);
    expect(calls).toBe(6);
  });
});
