import { describe, expect, it } from 'vitest';
import { tracing } from '@opentelemetry/sdk-node';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/time/index.js';
import type { CronTrigger } from '../../src/time/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ProbeScheduler, RegistryInstruments } from '../../src/probes/index.js';
import type { Probe, ProbeContext, ProbeResult, ScheduledProbe } from '../../src/probes/index.js';

/** ManualTrigger records the tick callbacks so a test fires cron ticks by hand. */
function manualTrigger(): { trigger: CronTrigger; fire(index?: number): void; stopped: () => number } {
  const ticks: Array<() => void> = [];
  let stopped = 0;
  return {
    trigger: (_expr, onTick) => {
      ticks.push(onTick);
      return { stop: () => void stopped++ };
    },
    fire: (index = 0) => ticks[index](),
    stopped: () => stopped,
  };
}

function probe(name: string, run: (ctx: ProbeContext) => Promise<ProbeResult>): Probe {
  return { name, run };
}

const ok = (samples: ProbeResult['samples'] = []): ProbeResult => ({ ok: true, durationMs: 5, detail: {}, samples });

function setup(entries: ScheduledProbe[], clock = new ManualClock(1_700_000_000_000)) {
  const registry = new Registry();
  const store = new MemoryStore();
  const trig = manualTrigger();
  const scheduler = new ProbeScheduler({ probes: entries, store, registry, clock, trigger: trig.trigger, random: () => 0 });
  return { registry, store, trig, scheduler, clock };
}

const byName = (name: string) => [{ name: '__name__', type: '=', value: name }] as const;

describe('ProbeScheduler', () => {
  it('keeps running after a probe throws, recording each failure as error', async () => {
    let calls = 0;
    const flaky = probe('flaky', async () => {
      calls++;
      if (calls < 3) throw new Error('bug in probe');
      return ok();
    });
    const { registry, store, trig, scheduler, clock } = setup([{ probe: flaky, schedule: '*/15 * * * * *', timeoutMs: 1000 }]);
    await scheduler.start();
    for (let i = 0; i < 3; i++) {
      trig.fire();
      await scheduler.whenIdle();
      await clock.advance(15_000);
    }
    expect(calls).toBe(3);
    const text = await registry.metrics();
    expect(text).toContain('sentinel_probe_runs_total{probe="flaky",result="error"} 2');
    expect(text).toContain('sentinel_probe_runs_total{probe="flaky",result="ok"} 1');
    expect(store.select(byName('sentinel_probe_success'), 0, Infinity)[0].samples.map((s) => s.v)).toEqual([0, 0, 1]);
    expect(scheduler.lastRun('flaky')?.outcome.reason).toBe('ok');
    await scheduler.stop(clock.nowMs());
  });

  it('skips a tick while the previous run of the same probe is still going, and counts it', async () => {
    let release: () => void = () => undefined;
    let running = 0;
    let maxRunning = 0;
    const slow = probe('slow', async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => (release = r));
      running--;
      return ok();
    });
    const { registry, store, trig, scheduler } = setup([{ probe: slow, schedule: '* * * * *', timeoutMs: 60_000 }]);
    await scheduler.start();
    trig.fire();
    await new Promise((r) => setImmediate(r));
    trig.fire();
    trig.fire();
    release();
    await scheduler.whenIdle();
    expect(maxRunning).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('sentinel_probe_skipped_total{probe="slow"} 2');
    expect(text).toContain('sentinel_probe_runs_total{probe="slow",result="ok"} 1');
    expect(store.select(byName('sentinel_probe_skipped_total'), 0, Infinity)[0].samples.at(-1)?.v).toBe(2);
  });

  it('ends a run that ignores its signal at the deadline, as a timeout, and frees the probe', async () => {
    let sawAbort = false;
    const hang = probe('hang', (ctx) => {
      ctx.signal.addEventListener('abort', () => (sawAbort = true));
      return new Promise<ProbeResult>(() => undefined);
    });
    const { trig, scheduler, clock } = setup([{ probe: hang, schedule: '* * * * *', timeoutMs: 10_000 }]);
    await scheduler.start();
    trig.fire();
    await clock.advance(9_999);
    expect(scheduler.lastRun('hang')).toBeUndefined();
    await clock.advance(1);
    await scheduler.whenIdle();
    expect(sawAbort).toBe(true);
    expect(scheduler.lastRun('hang')?.outcome.reason).toBe('timeout');
  });

  it('writes stale markers for series a run no longer produces, stamped at completion time', async () => {
    const outputs = [
      [{ name: 'sentinel_replay_lag_events', labels: { stream_id: 's', client_id: 'a' }, value: 3 }, { name: 'sentinel_replay_lag_events', labels: { stream_id: 's', client_id: 'b' }, value: 1 }],
      [{ name: 'sentinel_replay_lag_events', labels: { stream_id: 's', client_id: 'a' }, value: 4 }],
    ];
    let i = 0;
    const lag = probe('replay_lag', async () => ok(outputs[i++]));
    const { store, scheduler, clock } = setup([{ probe: lag, schedule: '* * * * *', timeoutMs: 1000 }]);
    const t0 = clock.nowMs();
    await scheduler.runOnce('replay_lag');
    await clock.advance(60_000);
    await scheduler.runOnce('replay_lag');
    const series = store.select(byName('sentinel_replay_lag_events'), 0, Infinity);
    expect(series.map((s) => s.labels['client_id'])).toEqual(['a', 'b']);
    expect(series[0].samples).toEqual([{ t: t0, v: 3 }, { t: t0 + 60_000, v: 4 }]);
    expect(series[1].samples).toEqual([{ t: t0, v: 1 }, { t: t0 + 60_000, v: NaN, stale: true }]);
  });

  it('labels run samples with the drill and stage while set, and stales the unlabelled series', async () => {
    const p = probe('token', async () => ok([{ name: 'sentinel_token_ok', value: 1 }]));
    const { store, scheduler, clock } = setup([{ probe: p, schedule: '* * * * *', timeoutMs: 1000 }]);
    await scheduler.runOnce('token');
    scheduler.setRunLabels({ drill: 'ws-latency', stage: 'inject' });
    await clock.advance(1000);
    await scheduler.runOnce('token');
    scheduler.clearRunLabels();
    const series = store.select(byName('sentinel_probe_success'), 0, Infinity);
    expect(series.map((s) => s.labels)).toEqual([
      { __name__: 'sentinel_probe_success', drill: 'ws-latency', probe: 'token', stage: 'inject' },
      { __name__: 'sentinel_probe_success', probe: 'token' },
    ]);
    expect(series[1].samples.at(-1)?.stale).toBe(true);
    expect(store.select([{ name: '__name__', type: '=', value: 'sentinel_token_ok' }, { name: 'drill', type: '=', value: 'ws-latency' }], 0, Infinity)).toHaveLength(1);
  });

  it('retries only configured reasons, up to the configured count', async () => {
    const seen: string[] = [];
    const answers: ProbeResult[] = [
      { ok: false, reason: 'unreachable', durationMs: 1, detail: {}, samples: [] },
      { ok: true, durationMs: 1, detail: {}, samples: [] },
      { ok: false, reason: 'gap', durationMs: 1, detail: {}, samples: [] },
    ];
    const p = probe('resume', async () => {
      const r = answers[seen.length];
      seen.push(r.reason ?? 'ok');
      return r;
    });
    const { scheduler } = setup([{ probe: p, schedule: '* * * * *', timeoutMs: 1000, retries: 2, retryDelayMs: 0 }]);
    const [first] = await scheduler.runOnce('resume');
    expect(first.outcome).toMatchObject({ attempts: 2, reason: 'ok' });
    const [second] = await scheduler.runOnce('resume');
    expect(second.outcome).toMatchObject({ attempts: 1, reason: 'gap' });
  });

  it('appends the probe instruments to the store after each run, as /metrics shows them', async () => {
    const registry = new Registry();
    const instruments = new RegistryInstruments(registry);
    const resumes = instruments.counter('sentinel_resume_total', 'Resume outcomes.', ['outcome']);
    const p = probe('resume', async () => {
      resumes.inc({ outcome: 'ok' });
      return ok();
    });
    const store = new MemoryStore();
    const clock = new ManualClock(1000);
    const scheduler = new ProbeScheduler({ probes: [{ probe: p, schedule: '* * * * *', timeoutMs: 1000, instruments }], store, registry, clock, trigger: manualTrigger().trigger });
    await scheduler.runOnce('resume');
    await clock.advance(1000);
    await scheduler.runOnce('resume');
    expect(store.select(byName('sentinel_resume_total'), 0, Infinity)[0]).toEqual({ labels: { __name__: 'sentinel_resume_total', outcome: 'ok' }, samples: [{ t: 1000, v: 1 }, { t: 2000, v: 2 }] });
    expect(await registry.metrics()).toContain('sentinel_resume_total{outcome="ok"} 2');
  });

  it('rejects bad cron expressions and unknown probe names with clear errors', async () => {
    const p = probe('token', async () => ok());
    expect(() => setup([{ probe: p, schedule: 'every minute', timeoutMs: 1000 }])).toThrow(/probes\.token\.schedule: "every minute" is not a cron expression/);
    const { scheduler } = setup([{ probe: p, schedule: '* * * * *', timeoutMs: 1000 }]);
    await expect(scheduler.runOnce('nope')).rejects.toThrow(/unknown probe 'nope'; configured probes: token/);
  });

  it('stops its triggers and aborts runs in flight at stop()', async () => {
    let aborted = false;
    let closed = 0;
    const p: Probe = {
      name: 'hang',
      run: (ctx) => new Promise<ProbeResult>((resolve) => ctx.signal.addEventListener('abort', () => {
        aborted = true;
        resolve({ ok: false, reason: 'timeout', durationMs: 0, detail: {}, samples: [] });
      })),
      close: async () => void closed++,
    };
    const { trig, scheduler, clock } = setup([{ probe: p, schedule: '* * * * *', timeoutMs: 60_000 }]);
    await scheduler.start();
    expect(scheduler.isReady()).toBe(true);
    trig.fire();
    await new Promise((r) => setImmediate(r));
    await scheduler.stop(clock.nowMs() + 1000);
    expect(aborted).toBe(true);
    expect(trig.stopped()).toBe(1);
    expect(closed).toBe(1);
    expect(scheduler.isReady()).toBe(false);
  });
});

describe('ProbeScheduler tracing', () => {
  it('wraps each attempt in a span carrying the probe, attempt and reason', async () => {
    const exporter = new tracing.InMemorySpanExporter();
    const provider = new tracing.BasicTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
    const answers: ProbeResult[] = [
      { ok: false, reason: 'timeout', durationMs: 1, detail: {}, samples: [] },
      { ok: true, durationMs: 1, detail: {}, samples: [] },
    ];
    let n = 0;
    const p = probe('token', async () => answers[n++]);
    const scheduler = new ProbeScheduler({
      probes: [{ probe: p, schedule: '* * * * *', timeoutMs: 1000, retries: 1, retryDelayMs: 0 }],
      store: new MemoryStore(),
      clock: new ManualClock(0),
      trigger: manualTrigger().trigger,
      tracer: provider.getTracer('test'),
    });
    await scheduler.runOnce('token');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['sentinel.probe.attempt'], s.attributes['sentinel.probe.reason']])).toEqual([
      ['probe token', 1, 'timeout'],
      ['probe token', 2, 'ok'],
    ]);
    await provider.shutdown();
  });
});
