/**
 * The query worker answers the HTTP API's queries from its own thread, over the store's shared
 * buffers: the same answers as the engine in line, while the event loop stays free; bounded by
 * deadline, sample limit and heap; cancellable.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PromqlParseError, QueryCanceledError, QueryTimeoutError } from '../../src/errors.js';
import { apiQueryResponse, createEngine } from '../../src/promql/index.js';
import { QueryWorker, registerPrometheusApi } from '../../src/server/index.js';
import type { HttpServer, QueryWorkerOptions } from '../../src/server/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { routeServer } from '../helpers/route-server.js';

const workers: QueryWorker[] = [];
const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop(Date.now() + 1000);
  for (const w of workers.splice(0)) await w.stop(Date.now() + 1000);
});

function worker(store: MemoryStore, extra: Partial<QueryWorkerOptions> = {}): QueryWorker {
  const w = new QueryWorker({ store, engine: { timeoutMs: 20_000, maxSamples: 5_000_000 }, ...extra });
  workers.push(w);
  return w;
}

/** fill appends `points` samples at 15 s to `series` counters named `name`. */
function fill(store: MemoryStore, name: string, series: number, points: number, fromMs = 0): void {
  const app = store.appender();
  for (let s = 0; s < series; s++) {
    const labels = { __name__: name, instance: `i${s}`, job: s % 2 ? 'a' : 'b' };
    for (let p = 0; p < points; p++) app.append(labels, fromMs + p * 15_000, p * (s + 1));
  }
  app.commit();
}

describe('QueryWorker', () => {
  it('answers as the engine does in line, and sees series and samples that arrive later', async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'req_total', 5, 40);
    const w = worker(store);
    const inline = createEngine();
    const exprs = ['sum by (job) (rate(req_total[5m]))', 'req_total{instance="i3"}', 'topk(2, req_total)', 'req_total[1m]'];
    for (const e of exprs) expect((await w.instantQuery(e, 600_000)).json, e).toBe(apiQueryResponse(inline.instantQuery(store, e, 600_000)));
    const range = await w.rangeQuery('rate(req_total[2m])', 120_000, 585_000, 15_000);
    expect(range.json).toBe(apiQueryResponse(inline.rangeQuery(store, 'rate(req_total[2m])', 120_000, 585_000, 15_000)));
    // New series, and enough new samples that every buffer moves to bigger memory.
    fill(store, 'req_total', 8, 200, 600_000);
    fill(store, 'other', 1, 3);
    for (const e of ['count(req_total)', 'sum(req_total)', 'other']) expect((await w.instantQuery(e, 3_000_000)).json, e).toBe(apiQueryResponse(inline.instantQuery(store, e, 3_000_000)));
  });

  it('leaves the event loop free while a query runs', async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'x', 300, 2000);
    const w = worker(store);
    const order: string[] = [];
    const answer = w.rangeQuery('sum(rate(x[10m]))', 0, 30_000_000, 15_000).then(() => order.push('answer'));
    await new Promise((r) => setTimeout(r, 1));
    order.push('timer');
    await answer;
    expect(order).toEqual(['timer', 'answer']);
  });

  it('stops a query whose client went away, and one past its deadline', async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'x', 300, 2000);
    const heavy = 'sum(quantile_over_time(0.5, x[1d:15s]))';
    const w = worker(store);
    const ac = new AbortController();
    const canceled = w.rangeQuery(heavy, 0, 30_000_000, 15_000, ac.signal);
    setTimeout(() => ac.abort(), 50);
    await expect(canceled).rejects.toBeInstanceOf(QueryCanceledError);
    const slow = worker(store, { engine: { timeoutMs: 100, maxSamples: 5_000_000 } });
    await expect(slow.rangeQuery(heavy, 0, 30_000_000, 15_000)).rejects.toBeInstanceOf(QueryTimeoutError);
    // Both threads still answer.
    expect(JSON.parse((await w.instantQuery('count(x)', 1000)).json).data.result[0].value[1]).toBe('300');
    expect(JSON.parse((await slow.instantQuery('count(x)', 1000)).json).data.result[0].value[1]).toBe('300');
  });

  it('bounds what a query may hold, and says where a query does not parse', async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'x', 50, 200);
    const w = worker(store, { engine: { timeoutMs: 20_000, maxSamples: 1000 } });
    await expect(w.instantQuery('x[1h]', 3_000_000)).rejects.toMatchObject({ code: 'SENTINEL_TOO_MANY_SAMPLES' });
    const err = await w.instantQuery('sum(x', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromqlParseError);
    expect((err as PromqlParseError).pos.start).toBeGreaterThanOrEqual(0);
  });

  it('costs a thread, not the daemon, when a query exhausts its heap', async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'x', 200, 2000);
    const w = worker(store, { maxHeapMb: 32 });
    await expect(w.instantQuery('x[1d]', 30_000_000)).rejects.toThrow(/more memory than queries may use \(32 MiB\)/);
    expect(JSON.parse((await w.instantQuery('count(x)', 1000)).json).data.result[0].value[1]).toBe('200');
  });

  it('stops its thread when idle and starts a fresh one for the next query', async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'x', 3, 10);
    const w = worker(store, { idleMs: 50 });
    expect(w.isRunning).toBe(false);
    await w.instantQuery('x', 100_000);
    expect(w.isRunning).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(w.isRunning).toBe(false);
    fill(store, 'y', 2, 10);
    expect(JSON.parse((await w.instantQuery('count({__name__=~"x|y"})', 100_000)).json).data.result[0].value[1]).toBe('5');
  });
});

describe('the query API over the worker', () => {
  async function serve(store: MemoryStore, engineOptions: QueryWorkerOptions['engine']): Promise<{ url: string; w: QueryWorker }> {
    const w = worker(store, { engine: engineOptions });
    const server = routeServer();
    registerPrometheusApi(server, {
      store,
      instantQuery: (expr, t, signal) => w.instantQuery(expr, t, signal),
      rangeQuery: (expr, s, e, step, signal) => w.rangeQuery(expr, s, e, step, signal),
      clock: new ManualClock(3_000_000),
    });
    await server.start();
    servers.push(server);
    return { url: server.address()!.url, w };
  }

  async function get(url: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    return { status: res.status, body: await res.json() };
  }

  it("refuses a query over the sample limit with Prometheus' status, type and text", async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'x', 50, 200);
    const { url } = await serve(store, { timeoutMs: 20_000, maxSamples: 1000 });
    expect(await get(`${url}/api/v1/query?query=${encodeURIComponent('x[1h]')}&time=3000`)).toEqual({
      status: 422,
      body: { status: 'error', errorType: 'execution', error: 'query processing would load too many samples into memory in query execution' },
    });
    const within = await get(`${url}/api/v1/query?query=${encodeURIComponent('count(x)')}&time=3000`);
    expect(within.status).toBe(200);
  });

  it("answers a query past its deadline with Prometheus' timeout error", async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'x', 300, 2000);
    const { url } = await serve(store, { timeoutMs: 1, maxSamples: 50_000_000 });
    const heavy = encodeURIComponent('sum(quantile_over_time(0.5, x[1d:15s]))');
    expect(await get(`${url}/api/v1/query_range?query=${heavy}&start=0&end=30000&step=15`)).toEqual({
      status: 503,
      body: { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' },
    });
  });

  it('stops a query when its client goes away, so the next one is answered', async () => {
    const store = new MemoryStore({ sharedBuffers: true });
    fill(store, 'x', 300, 2000);
    // Minutes of work and no deadline to speak of: only the disconnect can stop it.
    const { url, w } = await serve(store, { timeoutMs: 3_600_000, maxSamples: 50_000_000 });
    const heavy = encodeURIComponent('sum(quantile_over_time(0.5, x[1d:15s]))');
    const client = new AbortController();
    const gone = fetch(`${url}/api/v1/query_range?query=${heavy}&start=0&end=30000&step=15`, { signal: client.signal }).catch((err: unknown) => err);
    await vi.waitFor(() => expect(w.isQuerying).toBe(true), { timeout: 20_000, interval: 20 });
    client.abort();
    expect(await gone).toBeInstanceOf(Error);
    const next = await get(`${url}/api/v1/query?query=${encodeURIComponent('count(x)')}&time=3000`);
    expect(next).toMatchObject({ status: 200, body: { data: { result: [{ value: [3000, '300'] }] } } });
  });
});
