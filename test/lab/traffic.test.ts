import { afterEach, describe, expect, it } from 'vitest';
import { ModuleDb } from '../../src/lab/spacetimedb/module-db.js';
import type { TrafficModule } from '../../src/lab/traffic.js';
import { TrafficGenerator } from '../../src/lab/traffic.js';

const dbs: ModuleDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

/** moduleOn backs the generator with a real ModuleDb (reducers, not a stub). */
function moduleOn(db: ModuleDb): TrafficModule {
  return {
    append: (streamId, key, hash, json, at) => {
      const before = db.duplicateAppends;
      const r = db.callReducer('append_sync_event', [streamId, key, hash, json, at, 0, true, 0], 'c2'.padEnd(64, '0'));
      return r.ok && db.duplicateAppends === before;
    },
    ack: (clientId, streamId, seq) => {
      db.callReducer('ack_stream_checkpoint', [clientId, streamId, seq, 0], 'c2'.padEnd(64, '0'));
    },
    stream: (streamId) => {
      const head = db.rows('stream_head', 'WHERE stream_id = ?', [streamId])[0];
      const oldest = db.eventsAfter(streamId, 0, 1)[0];
      return { headSeq: Number(head?.head_seq ?? 0), oldestSeq: oldest ? Number(oldest.seq) : null };
    },
  };
}

function setup(random: () => number = () => 0.99): { db: ModuleDb; gen: TrafficGenerator } {
  const db = new ModuleDb({ nowMs: () => 1_000 });
  dbs.push(db);
  const gen = new TrafficGenerator({ streams: ['s.a', 's.b'], clients: [{ id: 'c1', applyPerSecond: 1000 }, { id: 'c2', applyPerSecond: 2 }], ackIntervalMs: 0 }, moduleOn(db), random, 'run');
  return { db, gen };
}

const healthy = { paused: false, eventsPerSecond: 10, publishFailures: 0, slowClients: [] as string[] };

describe('TrafficGenerator', () => {
  it('appends events_per_second × elapsed time, round robin over the streams, and counts them published', () => {
    const { db, gen } = setup();
    for (let i = 1; i <= 10; i++) gen.step(i * 100, 100, healthy);
    expect(db.count('sync_event')).toBe(10);
    expect(db.streamSummaries().map((s) => [s.streamId, s.headSeq])).toEqual([['s.a', 5], ['s.b', 5]]);
    expect(gen.mirror.published_total).toBe(10);
    gen.step(1100, 1000, { ...healthy, paused: true });
    expect(db.count('sync_event')).toBe(10);
  });

  it('keeps failed events in order in the outbox and drains it when publishing recovers', () => {
    const { db, gen } = setup(() => 0.99);
    gen.step(100, 1000, { ...healthy, publishFailures: 1 });
    expect(gen.mirror.failed_total).toBe(10);
    expect(gen.mirror.outbox_depth).toBe(10);
    expect(db.count('sync_event')).toBe(0);
    gen.step(200, 0, healthy);
    expect(gen.mirror.outbox_depth).toBe(0);
    const payloads = db.rows('sync_event', "WHERE stream_id = 's.a'").map((r) => (JSON.parse(String(r.payload_json)) as { n: number }).n);
    expect(payloads).toEqual([...payloads].sort((a, b) => a - b));
  });

  it('lets slow clients lag by exactly the events they did not ack, while fast ones keep up', () => {
    const { gen } = setup();
    gen.step(100, 1000, healthy);
    const clients = gen.clients([]);
    expect(clients.find((c) => c.client_id === 'c1')?.max_lag).toBe(0);
    // c2 applies 2 events/s per stream: after one second, 5 - 2 = 3 behind on each stream.
    expect(clients.find((c) => c.client_id === 'c2')?.max_lag).toBe(3);
    gen.step(200, 1000, { ...healthy, eventsPerSecond: 0, slowClients: ['c1'] });
    gen.step(300, 0, { ...healthy, eventsPerSecond: 4, slowClients: ['c1'] });
    expect(gen.maxReplayLag(['c1'])).toBeGreaterThanOrEqual(1);
  });

  it('rebootstraps a client whose cursor fell below the oldest retained event', () => {
    const { db, gen } = setup();
    gen.step(100, 1000, healthy);
    db.dropBelow(5);
    gen.step(200, 100, { ...healthy, eventsPerSecond: 0 });
    expect(gen.staleCursorResets).toBeGreaterThanOrEqual(1);
    expect(gen.clients([]).every((c) => c.max_lag === 0)).toBe(true);
  });

  it('refuses sentinel canary streams', () => {
    const db = new ModuleDb({ nowMs: () => 0 });
    dbs.push(db);
    expect(() => new TrafficGenerator({ streams: ['sentinel.canary.x'], clients: [], ackIntervalMs: 0 }, moduleOn(db), Math.random, 'r')).toThrow(/canary/);
  });
});
