/**
 * wire: the v1.json building blocks the host sends and the field checks it applies to what
 * clients send (SpacetimeDB 2.0.1 `client-api-messages` `websocket.rs`, v1 JSON format).
 */
import type { TableDef } from './schema.js';

/** V1_JSON is the only WebSocket subprotocol the lab speaks. */
export const V1_JSON = 'v1.json.spacetimedb';

/** ENERGY_PER_CALL is the energy a committed reducer call reports (constant in the lab). */
export const ENERGY_PER_CALL = 1_843_200;

/** CLIENT_VARIANTS are the v1 client message variants in tag order (a numeric key is a tag). */
export const CLIENT_VARIANTS = ['CallReducer', 'Subscribe', 'OneOffQuery', 'SubscribeSingle', 'SubscribeMulti', 'Unsubscribe', 'UnsubscribeMulti', 'CallProcedure'] as const;

/** ProtocolViolation is a client message the server cannot decode: the socket closes with 1011. */
export class ProtocolViolation extends Error {}

/** TableUpdateJson is one v1.json `TableUpdate`. */
export type TableUpdateJson = Record<string, unknown>;

/** hexToBigInt reads unprefixed hex as a bigint. */
export function hexToBigInt(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

/** elapsedMicros is the host execution time since `start` (process.hrtime.bigint), at least 1 µs. */
export function elapsedMicros(start: bigint): number {
  return Math.max(1, Number((process.hrtime.bigint() - start) / 1000n));
}

/** tableUpdate builds one TableUpdate with a single QueryUpdate (deletes first, as on the wire). */
export function tableUpdate(table: TableDef, deletes: string[], inserts: string[]): TableUpdateJson {
  return { table_id: table.id, table_name: table.name, num_rows: deletes.length + inserts.length, updates: [{ deletes, inserts }] };
}

/** requireField reads a message field, refusing the message when it is missing (serde's text). */
export function requireField(obj: Record<string, unknown>, field: string, variant: string): unknown {
  if (!(field in obj)) throw new ProtocolViolation(`invalid ${variant} message: missing field \`${field}\``);
  return obj[field];
}

/** asU32 checks a u32 field. */
export function asU32(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ProtocolViolation(`invalid type for ${what}: expected u32`);
  return v;
}

/** queryIdOf reads a `{"id": n}` query id. */
export function queryIdOf(v: unknown, variant: string): number {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolViolation(`invalid ${variant} message: query_id must be {"id": n}`);
  return asU32((v as Record<string, unknown>).id, 'query_id.id');
}

/** messageIdHex reads a one-off query's message id (hex string or byte array) as hex. */
export function messageIdHex(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Buffer.from(v as number[]).toString('hex');
  throw new ProtocolViolation('invalid OneOffQuery message: message_id must be bytes');
}

/** FailedUpdate describes a Failed TransactionUpdate sent to one caller. */
export interface FailedUpdate {
  readonly message: string;
  readonly nowMs: number;
  readonly callerHex: string;
  readonly connectionId: bigint;
  /** reducerName is '' for a refused legacy Subscribe. */
  readonly reducerName: string;
  readonly reducerId: number;
  readonly args: string;
  readonly micros: number;
}

/**
 * failedTransactionUpdate is the message a failed reducer call or a refused legacy Subscribe
 * gets: reported to the caller only, with `request_id` 0 (2.0.1 `commit_and_broadcast_event`
 * builds the failure without the caller's request id).
 */
export function failedTransactionUpdate(f: FailedUpdate): Record<string, unknown> {
  return {
    TransactionUpdate: {
      status: { Failed: f.message },
      timestamp: { __timestamp_micros_since_unix_epoch__: f.nowMs * 1000 },
      caller_identity: { __identity__: `0x${f.callerHex}` },
      caller_connection_id: { __connection_id__: f.connectionId },
      reducer_call: { reducer_name: f.reducerName, reducer_id: f.reducerId, args: f.args, request_id: 0 },
      energy_quanta_used: { quanta: 0 },
      total_host_execution_duration: { __time_duration_micros__: f.micros },
    },
  };
}

/** subscriptionError is the SubscriptionError of a refused SubscribeSingle/Multi or Unsubscribe. */
export function subscriptionError(micros: number, requestId: number, queryId: number, message: string): Record<string, unknown> {
  return {
    SubscriptionError: {
      total_host_execution_duration_micros: micros,
      request_id: { some: requestId },
      query_id: { some: queryId },
      table_id: { none: [] },
      error: message,
    },
  };
}
