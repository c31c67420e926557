import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeError, httpExchange } from '../../src/net/index.js';
import { freePort } from '../helpers/free-port.js';

let server: http.Server;
let base: string;
const seen: { method?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.method = req.method;
      seen.headers = req.headers;
      seen.body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      if (path === '/missing') {
        res.writeHead(404, { 'X-Trace': ['a', 'b'] });
        res.end('no such route');
      } else if (path === '/redirect') {
        res.writeHead(302, { location: '/elsewhere' });
        res.end();
      } else if (path === '/declared-large') {
        res.writeHead(200, { 'content-length': '5000' });
        res.end('x'.repeat(5000));
      } else if (path === '/streamed-large') {
        res.writeHead(200);
        res.write('x'.repeat(600));
        res.end('x'.repeat(600));
      } else if (path === '/refusal-large') {
        res.writeHead(503, { 'retry-after': '7' });
        res.write('overloaded: '.padEnd(800, 'y'));
        res.end('z'.repeat(4000));
      } else if (path === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 10);
      } else if (path === '/slow') {
        setTimeout(() => res.end('late'), 2000);
      } else {
        res.end('ok');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const call = (path: string, extra: Partial<Parameters<typeof httpExchange>[0]> = {}) =>
  httpExchange({ method: 'GET', url: new URL(path, base), timeoutMs: 1000, maxResponseBytes: 1000, ...extra });

async function failureOf(p: Promise<unknown>): Promise<ExchangeError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ExchangeError);
  return err as ExchangeError;
}

describe('httpExchange', () => {
  it('resolves for any status, with the body and case-insensitive headers (repeated ones joined)', async () => {
    const res = await call('/missing');
    expect(res.status).toBe(404);
    expect(res.body.toString('utf8')).toBe('no such route');
    expect(res.headers.get('x-TRACE')).toBe('a, b');
    expect(res.headers.get('absent')).toBeNull();
  });

  it('sends the body with its length and no implied content type', async () => {
    await call('/echo', { method: 'POST', body: 'héllo', headers: { authorization: 'Bearer t' } });
    expect(seen).toMatchObject({ method: 'POST', body: 'héllo' });
    expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength('héllo')));
    expect(seen.headers?.['content-type']).toBeUndefined();
    expect(seen.headers?.authorization).toBe('Bearer t');
  });

  it('follows no redirect', async () => {
    const res = await call('/redirect');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/elsewhere');
  });

  it('refuses a response over the cap, declared or streamed, with its status', async () => {
    expect(await failureOf(call('/declared-large'))).toMatchObject({ failure: 'too_large', status: 200 });
    expect(await failureOf(call('/streamed-large'))).toMatchObject({ failure: 'too_large', status: 200 });
  });

  it('keeps the first bytes of a longer body with truncateOverCap, with its status and headers, and the next exchange is unharmed', async () => {
    const streamed = await call('/refusal-large', { truncateOverCap: true });
    expect(streamed).toMatchObject({ status: 503, truncated: true });
    expect(streamed.headers.get('retry-after')).toBe('7');
    expect(streamed.body.toString('utf8')).toBe('overloaded: '.padEnd(800, 'y') + 'z'.repeat(200));
    const declared = await call('/declared-large', { truncateOverCap: true });
    expect(declared).toMatchObject({ status: 200, truncated: true });
    expect(declared.body.toString('utf8')).toBe('x'.repeat(1000));
    const fits = await call('/missing', { truncateOverCap: true });
    expect(fits).toMatchObject({ status: 404, truncated: false });
    expect(fits.body.toString('utf8')).toBe('no such route');
    // Without the option the same answer is still refused.
    expect(await failureOf(call('/refusal-large'))).toMatchObject({ failure: 'too_large', status: 503 });
    expect((await call('/')).body.toString('utf8')).toBe('ok');
  });

  it('says unreachable with the system code when nothing listens, and when a response is cut short', async () => {
    const port = await freePort();
    expect(await failureOf(httpExchange({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`), timeoutMs: 1000, maxResponseBytes: 10 }))).toMatchObject({ failure: 'unreachable', code: 'ECONNREFUSED' });
    expect(await failureOf(call('/cut'))).toMatchObject({ failure: 'unreachable' });
  });

  it('times out at the deadline and stops at the caller abort', async () => {
    expect(await failureOf(call('/slow', { timeoutMs: 50 }))).toMatchObject({ failure: 'timeout' });
    const controller = new AbortController();
    const pending = call('/slow', { signal: controller.signal });
    controller.abort(new Error('client went away'));
    expect(await failureOf(pending)).toMatchObject({ failure: 'aborted' });
    expect(await failureOf(call('/', { signal: AbortSignal.abort() }))).toMatchObject({ failure: 'aborted', message: 'aborted before it started' });
  });

  it('refuses a header node:http cannot send, naming the header but never its value', async () => {
    const err = await failureOf(call('/', { headers: { authorization: 'Bearer secret-token\n' } }));
    expect(err).toMatchObject({ failure: 'unreachable', code: 'ERR_INVALID_CHAR' });
    expect(err.message).toContain('authorization');
    expect(err.message).not.toContain('secret-token');
  });

  it('refuses a scheme it cannot speak', async () => {
    expect(await failureOf(httpExchange({ method: 'GET', url: new URL('ftp://127.0.0.1/'), timeoutMs: 100, maxResponseBytes: 10 }))).toMatchObject({ failure: 'unreachable' });
  });
});
