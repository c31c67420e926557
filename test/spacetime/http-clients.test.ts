import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient, RuntimeMetricsClient, SpacetimeHttpClient, withRetry } from '../../src/spacetime/index.js';
import { ConfigError, ReducerError, RequestError } from '../../src/errors.js';
import { ManualClock } from '../../src/time/index.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let base: string;
let handler: Handler = (_req, _body, res) => res.end();
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  seen.length = 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2VjcmV0LXNpZ25hdHVyZQ';

function json(res: ServerResponse, status: number, doc: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof doc === 'string' ? doc : JSON.stringify(doc));
}
function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

async function caught(p: Promise<unknown>): Promise<RequestError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
  throw new Error('expected a RequestError');
}

describe('SpacetimeHttpClient', () => {
  it('checks its options in the constructor', () => {
    expect(() => new SpacetimeHttpClient({ baseUrl: 'ftp://x', database: 'db' })).toThrow(ConfigError);
    expect(() => new SpacetimeHttpClient({ baseUrl: 'not a url', database: 'db' })).toThrow(ConfigError);
    expect(() => new SpacetimeHttpClient({ baseUrl: base, database: 'a/b' })).toThrow(ConfigError);
    expect(() => new SpacetimeHttpClient({ baseUrl: base, database: 'db', timeoutMs: 0 })).toThrow(ConfigError);
  });

  it('sends SQL as raw text without a content type and decodes the COUNT result', async () => {
    handler = (_req, _body, res) => json(res, 200, [{ schema: { elements: [{ name: { some: 'n' }, algebraic_type: { U64: [] } }] }, rows: [[2]], total_duration_micros: 187, stats: {} }]);
    const client = new SpacetimeHttpClient({ baseUrl: base, database: 'autopilot-sync', token: TOKEN });
    expect(await client.sqlCount('SELECT COUNT(*) AS n FROM active_connection')).toBe(2);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/database/autopilot-sync/sql', body: 'SELECT COUNT(*) AS n FROM active_connection' });
    expect(seen[0].headers['content-type']).toBeUndefined();
    expect(seen[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('turns a 400 SQL error into an HTTP status error with the body excerpt', async () => {
    handler = (_req, _body, res) => text(res, 400, 'no such table: `foo`. If the table exists, it may be marked private.');
    const err = await caught(new SpacetimeHttpClient({ baseUrl: base, database: 'db' }).sql('SELECT * FROM foo'));
    expect(err.code).toBe('SENTINEL_HTTP_STATUS');
    expect(err.status).toBe(400);
    expect(err.excerpt).toContain('no such table: `foo`');
    expect(err.message).toContain(`POST ${base}/v1/database/db/sql`);
  });

  it('calls reducers with Content-Type exactly application/json and a JSON array', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'spacetime-identity': 'c200ab', 'spacetime-execution-duration-micros': '42' });
      res.end();
    };
    const client = new SpacetimeHttpClient({ baseUrl: base, database: 'db' });
    const r = await client.callReducer('append_sync_event', ['x', 'k1', 'sha256:ab', '{"n":1}', 1724300000000, 0, false, 0]);
    expect(r).toEqual({ identity: 'c200ab', executionDurationMicros: 42 });
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0].body)).toEqual(['x', 'k1', 'sha256:ab', '{"n":1}', 1724300000000, 0, false, 0]);
    expect(seen[0].url).toBe('/v1/database/db/call/append_sync_event');
  });

  it('reports a 530 as a ReducerError carrying the reducer text verbatim', async () => {
    handler = (_req, _body, res) => text(res, 530, 'sequence_conflict expected_next_seq=5 actual_next_seq=3');
    const err = await caught(new SpacetimeHttpClient({ baseUrl: base, database: 'db' }).callReducer('append_sync_event', []));
    expect(err).toBeInstanceOf(ReducerError);
    expect((err as ReducerError).reducerMessage).toBe('sequence_conflict expected_next_seq=5 actual_next_seq=3');
    expect(err.code).toBe('SENTINEL_REDUCER_FAILED');
  });

  it('reads identity, database info, health and ping', async () => {
    handler = (req, _body, res) => {
      if (req.url === '/v1/identity') json(res, 200, { identity: 'c200aa'.padEnd(64, '0'), token: TOKEN });
      else if (req.url === '/v1/health') json(res, 200, { package_name: 'spacetimedb-client-api', version: '2.0.1', nodes: [], schedulable: true });
      else if (req.url === '/v1/ping') res.end();
      else json(res, 200, { database_identity: { __identity__: '0xc200bb' }, owner_identity: { __identity__: `0x${'c200cc'.padEnd(64, '1')}` }, host_type: { Wasm: [] }, initial_program: '0x00' });
    };
    const client = new SpacetimeHttpClient({ baseUrl: base, database: 'db', token: TOKEN });
    expect(await client.identity()).toEqual({ identity: 'c200aa'.padEnd(64, '0'), token: TOKEN });
    expect(seen[0].headers.authorization).toBeUndefined();
    expect((await client.health()).version).toBe('2.0.1');
    await client.ping();
    expect(await client.databaseInfo()).toEqual({ databaseIdentity: 'c200bb'.padStart(64, '0'), ownerIdentity: 'c200cc'.padEnd(64, '1'), hostType: 'Wasm' });
  });

  it('classifies garbage, oversized and slow answers and a refused port', async () => {
    const client = new SpacetimeHttpClient({ baseUrl: base, database: 'db', maxResponseBytes: 1024, timeoutMs: 300 });
    handler = (_req, _body, res) => json(res, 200, '{"not": "a result"');
    expect((await caught(client.sql('SELECT 1'))).code).toBe('SENTINEL_BAD_RESPONSE');
    handler = (_req, _body, res) => json(res, 200, [{ schema: { elements: [] } }]);
    expect((await caught(client.sql('SELECT 1'))).code).toBe('SENTINEL_BAD_RESPONSE');
    handler = (_req, _body, res) => json(res, 200, 'x'.repeat(5000));
    expect((await caught(client.sql('SELECT 1'))).code).toBe('SENTINEL_RESPONSE_TOO_LARGE');
    handler = (_req, _body, res) => {
      // Chunked, no content-length: the cap must hold while streaming.
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write('y'.repeat(500));
      res.end();
    };
    expect((await caught(client.sql('SELECT 1'))).code).toBe('SENTINEL_RESPONSE_TOO_LARGE');
    handler = () => undefined;
    const slow = await caught(client.ping());
    expect(slow.code).toBe('SENTINEL_TIMEOUT');
    expect(slow.message).toContain('300 ms');

    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const refused = await caught(new SpacetimeHttpClient({ baseUrl: `http://127.0.0.1:${port}`, database: 'db' }).ping());
    expect(refused.code).toBe('SENTINEL_UNREACHABLE');
    expect(refused.message).toContain(`http://127.0.0.1:${port}/v1/ping`);
    expect(refused.message).toContain('ECONNREFUSED');
  });

  it('honours the caller abort signal', async () => {
    handler = () => undefined;
    const ac = new AbortController();
    const p = caught(new SpacetimeHttpClient({ baseUrl: base, database: 'db' }).ping({ signal: ac.signal }));
    setTimeout(() => ac.abort(), 20);
    expect((await p).code).toBe('SENTINEL_ABORTED');
  });

  it('never puts the token into error messages, even when the server echoes it', async () => {
    handler = (_req, _body, res) => text(res, 401, `token ${TOKEN} not signed by this instance; Authorization: Bearer ${TOKEN}`);
    const err = await caught(new SpacetimeHttpClient({ baseUrl: base, database: 'db', token: TOKEN }).sql('SELECT 1'));
    expect(err.message).not.toContain('c2VjcmV0');
    expect(err.excerpt).not.toContain('c2VjcmV0');
    expect(err.message).toContain('<redacted>');
  });
});

describe('RuntimeMetricsClient', () => {
  const fixture = readFileSync(new URL('../fixtures/real/runtime-metrics.json', import.meta.url), 'utf8');

  it('reads every published numeric field without auth and keeps absent fields absent', async () => {
    handler = (_req, _body, res) => json(res, 200, fixture);
    const m = await new RuntimeMetricsClient({ baseUrl: base }).fetchMetrics();
    expect(m.transport).toBe('spacetime_ws');
    expect(m.generatedAt).toBe('2026-02-25T20:51:07.412093518Z');
    expect(m.fields.get('mirror.published_total')).toBe(1842);
    expect(m.fields.get('mirror.duplicate_suppression_rate_pct')).toBe(0);
    expect(m.fields.get('delivery.event_count')).toBe(1842);
    expect(m.fields.get('delivery.stream_count')).toBe(57);
    expect(m.fields.has('delivery.max_replay_lag')).toBe(false);
    expect(m.fields.size).toBe(12);
    expect(seen[0].url).toBe('/internal/v1/spacetime/sync/metrics');
    expect(seen[0].headers.authorization).toBeUndefined();
  });

  it('sends a bearer only when one is configured', async () => {
    handler = (_req, _body, res) => json(res, 200, fixture);
    await new RuntimeMetricsClient({ baseUrl: base, token: 'proxy-secret-1' }).fetchMetrics();
    expect(seen[0].headers.authorization).toBe('Bearer proxy-secret-1');
  });

  it('is strict about types, naming the field', async () => {
    handler = (_req, _body, res) => json(res, 200, { transport: 'spacetime_ws', mirror: { failed_total: '4' }, delivery: {} });
    const err = await caught(new RuntimeMetricsClient({ baseUrl: base }).fetchMetrics());
    expect(err.code).toBe('SENTINEL_BAD_RESPONSE');
    expect(err.message).toContain('mirror.failed_total must be a number');
  });

  it('reports a non-200 as an HTTP status error', async () => {
    handler = (_req, _body, res) => text(res, 503, 'unavailable');
    const err = await caught(new RuntimeMetricsClient({ baseUrl: base }).fetchMetrics());
    expect(err.status).toBe(503);
  });
});

describe('ControlClient', () => {
  it('mints a token with the session token and reads the status', async () => {
    handler = (req, _body, res) => {
      if (req.url === '/api/v1/sync/token') return res.writeHead(404, { 'content-length': 0 }).end();
      if (req.headers.authorization !== 'Bearer session-secret') return text(res, 401, 'no');
      if (req.url === '/api/sync/token' && req.method === 'POST') return json(res, 200, readFileSync(new URL('../fixtures/real/sync-token-response.json', import.meta.url), 'utf8'));
      if (req.url === '/api/v1/control/status') return json(res, 200, readFileSync(new URL('../fixtures/real/control-status.json', import.meta.url), 'utf8'));
      return text(res, 404, 'not found');
    };
    const client = new ControlClient({ baseUrl: base, sessionToken: 'session-secret' });
    const grant = await client.mintSyncToken({ request: { scopes: ['runtime.codex_worker_events'] } });
    expect(grant.token.split('.')).toHaveLength(3);
    expect(grant.data.protocol_version).toBe('spacetime.sync.v1');
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0].body)).toEqual({ scopes: ['runtime.codex_worker_events'] });
    const status = await client.status();
    expect(status).toMatchObject({ defaultTransport: 'spacetime_ws', syncTokenRoute: '/api/sync/token' });
    const retired = await client.route('/api/v1/sync/token', { method: 'POST' });
    expect([retired.status, retired.body]).toEqual([404, '']);
    expect(seen[2].headers.authorization).toBeUndefined();
  });

  it('rejects a grant without a token as a bad response, without echoing other tokens', async () => {
    handler = (_req, _body, res) => json(res, 200, { data: { token_type: 'Bearer', other: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcdef' } });
    const err = await caught(new ControlClient({ baseUrl: base, sessionToken: 'session-secret' }).mintSyncToken());
    expect(err.code).toBe('SENTINEL_BAD_RESPONSE');
    expect(err.excerpt).not.toContain('eyJzdWIiOiJ4In0');
  });
});

describe('withRetry', () => {
  it('retries transient failures with backoff on the injected clock, and not others', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const p = withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new RequestError('SENTINEL_UNREACHABLE', 'GET x', 'down');
        return 'ok';
      },
      { retries: 3, backoffMs: 100, clock },
    );
    let result: string | undefined;
    void p.then((v) => (result = v));
    for (let i = 0; i < 20 && result === undefined; i++) await clock.advance(50);
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    // Two waits: 100 ms then 200 ms (doubling), so the third attempt ran at or after 300 ms.
    expect(clock.nowMs()).toBeGreaterThanOrEqual(300);
    let c2 = 0;
    await expect(
      withRetry(
        async () => {
          c2++;
          throw new RequestError('SENTINEL_HTTP_STATUS', 'GET x', 'bad', { status: 400 });
        },
        { retries: 3, backoffMs: 100, clock },
      ),
    ).rejects.toThrow('bad');
    expect(c2).toBe(1);
  });
});
