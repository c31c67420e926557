/**
 * The lab's `autopilot-sync` module answers as the deployed one does
 * (`spacetime/modules/autopilot-sync/spacetimedb/src/lib.rs` at OpenAgents 9b2b978949), for
 * the tables and reducers the probes use: every table public, `append_sync_event` and
 * `ack_stream_checkpoint` open to any caller, checkpoints overwritten without a monotonicity
 * check and never deleted, presence rows and claims deleted on disconnect, and the reducers'
 * error texts. `enforce_caller_auth` is the lab-only mode the operators' docs describe.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/index.js';
import { nostrChallengeDigest } from '../../src/lab/spacetimedb/module-db.js';
import { signSchnorr } from '../../src/lab/spacetimedb/schnorr.js';
import { ManualClock } from '../../src/time/index.js';
import { WsClient, appendArgs, call, count, dig, rowsOf, sql, startTestLab, waitUntil } from './helpers.js';

let lab: Lab;
const clients: WsClient[] = [];
beforeAll(async () => {
  lab = await startTestLab();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  lab.setKnobs({ enforce_caller_auth: false });
});
afterAll(async () => {
  await lab.close();
});

async function connect(l: Lab = lab, opts: Parameters<typeof WsClient.connect>[1] = {}): Promise<{ client: WsClient; identity: string; token: string }> {
  const c = await WsClient.connect(l, opts);
  clients.push(c.client);
  return c;
}

let requestId = 100;
async function wsCall(client: WsClient, reducer: string, args: unknown): Promise<{ committed: boolean; failed: string | undefined }> {
  requestId += 1;
  client.send({ CallReducer: { reducer, args: JSON.stringify(args), request_id: requestId, flags: 0 } });
  const m = await client.next('TransactionUpdate');
  const status = dig(m, 'TransactionUpdate', 'status') as Record<string, unknown>;
  return { committed: 'Committed' in status, failed: status.Failed as string | undefined };
}

async function checkpointSeq(key: string): Promise<number | undefined> {
  const r = await sql(lab, `SELECT last_applied_seq FROM stream_checkpoint WHERE checkpoint_key = '${key}'`);
  return dig(r.json, 0, 'rows', 0, 0) as number | undefined;
}

describe('the deployed module, by default', () => {
  it('has five public tables any anonymous subscriber can read whole', async () => {
    await call(lab, 'append_sync_event', appendArgs('contract.pub', 'p1'));
    await call(lab, 'ack_stream_checkpoint', ['someone-else', 'contract.pub', 1, 0]);
    const { client } = await connect();
    const tables = ['active_connection', 'nostr_presence_claim', 'stream_head', 'sync_event', 'stream_checkpoint'];
    client.send({ Subscribe: { query_strings: tables.map((t) => `SELECT * FROM ${t}`), request_id: 1 } });
    const init = await client.next('InitialSubscription');
    const names = (dig(init, 'InitialSubscription', 'database_update', 'tables') as Array<{ table_name: string }>).map((t) => t.table_name);
    // Empty tables are omitted; nostr_presence_claim is empty until someone asks for a challenge.
    expect(names.sort()).toEqual(['active_connection', 'stream_checkpoint', 'stream_head', 'sync_event']);
    for (const t of tables) expect((await sql(lab, `SELECT * FROM ${t}`)).status).toBe(200);
  });

  it('lets any caller append to any stream and write any client\'s checkpoint, over HTTP and WebSocket', async () => {
    const a = await connect();
    const b = await connect();
    expect(a.identity).not.toBe(b.identity);
    expect(await wsCall(a.client, 'append_sync_event', appendArgs('contract.any', 'any1'))).toMatchObject({ committed: true });
    expect(await wsCall(b.client, 'append_sync_event', appendArgs('contract.any', 'any2'))).toMatchObject({ committed: true });
    expect((await call(lab, 'append_sync_event', appendArgs('contract.any', 'any3'))).status).toBe(200);
    // Three identities write the same client's checkpoint: the last write wins.
    expect(await wsCall(a.client, 'ack_stream_checkpoint', ['desktop-1', 'contract.any', 2, 0])).toMatchObject({ committed: true });
    expect(await wsCall(b.client, 'ack_stream_checkpoint', ['desktop-1', 'contract.any', 3, 0])).toMatchObject({ committed: true });
    expect(await checkpointSeq('desktop-1:contract.any')).toBe(3);
    expect((await call(lab, 'ack_stream_checkpoint', ['desktop-1', 'contract.any', 1, 0])).status).toBe(200);
    // No monotonicity check: a lower seq overwrites a higher one.
    expect(await checkpointSeq('desktop-1:contract.any')).toBe(1);
  });

  it('never deletes stream_checkpoint, sync_event or stream_head rows: no reducer, disconnect or restart removes them', async () => {
    await call(lab, 'append_sync_event', appendArgs('contract.keep', 'k1'));
    await call(lab, 'ack_stream_checkpoint', ['gone-client', 'contract.keep', 1, 0]);
    const before = { cp: await count(lab, 'stream_checkpoint'), ev: await count(lab, 'sync_event'), head: await count(lab, 'stream_head') };
    const { client } = await connect();
    client.send({ Subscribe: { query_strings: ['SELECT * FROM stream_checkpoint', 'SELECT * FROM sync_event', 'SELECT * FROM stream_head'], request_id: 1 } });
    await client.next('InitialSubscription');
    for (const [reducer, args] of [['heartbeat', []], ['request_nostr_presence_challenge', []], ['ack_stream_checkpoint', ['gone-client', 'contract.keep', 0, 0]], ['append_sync_event', appendArgs('contract.keep', 'k1')]] as const) {
      expect((await wsCall(client, reducer, args)).failed, reducer).toBeUndefined();
    }
    lab.setKnobs({ restart: true });
    await client.waitClosed();
    await new Promise((r) => setTimeout(r, 50));
    expect(client.messages.flatMap((m) => [...rowsOf(dig(m, 'TransactionUpdate', 'status', 'Committed', 'tables'), 'stream_checkpoint', 'deletes'), ...rowsOf(dig(m, 'TransactionUpdateLight', 'update', 'tables'), 'stream_checkpoint', 'deletes')]).length).toBe(1); // the upsert's delete half
    expect({ cp: await count(lab, 'stream_checkpoint'), ev: await count(lab, 'sync_event'), head: await count(lab, 'stream_head') }).toEqual(before);
    expect(await checkpointSeq('gone-client:contract.keep')).toBe(0);
  });

  it('client_disconnected deletes the sender\'s presence row and presence claim', async () => {
    const { client, identity } = await connect();
    expect(await wsCall(client, 'request_nostr_presence_challenge', [])).toMatchObject({ committed: true });
    expect(await count(lab, 'nostr_presence_claim', `WHERE identity = 0x${identity}`)).toBe(1);
    expect(await count(lab, 'active_connection', `WHERE identity = 0x${identity}`)).toBe(1);
    await client.close();
    await waitUntil(async () => (await count(lab, 'active_connection', `WHERE identity = 0x${identity}`)) === 0, 3000, 'presence row deleted');
    expect(await count(lab, 'nostr_presence_claim', `WHERE identity = 0x${identity}`)).toBe(0);
  });

  it('heartbeat updates last_seen when connected and is a silent no-op otherwise', async () => {
    const first = await connect();
    // A second session of the same identity closes: the shared row goes, the first session stays.
    const second = await connect(lab, { headers: { authorization: `Bearer ${first.token}` } });
    await second.client.close();
    await waitUntil(async () => (await count(lab, 'active_connection', `WHERE identity = 0x${first.identity}`)) === 0, 3000, 'row deleted');
    expect(await wsCall(first.client, 'heartbeat', [])).toEqual({ committed: true, failed: undefined });
    expect(await count(lab, 'active_connection', `WHERE identity = 0x${first.identity}`)).toBe(0);
    // Not connected: the presence reducers that need a connection say so.
    expect((await wsCall(first.client, 'request_nostr_presence_challenge', [])).failed).toBe('identity is not connected');
  });

  it('answers append_sync_event with the module\'s texts: required fields, sequence conflicts, idempotent duplicates', async () => {
    const { client } = await connect();
    expect(await wsCall(client, 'append_sync_event', appendArgs('contract.err', 'e1'))).toMatchObject({ committed: true });
    expect((await wsCall(client, 'append_sync_event', appendArgs('contract.err', 'e2', 5))).failed).toBe('sequence_conflict expected_next_seq=5 actual_next_seq=2');
    for (const [i, field] of [[0, 'stream_id'], [1, 'idempotency_key'], [2, 'payload_hash']] as const) {
      const args = appendArgs('contract.err', `missing-${field}`);
      args[i] = ' \t';
      expect((await wsCall(client, 'append_sync_event', args)).failed).toBe(`${field} is required`);
      expect(await call(lab, 'append_sync_event', args)).toMatchObject({ status: 530, text: `${field} is required` });
    }
    // A duplicate key commits nothing new, whatever the expected seq says.
    expect(await wsCall(client, 'append_sync_event', appendArgs('contract.err', 'e1', 9))).toMatchObject({ committed: true });
    expect(await count(lab, 'sync_event', "WHERE stream_id = 'contract.err'")).toBe(1);
    expect((await wsCall(client, 'ack_stream_checkpoint', ['c', ' ', 1, 0])).failed).toBe('stream_id is required');
  });

  it('binds a Nostr key only with a BIP-340 signature over the caller\'s current challenge', async () => {
    const { client, identity } = await connect();
    client.send({ Subscribe: { query_strings: [`SELECT * FROM nostr_presence_claim WHERE identity = 0x${identity}`], request_id: 1 } });
    await client.next('InitialSubscription');
    expect((await wsCall(client, 'bind_nostr_presence_identity', ['ab', 'npub1', 'x', 'cd'])).failed).toBe('nostr claim challenge missing');
    await wsCall(client, 'request_nostr_presence_challenge', []);
    const claim = (await sql(lab, `SELECT challenge FROM nostr_presence_claim WHERE identity = 0x${identity}`)).json;
    const challenge = dig(claim, 0, 'rows', 0, 0) as string;
    expect(challenge).toMatch(new RegExp(`^openagents:nostr-presence-bind:v1:${identity}:\\d+$`));
    const key = Buffer.alloc(32, 7);
    const { signatureHex, pubkeyHex } = signSchnorr(key, nostrChallengeDigest(identity, challenge));
    expect((await wsCall(client, 'bind_nostr_presence_identity', [pubkeyHex, 'npub1x', 'other', signatureHex])).failed).toBe('nostr claim challenge mismatch');
    expect((await wsCall(client, 'bind_nostr_presence_identity', ['zz', 'npub1x', challenge, signatureHex])).failed).toBe('invalid nostr pubkey: malformed public key');
    expect((await wsCall(client, 'bind_nostr_presence_identity', [pubkeyHex, 'npub1x', challenge, 'abc'])).failed).toBe('invalid signature hex: Odd number of digits');
    expect((await wsCall(client, 'bind_nostr_presence_identity', [pubkeyHex, 'npub1x', challenge, 'abcd'])).failed).toBe('invalid schnorr signature bytes: malformed signature');
    const forged = signSchnorr(Buffer.alloc(32, 8), nostrChallengeDigest(identity, challenge)).signatureHex;
    expect((await wsCall(client, 'bind_nostr_presence_identity', [pubkeyHex, 'npub1x', challenge, forged])).failed).toBe('nostr challenge signature verification failed: signature failed verification');
    expect(await wsCall(client, 'bind_nostr_presence_identity', [pubkeyHex, ' npub1x ', ` ${challenge} `, signatureHex])).toMatchObject({ committed: true });
    const row = await sql(lab, `SELECT nostr_pubkey_hex, nostr_pubkey_npub FROM active_connection WHERE identity = 0x${identity}`);
    expect(dig(row.json, 0, 'rows', 0)).toEqual([[0, pubkeyHex], [0, 'npub1x']]);
    expect((await wsCall(client, 'bind_nostr_presence_identity', [pubkeyHex, 'npub1x', challenge, signatureHex])).failed).toBe('nostr claim challenge already consumed');
  });
});

describe('enforce_caller_auth (the operators\' intended contract, lab-only)', () => {
  async function syncToken(l: Lab): Promise<string> {
    const res = await fetch(`${l.urls.control}/api/sync/token`, { method: 'POST', headers: { authorization: `Bearer ${l.secrets.controlSessionToken}`, 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(3000) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: { token: string } }).data.token;
  }

  it('refuses subscriptions and reducer calls without a sync token, counted as auth failures, and accepts a valid one', async () => {
    lab.setKnobs({ enforce_caller_auth: true, runtime_fields: 'documented' });
    const before = dig(lab.state().counters.runtime, 'auth_failures', 'unauthorized_total') as number;
    const anon = await connect();
    anon.client.send({ SubscribeSingle: { query: 'SELECT * FROM stream_head', request_id: 1, query_id: { id: 1 } } });
    expect(dig(await anon.client.next('SubscriptionError'), 'SubscriptionError', 'error')).toMatch(/^unauthorized: a sync token issued by the control service is required to subscribe/);
    anon.client.send({ Subscribe: { query_strings: ['SELECT * FROM stream_head'], request_id: 2 } });
    expect(dig(await anon.client.next('TransactionUpdate'), 'TransactionUpdate', 'status', 'Failed')).toMatch(/^unauthorized:/);
    expect((await wsCall(anon.client, 'append_sync_event', appendArgs('contract.auth', 'a1'))).failed).toMatch(/^unauthorized: .* to call reducer append_sync_event/);
    const http = await call(lab, 'ack_stream_checkpoint', ['c', 'contract.auth', 1, 0]);
    expect(http.status).toBe(530);
    expect(http.text).toMatch(/^unauthorized:/);
    expect(dig(lab.state().counters.runtime, 'auth_failures', 'unauthorized_total')).toBe(before + 4);

    const token = await syncToken(lab);
    const ok = await connect(lab, { headers: { authorization: `Bearer ${token}` } });
    ok.client.send({ Subscribe: { query_strings: ["SELECT * FROM sync_event WHERE stream_id = 'contract.auth'"], request_id: 3 } });
    await ok.client.next('InitialSubscription');
    expect(await wsCall(ok.client, 'append_sync_event', appendArgs('contract.auth', 'a2'))).toMatchObject({ committed: true });
    expect((await call(lab, 'ack_stream_checkpoint', ['c', 'contract.auth', 1, 0], { 'content-type': 'application/json', authorization: `Bearer ${token}` })).status).toBe(200);
    // SQL reads stay open, as do connections themselves.
    expect((await sql(lab, 'SELECT * FROM stream_checkpoint')).status).toBe(200);
    lab.setKnobs({ enforce_caller_auth: false });
    expect(await wsCall(anon.client, 'append_sync_event', appendArgs('contract.auth', 'a3'))).toMatchObject({ committed: true });
  });

  it('refuses the next request of a session whose sync token expired meanwhile, as token_expired', async () => {
    const clock = new ManualClock(Date.parse('2026-02-25T12:00:00Z'));
    const l = await startTestLab({ clock, tokenTtlSeconds: 60, knobs: { enforce_caller_auth: true, runtime_fields: 'documented' } });
    try {
      const token = await syncToken(l);
      const c = await connect(l, { headers: { authorization: `Bearer ${token}` } });
      expect(await wsCall(c.client, 'ack_stream_checkpoint', ['c', 'contract.exp', 1, 0])).toMatchObject({ committed: true });
      await clock.advance(61_000);
      expect((await wsCall(c.client, 'ack_stream_checkpoint', ['c', 'contract.exp', 2, 0])).failed).toMatch(/^unauthorized: the sync token expired at 2026-02-25T12:01:00.000Z/);
      expect(dig(l.state().counters.runtime, 'auth_failures', 'token_expired_total')).toBe(1);
      // A new connection with the expired token is refused at the handshake, as always.
      await expect(WsClient.open(l, { headers: { authorization: `Bearer ${token}` } })).rejects.toMatchObject({ status: 401 });
    } finally {
      await Promise.all(clients.splice(0).map((x) => x.close()));
      await l.close();
    }
  });
});
