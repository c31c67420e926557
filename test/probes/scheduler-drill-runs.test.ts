/**
 * ProbeScheduler.runOnce as drills use it: each run carries its own phase labels, `isBusy` tells
 * a drill round to skip a probe still running, and a run the drill cuts off is aborted and not
 * recorded (it measured nothing), while a run that answered before the cut-off is kept.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ProbeScheduler } from '../../src/probes/index.js';
import type { Probe, ProbeContext, ProbeResult } from '../../src/probes/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';

/** slowProbe answers after `ms` on the context's clock, or gives up when its signal aborts. */
function slowProbe(name: string, ms: number): Probe {
  return {
    name,
    async run(ctx: ProbeContext): Promise<ProbeResult> {
      await ctx.clock.sleep(ms, ctx.signal);
      return { ok: true, durationMs: ms, detail: {}, samples: [{ name: 'sentinel_test_value', value: 1 }] };
    },
  };
}

function setup(ms: number) {
  const clock = new ManualClock(1_700_000_000_000);
  const store = new MemoryStore();
  const registry = new Registry();
  let fire: () => void = () => undefined;
  const scheduler = new ProbeScheduler({
    probes: [{ probe: slowProbe('slow', ms), schedule: '0 0 * * * *', timeoutMs: 60_000 }],
    store,
    registry,
    clock,
    trigger: (_expr, onTick) => {
      fire = onTick;
      return { stop: () => undefined };
    },
  });
  return { clock, store, registry, scheduler, tick: () => fire() };
}

describe('ProbeScheduler.runOnce for drills', () => {
  it('labels one run with its phase, and is busy while it runs', async () => {
    const { clock, store, scheduler } = setup(2000);
    scheduler.setRunLabels({ drill: 'd', stage: 'scheduled-label' });
    const running = scheduler.runOnce('slow', { labels: { drill: 'd', stage: 'partition-recovery' } });
    expect(scheduler.isBusy('slow')).toBe(true);
    await clock.advance(2000);
    const [report] = await running;
    expect(scheduler.isBusy('slow')).toBe(false);
    expect(report.cutOff).toBeUndefined();
    const series = store.select([{ name: '__name__', type: '=', value: 'sentinel_probe_success' }], 0, Infinity);
    expect(series.map((s) => s.labels.stage)).toEqual(['partition-recovery']);
  });

  it('does not record a run it cuts off, and says so', async () => {
    const { clock, store, registry, scheduler } = setup(10_000);
    const cut = new AbortController();
    const running = scheduler.runOnce('slow', { labels: { drill: 'd', stage: 'partition' }, cutOff: cut.signal });
    await clock.advance(3000);
    cut.abort(new Error('stage ended'));
    const [report] = await running;
    expect(report.cutOff).toBe(true);
    expect(report.outcome.reason).toBe('timeout');
    expect(store.select([{ name: '__name__', type: '=~', value: 'sentinel_.*' }], 0, Infinity)).toEqual([]);
    expect(await registry.metrics()).not.toContain('sentinel_probe_runs_total{probe="slow"');
    expect(scheduler.isBusy('slow')).toBe(false);
  });

  it('holds the cron ticks of probes a drill reserved, and waits for a scheduled run in flight', async () => {
    const { clock, scheduler, tick } = setup(1000);
    await scheduler.start();
    tick();
    expect(scheduler.isBusy('slow')).toBe(true);
    scheduler.reserve(['slow']);
    const idle = scheduler.whenProbesIdle(['slow'], new AbortController().signal);
    await clock.advance(1000);
    await idle;
    expect(scheduler.isBusy('slow')).toBe(false);
    tick();
    expect(scheduler.isBusy('slow')).toBe(false);
    scheduler.reserve(undefined);
    tick();
    expect(scheduler.isBusy('slow')).toBe(true);
    await clock.advance(1000);
    await scheduler.stop(clock.nowMs());
  });

  it('keeps a run that answered before the cut-off', async () => {
    const { clock, store, scheduler } = setup(1000);
    const cut = new AbortController();
    const running = scheduler.runOnce('slow', { cutOff: cut.signal });
    await clock.advance(1000);
    const [report] = await running;
    cut.abort();
    expect(report.cutOff).toBeUndefined();
    expect(report.outcome.reason).toBe('ok');
    expect(store.select([{ name: '__name__', type: '=', value: 'sentinel_test_value' }], 0, Infinity)).toHaveLength(1);
  });
});
