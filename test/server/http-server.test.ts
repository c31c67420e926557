import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, Secret } from '../../src/config/index.js';
import { PromqlParseError, QueryError, QueryTimeoutError, RequestError, StoreError } from '../../src/errors.js';
import { readinessOf } from '../../src/daemon/index.js';
import { buildStatusInfo, createHttpServer } from '../../src/server/index.js';
import type { HttpServer, HttpServerOptions, StatusInfo } from '../../src/server/index.js';
import { createMetricsRegistry } from '../../src/telemetry/index.js';

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop(Date.now() + 2000)));
});

const STATUS: StatusInfo = { version: '0.0.0-test', startTimeMs: 0, uptimeSeconds: 1, environment: 'dev', configFile: '/x.yaml', targets: {}, schedules: [] };

async function start(overrides: Partial<HttpServerOptions> = {}): Promise<{ server: HttpServer; url: string }> {
  const server = createHttpServer({
    listen: { host: '127.0.0.1', port: 0 },
    registry: createMetricsRegistry({ version: '0.0.0-test', defaultMetrics: false }),
    status: () => STATUS,
    readiness: () => ({ ready: true, components: [] }),
    ...overrides,
  });
  servers.push(server);
  await server.start();
  const address = server.address();
  if (!address) throw new Error('server has no address');
  return { server, url: address.url };
}

describe('built-in endpoints', () => {
  it('listens on an ephemeral loopback port and exposes the bound address', async () => {
    const { server, url } = await start();
    const address = server.address();
    expect(address?.host).toBe('127.0.0.1');
    expect(address?.port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${address?.port}`);
    expect(server.isReady()).toBe(true);
  });

  it('serves /metrics in the Prometheus text format with sentinel_build_info', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE sentinel_build_info gauge');
    expect(text).toContain(`sentinel_build_info{version="0.0.0-test",node_version="${process.version}"} 1`);
  });

  it('counts requests by route pattern', async () => {
    const { server, url } = await start();
    server.route('GET', '/api/v1/things/:name', () => ({ body: {} }));
    await fetch(`${url}/api/v1/things/a`);
    await fetch(`${url}/api/v1/things/b`);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('sentinel_http_requests_total{route="/api/v1/things/:name",method="GET",code="200"} 2');
  });

  it('/healthz answers 200 while serving; HEAD has no body', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
    expect(await (await fetch(`${url}/-/healthy`)).text()).toBe('ok\n');
    const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('/readyz is 503 naming what is not ready, then 200 once everything is', async () => {
    let storeReady = false;
    const components = [
      { name: 'store', isReady: () => storeReady },
      { name: 'probe-scheduler', isReady: () => true },
    ];
    const { url } = await start({ readiness: () => readinessOf(components) });
    const before = await fetch(`${url}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({
      ready: false,
      notReady: ['store'],
      components: [
        { name: 'store', ready: false },
        { name: 'probe-scheduler', ready: true },
      ],
    });
    expect((await fetch(`${url}/-/ready`)).status).toBe(503);
    storeReady = true;
    expect((await fetch(`${url}/-/ready`)).status).toBe(200);
    const after = await fetch(`${url}/readyz`);
    expect(after.status).toBe(200);
    expect(((await after.json()) as { ready: boolean }).ready).toBe(true);
  });

  it('/readyz treats a component whose isReady throws as not ready', async () => {
    const { url } = await start({ readiness: () => readinessOf([{ name: 'broken', isReady: () => { throw new Error('boom'); } }]) });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
  });

  it('/api/v1/status describes targets and schedules without any secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-status-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(
        file,
        [
          'environment: staging',
          'target:',
          '  spacetimedb: {base_url: "http://st.example", database: db, token: "${ST}"}',
          '  runtime: {base_url: "http://rt.example", token: "${RT}"}',
          '  control: {base_url: "http://ct.example", session_token: "${CT}", jwt_signing_key: "${JWT}"}',
          'server: {admin_token: "${ADM}"}',
          'alerting:',
          '  alertmanagers: [{url: "http://am.example:9093", bearer_token: "${AM}"}]',
          '  webhooks: [{url: "http://hook.example/x", receiver: oncall}]',
          '',
        ].join('\n'),
      );
      const secrets = { ST: 'st-very-secret', RT: 'rt-very-secret', CT: 'ct-very-secret', JWT: 'jwt-very-secret', ADM: 'adm-very-secret', AM: 'am-very-secret' };
      const config = loadConfig(file, { env: secrets });
      const schedules = [{ kind: 'probe' as const, name: 'token', schedule: '*/30 * * * * *', nextRunMs: 1_700_000_030_000 }];
      const { url } = await start({ status: () => buildStatusInfo({ version: '1.2.3', startTimeMs: 1_700_000_000_000, nowMs: 1_700_000_012_500, config, schedules }) });
      const res = await fetch(`${url}/api/v1/status`);
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const value of Object.values(secrets)) expect(text).not.toContain(value);
      const body = JSON.parse(text) as { status: string; data: StatusInfo };
      expect(body.status).toBe('success');
      expect(body.data).toMatchObject({ version: '1.2.3', uptimeSeconds: 12.5, environment: 'staging', schedules });
      expect(body.data.targets.spacetimedb).toEqual({ baseUrl: 'http://st.example', database: 'db', websocketPath: '/v1/database/db/subscribe', healthPath: '/v1/ping', hasToken: true });
      expect(body.data.targets.control).toEqual({ baseUrl: 'http://ct.example', hasToken: true, hasJwtSigningKey: true });
      expect(body.data.targets['alertmanager-0']).toEqual({ baseUrl: 'http://am.example:9093', hasToken: true });
      expect(body.data.targets['webhook-0']).toEqual({ baseUrl: 'http://hook.example/x', receiver: 'oncall', hasToken: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('routes registered by other modules', () => {
  it('matches :params (decoded), prefers literal segments, and passes the query', async () => {
    const { server, url } = await start();
    server.route('GET', '/api/v1/probes/:name', (req) => ({ body: { name: req.params.name, q: req.query.get('q') } }));
    server.route('GET', '/api/v1/probes/all', () => ({ body: { all: true } }));
    expect(await (await fetch(`${url}/api/v1/probes/replay%20lag?q=1`)).json()).toEqual({ name: 'replay lag', q: '1' });
    expect(await (await fetch(`${url}/api/v1/probes/all`)).json()).toEqual({ all: true });
  });

  it('refuses a duplicate registration', async () => {
    const { server } = await start();
    server.route('POST', '/api/v1/x/:a', () => ({}));
    expect(() => server.route('POST', '/api/v1/x/:b', () => ({}))).toThrow(/already registered/);
  });

  it('answers an unknown path with 404 and a wrong method with 405 and Allow, in the Prometheus error shape', async () => {
    const { server, url } = await start();
    server.route('POST', '/api/v1/admin/reload', () => ({ status: 204 }));
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ status: 'error', errorType: 'not_found', error: 'no endpoint /nope; see /api/v1/status for what this daemon serves' });
    const wrong = await fetch(`${url}/api/v1/admin/reload`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(((await wrong.json()) as { errorType: string }).errorType).toBe('method_not_allowed');
  });

  it('merges an urlencoded POST body with the query (form), and parses JSON bodies', async () => {
    const { server, url } = await start();
    server.route('POST', '/api/v1/query', (req) => ({ body: Object.fromEntries(req.form()) }));
    server.route('POST', '/api/v1/echo', (req) => ({ body: req.json() }));
    const form = await fetch(`${url}/api/v1/query?time=5`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=up%7Bjob%3D%22a%22%7D' });
    expect(await form.json()).toEqual({ time: '5', query: 'up{job="a"}' });
    expect(await (await fetch(`${url}/api/v1/echo`, { method: 'POST', body: '{"a":[1]}' })).json()).toEqual({ a: [1] });
    const bad = await fetch(`${url}/api/v1/echo`, { method: 'POST', body: '{' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ status: 'error', errorType: 'bad_data', error: 'request body is not valid JSON' });
  });

  it('caps request bodies with 413', async () => {
    const { server, url } = await start({ maxBodyBytes: 1024 });
    let called = false;
    server.route('POST', '/api/v1/upload', () => {
      called = true;
      return {};
    });
    const res = await fetch(`${url}/api/v1/upload`, { method: 'POST', body: 'x'.repeat(4096) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errorType: string }).errorType).toBe('too_large');
    expect(called).toBe(false);
  });

  it('maps thrown errors to statuses; unknown errors are 500 without details', async () => {
    const { server, url } = await start();
    const cases: Array<[string, () => never, number, string]> = [
      ['parse', () => { throw new PromqlParseError('unexpected end of input', { start: 3, end: 3 }); }, 400, 'bad_data'],
      ['exec', () => { throw new QueryError('many-to-many matching not allowed'); }, 422, 'execution'],
      ['timeout', () => { throw new QueryTimeoutError(); }, 503, 'timeout'],
      ['peer', () => { throw new RequestError('SENTINEL_UNREACHABLE', 'GET http://x', 'runtime unreachable'); }, 502, 'unavailable'],
      ['store', () => { throw new StoreError('SENTINEL_STORE', 'disk full'); }, 500, 'internal'],
    ];
    for (const [name, fn] of cases) server.route('GET', `/api/v1/err/${name}`, fn);
    server.route('GET', '/api/v1/err/bug', () => {
      throw new TypeError('cannot read properties of undefined (secret stack detail)');
    });
    for (const [name, , status, errorType] of cases) {
      const res = await fetch(`${url}/api/v1/err/${name}`);
      expect(res.status, name).toBe(status);
      expect(((await res.json()) as { errorType: string }).errorType, name).toBe(errorType);
    }
    const parse = await (await fetch(`${url}/api/v1/err/parse`)).json();
    expect(parse).toEqual({ status: 'error', errorType: 'bad_data', error: 'unexpected end of input' });
    const bug = await fetch(`${url}/api/v1/err/bug`);
    expect(bug.status).toBe(500);
    const text = await bug.text();
    expect(JSON.parse(text)).toEqual({ status: 'error', errorType: 'internal', error: 'internal error; see the sentinel log' });
    expect(text).not.toContain('secret stack detail');
  });
});

describe('admin guard', () => {
  it('401 without a bearer token, 403 with a wrong one, 200 with the admin token', async () => {
    const { server, url } = await start({ adminToken: new Secret('the-admin-token', 'env:ADMIN') });
    server.route('POST', '/api/v1/admin/reload', () => ({ body: { reloaded: true } }), { admin: true });
    const none = await fetch(`${url}/api/v1/admin/reload`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { errorType: string }).errorType).toBe('unauthorized');
    const basic = await fetch(`${url}/api/v1/admin/reload`, { method: 'POST', headers: { authorization: 'Basic dTpw' } });
    expect(basic.status).toBe(401);
    const wrong = await fetch(`${url}/api/v1/admin/reload`, { method: 'POST', headers: { authorization: 'Bearer the-admin-tokeN' } });
    expect(wrong.status).toBe(403);
    const right = await fetch(`${url}/api/v1/admin/reload`, { method: 'POST', headers: { authorization: 'Bearer the-admin-token' } });
    expect(right.status).toBe(200);
    expect(await right.json()).toEqual({ reloaded: true });
  });

  it('admin routes are forbidden when no admin token is configured', async () => {
    const { server, url } = await start();
    server.route('POST', '/api/v1/admin/reload', () => ({ body: {} }), { admin: true });
    const res = await fetch(`${url}/api/v1/admin/reload`, { method: 'POST', headers: { authorization: 'Bearer anything' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe('admin endpoints are disabled; set server.admin_token in the config to enable them');
  });
});

describe('shutdown', () => {
  it('lets a short in-flight request finish, then stops listening', async () => {
    const { server, url } = await start();
    server.route('GET', '/api/v1/slow', async () => {
      await new Promise((r) => setTimeout(r, 100));
      return { body: { done: true } };
    });
    const pending = fetch(`${url}/api/v1/slow`);
    await new Promise((r) => setTimeout(r, 20));
    await server.stop(Date.now() + 5000);
    const res = await pending;
    expect(await res.json()).toEqual({ done: true });
    expect(server.address()).toBeUndefined();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('aborts a request still running at the deadline', async () => {
    const { server, url } = await start();
    let aborted = false;
    server.route('GET', '/api/v1/hang', (req) => new Promise((resolve) => {
      req.signal.addEventListener('abort', () => {
        aborted = true;
        resolve({ status: 503, body: {} });
      });
    }));
    const pending = fetch(`${url}/api/v1/hang`).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await server.stop(Date.now() + 200);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(aborted).toBe(true);
    await pending;
  });

  it('names the address when it cannot listen', async () => {
    const { server } = await start();
    const port = server.address()?.port ?? 0;
    const second = createHttpServer({ listen: { host: '127.0.0.1', port }, registry: createMetricsRegistry({ version: 't', defaultMetrics: false }), status: () => STATUS, readiness: () => ({ ready: true, components: [] }) });
    await expect(second.start()).rejects.toThrow(`server.listen: cannot listen on 127.0.0.1:${port} (EADDRINUSE); choose a free address in server.listen`);
  });
});
