/**
 * The /metrics exposition over a store: what the probes recorded is shown with its stored name,
 * labels and value, under one HELP/TYPE per family, beside the registry's own instruments and
 * never twice; rule output, stale and expired series stay out. Checked with promtool's parser.
 */
import { pino } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CompatFamilies, compatFamilyDefs, createMetricsExposition, RecordedNames, tapAppends, UNDESCRIBED_HELP } from '../../src/export/index.js';
import { RegistryInstruments, RunRecorder } from '../../src/probes/index.js';
import { MemoryStore, MetricMetadataRegistry } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { parseExposition, promtoolCheckMetrics, sampleKey } from './exposition-text.js';

const LOOKBACK_MS = 5 * 60_000;
const T0 = 1_700_000_000_000;

function setup() {
  const clock = new ManualClock(T0);
  const registry = new Registry();
  const store = new MemoryStore();
  const metadata = new MetricMetadataRegistry();
  const names = new RecordedNames();
  const sink = tapAppends(store, [names]);
  const exposition = createMetricsExposition({ registry, store, names, metadata, lookbackDeltaMs: LOOKBACK_MS, clock });
  return { clock, registry, store, metadata, names, sink, exposition };
}

describe('MetricsExposition', () => {
  it('shows every recorded series with its stored labels and value, one HELP/TYPE per family, and passes promtool', async () => {
    const { clock, registry, store, metadata, sink, exposition } = setup();
    const recorder = new RunRecorder({ store: sink, registry, logger: pino({ level: 'silent' }) });
    const inst = new RegistryInstruments(registry, metadata);
    const resumes = inst.counter('sentinel_resume_total', 'Resume probe runs by outcome.', ['outcome']);
    const latency = inst.histogram('sentinel_delivery_latency_seconds', 'Canary send-to-receipt time.', [], [0.1, 0.6]);
    inst.describe('sentinel_replay_lag_events', 'Events a client is behind.');
    resumes.inc({ outcome: 'ok' }, 3);
    resumes.inc({ outcome: 'gap' }, 0);
    latency.observe({}, 0.25);
    latency.observe({}, 2);
    const samples = [
      { name: 'sentinel_replay_lag_events', labels: { stream_id: 'a"b\\c', client_id: 'line\nbreak' }, value: 12 },
      { name: 'openagents_spacetime_mirror_published_total', value: 1e21 },
      { name: 'openagents_spacetime_mirror_duplicate_suppression_rate_pct', value: NaN },
      { name: 'sentinel_weird', value: -Infinity },
    ];
    await recorder.record('replay_lag', { result: { ok: true, durationMs: 40, detail: {}, samples }, reason: 'ok', attempts: 1, startedAtMs: clock.nowMs() - 40, completedAtMs: clock.nowMs() }, { drill: 'd1', stage: 's1' }, inst);
    // Rule output in the same store is not a probe's: a scraping Prometheus computes its own.
    const app = store.appender();
    app.append({ __name__: 'ALERTS', alertname: 'X', alertstate: 'firing' }, clock.nowMs(), 1);
    app.commit();

    const text = await exposition.metrics();
    const check = promtoolCheckMetrics(text);
    expect(check.status, check.output).not.toBe(1);
    const families = parseExposition(text);
    expect(families.has('ALERTS')).toBe(false);

    // Series by series: everything the store holds for a recorded name is on /metrics, and nothing else.
    const stored = new Map<string, number>();
    for (const s of store.latest([{ name: '__name__', type: '=~', value: 'sentinel_.*|openagents_.*' }])) stored.set(sampleKey(s.labels['__name__'], { ...s.labels }), s.sample.v);
    const exposed = new Map<string, number>();
    for (const f of families.values()) {
      if (!/^(sentinel_|openagents_)/.test(f.name) || f.name.startsWith('sentinel_export_')) continue;
      for (const s of f.samples) exposed.set(sampleKey(s.name, s.labels), s.value);
    }
    expect([...exposed.keys()].sort()).toEqual([...stored.keys()].sort());
    for (const [k, v] of stored) expect(exposed.get(k), k).toBe(v);

    // Cumulative series carry the probe run's time (window edges then agree with Prometheus'), gauges none (so they go stale at once).
    expect(families.get('sentinel_resume_total')?.samples.every((x) => x.timestampMs === T0)).toBe(true);
    expect(families.get('sentinel_delivery_latency_seconds')?.samples.every((x) => x.timestampMs === T0)).toBe(true);
    expect(families.get('sentinel_replay_lag_events')?.samples[0].timestampMs).toBeUndefined();
    expect(families.get('sentinel_resume_total')?.type).toBe('counter');
    expect(families.get('sentinel_resume_total')?.help).toBe('Resume probe runs by outcome.');
    expect(families.get('sentinel_replay_lag_events')).toMatchObject({ type: 'gauge', help: 'Events a client is behind.' });
    expect(families.get('sentinel_replay_lag_events')?.samples[0].labels).toEqual({ client_id: 'line\nbreak', drill: 'd1', stage: 's1', stream_id: 'a"b\\c' });
    // The framework's own instruments: metadata from the registry, values (with drill labels) from the store, once.
    expect(families.get('sentinel_probe_success')).toMatchObject({ type: 'gauge', samples: [{ labels: { probe: 'replay_lag', drill: 'd1', stage: 's1' }, value: 1 }] });
    expect(text.match(/^# TYPE sentinel_probe_success /gm)).toHaveLength(1);
    expect(text.match(/^# TYPE sentinel_resume_total /gm)).toHaveLength(1);
    // Undescribed: _total is a counter, the rest gauges, with a generic help.
    expect(families.get('openagents_spacetime_mirror_published_total')).toMatchObject({ type: 'counter', help: UNDESCRIBED_HELP });
    expect(families.get('openagents_spacetime_mirror_duplicate_suppression_rate_pct')?.type).toBe('gauge');
    expect(Number.isNaN(families.get('openagents_spacetime_mirror_duplicate_suppression_rate_pct')?.samples[0].value)).toBe(true);
    expect(families.get('sentinel_weird')?.samples[0].value).toBe(-Infinity);
    // A histogram is one family: buckets by le (+Inf last), then _sum and _count.
    const h = families.get('sentinel_delivery_latency_seconds');
    expect(h?.type).toBe('histogram');
    expect(h?.samples.map((s) => `${s.name}${s.labels.le ? `{${s.labels.le}}` : ''}`)).toEqual([
      'sentinel_delivery_latency_seconds_bucket{0.1}',
      'sentinel_delivery_latency_seconds_bucket{0.6}',
      'sentinel_delivery_latency_seconds_bucket{+Inf}',
      'sentinel_delivery_latency_seconds_sum',
      'sentinel_delivery_latency_seconds_count',
    ]);
    // The registry's other metrics are still there.
    expect(families.get('sentinel_export_series')?.samples).toContainEqual({ name: 'sentinel_export_series', labels: { source: 'store' }, value: stored.size });
  });

  it('drops a series once it is stale or older than the lookback delta, as an instant query would', async () => {
    const { clock, sink, exposition } = setup();
    const app = sink.appender();
    app.append({ __name__: 'sentinel_replay_lag_events', stream_id: 'a' }, clock.nowMs(), 5);
    app.append({ __name__: 'sentinel_replay_lag_events', stream_id: 'b' }, clock.nowMs(), 7);
    app.commit();
    const shown = async (): Promise<string[]> => (parseExposition(await exposition.metrics()).get('sentinel_replay_lag_events')?.samples ?? []).map((s) => s.labels.stream_id);
    expect(await shown()).toEqual(['a', 'b']);
    await clock.advance(15_000);
    const next = sink.appender();
    next.append({ __name__: 'sentinel_replay_lag_events', stream_id: 'a' }, clock.nowMs(), 6);
    next.appendStale({ __name__: 'sentinel_replay_lag_events', stream_id: 'b' }, clock.nowMs());
    next.commit();
    expect(await shown()).toEqual(['a']);
    await clock.advance(LOOKBACK_MS);
    expect(await shown()).toEqual(['a']);
    await clock.advance(1);
    expect(await shown()).toEqual([]);
  });

  it('stops printing a registry family once the probes record it, and hides it while the stored series is stale', async () => {
    const { registry, sink, exposition } = setup();
    const g = new Gauge({ name: 'sentinel_probe_success', help: 'x', labelNames: ['probe'], registers: [registry] });
    g.set({ probe: 'token' }, 1);
    new Counter({ name: 'sentinel_other_total', help: 'y', registers: [registry] }).inc();
    expect(parseExposition(await exposition.metrics()).get('sentinel_probe_success')?.samples).toHaveLength(1);
    const app = sink.appender();
    app.appendStale({ __name__: 'sentinel_probe_success', probe: 'token' }, T0);
    app.commit();
    const families = parseExposition(await exposition.metrics());
    expect(families.has('sentinel_probe_success')).toBe(false);
    expect(families.get('sentinel_other_total')?.samples[0].value).toBe(1);
  });
});

describe('CompatFamilies', () => {
  it("derives the operators' names from the stored series, each marked with its source", async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryStore();
    const app = store.appender();
    const put = (labels: Record<string, string>, v: number): void => app.append(labels, T0, v);
    put({ __name__: 'sentinel_probe_runs_total', probe: 'delivery', result: 'ok' }, 10);
    put({ __name__: 'sentinel_probe_runs_total', probe: 'resume', result: 'ok' }, 4);
    put({ __name__: 'sentinel_probe_runs_total', probe: 'resume', result: 'auth' }, 2);
    put({ __name__: 'sentinel_probe_runs_total', probe: 'token', result: 'auth' }, 9);
    put({ __name__: 'sentinel_replay_lag_max_events', stream_id: 's1' }, 300);
    put({ __name__: 'sentinel_resume_total', outcome: 'stale_rebootstrap_ok' }, 3);
    put({ __name__: 'sentinel_resume_total', outcome: 'stale_rebootstrap_failed' }, 1);
    put({ __name__: 'sentinel_resume_total', outcome: 'gap' }, 0);
    put({ __name__: 'sentinel_resume_duration_seconds' }, 0.25);
    put({ __name__: 'sentinel_ws_reconnects_total', probe: 'delivery' }, 2);
    put({ __name__: 'sentinel_ws_reconnects_total', probe: 'resume' }, 1);
    app.commit();
    const compat = new CompatFamilies({ store, defs: compatFamilyDefs('sentinel-test'), lookbackDeltaMs: LOOKBACK_MS });
    const values = new Map<string, number>();
    for (const f of compat.collect(clock.nowMs())) for (const s of f.series) values.set(sampleKey(s.name, { ...s.labels }), s.value);
    expect(Object.fromEntries(values)).toEqual({
      'openagents_runtime_sync_socket_auth_count{source="sentinel_canary",status="ok"}': 14,
      'openagents_runtime_sync_socket_auth_count{reason_code="auth",source="sentinel_canary",status="error"}': 2,
      'openagents_runtime_sync_replay_lag_events{source="fleet_checkpoints",stream_id="s1"}': 300,
      'openagents_runtime_sync_replay_catchup_duration_ms{source="sentinel_canary",status="ok"}': 250,
      'openagents_runtime_sync_replay_catchup_duration_ms_count{source="sentinel_canary",status="ok"}': 0,
      'openagents_runtime_sync_replay_catchup_duration_ms_count{source="sentinel_canary",status="stale_cursor"}': 4,
      'openagents_runtime_sync_replay_catchup_duration_ms_count{source="sentinel_canary",status="error"}': 0,
      'openagents_sync_client_telemetry_event_count{app_version="sentinel-test",event_type="reconnect",source="sentinel_canary",surface="sentinel"}': 3,
      'openagents_sync_client_telemetry_event_count{app_version="sentinel-test",event_type="auth_failure",reason_code="socket_auth",source="sentinel_canary",surface="sentinel"}': 2,
    });
    // Nothing live, nothing shown: the families vanish with their inputs.
    await clock.advance(LOOKBACK_MS + 1);
    expect(compat.collect(clock.nowMs()).flatMap((f) => f.series)).toEqual([]);
  });
});
