/**
 * The four public tables of the `autopilot-sync` module the sentinel reads (OpenAgents
 * `spacetime/modules/autopilot-sync/spacetimedb/src/lib.rs:10-63` at 9b2b978949; the fifth,
 * `nostr_presence_claim`, is not read), with their column orders.
 * Delta rows on the WebSocket are arrays in exactly this order, so the order is the contract.
 */
import { ALGEBRAIC, decodeRow, SatsDecodeError } from './sats.js';
import { isJsonObject } from './json.js';
import type { AlgebraicType, Column, SatsValue } from './sats.js';
import type { JsonValue } from './json.js';

/** ActiveConnectionRow is one connected client identity (keyed by identity). */
export interface ActiveConnectionRow {
  /** identity is 64 lowercase hex digits, no `0x`. */
  readonly identity: string;
  readonly identity_hex: string;
  readonly connected_at_unix_ms: number;
  readonly last_seen_unix_ms: number;
  readonly nostr_pubkey_hex: string | null;
  readonly nostr_pubkey_npub: string | null;
  readonly nostr_challenge_proof_sig: string | null;
  readonly nostr_challenge_bound_at_unix_ms: number | null;
}

/** StreamHeadRow is the newest seq of a stream. */
export interface StreamHeadRow {
  readonly stream_id: string;
  readonly head_seq: number;
  readonly updated_at_unix_ms: number;
}

/** SyncEventRow is one event of a stream. */
export interface SyncEventRow {
  readonly idempotency_key: string;
  readonly stream_id: string;
  readonly seq: number;
  readonly payload_hash: string;
  readonly payload_json: string;
  readonly committed_at_unix_ms: number;
  readonly durable_offset: number;
  readonly confirmed_read: boolean;
}

/** StreamCheckpointRow is how far one client has applied one stream. */
export interface StreamCheckpointRow {
  readonly checkpoint_key: string;
  readonly client_id: string;
  readonly stream_id: string;
  readonly last_applied_seq: number;
  readonly durable_offset: number;
  readonly updated_at_unix_ms: number;
}

/** TableRows maps each known table name to its row type. */
export interface TableRows {
  active_connection: ActiveConnectionRow;
  stream_head: StreamHeadRow;
  sync_event: SyncEventRow;
  stream_checkpoint: StreamCheckpointRow;
}

/** TableName is one of the known autopilot-sync tables. */
export type TableName = keyof TableRows;

const { u64, string, bool, identity, option } = ALGEBRAIC;

/**
 * columns lists a row type's columns in the order written, which is the delta-row order; the
 * compiler holds them to the row type's fields, each once.
 */
function columns<Row>(types: { readonly [K in keyof Row & string]: AlgebraicType }): readonly Column[] {
  return Object.entries<AlgebraicType>(types).map(([name, type]) => ({ name, type }));
}

/** TABLE_COLUMNS gives each known table's columns in declaration (delta-row) order. */
export const TABLE_COLUMNS: { readonly [T in TableName]: readonly Column[] } = {
  active_connection: columns<ActiveConnectionRow>({
    identity,
    identity_hex: string,
    connected_at_unix_ms: u64,
    last_seen_unix_ms: u64,
    nostr_pubkey_hex: option(string),
    nostr_pubkey_npub: option(string),
    nostr_challenge_proof_sig: option(string),
    nostr_challenge_bound_at_unix_ms: option(u64),
  }),
  stream_head: columns<StreamHeadRow>({
    stream_id: string,
    head_seq: u64,
    updated_at_unix_ms: u64,
  }),
  sync_event: columns<SyncEventRow>({
    idempotency_key: string,
    stream_id: string,
    seq: u64,
    payload_hash: string,
    payload_json: string,
    committed_at_unix_ms: u64,
    durable_offset: u64,
    confirmed_read: bool,
  }),
  stream_checkpoint: columns<StreamCheckpointRow>({
    checkpoint_key: string,
    client_id: string,
    stream_id: string,
    last_applied_seq: u64,
    durable_offset: u64,
    updated_at_unix_ms: u64,
  }),
};

/** isTableName tells the known tables from others. */
export function isTableName(name: string): name is TableName {
  return Object.prototype.hasOwnProperty.call(TABLE_COLUMNS, name);
}

/**
 * decodeTableRow decodes a row of a known table from either JSON shape. The module's seqs,
 * offsets and timestamps stay below 2^53, so a larger value is reported rather than rounded.
 */
export function decodeTableRow<T extends TableName>(table: T, raw: JsonValue): TableRows[T] {
  const row = decodeRow(TABLE_COLUMNS[table], raw, table);
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'bigint') throw new SatsDecodeError(`${table}.${k}`, `value ${v} exceeds 2^53 and cannot be used as a number`);
  }
  return row as Record<string, SatsValue> as unknown as TableRows[T];
}

/** fromSqlRow checks a decoded `/sql` row (from `SELECT *`) against a known table's column types. */
export function fromSqlRow<T extends TableName>(table: T, row: Readonly<Record<string, SatsValue>>): TableRows[T] {
  const out: Record<string, SatsValue> = {};
  for (const c of TABLE_COLUMNS[table]) {
    const v = row[c.name];
    const path = `${table}.${c.name}`;
    if (v === undefined) throw new SatsDecodeError(path, 'column is missing from the SQL result');
    checkPlain(c.type, v, path);
    out[c.name] = v;
  }
  return out as unknown as TableRows[T];
}

function checkPlain(type: JsonValue, v: SatsValue, path: string): void {
  const kind = isJsonObject(type) ? Object.keys(type)[0] : '';
  if (kind === 'Sum') {
    if (v === null) return;
    const variants = isJsonObject(type) && isJsonObject(type.Sum) && Array.isArray(type.Sum.variants) ? type.Sum.variants : [];
    const some = variants[0];
    checkPlain(isJsonObject(some) ? (some.algebraic_type ?? null) : null, v, path);
    return;
  }
  const expected = kind === 'U64' ? 'number' : kind === 'Bool' ? 'boolean' : 'string';
  if (typeof v !== expected || (expected === 'number' && !Number.isSafeInteger(v))) {
    throw new SatsDecodeError(path, `expected ${kind === 'Product' ? 'an identity' : kind}, got ${typeof v === 'bigint' ? `${v} (beyond 2^53)` : JSON.stringify(v)}`);
  }
}
