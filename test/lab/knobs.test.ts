import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/index.js';
import { KNOB_NAMES, defaultKnobs } from '../../src/lab/index.js';
import { WsClient, appendArgs, call, count, dig, rowsOf, sql, startTestLab, waitUntil } from './helpers.js';

let lab: Lab;
const clients: WsClient[] = [];
beforeAll(async () => {
  lab = await startTestLab({ tickMs: 20, traffic: { streams: ['runtime.run.k1.events'], clients: [{ id: 'fast', applyPerSecond: 10_000 }, { id: 'laggy', applyPerSecond: 10_000 }], ackIntervalMs: 20 } });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  lab.setKnobs({ traffic: { paused: true }, retention_floor: 0, publish_failures: 0, token_failure_ratio: 0, slow_clients: [], dead_clients: [], streaming_stopped: false, leak_connection_rows: false, next_resume: null, next_rebootstrap: null, runtime_fields: 'published', runtime_routing: { canary_user_percent: 0, canary_autopilot_percent: 0, shadow_enabled: false, evaluate_fails_with: null }, readiness: { runtime: true, control: true }, auth_failures_per_minute: { unauthorized: 0, token_expired: 0 }, stale_cursor_events_per_minute: 0 });
});
afterAll(async () => {
  await lab.close();
});

async function postKnobs(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${lab.urls.admin}/lab/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function runtimeMetrics(): Promise<Record<string, unknown>> {
  const res = await fetch(`${lab.urls.runtime}/internal/v1/spacetime/sync/metrics`);
  return (await res.json()) as Record<string, unknown>;
}

async function headSeq(stream: string): Promise<number> {
  const r = await sql(lab, `SELECT head_seq FROM stream_head WHERE stream_id = '${stream}'`);
  return (dig(r.json, 0, 'rows', 0, 0) as number | undefined) ?? 0;
}

async function connect(): Promise<WsClient> {
  const { client } = await WsClient.connect(lab);
  clients.push(client);
  return client;
}

describe('lab admin API', () => {
  it('refuses unknown knobs and bad values with 400 naming them', async () => {
    const unknown = await postKnobs({ warp_speed: 9 });
    expect(unknown.status).toBe(400);
    expect(dig(unknown.json, 'error', 'message')).toContain('warp_speed');
    const bad = await postKnobs({ publish_failures: 2 });
    expect(bad.status).toBe(400);
    expect(dig(bad.json, 'error', 'message')).toContain('publish_failures');
    const nested = await postKnobs({ traffic: { speed: 1 } });
    expect(dig(nested.json, 'error', 'message')).toContain('traffic.speed');
    const canary = await postKnobs({ append_burst: { stream: 'sentinel.canary.canary', count: 1 } });
    expect(canary.status).toBe(400);
  });

  it('object knobs change only the fields sent, and name the field of a bad value', async () => {
    const set = await postKnobs({ runtime_routing: { shadow_enabled: true, evaluate_fails_with: 503 }, readiness: { control: false } });
    expect(set.status).toBe(200);
    expect(dig(set.json, 'knobs', 'runtime_routing')).toEqual({ ...defaultKnobs().runtime_routing, shadow_enabled: true, evaluate_fails_with: 503 });
    expect(dig(set.json, 'knobs', 'readiness')).toEqual({ runtime: true, control: false });
    const notObject = await postKnobs({ readiness: true });
    expect(notObject.status).toBe(400);
    expect(dig(notObject.json, 'error', 'message')).toBe('knob readiness must be an object {runtime?, control?}');
    const badStatus = await postKnobs({ runtime_routing: { evaluate_fails_with: 404 } });
    expect(dig(badStatus.json, 'error', 'message')).toBe('knob runtime_routing.evaluate_fails_with must be a 5xx status or null, got 404');
    const badCount = await postKnobs({ auth_failures_per_minute: { token_expired: -1 } });
    expect(dig(badCount.json, 'error', 'message')).toBe('knob auth_failures_per_minute.token_expired must be a number >= 0, got -1');
    const kept = await postKnobs({ runtime_routing: { canary_user_percent: 7 } });
    expect(dig(kept.json, 'knobs', 'runtime_routing', 'shadow_enabled')).toBe(true);
    expect(dig(kept.json, 'knobs', 'runtime_routing', 'canary_user_percent')).toBe(7);
  });

  it('answers the new state, and GET /lab/state reports every knob in effect', async () => {
    const r = await postKnobs({ token_failure_ratio: 0.25 });
    expect(r.status).toBe(200);
    expect(dig(r.json, 'knobs', 'token_failure_ratio')).toBe(0.25);
    const state = (await (await fetch(`${lab.urls.admin}/lab/state`)).json()) as Record<string, unknown>;
    expect(Object.keys(state.knobs as object).sort()).toEqual(Object.keys(defaultKnobs()).sort());
    for (const name of Object.keys(defaultKnobs())) expect(KNOB_NAMES).toContain(name);
  });
});

describe('lab knobs change what clients observe', () => {
  it('traffic: events flow at the configured rate and stop when paused', async () => {
    const stream = 'runtime.run.k1.events';
    const before = await headSeq(stream);
    lab.setKnobs({ traffic: { paused: false, events_per_second: 200 } });
    await waitUntil(async () => (await headSeq(stream)) >= before + 10, 3000, 'traffic');
    lab.setKnobs({ traffic: { paused: true } });
    const stopped = await headSeq(stream);
    await new Promise((r) => setTimeout(r, 150));
    expect(await headSeq(stream)).toBe(stopped);
    const m = await runtimeMetrics();
    expect(dig(m, 'mirror', 'published_total')).toBeGreaterThanOrEqual(10);
    expect(dig(m, 'delivery', 'event_count')).toBeGreaterThanOrEqual(10);
  });

  it('append_burst appends N events at once', async () => {
    const before = await headSeq('burst.s');
    const state = lab.setKnobs({ append_burst: { stream: 'burst.s', count: 25 } });
    expect(await headSeq('burst.s')).toBe(before + 25);
    expect(state.streams.find((s) => s.stream_id === 'burst.s')?.head_seq).toBe(before + 25);
  });

  it('retention_floor drops older events and reports the oldest retained seq', async () => {
    lab.setKnobs({ append_burst: { stream: 'ret.s', count: 10 } });
    const client = await connect();
    client.send({ Subscribe: { query_strings: ["SELECT * FROM sync_event WHERE stream_id = 'ret.s'"], request_id: 1 } });
    await client.next('InitialSubscription');
    const state = lab.setKnobs({ retention_floor: 6 });
    expect(state.streams.find((s) => s.stream_id === 'ret.s')).toMatchObject({ head_seq: 10, oldest_retained_seq: 6, retained_events: 5 });
    const r = await sql(lab, "SELECT COUNT(*) AS n FROM sync_event WHERE stream_id = 'ret.s' AND seq < 6");
    expect(dig(r.json, 0, 'rows', 0, 0)).toBe(0);
    const light = await client.next('TransactionUpdateLight');
    expect(rowsOf(dig(light, 'TransactionUpdateLight', 'update', 'tables'), 'sync_event', 'deletes')).toHaveLength(5);
    lab.setKnobs({ retention_floor: 0 });
  });

  it('publish_failures: failed_total and outbox_depth grow, then the outbox drains', async () => {
    lab.setKnobs({ publish_failures: 1, traffic: { paused: false, events_per_second: 200 } });
    await waitUntil(async () => (dig(await runtimeMetrics(), 'mirror', 'outbox_depth') as number) >= 5, 3000, 'outbox growth');
    const m = await runtimeMetrics();
    expect(dig(m, 'mirror', 'failed_total')).toBeGreaterThanOrEqual(5);
    lab.setKnobs({ publish_failures: 0, traffic: { paused: true } });
    await waitUntil(async () => dig(await runtimeMetrics(), 'mirror', 'outbox_depth') === 0, 3000, 'outbox drain');
  });

  it('publish_failure_kind: failed publishes are counted under mirror.<kind>_failures_total', async () => {
    const before = await runtimeMetrics();
    expect((await postKnobs({ publish_failure_kind: 'sideways' })).status).toBe(400);
    lab.setKnobs({ publish_failures: 1, publish_failure_kind: 'auth', traffic: { paused: false, events_per_second: 200 } });
    await waitUntil(async () => (dig(await runtimeMetrics(), 'mirror', 'auth_failures_total') as number) >= 5, 3000, 'auth failures');
    const m = await runtimeMetrics();
    expect(dig(m, 'mirror', 'network_failures_total')).toBe(dig(before, 'mirror', 'network_failures_total'));
    lab.setKnobs({ publish_failures: 0, publish_failure_kind: 'network', traffic: { paused: true } });
    await waitUntil(async () => dig(await runtimeMetrics(), 'mirror', 'outbox_depth') === 0, 3000, 'outbox drain');
  });

  it('token_failure_ratio makes token issuance fail as an issuer error (503 sync_token_unavailable)', async () => {
    lab.setKnobs({ token_failure_ratio: 1 });
    const before = lab.state().counters.control['sync.token.issue.failed'] ?? 0;
    const res = await fetch(`${lab.urls.control}/api/sync/token`, { method: 'POST', headers: { authorization: `Bearer ${lab.secrets.controlSessionToken}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(503);
    expect(dig(await res.json(), 'error', 'code')).toBe('sync_token_unavailable');
    expect(lab.state().counters.control['sync.token.issue.failed']).toBe(before + 1);
  });

  it('restart resets the runtime\'s in-memory counters and keeps the outbox depth', async () => {
    lab.setKnobs({ traffic: { paused: false, events_per_second: 200 } });
    await waitUntil(async () => (dig(await runtimeMetrics(), 'mirror', 'published_total') as number) >= 5, 3000, 'publishes');
    lab.setKnobs({ publish_failures: 1 });
    await waitUntil(async () => (dig(await runtimeMetrics(), 'mirror', 'outbox_depth') as number) >= 3, 3000, 'outbox growth');
    lab.setKnobs({ traffic: { paused: true } });
    const before = await runtimeMetrics();
    expect(dig(before, 'mirror', 'published_total')).toBe(dig(before, 'delivery', 'event_count'));
    lab.setKnobs({ restart: true });
    const after = await runtimeMetrics();
    expect(dig(after, 'mirror', 'outbox_depth')).toBe(dig(before, 'mirror', 'outbox_depth'));
    for (const k of ['published_total', 'failed_total', 'network_failures_total']) expect(dig(after, 'mirror', k), k).toBe(0);
    expect(dig(after, 'delivery')).toEqual({ stream_count: 0, event_count: 0 });
    lab.setKnobs({ publish_failures: 0 });
    await waitUntil(async () => dig(await runtimeMetrics(), 'mirror', 'outbox_depth') === 0, 3000, 'outbox drain');
    const drained = await runtimeMetrics();
    expect(dig(drained, 'mirror', 'published_total')).toBe(dig(before, 'mirror', 'outbox_depth'));
    expect(dig(drained, 'mirror', 'published_total')).toBe(dig(drained, 'delivery', 'event_count'));
  });

  it('slow_clients fall behind but keep acking; dead_clients stop acking for good', async () => {
    lab.setKnobs({ runtime_fields: 'documented' });
    lab.setKnobs({ append_burst: { stream: 'runtime.run.k1.events', count: 3 } });
    await waitUntil(() => lab.state().clients.every((c) => c.max_lag === 0), 3000, 'clients to catch up');
    lab.setKnobs({ slow_clients: ['laggy'] });
    await new Promise((r) => setTimeout(r, 60));
    lab.setKnobs({ append_burst: { stream: 'runtime.run.k1.events', count: 40 } });
    await waitUntil(() => lab.state().clients.find((c) => c.client_id === 'fast')?.max_lag === 0, 3000, 'fast client');
    const laggy = lab.state().clients.find((c) => c.client_id === 'laggy');
    expect(laggy?.max_lag).toBe(40);
    const head = await headSeq('runtime.run.k1.events');
    const checkpointRow = async (client: string): Promise<[number, number]> => {
      const r = await sql(lab, `SELECT last_applied_seq, updated_at_unix_ms FROM stream_checkpoint WHERE checkpoint_key = '${client}:runtime.run.k1.events'`);
      return dig(r.json, 0, 'rows', 0) as [number, number];
    };
    const [seq, at] = await checkpointRow('laggy');
    expect(head - seq).toBe(40);
    await waitUntil(async () => dig(await runtimeMetrics(), 'delivery', 'max_replay_lag') === 40, 3000, 'documented lag');
    // Alive: the same seq is acked again and again, so its updated_at moves.
    await waitUntil(async () => (await checkpointRow('laggy'))[1] > at, 3000, 'slow client re-acks');
    expect((await checkpointRow('laggy'))[0]).toBe(seq);
    // Dead: nothing moves any more, whatever the traffic; the documented field ignores it.
    lab.setKnobs({ slow_clients: [], dead_clients: ['laggy'] });
    await new Promise((r) => setTimeout(r, 60));
    const [deadSeq, deadAt] = await checkpointRow('laggy');
    lab.setKnobs({ append_burst: { stream: 'runtime.run.k1.events', count: 5 } });
    await new Promise((r) => setTimeout(r, 150));
    expect(await checkpointRow('laggy')).toEqual([deadSeq, deadAt]);
    const state = lab.state();
    expect(state.clients.find((c) => c.client_id === 'laggy')).toMatchObject({ dead: true, slow: false });
    expect(state.knobs.dead_clients).toEqual(['laggy']);
    expect(dig(await runtimeMetrics(), 'delivery', 'max_replay_lag')).toBe(0);
    lab.setKnobs({ dead_clients: [] });
    await waitUntil(() => lab.state().clients.every((c) => c.max_lag === 0), 3000, 'revived client catches up');
  });

  it('a retention floor above a slow client\'s cursor makes it rebootstrap, counted as a stale cursor event', async () => {
    const stream = 'runtime.run.k1.events';
    lab.setKnobs({ append_burst: { stream, count: 2 } });
    await waitUntil(() => lab.state().clients.every((c) => c.max_lag === 0), 3000, 'clients to catch up');
    lab.setKnobs({ slow_clients: ['laggy'], runtime_fields: 'documented' });
    await new Promise((r) => setTimeout(r, 60));
    const before = lab.state();
    const resets = before.counters.lab.stale_cursor_resets;
    const burst = lab.setKnobs({ append_burst: { stream, count: 10 } });
    const head = burst.streams.find((s) => s.stream_id === stream)?.head_seq as number;
    lab.setKnobs({ retention_floor: head - 2, slow_clients: [] });
    await waitUntil(() => lab.state().counters.lab.stale_cursor_resets > resets, 3000, 'stale reset');
    await waitUntil(() => lab.state().clients.find((c) => c.client_id === 'laggy')?.max_lag === 0, 3000, 'rebootstrap');
    const m = await runtimeMetrics();
    expect(dig(m, 'delivery', 'stale_cursor_events_total')).toBeGreaterThanOrEqual(1);
    lab.setKnobs({ retention_floor: 0 });
  });

  it('restart drops every connection and keeps the data', async () => {
    lab.setKnobs({ append_burst: { stream: 'restart.s', count: 2 } });
    const client = await connect();
    const state = lab.setKnobs({ restart: true });
    expect(state.counters.lab.restarts).toBeGreaterThanOrEqual(1);
    await client.waitClosed();
    expect(client.closeCode).toBe(1006);
    expect(await headSeq('restart.s')).toBe(2);
  });

  for (const [fault, expected] of [['gap', [3, 4]], ['duplicate', [2, 2, 3, 4]], ['reorder', [3, 2, 4]]] as const) {
    it(`next_resume=${fault} alters the next resuming subscription once`, async () => {
      const stream = `resume.${fault}`;
      lab.setKnobs({ append_burst: { stream, count: 4 } });
      lab.setKnobs({ next_resume: fault });
      const client = await connect();
      const q = `SELECT * FROM sync_event WHERE stream_id = '${stream}' AND seq > 1`;
      client.send({ Subscribe: { query_strings: [q], request_id: 1 } });
      const m = await client.next('InitialSubscription');
      const seqs = (rowsOf(dig(m, 'InitialSubscription', 'database_update', 'tables'), 'sync_event', 'inserts') as Array<{ seq: number }>).map((r) => r.seq);
      expect(seqs).toEqual(expected);
      const state = lab.state();
      expect(state.knobs.next_resume).toBeNull();
      expect(state.counters.lab.resume_faults.at(-1)).toMatchObject({ fault, after_seq: 1 });
      client.send({ Subscribe: { query_strings: [q], request_id: 2 } });
      const clean = await client.next('InitialSubscription');
      expect((rowsOf(dig(clean, 'InitialSubscription', 'database_update', 'tables'), 'sync_event', 'inserts') as Array<{ seq: number }>).map((r) => r.seq)).toEqual([2, 3, 4]);
    });
  }

  const seqsOf = (tables: unknown): number[] => (rowsOf(tables, 'sync_event', 'inserts') as Array<{ seq: number }>).map((r) => r.seq);

  for (const [fault, expected] of [['gap', [1, 3, 4]], ['duplicate', [1, 1, 2, 3, 4]], ['reorder', [2, 1, 3, 4]]] as const) {
    it(`next_rebootstrap=${fault} alters the next fresh snapshot of a stream once, and nothing else consumes it`, async () => {
      const stream = `reboot.${fault}`;
      lab.setKnobs({ append_burst: { stream, count: 4 } });
      lab.setKnobs({ next_rebootstrap: fault });
      const client = await connect();
      // A live follower (committed_at bound), a resume (seq > N) and another table do not consume it.
      client.send({ Subscribe: { query_strings: [`SELECT * FROM sync_event WHERE stream_id = '${stream}' AND committed_at_unix_ms >= 0`], request_id: 1 } });
      expect(seqsOf(dig(await client.next('InitialSubscription'), 'InitialSubscription', 'database_update', 'tables'))).toEqual([1, 2, 3, 4]);
      client.send({ SubscribeSingle: { query: `SELECT * FROM sync_event WHERE stream_id = '${stream}' AND seq > 1`, request_id: 2, query_id: { id: 2 } } });
      expect(seqsOf([dig(await client.next('SubscribeApplied'), 'SubscribeApplied', 'rows', 'table_rows')])).toEqual([2, 3, 4]);
      client.send({ Subscribe: { query_strings: [`SELECT * FROM stream_head WHERE stream_id = '${stream}'`], request_id: 3 } });
      await client.next('InitialSubscription');
      expect(lab.state().knobs.next_rebootstrap).toBe(fault);
      // The stale-cursor path's query: one stream, no lower bound.
      const q = `SELECT * FROM sync_event WHERE stream_id = '${stream}'`;
      client.send({ Subscribe: { query_strings: [q], request_id: 4 } });
      expect(seqsOf(dig(await client.next('InitialSubscription'), 'InitialSubscription', 'database_update', 'tables'))).toEqual(expected);
      const state = lab.state();
      expect(state.knobs.next_rebootstrap).toBeNull();
      expect(state.counters.lab.rebootstrap_faults.at(-1)).toMatchObject({ fault, stream_id: stream });
      client.send({ Subscribe: { query_strings: [q], request_id: 5 } });
      expect(seqsOf(dig(await client.next('InitialSubscription'), 'InitialSubscription', 'database_update', 'tables'))).toEqual([1, 2, 3, 4]);
    });
  }

  it('next_rebootstrap=fail refuses the next fresh snapshot with a subscription error, on every subscribe variant', async () => {
    const stream = 'reboot.fail';
    lab.setKnobs({ append_burst: { stream, count: 3 } });
    const q = `SELECT * FROM sync_event WHERE stream_id = '${stream}'`;
    const client = await connect();
    lab.setKnobs({ next_rebootstrap: 'fail' });
    client.send({ Subscribe: { query_strings: [q], request_id: 1 } });
    const failed = await client.next('TransactionUpdate');
    expect(dig(failed, 'TransactionUpdate', 'status', 'Failed')).toBe(`Estimated cardinality (3 rows) exceeds limit (2 rows), executing: \`${q}\``);
    expect(lab.state().counters.lab.rebootstrap_faults.at(-1)).toMatchObject({ fault: 'fail', stream_id: stream });
    lab.setKnobs({ next_rebootstrap: 'fail' });
    client.send({ SubscribeSingle: { query: q, request_id: 2, query_id: { id: 7 } } });
    const err = await client.next('SubscriptionError');
    expect(dig(err, 'SubscriptionError', 'request_id')).toEqual({ some: 2 });
    expect(dig(err, 'SubscriptionError', 'query_id')).toEqual({ some: 7 });
    expect(dig(err, 'SubscriptionError', 'error')).toContain('exceeds limit');
    lab.setKnobs({ next_rebootstrap: 'fail' });
    client.send({ SubscribeMulti: { query_strings: [q], request_id: 3, query_id: { id: 8 } } });
    expect(dig(await client.next('SubscriptionError'), 'SubscriptionError', 'query_id')).toEqual({ some: 8 });
    expect(lab.state().knobs.next_rebootstrap).toBeNull();
    // The refused query ids stay free: a retry subscribes normally.
    client.send({ SubscribeSingle: { query: q, request_id: 4, query_id: { id: 7 } } });
    expect(seqsOf([dig(await client.next('SubscribeApplied'), 'SubscribeApplied', 'rows', 'table_rows')])).toEqual([1, 2, 3]);
    expect((await postKnobs({ next_rebootstrap: 'sideways' })).status).toBe(400);
  });

  it('streaming_stopped keeps sessions answering but delivers no transaction updates', async () => {
    const client = await connect();
    client.send({ Subscribe: { query_strings: ["SELECT * FROM sync_event WHERE stream_id = 'stop.s'"], request_id: 1 } });
    await client.next('InitialSubscription');
    lab.setKnobs({ streaming_stopped: true });
    expect((await call(lab, 'append_sync_event', appendArgs('stop.s', 'x1'))).status).toBe(200);
    client.send({ OneOffQuery: { message_id: '01', query_string: "SELECT * FROM sync_event WHERE stream_id = 'stop.s'" } });
    const one = await client.next('OneOffQueryResponse');
    expect(dig(one, 'OneOffQueryResponse', 'tables', 0, 'rows')).toHaveLength(1);
    expect(client.messages.some((m) => 'TransactionUpdateLight' in m)).toBe(false);
    expect(dig(lab.state().counters.runtime, 'delivery', 'dropped_messages_total')).toBeGreaterThanOrEqual(1);
    lab.setKnobs({ streaming_stopped: false });
    await call(lab, 'append_sync_event', appendArgs('stop.s', 'x2'));
    await client.next('TransactionUpdateLight');
  });

  it('leak_connection_rows keeps the presence row after disconnect', async () => {
    lab.setKnobs({ leak_connection_rows: true });
    const { client, identity } = await WsClient.connect(lab);
    await client.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(await count(lab, 'active_connection', `WHERE identity_hex = '${identity}'`)).toBe(1);
  });

  it('auth_failures_per_minute and stale_cursor_events_per_minute grow the documented counters', async () => {
    lab.setKnobs({ runtime_fields: 'documented', auth_failures_per_minute: { unauthorized: 6000, token_expired: 3000 }, stale_cursor_events_per_minute: 6000 });
    await waitUntil(async () => {
      const m = await runtimeMetrics();
      return (dig(m, 'auth_failures', 'unauthorized_total') as number) > 5 && (dig(m, 'auth_failures', 'token_expired_total') as number) > 2 && (dig(m, 'delivery', 'stale_cursor_events_total') as number) > 5;
    }, 3000, 'counters');
  });

  it('runtime_fields switches between the published and the documented field sets', async () => {
    expect(Object.keys(dig(await runtimeMetrics(), 'delivery') as object)).toEqual(['stream_count', 'event_count']);
    lab.setKnobs({ runtime_fields: 'documented' });
    const m = await runtimeMetrics();
    expect(Object.keys(dig(m, 'delivery') as object)).toEqual(['stream_count', 'event_count', 'max_replay_lag', 'dropped_messages_total', 'stale_cursor_events_total']);
    expect(Object.keys(dig(m, 'auth_failures') as object)).toEqual(['unauthorized_total', 'forbidden_total', 'invalid_token_total', 'token_expired_total', 'token_not_yet_valid_total', 'token_revoked_total']);
  });
});
