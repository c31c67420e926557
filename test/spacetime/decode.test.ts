import { describe, expect, it } from 'vitest';
import { decodeServerMessage, parseJsonBig, rowsOf, decodeRow, productElements, normalizeIdentity, fromSqlRow, JsonSyntaxError, MessageDecodeError } from '../../src/spacetime/index.js';
import type { JsonValue } from '../../src/spacetime/index.js';

const ID = 'c2001a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7';

describe('parseJsonBig', () => {
  it('keeps integers beyond 2^53 exact and leaves small ones as numbers', () => {
    const v = parseJsonBig('{"a":176403012345678901234567890123456789012,"b":9007199254740993,"c":12,"d":[1.5,"x"]}') as Record<string, JsonValue>;
    expect(v.a).toBe(176403012345678901234567890123456789012n);
    expect(v.b).toBe(9007199254740993n);
    expect(v.c).toBe(12);
    expect(v.d).toEqual([1.5, 'x']);
  });
  it('rejects malformed text with a position', () => {
    expect(() => parseJsonBig('{"a": 12345678901234567890,}')).toThrow(JsonSyntaxError);
    expect(() => parseJsonBig('{"a": 1')).toThrow(JsonSyntaxError);
    expect(() => parseJsonBig('[1] x')).toThrow(JsonSyntaxError);
  });
  it('does not let a "__proto__" key change the prototype', () => {
    const v = parseJsonBig('{"__proto__": {"x": 1}, "n": 12345678901234567890}') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'n']);
  });
});

describe('SQL rows (POST /v1/database/:name/sql)', () => {
  const opt = (t: JsonValue): JsonValue => ({ Sum: { variants: [{ name: { some: 'some' }, algebraic_type: t }, { name: { some: 'none' }, algebraic_type: { Product: { elements: [] } } }] } });
  const schema: JsonValue = {
    elements: [
      { name: { some: 'identity' }, algebraic_type: { Product: { elements: [{ name: { some: '__identity__' }, algebraic_type: { U256: [] } }] } } },
      { name: { some: 'identity_hex' }, algebraic_type: { String: [] } },
      { name: { some: 'connected_at_unix_ms' }, algebraic_type: { U64: [] } },
      { name: { some: 'last_seen_unix_ms' }, algebraic_type: { U64: [] } },
      { name: { some: 'nostr_pubkey_hex' }, algebraic_type: opt({ String: [] }) },
      { name: { some: 'nostr_pubkey_npub' }, algebraic_type: opt({ String: [] }) },
      { name: { some: 'nostr_challenge_proof_sig' }, algebraic_type: opt({ String: [] }) },
      { name: { some: 'nostr_challenge_bound_at_unix_ms' }, algebraic_type: opt({ U64: [] }) },
    ],
  };
  const raw = [[`0x${ID}`], ID, 1724300000123, 1724300004567, [0, '3bf0c63f'], [1, []], [1, []], [1, []]];

  it('decodes Identity, String, u64 and Option into values keyed by column', () => {
    const row = decodeRow(productElements(schema), raw as JsonValue);
    expect(row).toEqual({
      identity: ID,
      identity_hex: ID,
      connected_at_unix_ms: 1724300000123,
      last_seen_unix_ms: 1724300004567,
      nostr_pubkey_hex: '3bf0c63f',
      nostr_pubkey_npub: null,
      nostr_challenge_proof_sig: null,
      nostr_challenge_bound_at_unix_ms: null,
    });
    expect(fromSqlRow('active_connection', row).nostr_pubkey_hex).toBe('3bf0c63f');
  });

  it('keeps a u64 above 2^53 as a bigint and refuses it where a number is required', () => {
    const cols = productElements({ elements: [{ name: { some: 'n' }, algebraic_type: { U64: [] } }] });
    const row = decodeRow(cols, parseJsonBig('[18446744073709551615]'));
    expect(row.n).toBe(18446744073709551615n);
    expect(() => fromSqlRow('stream_head', { stream_id: 'x', head_seq: 18446744073709551615n, updated_at_unix_ms: 1 })).toThrow(/head_seq/);
  });

  it('names the column when a string sits where a u64 belongs', () => {
    expect(() => decodeRow(productElements(schema), [[`0x${ID}`], ID, '5', 1, [1, []], [1, []], [1, []], [1, []]])).toThrow(/connected_at_unix_ms: expected U64/);
  });

  it('normalizes identity spellings to 64 hex digits', () => {
    expect(normalizeIdentity({ __identity__: `0x${ID}` })).toBe(ID);
    expect(normalizeIdentity([`0x${ID.toUpperCase()}`])).toBe(ID);
    expect(normalizeIdentity('0x1f')).toBe('1f'.padStart(64, '0'));
    expect(() => normalizeIdentity('zz')).toThrow();
  });
});

describe('v1.json server messages', () => {
  it('decodes IdentityToken with a u128 connection id as an exact decimal string', () => {
    const m = decodeServerMessage(
      `{"IdentityToken":{"identity":{"__identity__":"0x${ID}"},"token":"eyJhbGciOiJFUzI1NiJ9.eyJoZXhfaWRlbnRpdHkiOiJjMjAwLi4uIn0.sig","connection_id":{"__connection_id__":176403012345678901234567890123456789012}}}`,
    );
    expect(m).toEqual({ type: 'IdentityToken', identity: ID, token: 'eyJhbGciOiJFUzI1NiJ9.eyJoZXhfaWRlbnRpdHkiOiJjMjAwLi4uIn0.sig', connectionId: '176403012345678901234567890123456789012' });
  });

  it('decodes initial rows (objects) and delta rows (arrays) to the same typed shape', () => {
    const initial = decodeServerMessage(
      '{"InitialSubscription":{"database_update":{"tables":[{"table_id":4099,"table_name":"sync_event","num_rows":1,"updates":[{"deletes":[],"inserts":["{\\"idempotency_key\\":\\"k1\\",\\"stream_id\\":\\"x\\",\\"seq\\":1,\\"payload_hash\\":\\"sha256:ab\\",\\"payload_json\\":\\"{\\\\\\"n\\\\\\":1}\\",\\"committed_at_unix_ms\\":1724300000000,\\"durable_offset\\":0,\\"confirmed_read\\":false}"]}]}]},"request_id":1,"total_host_execution_duration":{"__time_duration_micros__":412}}}',
    );
    expect(initial.type).toBe('InitialSubscription');
    if (initial.type !== 'InitialSubscription') return;
    expect(initial.requestId).toBe(1);
    expect(initial.tables[0].rowShape).toBe('object');
    expect(rowsOf(initial.tables, 'sync_event', 'inserts')).toEqual([
      { idempotency_key: 'k1', stream_id: 'x', seq: 1, payload_hash: 'sha256:ab', payload_json: '{"n":1}', committed_at_unix_ms: 1724300000000, durable_offset: 0, confirmed_read: false },
    ]);

    const tx = decodeServerMessage(
      `{"TransactionUpdate":{"status":{"Committed":{"tables":[{"table_id":4099,"table_name":"sync_event","num_rows":1,"updates":[{"deletes":[],"inserts":["[\\"k2\\",\\"x\\",2,\\"sha256:cd\\",\\"{\\\\\\"n\\\\\\":2}\\",1724300001000,1,true]"]}]}]}},"timestamp":{"__timestamp_micros_since_unix_epoch__":1724300001234567},"caller_identity":{"__identity__":"0x${ID}"},"caller_connection_id":{"__connection_id__":176403012345678901234567890123456789012},"reducer_call":{"reducer_name":"append_sync_event","reducer_id":2,"args":"[]","request_id":6},"energy_quanta_used":{"quanta":1843200},"total_host_execution_duration":{"__time_duration_micros__":95}}}`,
    );
    expect(tx.type).toBe('TransactionUpdate');
    if (tx.type !== 'TransactionUpdate') return;
    expect(tx.status).toBe('committed');
    expect(tx.requestId).toBe(6);
    expect(tx.callerConnectionId).toBe('176403012345678901234567890123456789012');
    expect(tx.tables[0].rowShape).toBe('array');
    expect(rowsOf(tx.tables, 'sync_event', 'inserts')[0]).toEqual({ idempotency_key: 'k2', stream_id: 'x', seq: 2, payload_hash: 'sha256:cd', payload_json: '{"n":2}', committed_at_unix_ms: 1724300001000, durable_offset: 1, confirmed_read: true });
  });

  it('decodes active_connection rows in both shapes, None as [1,{}] and [1,[]]', () => {
    const light = decodeServerMessage(
      JSON.stringify({
        TransactionUpdateLight: {
          request_id: 0,
          update: {
            tables: [
              {
                table_id: 4096,
                table_name: 'active_connection',
                num_rows: 1,
                updates: [{ deletes: [JSON.stringify({ identity: { __identity__: `0x${ID}` }, identity_hex: ID, connected_at_unix_ms: 1, last_seen_unix_ms: 2, nostr_pubkey_hex: [1, {}], nostr_pubkey_npub: [1, {}], nostr_challenge_proof_sig: [1, {}], nostr_challenge_bound_at_unix_ms: [1, {}] })], inserts: [JSON.stringify([[`0x${ID}`], ID, 3, 4, [0, 'ab'], [1, []], [1, []], [0, 7]])] }],
              },
            ],
          },
        },
      }),
    );
    if (light.type !== 'TransactionUpdateLight') throw new Error('wrong type');
    expect(light.requestId).toBe(0);
    expect(light.tables[0].rowShape).toBe('mixed');
    expect(rowsOf(light.tables, 'active_connection', 'deletes')[0].nostr_pubkey_hex).toBeNull();
    expect(rowsOf(light.tables, 'active_connection', 'inserts')[0]).toMatchObject({ identity: ID, connected_at_unix_ms: 3, nostr_pubkey_hex: 'ab', nostr_challenge_bound_at_unix_ms: 7 });
  });

  it('decodes a Failed update, SubscriptionError options and OneOffQueryResponse', () => {
    const failed = decodeServerMessage('{"TransactionUpdate":{"status":{"Failed":"sequence_conflict expected_next_seq=5 actual_next_seq=2"},"timestamp":{"__timestamp_micros_since_unix_epoch__":1},"caller_identity":{"__identity__":"0xc200"},"caller_connection_id":{"__connection_id__":0},"reducer_call":{"reducer_name":"append_sync_event","reducer_id":2,"args":"[]","request_id":0},"energy_quanta_used":{"quanta":0},"total_host_execution_duration":{"__time_duration_micros__":1}}}');
    expect(failed).toMatchObject({ type: 'TransactionUpdate', status: 'failed', error: 'sequence_conflict expected_next_seq=5 actual_next_seq=2', requestId: 0, reducerName: 'append_sync_event' });
    expect(decodeServerMessage('{"SubscriptionError":{"total_host_execution_duration_micros":40,"request_id":{"some":2},"query_id":{"some":10},"table_id":{"none":[]},"error":"bad"}}')).toEqual({ type: 'SubscriptionError', requestId: 2, queryId: 10, error: 'bad' });
    expect(decodeServerMessage('{"SubscriptionError":{"total_host_execution_duration_micros":40,"request_id":{"none":[]},"query_id":{"none":[]},"table_id":{"none":[]},"error":"re-eval"}}')).toEqual({ type: 'SubscriptionError', requestId: undefined, queryId: undefined, error: 're-eval' });
    const one = decodeServerMessage('{"OneOffQueryResponse":{"message_id":[10,11,12,13],"error":{"none":[]},"tables":[{"table_name":"stream_head","rows":["{\\"stream_id\\":\\"x\\",\\"head_seq\\":2,\\"updated_at_unix_ms\\":1724300001001}"]}],"total_host_execution_duration":{"__time_duration_micros__":80}}}');
    expect(one).toEqual({ type: 'OneOffQueryResponse', messageId: '0a0b0c0d', error: undefined, tables: [{ tableName: 'stream_head', rows: [{ stream_id: 'x', head_seq: 2, updated_at_unix_ms: 1724300001001 }] }] });
  });

  it('decodes SubscribeApplied and accepts tag numbers as envelope keys', () => {
    const applied = decodeServerMessage('{"5":{"request_id":2,"total_host_execution_duration_micros":150,"query_id":{"id":10},"rows":{"table_id":4098,"table_name":"stream_head","table_rows":{"table_id":4098,"table_name":"stream_head","num_rows":1,"updates":[{"deletes":[],"inserts":["{\\"stream_id\\":\\"x\\",\\"head_seq\\":1,\\"updated_at_unix_ms\\":1724300000321}"]}]}}}}');
    expect(applied).toMatchObject({ type: 'SubscribeApplied', requestId: 2, queryId: 10, table: { tableName: 'stream_head', inserts: [{ stream_id: 'x', head_seq: 1 }] } });
  });

  it('reports malformed and mistyped frames as MessageDecodeError, never a crash', () => {
    for (const bad of ['not json', '[]', '{"A":1,"B":2}', '{"Nope":{}}', '{"TransactionUpdateLight":{"request_id":"x","update":{"tables":[]}}}', '{"InitialSubscription":{"request_id":1,"database_update":{"tables":[{"table_name":"stream_head","updates":[{"inserts":["{broken"]}]}]}}}', '{"InitialSubscription":{"request_id":1,"database_update":{"tables":[{"table_name":"stream_head","updates":[{"inserts":["[\\"x\\",\\"seven\\",1]"]}]}]}}}']) {
      expect(() => decodeServerMessage(bad), bad).toThrow(MessageDecodeError);
    }
  });
});
