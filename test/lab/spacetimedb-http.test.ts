import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/index.js';
import { signJwt } from '../../src/lab/index.js';
import { WsClient, appendArgs, call, dbUrl, dig, rowsOf, sql, startTestLab } from './helpers.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(async () => {
  await lab.close();
});

describe('lab SpacetimeDB HTTP: /sql', () => {
  it('counts with COUNT(*) AS alias as U64 and requires the alias', async () => {
    await call(lab, 'append_sync_event', appendArgs('sql.count', 'sc1'));
    await call(lab, 'append_sync_event', appendArgs('sql.count', 'sc2'));
    const r = await sql(lab, "SELECT COUNT(*) AS n FROM sync_event WHERE stream_id = 'sql.count'");
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('spacetime-identity')).toMatch(/^c200[0-9a-f]{60}$/);
    expect(r.headers.get('spacetime-execution-duration-micros')).toMatch(/^\d+$/);
    expect(dig(r.json, 0, 'schema', 'elements')).toEqual([{ name: { some: 'n' }, algebraic_type: { U64: [] } }]);
    expect(dig(r.json, 0, 'rows')).toEqual([[2]]);
    expect(dig(r.json, 0, 'stats')).toEqual({ rows_inserted: 0, rows_deleted: 0, rows_updated: 0 });
    const noAlias = await sql(lab, 'SELECT COUNT(*) FROM sync_event');
    expect(noAlias.status).toBe(400);
    expect(noAlias.text).toBe('Aggregate expressions must have column aliases');
    expect(noAlias.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('returns untyped array rows with projections, aliases, WHERE and LIMIT', async () => {
    await call(lab, 'append_sync_event', appendArgs('sql.rows', 'sr1'));
    await call(lab, 'append_sync_event', appendArgs('sql.rows', 'sr2'));
    await call(lab, 'append_sync_event', appendArgs('sql.rows', 'sr3'));
    const r = await sql(lab, "SELECT seq AS s, stream_id FROM sync_event WHERE stream_id = 'sql.rows' AND (seq > 1 OR seq = 0) LIMIT 1");
    expect(r.status).toBe(200);
    expect(dig(r.json, 0, 'schema', 'elements')).toEqual([
      { name: { some: 's' }, algebraic_type: { U64: [] } },
      { name: { some: 'stream_id' }, algebraic_type: { String: [] } },
    ]);
    expect(dig(r.json, 0, 'rows')).toEqual([[2, 'sql.rows']]);
    const star = await sql(lab, "SELECT * FROM sync_event WHERE idempotency_key = 'sr1'");
    expect(dig(star.json, 0, 'rows')).toEqual([['sr1', 'sql.rows', 1, 'sha256:sr1', '{"key":"sr1"}', 1724300000000, 0, false]]);
  });

  it('rejects what SpacetimeDB 2.0.1 rejects, with its texts and 400', async () => {
    const cases: Array<[string, string]> = [
      ['SELECT * FROM foo', 'no such table: `foo`. If the table exists, it may be marked private.'],
      ['SELECT connection_id, identity FROM active_connection', '`active_connection` does not have a field `connection_id`'],
      ['SELECT * FROM sync_event; SELECT * FROM stream_head', 'Multiple SQL statements are not supported'],
      ["SELECT * FROM sync_event WHERE seq > 'x'", '`x` cannot be parsed as type `U64`'],
      ['SELECT * FROM sync_event ORDER BY seq', 'Unsupported: ORDER BY'],
      ["DELETE FROM sync_event WHERE stream_id = 'x'", 'is not authorized to run SQL DML statements'],
    ];
    for (const [q, message] of cases) {
      const r = await sql(lab, q);
      expect(r.status, q).toBe(400);
      expect(r.text, q).toContain(message);
    }
    for (const q of ['SELECT * FROM sync_event WHERE stream_id IN (\'a\')', 'SELECT * FROM sync_event WHERE stream_id IS NULL', 'SELECT DISTINCT stream_id FROM sync_event', 'SELECT COUNT(*) AS n, seq FROM sync_event', 'SELECT * FROM sync_event GROUP BY seq']) {
      expect((await sql(lab, q)).status, q).toBe(400);
    }
  });

  it('answers 404 with the documented bodies for unknown databases', async () => {
    const byName = await fetch(`${dbUrl(lab, 'nope')}/sql`, { method: 'POST', body: 'SELECT * FROM sync_event' });
    expect(byName.status).toBe(404);
    expect(await byName.text()).toBe('`nope` not found');
    const byId = await fetch(`${dbUrl(lab, 'ab'.repeat(32))}/sql`, { method: 'POST', body: 'SELECT * FROM sync_event' });
    expect(byId.status).toBe(404);
    expect(await byId.text()).toBe('No such database.');
  });
});

describe('lab SpacetimeDB HTTP: /call', () => {
  it('appends with seqs from 1, empty 200, idempotent duplicates, and updates stream_head', async () => {
    const ok = await call(lab, 'append_sync_event', appendArgs('call.s', 'c1'));
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
    expect(ok.headers.get('spacetime-energy-used')).toMatch(/^\d+$/);
    expect((await call(lab, 'append_sync_event', appendArgs('call.s', 'c2', 2))).status).toBe(200);
    expect((await call(lab, 'append_sync_event', appendArgs('call.s', 'c1'))).status).toBe(200);
    const head = await sql(lab, "SELECT head_seq FROM stream_head WHERE stream_id = 'call.s'");
    expect(dig(head.json, 0, 'rows')).toEqual([[2]]);
    const named = await call(lab, 'append_sync_event', { stream_id: 'call.s', idempotency_key: 'c3', payload_hash: 'h', payload_json: '{}', committed_at_unix_ms: 1, durable_offset: 0, confirmed_read: true, expected_next_seq: 3 });
    expect(named.status).toBe(200);
  });

  it('reports reducer errors as 530 with the exact text', async () => {
    await call(lab, 'append_sync_event', appendArgs('call.err', 'e1'));
    const conflict = await call(lab, 'append_sync_event', appendArgs('call.err', 'e2', 5));
    expect(conflict.status).toBe(530);
    expect(conflict.text).toBe('sequence_conflict expected_next_seq=5 actual_next_seq=2');
    for (const [i, field] of [[0, 'stream_id'], [1, 'idempotency_key'], [2, 'payload_hash']] as const) {
      const args = appendArgs('call.err', `missing-${field}`);
      args[i] = '  ';
      const r = await call(lab, 'append_sync_event', args);
      expect(r.status).toBe(530);
      expect(r.text).toBe(`${field} is required`);
    }
    const ack = await call(lab, 'ack_stream_checkpoint', ['', 'call.err', 1, 0]);
    expect([ack.status, ack.text]).toEqual([530, 'client_id is required']);
  });

  it('maps unknown reducers, bad arguments, lifecycle reducers and content types to their statuses', async () => {
    expect(await call(lab, 'nope', [])).toMatchObject({ status: 404, text: 'No such procedure' });
    const bad = await call(lab, 'append_sync_event', ['x']);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/^invalid arguments for reducer append_sync_event: /);
    const wrongType = await call(lab, 'ack_stream_checkpoint', ['c', 's', 'one', 0]);
    expect(wrongType.status).toBe(400);
    expect((await call(lab, 'client_connected', [])).text).toBe("can't directly call special OnConnect lifecycle reducer");
    expect((await call(lab, 'heartbeat', [], { 'content-type': 'text/plain' })).status).toBe(415);
    const missing = await fetch(`${dbUrl(lab)}/call/heartbeat`, { method: 'POST', body: new Uint8Array(Buffer.from('[]')) });
    expect(missing.status).toBe(400);
  });

  it('inserts then deletes a transient presence row around an HTTP call, as Light updates with request_id 0', async () => {
    const { client } = await WsClient.connect(lab);
    client.send({ Subscribe: { query_strings: ['SELECT * FROM active_connection', "SELECT * FROM sync_event WHERE stream_id = 'call.transient'"], request_id: 1 } });
    await client.next('InitialSubscription');
    const r = await call(lab, 'append_sync_event', appendArgs('call.transient', 't1'));
    expect(r.status).toBe(200);
    const caller = r.headers.get('spacetime-identity');
    const first = await client.next('TransactionUpdateLight');
    const second = await client.next('TransactionUpdateLight');
    const third = await client.next('TransactionUpdateLight');
    for (const m of [first, second, third]) expect(dig(m, 'TransactionUpdateLight', 'request_id')).toBe(0);
    const inserted = rowsOf(dig(first, 'TransactionUpdateLight', 'update', 'tables'), 'active_connection', 'inserts') as unknown[][];
    expect(inserted[0]?.[1]).toBe(caller);
    expect(rowsOf(dig(second, 'TransactionUpdateLight', 'update', 'tables'), 'sync_event', 'inserts')).toEqual([['t1', 'call.transient', 1, 'sha256:t1', '{"key":"t1"}', 1724300000000, 0, false]]);
    const deleted = rowsOf(dig(third, 'TransactionUpdateLight', 'update', 'tables'), 'active_connection', 'deletes') as unknown[][];
    expect(deleted[0]?.[1]).toBe(caller);
    await client.close();
  });
});

describe('lab SpacetimeDB HTTP: identity, auth, probes', () => {
  it('mints c200 identities and keeps a presented token\'s identity', async () => {
    const res = await fetch(`${lab.urls.spacetimedb}/v1/identity`, { method: 'POST' });
    const body = (await res.json()) as { identity: string; token: string };
    expect(body.identity).toMatch(/^c200[0-9a-f]{60}$/);
    const again = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head', { authorization: `Bearer ${body.token}` });
    expect(again.headers.get('spacetime-identity')).toBe(body.identity);
    expect(again.headers.get('spacetime-identity-token')).toBe(body.token);
    const anon1 = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head');
    const anon2 = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head');
    expect(anon1.headers.get('spacetime-identity')).not.toBe(anon2.headers.get('spacetime-identity'));
  });

  it('re-signs a websocket token with a 60 s expiry and verifies identities', async () => {
    const { identity, token } = (await (await fetch(`${lab.urls.spacetimedb}/v1/identity`, { method: 'POST' })).json()) as { identity: string; token: string };
    const ws = await fetch(`${lab.urls.spacetimedb}/v1/identity/websocket-token`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const short = ((await ws.json()) as { token: string }).token;
    const claims = JSON.parse(Buffer.from(short.split('.')[1] as string, 'base64url').toString()) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBe(60);
    const again = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head', { authorization: `Bearer ${short}` });
    expect(again.headers.get('spacetime-identity')).toBe(identity);
    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${lab.urls.spacetimedb}/v1/identity/${identity}/verify`, { headers: auth })).status).toBe(204);
    expect((await fetch(`${lab.urls.spacetimedb}/v1/identity/${'c2'.repeat(32)}/verify`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${lab.urls.spacetimedb}/v1/identity/${identity}/verify`)).status).toBe(401);
  });

  it('refuses a malformed Authorization header with 400 and a foreign or expired JWT with 401', async () => {
    const malformed = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head', { authorization: 'Basic abc' });
    expect([malformed.status, malformed.text]).toEqual([400, 'Authorization is invalid: malformed token']);
    const foreign = await signJwt({ iss: 'x', sub: 'y' }, 'not-the-lab-key');
    const r = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head', { authorization: `Bearer ${foreign}` });
    expect([r.status, r.text]).toEqual([401, 'Authorization failed: token not signed by this instance']);
    const expired = await signJwt({ iss: 'x', sub: 'y', exp: 1000 }, lab.secrets.jwtSigningKey);
    const e = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head', { authorization: `Bearer ${expired}` });
    expect(e.status).toBe(401);
    const ping = await fetch(`${lab.urls.spacetimedb}/v1/ping`, { headers: { authorization: 'Basic abc' } });
    expect(ping.status).toBe(400);
  });

  it('serves the module schema (version 9) with the tables and reducers it runs', async () => {
    const res = await fetch(`${dbUrl(lab)}/schema?version=9`);
    expect(res.status).toBe(200);
    const def = (await res.json()) as { tables: Array<{ name: string; product_type_ref: number }>; typespace: { types: Array<{ Product: { elements: Array<{ name: { some: string } }> } }> }; reducers: Array<{ name: string; params: { elements: unknown[] } }> };
    expect(def.tables.map((t) => t.name)).toEqual(['active_connection', 'nostr_presence_claim', 'stream_head', 'sync_event', 'stream_checkpoint']);
    expect(def.reducers.map((r) => r.name)).toEqual(['init', 'client_connected', 'client_disconnected', 'heartbeat', 'request_nostr_presence_challenge', 'bind_nostr_presence_identity', 'append_sync_event', 'ack_stream_checkpoint']);
    const syncEvent = def.tables.find((t) => t.name === 'sync_event') as { product_type_ref: number };
    const cols = def.typespace.types[syncEvent.product_type_ref]?.Product.elements.map((e) => e.name.some);
    const star = await sql(lab, 'SELECT * FROM sync_event');
    expect(cols).toEqual((dig(star.json, 0, 'schema', 'elements') as Array<{ name: { some: string } }>).map((e) => e.name.some));
    expect(def.reducers.find((r) => r.name === 'append_sync_event')?.params.elements).toHaveLength(8);
    expect((await fetch(`${dbUrl(lab)}/schema`)).status).toBe(400);
  });

  it('serves ping, health, database info and identity', async () => {
    const ping = await fetch(`${lab.urls.spacetimedb}/v1/ping`);
    expect([ping.status, await ping.text(), ping.headers.get('spacetime-identity')]).toEqual([200, '', null]);
    expect((await fetch(`${lab.urls.spacetimedb}/v1/ping`, { method: 'POST' })).status).toBe(405);
    const health = (await (await fetch(`${lab.urls.spacetimedb}/v1/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ package_name: 'spacetimedb-client-api', schedulable: true });
    const info = await fetch(dbUrl(lab));
    expect(info.headers.get('spacetime-identity')).toMatch(/^c200/);
    const infoBody = (await info.json()) as Record<string, unknown>;
    const id = await (await fetch(`${dbUrl(lab)}/identity`)).text();
    expect(dig(infoBody, 'database_identity', '__identity__')).toBe(`0x${id}`);
    const byId = await fetch(`${dbUrl(lab, id)}/sql`, { method: 'POST', body: 'SELECT COUNT(*) AS n FROM stream_head' });
    expect(byId.status).toBe(200);
  });
});
