import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';
import { ControlClient, RuntimeMetricsClient, rowsOf, SpacetimeHttpClient, SpacetimeWsClient } from '../../src/spacetime/index.js';
import type { ServerMessage } from '../../src/spacetime/index.js';
import type { RequestError } from '../../src/errors.js';
import { ReducerError } from '../../src/errors.js';

let lab: Lab;
let http: SpacetimeHttpClient;

beforeAll(async () => {
  lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, knobs: { traffic: { paused: true } } });
  http = new SpacetimeHttpClient({ baseUrl: lab.urls.spacetimedb, database: lab.databaseName, timeoutMs: 3000 });
});
afterAll(async () => {
  await lab.close();
});

const ws = (): SpacetimeWsClient => new SpacetimeWsClient({ baseUrl: lab.urls.spacetimedb, database: lab.databaseName, timeoutMs: 3000 });
const append = (stream: string, key: string, expected = 0): Promise<unknown> => http.callReducer('append_sync_event', [stream, key, `sha256:${key}`, `{"k":"${key}"}`, 1724300000000, 0, false, expected]);

async function nextOfType(c: SpacetimeWsClient, type: ServerMessage['type']): Promise<ServerMessage> {
  for (let i = 0; i < 50; i++) {
    const m = await c.next({ timeoutMs: 2000 });
    if (m.type === type || m.type === 'Closed') return m;
  }
  throw new Error(`no ${type}`);
}

describe('clients against the lab', () => {
  it('SQL counts, reducer success and each reducer error string', async () => {
    const stream = 'test.clients.a';
    await append(stream, 'k1');
    await append(stream, 'k2');
    await append(stream, 'k1'); // idempotent duplicate: no new seq
    expect(await http.sqlCount(`SELECT COUNT(*) AS n FROM sync_event WHERE stream_id = '${stream}'`)).toBe(2);
    const head = await http.sql(`SELECT * FROM stream_head WHERE stream_id = '${stream}'`);
    expect(head.rows[0]).toMatchObject({ stream_id: stream, head_seq: 2 });

    const e1 = await append(stream, 'k3', 9).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ReducerError);
    expect((e1 as ReducerError).reducerMessage).toBe('sequence_conflict expected_next_seq=9 actual_next_seq=3');
    const e2 = await http.callReducer('append_sync_event', ['', 'k', 'h', '{}', 1, 0, false, 0]).catch((e: unknown) => e);
    expect((e2 as ReducerError).reducerMessage).toBe('stream_id is required');
    const e3 = await http.callReducer('no_such_thing', []).catch((e: unknown) => e as RequestError);
    expect(e3).toMatchObject({ code: 'SENTINEL_HTTP_STATUS', status: 404 });
    expect((e3 as RequestError).excerpt).toContain('No such procedure');
    const e4 = await http.callReducer('append_sync_event', ['x']).catch((e: unknown) => e as RequestError);
    expect(e4).toMatchObject({ status: 400 });
    expect((e4 as RequestError).excerpt).toContain('invalid arguments for reducer append_sync_event');
    const e5 = await http.sql('SELECT COUNT(*) FROM sync_event').catch((e: unknown) => e as RequestError);
    expect((e5 as RequestError).excerpt).toContain('Aggregate expressions must have column aliases');
  });

  it('subscriptions: initial rows as objects, then live updates as arrays, in commit order', async () => {
    const stream = 'test.clients.sub';
    await append(stream, 's1');
    const c = ws();
    const hello = await c.connect();
    expect(hello.identity).toMatch(/^c200[0-9a-f]{60}$/);
    const init = await c.subscribe([`SELECT * FROM sync_event WHERE stream_id = '${stream}'`]);
    expect(init.tables[0].rowShape).toBe('object');
    expect(rowsOf(init.tables, 'sync_event', 'inserts').map((r) => r.seq)).toEqual([1]);
    for (const k of ['s2', 's3', 's4']) await append(stream, k);
    const seqs: number[] = [];
    while (seqs.length < 3) {
      const m = await nextOfType(c, 'TransactionUpdateLight');
      if (m.type !== 'TransactionUpdateLight') throw new Error(m.type);
      expect(m.requestId).toBe(0);
      expect(m.tables[0].rowShape).toBe('array');
      seqs.push(...rowsOf(m.tables, 'sync_event', 'inserts').map((r) => r.seq));
    }
    expect(seqs).toEqual([2, 3, 4]);

    // As the caller over the socket: a full TransactionUpdate, correlated to this call.
    const tx = await c.callReducer('append_sync_event', [stream, 's5', 'sha256:s5', '{}', 1, 0, false, 5]);
    expect(tx.status).toBe('committed');
    expect(rowsOf(tx.tables, 'sync_event', 'inserts').map((r) => r.seq)).toEqual([5]);
    const failed = await c.callReducer('append_sync_event', [stream, 's6', 'sha256:s6', '{}', 1, 0, false, 99]).catch((e: unknown) => e as ReducerError);
    expect(failed).toBeInstanceOf(ReducerError);
    expect((failed as ReducerError).reducerMessage).toBe('sequence_conflict expected_next_seq=99 actual_next_seq=6');

    // A legacy Subscribe that does not compile comes back as a Failed update with no reducer name.
    await expect(c.subscribe(['SELECT * FROM no_such_table'])).rejects.toMatchObject({ code: 'SENTINEL_PROTOCOL' });
    const single = await c.subscribeSingle(`SELECT * FROM stream_head WHERE stream_id = '${stream}'`);
    expect(single.table.inserts[0]).toMatchObject({ stream_id: stream, head_seq: 5 });
    await expect(c.subscribeSingle('SELECT stream_id FROM stream_head')).rejects.toMatchObject({ code: 'SENTINEL_PROTOCOL' });
    const one = await c.oneOffQuery(`SELECT * FROM stream_head WHERE stream_id = '${stream}'`);
    expect(one.tables[0].rows[0]).toMatchObject({ head_seq: 5 });
    await c.close();
  });

  it('active_connection rows appear on connect (before IdentityToken) and vanish on close', async () => {
    const count = (): Promise<number> => http.sqlCount('SELECT COUNT(*) AS n FROM active_connection');
    // The previous test's socket closed asynchronously; its row goes away shortly after.
    let base = await count();
    for (let i = 0; i < 50 && base !== 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      base = await count();
    }
    expect(base).toBe(0);
    const a = ws();
    const b = ws();
    const ha = await a.connect();
    const hb = await b.connect();
    expect(ha.identity).not.toBe(hb.identity);
    expect(await count()).toBe(base + 2);
    const rows = await http.sql(`SELECT * FROM active_connection WHERE identity_hex = '${ha.identity}'`);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0].identity).toBe(ha.identity);
    await a.close();
    await b.close();
    let n = await count();
    for (let i = 0; i < 50 && n !== base; i++) {
      await new Promise((r) => setTimeout(r, 20));
      n = await count();
    }
    expect(n).toBe(base);
  });

  it('runtime metrics and control token against the lab', async () => {
    const rt = new RuntimeMetricsClient({ baseUrl: lab.urls.runtime });
    const m = await rt.fetchMetrics();
    expect(m.transport).toBe('spacetime_ws');
    expect(m.fields.has('mirror.published_total')).toBe(true);
    expect(m.fields.has('delivery.max_replay_lag')).toBe(false);
    // The runtime's metrics route has no auth: a bearer is ignored.
    expect((await new RuntimeMetricsClient({ baseUrl: lab.urls.runtime, token: 'any-token' }).fetchMetrics()).transport).toBe('spacetime_ws');
    const control = new ControlClient({ baseUrl: lab.urls.control, sessionToken: lab.secrets.controlSessionToken });
    const grant = await control.mintSyncToken();
    expect(grant.data.transport).toBe('spacetime_ws');
    expect((await control.status()).defaultTransport).toBe('spacetime_ws');
    expect((await control.route('/api/v1/sync/token', { method: 'POST' })).status).toBe(404);
  });
});
