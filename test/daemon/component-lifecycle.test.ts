import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startComponents, STOP_GRACE_MS, stopComponents } from '../../src/daemon/index.js';
import type { Component } from '../../src/daemon/index.js';
import { ManualClock } from '../../src/time/index.js';

const logger = pino({ level: 'silent' });

function fake(name: string, log: string[], behaviour: { failStart?: boolean; failStop?: boolean; hangStop?: boolean } = {}): Component & { deadlines: number[] } {
  const deadlines: number[] = [];
  return {
    name,
    deadlines,
    start: async () => {
      log.push(`start ${name}`);
      if (behaviour.failStart) throw new Error(`${name} cannot start`);
    },
    stop: async (deadlineMs) => {
      deadlines.push(deadlineMs);
      log.push(`stop ${name}`);
      if (behaviour.failStop) throw new Error(`${name} cannot stop`);
      if (behaviour.hangStop) await new Promise(() => undefined);
    },
    isReady: () => true,
  };
}

describe('component lifecycle', () => {
  it('starts in order and stops in reverse, all with the same deadline', async () => {
    const log: string[] = [];
    const clock = new ManualClock(1_000);
    const parts = [fake('store', log), fake('http-server', log), fake('probes', log)];
    const started = await startComponents(parts, { signal: new AbortController().signal, logger, clock, deadlineMs: () => clock.nowMs() + 10_000 });
    const report = await stopComponents(started, { deadlineMs: 11_000, clock, logger });
    expect(log).toEqual(['start store', 'start http-server', 'start probes', 'stop probes', 'stop http-server', 'stop store']);
    expect(report).toEqual({ isClean: true, overrun: [], failed: [] });
    expect(parts.map((p) => p.deadlines)).toEqual([[11_000], [11_000], [11_000]]);
  });

  it('when a start fails, stops what already started (in reverse) and rethrows', async () => {
    const log: string[] = [];
    const clock = new ManualClock(0);
    const parts = [fake('store', log), fake('http-server', log, { failStart: true }), fake('probes', log)];
    await expect(startComponents(parts, { signal: new AbortController().signal, logger, clock, deadlineMs: () => 5_000 })).rejects.toThrow('http-server cannot start');
    expect(log).toEqual(['start store', 'start http-server', 'stop store']);
  });

  it('does not start anything once the signal has aborted', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    controller.abort();
    const started = await startComponents([fake('store', log)], { signal: controller.signal, logger, clock: new ManualClock(0), deadlineMs: () => 0 });
    expect(started).toEqual([]);
    expect(log).toEqual([]);
  });

  it('a component that fails to stop or overruns the deadline does not hold up the others', async () => {
    const log: string[] = [];
    const clock = new ManualClock(0);
    const parts = [fake('store', log), fake('http-server', log, { failStop: true }), fake('rules', log, { hangStop: true })];
    const stopping = stopComponents(parts, { deadlineMs: 10_000, clock, logger });
    await clock.advance(10_000 + STOP_GRACE_MS - 1);
    expect(log).toEqual(['stop rules']);
    await clock.advance(1);
    const report = await stopping;
    expect(log).toEqual(['stop rules', 'stop http-server', 'stop store']);
    expect(report).toEqual({ isClean: false, overrun: ['rules'], failed: ['http-server'] });
  });
});
