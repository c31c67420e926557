import { describe, expect, it } from 'vitest';
import { SqlRejection, compileSql, compileSubscription } from '../../src/lab/spacetimedb/sql-query.js';

const ME = 'c2'.padEnd(64, 'a');

describe('compileSql (/sql subset)', () => {
  it.each([
    ['SELECT COUNT(*) AS n FROM active_connection', ['n'], ['U64']],
    ['select count(*) n from sync_event', ['n'], ['U64']],
    ['SELECT seq AS s, stream_id FROM sync_event WHERE seq >= 2', ['s', 'stream_id'], ['U64', 'String']],
    ['SELECT e.* FROM sync_event e WHERE e.confirmed_read = TRUE', ['idempotency_key', 'stream_id', 'seq', 'payload_hash', 'payload_json', 'committed_at_unix_ms', 'durable_offset', 'confirmed_read'], ['String', 'String', 'U64', 'String', 'String', 'U64', 'U64', 'Bool']],
    ['SELECT identity FROM active_connection WHERE identity = :sender', ['identity'], ['Identity']],
    [`SELECT * FROM active_connection WHERE identity = 0x${ME}`, null, null],
    ['SELECT h.* FROM stream_head h JOIN stream_checkpoint c ON h.stream_id = c.stream_id WHERE c.client_id = \'a\'', ['stream_id', 'head_seq', 'updated_at_unix_ms'], ['String', 'U64', 'U64']],
    ['SELECT * FROM sync_event;', null, null],
  ])('accepts %s', (sql, names, types) => {
    const c = compileSql(sql, ME);
    if (names) expect(c.columns.map((x) => x.name)).toEqual(names);
    if (types) expect(c.columns.map((x) => x.type)).toEqual(types);
  });

  it.each([
    ['SELECT COUNT(*) FROM sync_event', 'Aggregate expressions must have column aliases'],
    ['SELECT * FROM nope', 'no such table: `nope`. If the table exists, it may be marked private.'],
    ['SELECT nope FROM sync_event', '`sync_event` does not have a field `nope`'],
    ['SELECT e.nope FROM sync_event e', '`e` does not have a field `nope`'],
    ['SELECT x.seq FROM sync_event e', '`x` is not in scope'],
    ['SELECT 1; SELECT 2', 'Multiple SQL statements are not supported'],
    ["SELECT * FROM sync_event WHERE seq = 'one'", '`one` cannot be parsed as type `U64`'],
    ['SELECT * FROM sync_event WHERE seq = -1', '`-1` cannot be parsed as type `U64`'],
    ['SELECT * FROM sync_event WHERE stream_id = 5', '`5` cannot be parsed as type `String`'],
    ['SELECT * FROM sync_event WHERE seq = stream_id', '(expected) U64 != String (inferred)'],
    ['SELECT * FROM sync_event ORDER BY seq', 'Unsupported: ORDER BY'],
    ['SELECT * FROM sync_event WHERE seq + 1 > 2', 'Unsupported: arithmetic expressions'],
    ['SELECT * FROM sync_event WHERE NOT seq = 1', 'Unsupported: NOT'],
    ['SELECT * FROM sync_event, stream_head', 'Unsupported: implicit joins; use JOIN ... ON'],
    ['SELECT SUM(seq) AS s FROM sync_event', 'Unsupported: function SUM(...)'],
    ["INSERT INTO stream_head VALUES ('x', 1, 1)", `Caller ${ME} is not authorized to run SQL DML statements`],
    ['', 'sql parser error: Expected: an SQL statement, found: EOF'],
  ])('rejects %s', (sql, message) => {
    expect(() => compileSql(sql, ME)).toThrow(SqlRejection);
    expect(() => compileSql(sql, ME)).toThrow(message);
  });
});

describe('compileSubscription (subscription subset)', () => {
  it('matches rows by the predicate and recognizes resumes', () => {
    const q = compileSubscription("SELECT * FROM sync_event WHERE stream_id = 'x' AND (seq > 3 OR confirmed_read = false)", ME);
    expect(q.table.name).toBe('sync_event');
    expect(q.matches({ stream_id: 'x', seq: 4, confirmed_read: 1 })).toBe(true);
    expect(q.matches({ stream_id: 'x', seq: 2, confirmed_read: 0 })).toBe(true);
    expect(q.matches({ stream_id: 'x', seq: 2, confirmed_read: 1 })).toBe(false);
    expect(q.matches({ stream_id: 'y', seq: 9, confirmed_read: 0 })).toBe(false);
    // An OR is not a resume: only `seq > N` conjuncts are.
    expect(q.resumeAfterSeq).toBeUndefined();
    expect(compileSubscription("SELECT * FROM sync_event WHERE stream_id = 'x' AND seq > 3", ME).resumeAfterSeq).toBe(3);
    expect(q.equality).toEqual({ column: 'stream_id', value: 'x' });
    expect(compileSubscription("SELECT * FROM sync_event WHERE stream_id = 'x' AND seq >= 1", ME).resumeAfterSeq).toBeUndefined();
  });

  it.each([
    ['SELECT seq FROM sync_event', 'Column projections are not supported in subscriptions'],
    ['SELECT COUNT(*) AS n FROM sync_event', 'Column projections are not supported in subscriptions'],
    ['SELECT * FROM sync_event LIMIT 1', 'Unsupported: LIMIT'],
    ['DELETE FROM sync_event', 'Unsupported: Non-SELECT queries'],
    ['SELECT * FROM nope', 'no such table: `nope`'],
  ])('rejects %s', (sql, message) => {
    expect(() => compileSubscription(sql, ME)).toThrow(message);
  });
});
