/**
 * remote_write into Debian's real `prometheus --web.enable-remote-write-receiver` on loopback:
 * what the sentinel's store holds is what Prometheus returns for the same range (raw samples and
 * query_range of the expressions rules use, NaN, ±Inf and stale markers included), and nothing is
 * lost while the receiver is down for two minutes. The outage is real (the process is stopped and
 * started again on the same port and data directory); its two minutes pass on the injected
 * clock that drives the samples' timestamps and the writer's batching and backoff, so the test
 * does not sleep them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteWriteQueueSettings } from '../../src/export/index.js';
import { createEngine, toApiQueryData } from '../../src/promql/index.js';
import type { ApiQueryData } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { startReceiverWriter, startRemoteWriteReceiver } from '../helpers/remote-write-receiver.js';
import type { ReceiverWriter } from '../helpers/remote-write-receiver.js';
import type { PrometheusProcess } from '../helpers/prometheus-process.js';

const QUEUE: RemoteWriteQueueSettings = { capacity: 100_000, maxSamplesPerSend: 500, batchSendDeadlineMs: 5000, minBackoffMs: 30, maxBackoffMs: 5000 };

let dir: string;
let prom: PrometheusProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-rw-prom-'));
  prom = await startRemoteWriteReceiver(join(dir, 'prometheus'));
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** promApi runs a query or query_range on Prometheus and returns its `data`. */
async function promApi(path: 'query' | 'query_range', params: Record<string, string>): Promise<ApiQueryData> {
  const res = await fetch(`${prom.url}/api/v1/${path}?${new URLSearchParams(params).toString()}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; error?: string; data: ApiQueryData };
  if (body.status !== 'success') throw new Error(`prometheus ${path} ${JSON.stringify(params)}: ${body.error ?? res.status}`);
  return body.data;
}

/**
 * comparable sorts a matrix's series by labels and keeps the values as the API's text, except
 * that plain fractions are compared to 12 digits: sums may differ in the last bits (the two
 * engines add a group up in their own series order).
 */
function comparable(data: ApiQueryData): Array<{ metric: string; values: Array<[number, string | number]> }> {
  if (data.resultType !== 'matrix') throw new Error(`expected a matrix, got ${data.resultType}`);
  return data.result
    .map((s) => ({ metric: JSON.stringify(s.metric), values: s.values.map(([t, v]): [number, string | number] => [t, /^-?\d+\.\d+$/.test(v) ? Number(Number(v).toPrecision(12)) : v]) }))
    .sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
}

interface Harness extends ReceiverWriter {
  readonly clock: ManualClock;
  readonly store: MemoryStore;
  commit(t: number, samples: Array<{ labels: Record<string, string>; v?: number; stale?: boolean }>): void;
}

async function harness(startMs: number, name: string): Promise<Harness> {
  const clock = new ManualClock(startMs);
  const store = new MemoryStore();
  const w = await startReceiverWriter(prom, { name, queue: QUEUE, queueFile: join(dir, `${name}.sqlite`), store, clock });
  return {
    ...w,
    clock,
    store,
    commit(t, samples) {
      const app = w.sink.appender();
      for (const s of samples) {
        if (s.stale) app.appendStale(s.labels, t);
        else app.append(s.labels, t, s.v ?? 0);
      }
      app.commit();
    },
  };
}

const engine = createEngine();

describe('remote_write into a real prometheus --web.enable-remote-write-receiver', () => {
  it('what the sentinel stored is what Prometheus returns for the same range: raw samples and query_range, NaN, ±Inf and stale markers included', async () => {
    const start = Math.floor(Date.now() / 1000) * 1000 - 20 * 60_000;
    const h = await harness(start, 'compare');
    const base = { test: 'compare' };
    let requests200 = 0;
    let requests500 = 0;
    const buckets = ['0.05', '0.1', '0.25', '0.5', '1', '+Inf'];
    const cumulative = buckets.map(() => 0);
    for (let i = 0; i < 900; i++) {
      const t = start + i * 1000;
      // A counter with a reset in the middle, as a restarted target shows it.
      requests200 = i === 450 ? 3 : requests200 + ((i * 7) % 5);
      requests500 += i % 11 === 0 ? 1 : 0;
      const latency = ((i * 37) % 100) / 100;
      buckets.forEach((le, k) => (cumulative[k] += le === '+Inf' || latency <= Number(le) ? 1 : 0));
      const gauge = [0.1 + 0.2, -1e-300, 1.7976931348623157e308, NaN, Infinity, -Infinity, 42][i % 7];
      const samples: Array<{ labels: Record<string, string>; v?: number; stale?: boolean }> = [
        { labels: { __name__: 'rw_test_requests_total', code: '200', ...base }, v: requests200 },
        { labels: { __name__: 'rw_test_requests_total', code: '500', ...base }, v: requests500 },
        ...buckets.map((le, k) => ({ labels: { __name__: 'rw_test_latency_seconds_bucket', le, ...base }, v: cumulative[k] })),
      ];
      // The gauge goes stale for a minute in the middle (a series the probes stopped writing).
      if (i < 300 || i >= 360) samples.push({ labels: { __name__: 'rw_test_gauge', ...base }, v: gauge });
      else if (i === 300) samples.push({ labels: { __name__: 'rw_test_gauge', ...base }, stale: true });
      h.commit(t, samples);
      if (i % 10 === 9) await h.clock.advance(10_000);
    }
    await h.drain();
    const end = start + 899_000;
    expect(await h.metric('sentinel_remote_storage_samples_total')).toBe(900 * 8 + 840 + 1);
    expect(await h.metric('sentinel_remote_storage_samples_failed_total')).toBe(0);
    expect(await h.metric('sentinel_remote_storage_samples_dropped_total')).toBe(0);

    // Raw samples: a range selector over the whole span, at its end.
    const raw = '{test="compare"}[20m]';
    const ours = toApiQueryData(engine.instantQuery(h.store, raw, end).value);
    const theirs = await promApi('query', { query: raw, time: String(end / 1000) });
    expect(comparable(ours).map((s) => [s.metric, s.values.length])).toEqual(comparable(theirs).map((s) => [s.metric, s.values.length]));
    expect(comparable(theirs)).toEqual(comparable(ours));

    // The expressions rules and the gate use, over the same range and step.
    for (const expr of [
      'rw_test_gauge{test="compare"}',
      'rate(rw_test_requests_total{test="compare"}[1m])',
      'sum by (code) (increase(rw_test_requests_total{test="compare"}[5m]))',
      'histogram_quantile(0.9, sum by (le) (rate(rw_test_latency_seconds_bucket{test="compare"}[2m])))',
      'absent_over_time(rw_test_gauge{test="compare"}[30s])',
    ]) {
      const mine = toApiQueryData(engine.rangeQuery(h.store, expr, start, end, 15_000).value);
      const prometheus = await promApi('query_range', { query: expr, start: String(start / 1000), end: String(end / 1000), step: '15' });
      expect(comparable(prometheus), expr).toEqual(comparable(mine));
      expect(comparable(mine).length, `${expr} has data`).toBeGreaterThan(0);
    }
    await h.writer.stop(h.clock.nowMs() + 1000);
  }, 120_000);

  it('loses nothing across a 2-minute receiver outage (2 minutes on the injected clock; the receiver process really stopped and restarted)', async () => {
    const start = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
    const h = await harness(start, 'outage');
    const series = Array.from({ length: 20 }, (_, k) => ({ __name__: 'rw_test_outage', test: 'outage', k: String(k) }));
    let second = 0;
    const run = async (seconds: number): Promise<void> => {
      for (let i = 0; i < seconds; i++, second++) {
        h.commit(start + second * 1000, series.map((labels, k) => ({ labels, v: second * 100 + k })));
        await h.clock.advance(1000);
      }
    };
    await run(30);
    await h.drain();
    const sentBefore = await h.metric('sentinel_remote_storage_samples_total');
    expect(sentBefore).toBe(30 * 20);

    await prom.stop();
    await run(120);
    // Two minutes of samples wait on disk; the writer kept trying (connection refused) with backoff.
    expect(h.writer.pending).toBe(120 * 20);
    expect(await h.metric('sentinel_remote_storage_samples_retried_total')).toBeGreaterThan(0);
    expect(await h.metric('sentinel_remote_storage_samples_total')).toBe(sentBefore);

    await prom.start();
    await run(30);
    // The retry after the last backoff (at most max_backoff), then the rest at once.
    await h.clock.advance(QUEUE.maxBackoffMs);
    await h.drain();
    expect(await h.metric('sentinel_remote_storage_samples_total')).toBe(180 * 20);
    expect(await h.metric('sentinel_remote_storage_samples_failed_total')).toBe(0);
    expect(await h.metric('sentinel_remote_storage_samples_dropped_total')).toBe(0);

    const end = start + (second - 1) * 1000;
    const counts = await promApi('query', { query: 'count_over_time(rw_test_outage{test="outage"}[10m])', time: String(end / 1000) });
    expect(counts.resultType === 'vector' ? counts.result.map((r) => r.value[1]) : []).toEqual(series.map(() => '180'));
    const raw = 'rw_test_outage{test="outage"}[10m]';
    expect(comparable(await promApi('query', { query: raw, time: String(end / 1000) }))).toEqual(comparable(toApiQueryData(engine.instantQuery(h.store, raw, end).value)));
    await h.writer.stop(h.clock.nowMs() + 1000);
  }, 180_000);
});
