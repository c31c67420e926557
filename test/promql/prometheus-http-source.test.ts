/**
 * PrometheusHttpSource over real loopback HTTP: what a Prometheus API receives (the form-encoded
 * query, time and timeout, the credential, the user agent), the answer read back into a
 * QueryValue, and each failure one sentence naming the endpoint: an answer over the cap, whether
 * its length is declared or it streams without end (refused at the cap, never held or waited
 * for), the deadline, the caller's cancel.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusHttpSource } from '../../src/promql/index.js';
import type { HttpServer, RouteRequest } from '../../src/server/index.js';
import { routeServer } from '../helpers/route-server.js';

/** SERIES is one element of an instant vector as Prometheus prints it (about 120 bytes). */
const SERIES = { metric: { __name__: 'sentinel_probe_duration_seconds', job: 'sentinel', probe: 'delivery' }, value: [1_700_000_000.5, '0.25'] };

let api: HttpServer;
let apiUrl: string;
let endless: Server;
let endlessUrl: string;
/** endlessClosed counts the streamed answers whose connection the client closed. */
let endlessClosed = 0;
const seen: Array<{ form: URLSearchParams; headers: RouteRequest['headers'] }> = [];

beforeAll(async () => {
  api = routeServer();
  api.route('POST', '/api/v1/query', (req) => {
    seen.push({ form: req.form(), headers: req.headers });
    return { body: { status: 'success', data: { resultType: 'vector', result: [SERIES, { metric: { __name__: 'up' }, value: [1_700_000_000.5, 'NaN'] }] }, warnings: ['partial'] } };
  });
  // 17 MiB of series with a Content-Length: refused before a byte of the body is read.
  api.route('POST', '/declared/api/v1/query', () => ({ body: { status: 'success', data: { resultType: 'vector', result: Array.from({ length: 150_000 }, () => SERIES) } } }));
  api.route('POST', '/slow/api/v1/query', async (req) => {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 5000);
      req.signal.addEventListener('abort', () => resolve(clearTimeout(timer)), { once: true });
    });
    return { body: { status: 'success', data: { resultType: 'vector', result: [] } } };
  });
  await api.start();
  apiUrl = api.address()?.url ?? '';

  // An answer without a Content-Length that never ends: series after series while the client reads.
  endless = createServer((req, res) => {
    req.resume();
    res.on('close', () => (endlessClosed += 1));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"status":"success","data":{"resultType":"vector","result":[');
    const chunk = Buffer.from(`${JSON.stringify(SERIES)},`.repeat(2000));
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
  endlessUrl = `http://127.0.0.1:${(endless.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await api.stop(Date.now() + 2000);
  endless.closeAllConnections();
  await new Promise((resolve) => endless.close(resolve));
});

describe('PrometheusHttpSource', () => {
  it('posts the query form-encoded with its time, timeout, credential and user agent, and reads the vector back', async () => {
    const source = new PrometheusHttpSource({ url: `${apiUrl}/`, timeoutMs: 5000, bearerToken: { reveal: () => 'q-token' }, userAgent: 'spacetime-sentinel/test' });
    const result = await source.instantQuery('sum(up)', 1_700_000_000_500);
    expect(result.warnings).toEqual(['partial']);
    expect(result.value).toEqual({
      type: 'vector',
      samples: [
        { labels: SERIES.metric, t: 1_700_000_000_500, v: 0.25 },
        { labels: { __name__: 'up' }, t: 1_700_000_000_500, v: NaN },
      ],
    });
    const [req] = seen;
    expect(Object.fromEntries(req.form)).toEqual({ query: 'sum(up)', time: '1700000000.500', timeout: '5s' });
    expect(req.headers).toMatchObject({ authorization: 'Bearer q-token', 'user-agent': 'spacetime-sentinel/test', 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  });

  it('refuses an answer whose declared length is over the cap, in one sentence with the endpoint, the cap and what to do', async () => {
    const source = new PrometheusHttpSource({ url: `${apiUrl}/declared`, timeoutMs: 10_000 });
    await expect(source.instantQuery('sentinel_probe_duration_seconds', 1_700_000_000_000)).rejects.toThrow(
      /^query source http:\/\/127\.0\.0\.1:\d+\/declared\/api\/v1\/query: the answer \(HTTP 200\) is over the 16 MiB cap on a query answer; make the query return fewer series \(aggregate it, e\.g\. sum by \(\.\.\.\), or narrow its label matchers\)$/,
    );
  });

  it('stops reading an answer that streams without end at the cap, before its deadline, and closes the connection', async () => {
    const source = new PrometheusHttpSource({ url: endlessUrl, timeoutMs: 30_000 });
    const closedBefore = endlessClosed;
    await expect(source.instantQuery('sentinel_probe_duration_seconds', 1_700_000_000_000)).rejects.toThrow(/api\/v1\/query: the answer \(HTTP 200\) is over the 16 MiB cap on a query answer/);
    await expect.poll(() => endlessClosed, { timeout: 2000 }).toBe(closedBefore + 1);
  });

  it('gives up at its deadline, naming the setting, and at the caller cancel with the caller reason', async () => {
    const slow = new PrometheusHttpSource({ url: `${apiUrl}/slow`, timeoutMs: 200 });
    await expect(slow.instantQuery('up', 0)).rejects.toThrow(/^query source http:\/\/127\.0\.0\.1:\d+\/slow\/api\/v1\/query: no answer within 200 ms \(query_source\.timeout\)/);
    const controller = new AbortController();
    const pending = new PrometheusHttpSource({ url: `${apiUrl}/slow`, timeoutMs: 10_000 }).instantQuery('up', 0, controller.signal);
    const reason = new Error('rule group stopped');
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
  });
});
