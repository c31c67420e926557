import { afterEach, describe, expect, it } from 'vitest';
import { evalTimestampMs, groupOffsetMs, GroupRunner } from '../../src/alerts/group-runner.js';
import { ManualClock } from '../../src/time/index.js';

const group = { name: 'spacetime-sync', file: '/etc/sentinel/rules.yaml', intervalMs: 60_000 };

describe('group slots', () => {
  it('are the interval apart, shifted by a stable per-group offset', () => {
    const offset = groupOffsetMs(group.file, group.name, group.intervalMs);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(60_000);
    expect(groupOffsetMs(group.file, group.name, group.intervalMs)).toBe(offset);
    expect(groupOffsetMs(group.file, 'other', group.intervalMs)).not.toBe(offset);
    const slot = evalTimestampMs(1_000_000_123, 60_000, offset);
    expect((slot - offset) % 60_000).toBe(0);
    expect(slot).toBeLessThanOrEqual(1_000_000_123);
    expect(1_000_000_123 - slot).toBeLessThan(60_000);
  });
});

describe('GroupRunner', () => {
  const runners: GroupRunner[] = [];
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop(Date.now() + 1000);
  });

  it('evaluates once per slot at slotted timestamps taken from the injected clock', async () => {
    const clock = new ManualClock(10_000_000);
    const seen: number[] = [];
    const r = new GroupRunner({ group, clock, evaluate: (t) => void seen.push(t) });
    runners.push(r);
    r.start();
    await clock.advance(5 * 60_000);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < seen.length; i++) expect(seen[i] - seen[i - 1]).toBe(60_000);
    const offset = groupOffsetMs(group.file, group.name, group.intervalMs);
    for (const t of seen) expect((t - offset) % 60_000).toBe(0);
    expect(r.lastEvalTimestampMs).toBe(seen[seen.length - 1]);
  });

  it('keeps running after an evaluation throws', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const failures: unknown[] = [];
    const r = new GroupRunner({
      group,
      clock,
      evaluate: () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
      },
      onFailed: (e) => failures.push(e),
    });
    runners.push(r);
    r.start();
    await clock.advance(3 * 60_000);
    expect(failures).toHaveLength(1);
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('skips and counts the slots an overrunning evaluation overlapped instead of running twice at once', async () => {
    const clock = new ManualClock(0);
    let running = 0;
    let maxRunning = 0;
    const seen: number[] = [];
    let release: (() => void) | undefined;
    const r = new GroupRunner({
      group,
      clock,
      evaluate: async (t) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        seen.push(t);
        if (seen.length === 1) await new Promise<void>((res) => (release = res));
        running -= 1;
      },
    });
    runners.push(r);
    r.start();
    await clock.advance(60_000);
    expect(seen).toHaveLength(1);
    // The first evaluation hangs for 3.5 intervals.
    await clock.advance(210_000);
    expect(seen).toHaveLength(1);
    release!();
    await new Promise((res) => setImmediate(res));
    await clock.advance(1);
    expect(maxRunning).toBe(1);
    expect(r.iterationsMissed).toBe(3);
    expect(seen[1] - seen[0]).toBe(4 * 60_000);
  });
});
