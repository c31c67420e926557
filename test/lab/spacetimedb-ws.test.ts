import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/index.js';
import { WsClient, appendArgs, call, count, dig, rowsOf, startTestLab, waitUntil } from './helpers.js';

let lab: Lab;
const clients: WsClient[] = [];
async function connect(opts: Parameters<typeof WsClient.connect>[1] = {}): Promise<{ client: WsClient; identity: string; token: string }> {
  const c = await WsClient.connect(lab, opts);
  clients.push(c.client);
  return c;
}
beforeAll(async () => {
  lab = await startTestLab({ pingIntervalMs: 50, idleTimeoutMs: 400 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await lab.close();
});

describe('lab WebSocket handshake and presence', () => {
  it('refuses a missing v1.json subprotocol with 400 and an unknown database with 404', async () => {
    await expect(WsClient.open(lab, { protocols: ['v2.bsatn.spacetimedb'] })).rejects.toMatchObject({ status: 400, body: 'no valid protocol selected' });
    await expect(WsClient.open(lab, { db: 'nope' })).rejects.toMatchObject({ status: 404, body: '`nope` not found' });
    await expect(WsClient.open(lab, { query: '?connection_id=00000000000000000000000000000000' })).rejects.toMatchObject({ status: 400 });
    await expect(WsClient.open(lab, { db: 'ab'.repeat(32) })).rejects.toMatchObject({ status: 500 });
  });

  it('echoes the protocol and carries identity headers on the 101', async () => {
    const client = await WsClient.open(lab, { protocols: ['v2.bsatn.spacetimedb', 'v1.json.spacetimedb'] });
    clients.push(client);
    expect(client.ws.protocol).toBe('v1.json.spacetimedb');
    const msg = await client.next('IdentityToken');
    expect(dig(msg, 'IdentityToken', 'identity', '__identity__')).toMatch(/^0xc200[0-9a-f]{60}$/);
    const cid = dig(msg, 'IdentityToken', 'connection_id', '__connection_id__');
    expect(typeof cid).toBe('number');
  });

  it('prints u128 connection ids as exact integers', async () => {
    const client = await WsClient.open(lab, { query: '?connection_id=ffffffffffffffffffffffffffffffff' });
    clients.push(client);
    await client.next('IdentityToken');
    expect(client.raw[0]).toContain('"__connection_id__":340282366920938463463374607431768211455}');
  });

  it('commits the presence row before IdentityToken and removes it after close', async () => {
    const baseline = await count(lab, 'active_connection');
    const a = await connect();
    // IdentityToken received: the client_connected transaction has committed.
    expect(await count(lab, 'active_connection', `WHERE identity_hex = '${a.identity}'`)).toBe(1);
    const b = await connect();
    expect(await count(lab, 'active_connection')).toBe(baseline + 2);
    await a.client.close();
    await b.client.close();
    await waitUntil(async () => (await count(lab, 'active_connection')) === baseline, 3000, 'rows to vanish');
  });

  it('keeps the identity of a presented token', async () => {
    const first = await connect();
    await first.client.close();
    const again = await connect({ headers: { authorization: `Bearer ${first.token}` } });
    expect(again.identity).toBe(first.identity);
  });

  it('drops a client that stops answering pings after the idle timeout and runs client_disconnected', async () => {
    const { client, identity } = await connect({ autoPong: false });
    await client.waitClosed(3000);
    await waitUntil(async () => (await count(lab, 'active_connection', `WHERE identity_hex = '${identity}'`)) === 0, 3000, 'row removal');
  });

  it('keeps a client that answers pings past the idle timeout', async () => {
    const { client } = await connect();
    const during = await client.quiet(700);
    expect(during).toEqual([]);
    expect(client.closeCode).toBeUndefined();
  });

  it('closes with 1011 on malformed JSON, unknown variants, missing fields and binary frames', async () => {
    for (const bad of ['{not json', '[]', '{"Frobnicate":{}}', '{"CallReducer":{"reducer":"heartbeat","args":"[]","request_id":1}}', Buffer.from('{"Subscribe":{"query_strings":[],"request_id":1}}')]) {
      const { client } = await connect();
      client.ws.send(bad);
      await client.waitClosed();
      expect(client.closeCode, String(bad)).toBe(1011);
    }
  });

  it('accepts numeric variant tags as keys', async () => {
    const { client } = await connect();
    client.send({ 2: { message_id: '0a', query_string: 'SELECT * FROM stream_head' } });
    expect(dig(await client.next('OneOffQueryResponse'), 'OneOffQueryResponse', 'message_id')).toBe('0a');
  });
});

describe('lab WebSocket subscriptions', () => {
  it('sends initial rows as JSON objects (empty tables omitted) and live rows as arrays in commit order', async () => {
    await call(lab, 'append_sync_event', appendArgs('ws.order', 'o1'));
    const { client } = await connect();
    client.send({ Subscribe: { query_strings: ["SELECT * FROM sync_event WHERE stream_id = 'ws.order'", 'SELECT * FROM stream_checkpoint WHERE client_id = \'nobody-ever\''], request_id: 7 } });
    const initial = await client.next('InitialSubscription');
    expect(dig(initial, 'InitialSubscription', 'request_id')).toBe(7);
    const tables = dig(initial, 'InitialSubscription', 'database_update', 'tables') as Array<Record<string, unknown>>;
    expect(tables.map((t) => t.table_name)).toEqual(['sync_event']);
    expect(rowsOf(tables, 'sync_event', 'inserts')).toEqual([
      { idempotency_key: 'o1', stream_id: 'ws.order', seq: 1, payload_hash: 'sha256:o1', payload_json: '{"key":"o1"}', committed_at_unix_ms: 1724300000000, durable_offset: 0, confirmed_read: false },
    ]);
    for (const k of ['o2', 'o3', 'o4']) expect((await call(lab, 'append_sync_event', appendArgs('ws.order', k))).status).toBe(200);
    const seqs: number[] = [];
    while (seqs.length < 3) {
      const m = await client.next('TransactionUpdateLight');
      for (const row of rowsOf(dig(m, 'TransactionUpdateLight', 'update', 'tables'), 'sync_event', 'inserts') as unknown[][]) seqs.push(row[2] as number);
    }
    expect(seqs).toEqual([2, 3, 4]);
  });

  it('gives the caller a full TransactionUpdate and other subscribers TransactionUpdateLight with the caller\'s request id', async () => {
    const q = "SELECT * FROM sync_event WHERE stream_id = 'ws.caller'";
    const a = await connect();
    const b = await connect();
    a.client.send({ Subscribe: { query_strings: [q], request_id: 1 } });
    b.client.send({ Subscribe: { query_strings: [q], request_id: 1 } });
    await a.client.next('InitialSubscription');
    await b.client.next('InitialSubscription');
    const args = JSON.stringify(appendArgs('ws.caller', 'wc1', 1));
    a.client.send({ CallReducer: { reducer: 'append_sync_event', args, request_id: 42, flags: 0 } });
    const full = await a.client.next('TransactionUpdate');
    expect(dig(full, 'TransactionUpdate', 'reducer_call')).toEqual({ reducer_name: 'append_sync_event', reducer_id: 6, args, request_id: 42 });
    expect(dig(full, 'TransactionUpdate', 'caller_identity', '__identity__')).toBe(`0x${a.identity}`);
    const committed = dig(full, 'TransactionUpdate', 'status', 'Committed', 'tables');
    // Only the caller's subscribed rows: stream_head changed too but is not included.
    expect((committed as Array<Record<string, unknown>>).map((t) => t.table_name)).toEqual(['sync_event']);
    const light = await b.client.next('TransactionUpdateLight');
    expect(dig(light, 'TransactionUpdateLight', 'request_id')).toBe(42);
    expect(rowsOf(dig(light, 'TransactionUpdateLight', 'update', 'tables'), 'sync_event', 'inserts')).toEqual([['wc1', 'ws.caller', 1, 'sha256:wc1', '{"key":"wc1"}', 1724300000000, 0, false]]);
  });

  it('answers a caller without matching subscriptions with an empty Committed update', async () => {
    const a = await connect();
    a.client.send({ CallReducer: { reducer: 'ack_stream_checkpoint', args: '["c1","ws.empty",3,0]', request_id: 9, flags: 0 } });
    const m = await a.client.next('TransactionUpdate');
    expect(dig(m, 'TransactionUpdate', 'status')).toEqual({ Committed: { tables: [] } });
  });

  it('reports a failed reducer to the caller only, with request_id 0', async () => {
    const q = "SELECT * FROM sync_event WHERE stream_id = 'ws.fail'";
    const a = await connect();
    const b = await connect();
    b.client.send({ Subscribe: { query_strings: [q], request_id: 1 } });
    await b.client.next('InitialSubscription');
    a.client.send({ CallReducer: { reducer: 'append_sync_event', args: JSON.stringify(appendArgs('ws.fail', 'f1', 9)), request_id: 5, flags: 0 } });
    const failed = await a.client.next('TransactionUpdate');
    expect(dig(failed, 'TransactionUpdate', 'status')).toEqual({ Failed: 'sequence_conflict expected_next_seq=9 actual_next_seq=1' });
    expect(dig(failed, 'TransactionUpdate', 'reducer_call', 'request_id')).toBe(0);
    a.client.send({ CallReducer: { reducer: 'nope', args: '[]', request_id: 6, flags: 0 } });
    const unknown = await a.client.next('TransactionUpdate');
    expect(dig(unknown, 'TransactionUpdate', 'status')).toEqual({ Failed: 'no such reducer' });
    expect(dig(unknown, 'TransactionUpdate', 'reducer_call', 'reducer_id')).toBe(4294967295);
    expect(await b.client.quiet(150)).toEqual([]);
  });

  it('supports SubscribeSingle, SubscribeMulti, Unsubscribe and OneOffQuery', async () => {
    await call(lab, 'append_sync_event', appendArgs('ws.single', 's1'));
    const { client } = await connect();
    client.send({ SubscribeSingle: { query: "SELECT * FROM stream_head WHERE stream_id = 'ws.single'", request_id: 2, query_id: { id: 10 } } });
    const applied = await client.next('SubscribeApplied');
    expect(dig(applied, 'SubscribeApplied', 'query_id')).toEqual({ id: 10 });
    expect(dig(applied, 'SubscribeApplied', 'rows', 'table_name')).toBe('stream_head');
    expect(rowsOf([dig(applied, 'SubscribeApplied', 'rows', 'table_rows')], 'stream_head', 'inserts')).toMatchObject([{ stream_id: 'ws.single', head_seq: 1 }]);
    client.send({ SubscribeMulti: { query_strings: ["SELECT * FROM sync_event WHERE stream_id = 'ws.single'"], request_id: 3, query_id: { id: 11 } } });
    const multi = await client.next('SubscribeMultiApplied');
    expect(rowsOf(dig(multi, 'SubscribeMultiApplied', 'update', 'tables'), 'sync_event', 'inserts')).toHaveLength(1);
    await call(lab, 'append_sync_event', appendArgs('ws.single', 's2'));
    const light = await client.next('TransactionUpdateLight');
    const tables = dig(light, 'TransactionUpdateLight', 'update', 'tables');
    // An update through the primary key is a delete plus an insert.
    expect((rowsOf(tables, 'stream_head', 'deletes') as unknown[][]).map((r) => r.slice(0, 2))).toEqual([['ws.single', 1]]);
    expect((rowsOf(tables, 'stream_head', 'inserts') as unknown[][]).map((r) => r.slice(0, 2))).toEqual([['ws.single', 2]]);
    client.send({ Unsubscribe: { request_id: 4, query_id: { id: 10 } } });
    const unsub = await client.next('UnsubscribeApplied');
    expect(rowsOf([dig(unsub, 'UnsubscribeApplied', 'rows', 'table_rows')], 'stream_head', 'deletes')).toHaveLength(1);
    client.send({ OneOffQuery: { message_id: '0a0b', query_string: "SELECT * FROM stream_head WHERE stream_id = 'ws.single'" } });
    const one = await client.next('OneOffQueryResponse');
    expect(dig(one, 'OneOffQueryResponse', 'message_id')).toBe('0a0b');
    expect(dig(one, 'OneOffQueryResponse', 'error')).toEqual({ none: [] });
    expect(rowsOf([{ table_name: 'stream_head', updates: [{ inserts: dig(one, 'OneOffQueryResponse', 'tables', 0, 'rows') }] }], 'stream_head', 'inserts')).toMatchObject([{ head_seq: 2 }]);
  });

  it('rejects projections, COUNT and LIMIT in subscriptions with SpacetimeDB\'s messages', async () => {
    const { client } = await connect();
    client.send({ SubscribeSingle: { query: 'SELECT seq FROM sync_event', request_id: 2, query_id: { id: 1 } } });
    const err = await client.next('SubscriptionError');
    expect(dig(err, 'SubscriptionError')).toMatchObject({ request_id: { some: 2 }, query_id: { some: 1 }, table_id: { none: [] }, error: 'Column projections are not supported in subscriptions' });
    client.send({ SubscribeMulti: { query_strings: ['SELECT * FROM sync_event LIMIT 5'], request_id: 3, query_id: { id: 2 } } });
    expect(dig(await client.next('SubscriptionError'), 'SubscriptionError', 'error')).toBe('Unsupported: LIMIT');
    client.send({ Subscribe: { query_strings: ['SELECT COUNT(*) AS n FROM sync_event'], request_id: 4 } });
    const failed = await client.next('TransactionUpdate');
    expect(dig(failed, 'TransactionUpdate', 'status', 'Failed')).toBe('Column projections are not supported in subscriptions, executing: `SELECT COUNT(*) AS n FROM sync_event`');
    client.send({ OneOffQuery: { message_id: '01', query_string: 'SELECT * FROM nope' } });
    const one = await client.next('OneOffQueryResponse');
    expect(dig(one, 'OneOffQueryResponse', 'error', 'some')).toContain('no such table: `nope`');
  });
});
