/**
 * Decoding of SpacetimeDB's `v1.json.spacetimedb` server messages (SpacetimeDB 2.0.x
 * `crates/client-api-messages/src/websocket.rs`)
 * into a typed union. Rows arrive as JSON strings: objects keyed by column for rows read from
 * committed state (initial, one-off, SubscribeApplied), arrays in column order for transaction
 * deltas. Both decode against the known columns of the four autopilot-sync tables; rows of
 * other tables stay as parsed JSON.
 */
import { isJsonObject, JsonSyntaxError, parseJsonBig } from './json.js';
import type { JsonObject, JsonValue } from './json.js';
import { normalizeIdentity, SatsDecodeError, short } from './sats.js';
import type { SatsValue } from './sats.js';
import { decodeTableRow, isTableName } from './tables.js';
import type { TableName, TableRows } from './tables.js';

/** DecodedRow is a row keyed by column (known tables) or the parsed JSON (other tables). */
export type DecodedRow = Readonly<Record<string, SatsValue>>;

/** TableUpdate is one table's rows in a message; multiple QueryUpdates are concatenated. */
export interface TableUpdate {
  readonly tableId: number | undefined;
  readonly tableName: string;
  readonly numRows: number | undefined;
  readonly deletes: readonly DecodedRow[];
  readonly inserts: readonly DecodedRow[];
  /** rowShape is how the rows were encoded: `object` (committed state), `array` (delta), or `empty`. */
  readonly rowShape: 'object' | 'array' | 'mixed' | 'empty';
}

/** IdentityTokenMessage is always the first message; `connectionId` is a decimal string (u128). */
export interface IdentityTokenMessage {
  readonly type: 'IdentityToken';
  readonly identity: string;
  readonly token: string;
  readonly connectionId: string;
}

/** InitialSubscriptionMessage answers a legacy `Subscribe`. */
export interface InitialSubscriptionMessage {
  readonly type: 'InitialSubscription';
  readonly requestId: number;
  readonly tables: readonly TableUpdate[];
}

/** TransactionUpdateMessage is the full update a reducer's caller receives. */
export interface TransactionUpdateMessage {
  readonly type: 'TransactionUpdate';
  readonly status: 'committed' | 'failed' | 'out_of_energy';
  /** error is the Failed status text. */
  readonly error: string | undefined;
  readonly tables: readonly TableUpdate[];
  readonly timestampMicros: number | undefined;
  readonly callerIdentity: string | undefined;
  readonly callerConnectionId: string | undefined;
  readonly reducerName: string;
  readonly reducerId: number | undefined;
  readonly args: string | undefined;
  /** requestId is the caller's request id; 0 on the Failed path (a server quirk). */
  readonly requestId: number;
}

/** TransactionUpdateLightMessage is what every affected non-caller receives. */
export interface TransactionUpdateLightMessage {
  readonly type: 'TransactionUpdateLight';
  /** requestId is the triggering caller's request id, 0 for HTTP and lifecycle transactions. */
  readonly requestId: number;
  readonly tables: readonly TableUpdate[];
}

/** OneOffQueryResponseMessage answers `OneOffQuery`; `messageId` is lowercase hex. */
export interface OneOffQueryResponseMessage {
  readonly type: 'OneOffQueryResponse';
  readonly messageId: string;
  readonly error: string | undefined;
  readonly tables: ReadonlyArray<{ readonly tableName: string; readonly rows: readonly DecodedRow[] }>;
}

/** SubscribeAppliedMessage answers `SubscribeSingle` (and `Unsubscribe` as UnsubscribeApplied). */
export interface SubscribeAppliedMessage {
  readonly type: 'SubscribeApplied' | 'UnsubscribeApplied';
  readonly requestId: number;
  readonly queryId: number;
  readonly table: TableUpdate;
}

/** SubscribeMultiAppliedMessage answers `SubscribeMulti` (and `UnsubscribeMulti`). */
export interface SubscribeMultiAppliedMessage {
  readonly type: 'SubscribeMultiApplied' | 'UnsubscribeMultiApplied';
  readonly requestId: number;
  readonly queryId: number;
  readonly tables: readonly TableUpdate[];
}

/** SubscriptionErrorMessage: ids are undefined when the error came from re-evaluation. */
export interface SubscriptionErrorMessage {
  readonly type: 'SubscriptionError';
  readonly requestId: number | undefined;
  readonly queryId: number | undefined;
  readonly error: string;
}

/** OtherMessage is a valid envelope this client does not interpret (e.g. ProcedureResult). */
export interface OtherMessage {
  readonly type: 'Other';
  readonly variant: string;
}

/** ProtocolErrorMessage is a frame that could not be decoded; the connection stays up. */
export interface ProtocolErrorMessage {
  readonly type: 'ProtocolError';
  readonly reason: string;
}

/** ClosedMessage ends the stream: the connection is gone. */
export interface ClosedMessage {
  readonly type: 'Closed';
  readonly code: number;
  readonly reason: string;
}

/** ServerMessage is every item of a WebSocket client's ordered message stream. */
export type ServerMessage =
  | IdentityTokenMessage
  | InitialSubscriptionMessage
  | TransactionUpdateMessage
  | TransactionUpdateLightMessage
  | OneOffQueryResponseMessage
  | SubscribeAppliedMessage
  | SubscribeMultiAppliedMessage
  | SubscriptionErrorMessage
  | OtherMessage
  | ProtocolErrorMessage
  | ClosedMessage;

/** SERVER_VARIANTS lists the v1 server message variants by tag number. */
export const SERVER_VARIANTS = [
  'InitialSubscription',
  'TransactionUpdate',
  'TransactionUpdateLight',
  'IdentityToken',
  'OneOffQueryResponse',
  'SubscribeApplied',
  'UnsubscribeApplied',
  'SubscriptionError',
  'SubscribeMultiApplied',
  'UnsubscribeMultiApplied',
  'ProcedureResult',
] as const;

/** MessageDecodeError is a frame that is not a valid v1.json server message. */
export class MessageDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MessageDecodeError';
  }
}

/** decodeServerMessage parses and decodes one text frame. */
export function decodeServerMessage(text: string): Exclude<ServerMessage, ProtocolErrorMessage | ClosedMessage> {
  let doc: JsonValue;
  try {
    doc = parseJsonBig(text);
  } catch (err) {
    throw new MessageDecodeError(`frame is not JSON (${err instanceof JsonSyntaxError ? err.message : String(err)})`, { cause: err });
  }
  const [variant, body] = envelope(doc, SERVER_VARIANTS, 'server message');
  try {
    return decodeBody(variant, body);
  } catch (err) {
    if (err instanceof SatsDecodeError || err instanceof JsonSyntaxError) {
      throw new MessageDecodeError(`${variant}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function decodeBody(variant: string, body: JsonValue): Exclude<ServerMessage, ProtocolErrorMessage | ClosedMessage> {
  const b = obj(body, variant);
  switch (variant) {
    case 'IdentityToken':
      return {
        type: 'IdentityToken',
        identity: normalizeIdentity(b.identity, 'IdentityToken.identity'),
        token: str(b.token, 'IdentityToken.token'),
        connectionId: connectionId(b.connection_id, 'IdentityToken.connection_id'),
      };
    case 'InitialSubscription':
      return { type: 'InitialSubscription', ...requestTables(b, 'InitialSubscription', 'database_update') };
    case 'TransactionUpdate':
      return transactionUpdate(b);
    case 'TransactionUpdateLight':
      return { type: 'TransactionUpdateLight', ...requestTables(b, 'TransactionUpdateLight', 'update') };
    case 'OneOffQueryResponse':
      return oneOffResponse(b);
    case 'SubscribeApplied':
    case 'UnsubscribeApplied': {
      const rows = obj(b.rows, `${variant}.rows`);
      const t = tableUpdate(rows.table_rows, `${variant}.rows.table_rows`);
      return { type: variant, requestId: u32(b.request_id, `${variant}.request_id`), queryId: queryId(b.query_id, `${variant}.query_id`), table: t };
    }
    case 'SubscribeMultiApplied':
    case 'UnsubscribeMultiApplied':
      return {
        type: variant,
        requestId: u32(b.request_id, `${variant}.request_id`),
        queryId: queryId(b.query_id, `${variant}.query_id`),
        tables: databaseUpdate(b.update, `${variant}.update`),
      };
    case 'SubscriptionError': {
      const req = option(b.request_id);
      const q = option(b.query_id);
      return {
        type: 'SubscriptionError',
        requestId: req === undefined ? undefined : u32(req, 'SubscriptionError.request_id'),
        queryId: q === undefined ? undefined : queryId(q, 'SubscriptionError.query_id'),
        error: str(b.error, 'SubscriptionError.error'),
      };
    }
    default:
      return { type: 'Other', variant };
  }
}

/** requestTables reads the request id and table updates of InitialSubscription and TransactionUpdateLight. */
function requestTables(b: JsonObject, variant: string, updateField: 'database_update' | 'update'): { requestId: number; tables: TableUpdate[] } {
  return { requestId: u32(b.request_id, `${variant}.request_id`), tables: databaseUpdate(b[updateField], `${variant}.${updateField}`) };
}

function transactionUpdate(b: JsonObject): TransactionUpdateMessage {
  const [status, payload] = envelope(b.status, ['Committed', 'Failed', 'OutOfEnergy'] as const, 'TransactionUpdate.status');
  const call = isJsonObject(b.reducer_call) ? b.reducer_call : {};
  const ts = isJsonObject(b.timestamp) ? b.timestamp.__timestamp_micros_since_unix_epoch__ : undefined;
  return {
    type: 'TransactionUpdate',
    status: status === 'Committed' ? 'committed' : status === 'Failed' ? 'failed' : 'out_of_energy',
    error: status === 'Failed' ? str(payload, 'TransactionUpdate.status.Failed') : undefined,
    tables: status === 'Committed' ? databaseUpdate(payload, 'TransactionUpdate.status.Committed') : [],
    timestampMicros: typeof ts === 'number' ? ts : undefined,
    callerIdentity: b.caller_identity === undefined ? undefined : normalizeIdentity(b.caller_identity, 'TransactionUpdate.caller_identity'),
    callerConnectionId: b.caller_connection_id === undefined ? undefined : connectionId(b.caller_connection_id, 'TransactionUpdate.caller_connection_id'),
    reducerName: typeof call.reducer_name === 'string' ? call.reducer_name : '',
    reducerId: typeof call.reducer_id === 'number' ? call.reducer_id : undefined,
    args: typeof call.args === 'string' ? call.args : undefined,
    requestId: call.request_id === undefined ? 0 : u32(call.request_id, 'TransactionUpdate.reducer_call.request_id'),
  };
}

function oneOffResponse(b: JsonObject): OneOffQueryResponseMessage {
  const err = option(b.error);
  const tablesRaw = Array.isArray(b.tables) ? b.tables : [];
  return {
    type: 'OneOffQueryResponse',
    messageId: bytesHex(b.message_id, 'OneOffQueryResponse.message_id'),
    error: err === undefined ? undefined : str(err, 'OneOffQueryResponse.error'),
    tables: tablesRaw.map((t, i) => {
      const o = obj(t, `OneOffQueryResponse.tables[${i}]`);
      const name = str(o.table_name, `OneOffQueryResponse.tables[${i}].table_name`);
      const rows = Array.isArray(o.rows) ? o.rows : [];
      return { tableName: name, rows: rows.map((r, j) => decodeRowString(name, r, `${name}.rows[${j}]`).row) };
    }),
  };
}

function databaseUpdate(v: JsonValue | undefined, path: string): TableUpdate[] {
  const o = obj(v, path);
  if (!Array.isArray(o.tables)) throw new SatsDecodeError(path, 'tables is not a list');
  return o.tables.map((t, i) => tableUpdate(t, `${path}.tables[${i}]`));
}

function tableUpdate(v: JsonValue | undefined, path: string): TableUpdate {
  const o = obj(v, path);
  const tableName = str(o.table_name, `${path}.table_name`);
  const updates = Array.isArray(o.updates) ? o.updates : [];
  const deletes: DecodedRow[] = [];
  const inserts: DecodedRow[] = [];
  const shapes = new Set<'object' | 'array'>();
  updates.forEach((u, i) => {
    let q = obj(u, `${path}.updates[${i}]`);
    // BSATN wraps query updates in `Uncompressed`; tolerate it if a server does so in JSON.
    if (isJsonObject(q.Uncompressed)) q = q.Uncompressed;
    for (const [list, out] of [
      [q.deletes, deletes],
      [q.inserts, inserts],
    ] as const) {
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw new SatsDecodeError(`${path}.updates[${i}]`, 'deletes/inserts is not a list');
      list.forEach((r, j) => {
        const d = decodeRowString(tableName, r, `${tableName}[${j}]`);
        shapes.add(d.shape);
        out.push(d.row);
      });
    }
  });
  return {
    tableId: typeof o.table_id === 'number' ? o.table_id : undefined,
    tableName,
    numRows: typeof o.num_rows === 'number' ? o.num_rows : undefined,
    deletes,
    inserts,
    rowShape: shapes.size === 0 ? 'empty' : shapes.size === 2 ? 'mixed' : [...shapes][0],
  };
}

function decodeRowString(table: string, r: JsonValue, path: string): { row: DecodedRow; shape: 'object' | 'array' } {
  // Rows are JSON strings holding JSON; tolerate a server that inlines the value.
  const parsed = typeof r === 'string' ? parseJsonBig(r) : r;
  const shape = Array.isArray(parsed) ? 'array' : 'object';
  if (!Array.isArray(parsed) && !isJsonObject(parsed)) throw new SatsDecodeError(path, `row is neither an object nor an array: ${short(parsed)}`);
  if (isTableName(table)) return { row: decodeTableRow(table, parsed) as unknown as DecodedRow, shape };
  return { row: plain(parsed), shape };
}

function plain(v: JsonValue): Record<string, SatsValue> {
  const out: Record<string, SatsValue> = {};
  if (Array.isArray(v)) v.forEach((x, i) => (out[String(i)] = x as SatsValue));
  else if (isJsonObject(v)) for (const [k, x] of Object.entries(v)) out[k] = x as SatsValue;
  return out;
}

/** rowsOf returns the typed rows of a known table from a message's table updates. */
export function rowsOf<T extends TableName>(tables: readonly TableUpdate[], table: T, which: 'inserts' | 'deletes'): Array<TableRows[T]> {
  const out: Array<TableRows[T]> = [];
  for (const t of tables) if (t.tableName === table) for (const r of t[which]) out.push(r as unknown as TableRows[T]);
  return out;
}

/** envelope reads a `{"Variant": body}` object, accepting the variant's tag number as the key. */
function envelope<V extends string>(doc: JsonValue | undefined, variants: readonly V[], what: string): [V, JsonValue] {
  if (!isJsonObject(doc)) throw new MessageDecodeError(`${what} is not a JSON object: ${short(doc)}`);
  const keys = Object.keys(doc);
  if (keys.length !== 1) throw new MessageDecodeError(`${what} must have exactly one variant key, got ${keys.length}`);
  const key = keys[0];
  const variant = /^\d+$/.test(key) ? variants[Number(key)] : variants.find((v) => v === key);
  if (variant === undefined) throw new MessageDecodeError(`${what} has unknown variant ${JSON.stringify(key)}`);
  return [variant, doc[key]];
}

function obj(v: JsonValue | undefined, path: string): JsonObject {
  if (!isJsonObject(v)) throw new SatsDecodeError(path, `expected an object, got ${short(v)}`);
  return v;
}

function str(v: JsonValue | undefined, path: string): string {
  if (typeof v !== 'string') throw new SatsDecodeError(path, `expected a string, got ${short(v)}`);
  return v;
}

function u32(v: JsonValue | undefined, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new SatsDecodeError(path, `expected a u32, got ${short(v)}`);
  return v;
}

function queryId(v: JsonValue | undefined, path: string): number {
  return u32(isJsonObject(v) ? v.id : v, path);
}

/** option reads `{"some": v}` / `{"none": []}` / `null` / a bare value. */
function option(v: JsonValue | undefined): JsonValue | undefined {
  if (v === undefined || v === null) return undefined;
  if (isJsonObject(v)) {
    if ('none' in v) return undefined;
    if ('some' in v) return v.some;
    if ('1' in v) return undefined;
    if ('0' in v) return v['0'];
  }
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number') return v[0] === 0 ? v[1] : undefined;
  return v;
}

function connectionId(v: JsonValue | undefined, path: string): string {
  const inner = isJsonObject(v) ? v.__connection_id__ : v;
  if (typeof inner === 'number' && Number.isInteger(inner) && inner >= 0) return BigInt(inner).toString(10);
  if (typeof inner === 'bigint' && inner >= 0n) return inner.toString(10);
  throw new SatsDecodeError(path, `expected a u128 connection id, got ${short(v)}`);
}

function bytesHex(v: JsonValue | undefined, path: string): string {
  if (typeof v === 'string' && /^(?:[0-9a-fA-F]{2})*$/.test(v)) return v.toLowerCase();
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 256)) {
    return (v as number[]).map((x) => x.toString(16).padStart(2, '0')).join('');
  }
  throw new SatsDecodeError(path, `expected bytes, got ${short(v)}`);
}
