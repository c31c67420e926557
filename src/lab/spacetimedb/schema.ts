/**
 * schema: the `autopilot-sync` module's public tables (9b2b978949 semantics), their column types
 * and the three JSON row encodings SpacetimeDB 2.0.x uses (2.0.1 `crates/sats` JSON serialization: untyped product values for /sql and deltas, named products for rows read from tables).
 */

/** ColumnTypes is the closed vocabulary of column types the module uses. */
export const ColumnTypes = ['Identity', 'String', 'U64', 'Bool', 'OptionString', 'OptionU64'] as const;
/** ColumnType is one of ColumnTypes. */
export type ColumnType = (typeof ColumnTypes)[number];

/** ColumnDef is one column: its name and type. */
export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
}

/**
 * TableDef is one table: its id (opaque; user tables from 4096, numbered here in definition
 * order), name, columns and primary key.
 */
export interface TableDef {
  readonly id: number;
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  readonly primaryKey: string;
}

/** SqlValue is what a cell holds in SQLite: identities as bare lowercase hex, bools as 0/1, None as null. */
export type SqlValue = string | number | bigint | null;

/** Row is one row as stored: column name to SQLite value. */
export type Row = Readonly<Record<string, SqlValue>>;

function col(name: string, type: ColumnType): ColumnDef {
  return { name, type };
}

/**
 * TABLES lists the module's five tables, all public, in definition order; names and columns are
 * exact (`spacetime/modules/autopilot-sync/spacetimedb/src/lib.rs:10-63` at 9b2b978949).
 */
export const TABLES: readonly TableDef[] = [
  {
    id: 4096,
    name: 'active_connection',
    primaryKey: 'identity',
    columns: [
      col('identity', 'Identity'),
      col('identity_hex', 'String'),
      col('connected_at_unix_ms', 'U64'),
      col('last_seen_unix_ms', 'U64'),
      col('nostr_pubkey_hex', 'OptionString'),
      col('nostr_pubkey_npub', 'OptionString'),
      col('nostr_challenge_proof_sig', 'OptionString'),
      col('nostr_challenge_bound_at_unix_ms', 'OptionU64'),
    ],
  },
  {
    id: 4097,
    name: 'nostr_presence_claim',
    primaryKey: 'identity',
    columns: [col('identity', 'Identity'), col('challenge', 'String'), col('issued_at_unix_ms', 'U64'), col('expires_at_unix_ms', 'U64'), col('consumed', 'Bool')],
  },
  {
    id: 4098,
    name: 'stream_head',
    primaryKey: 'stream_id',
    columns: [col('stream_id', 'String'), col('head_seq', 'U64'), col('updated_at_unix_ms', 'U64')],
  },
  {
    id: 4099,
    name: 'sync_event',
    primaryKey: 'idempotency_key',
    columns: [
      col('idempotency_key', 'String'),
      col('stream_id', 'String'),
      col('seq', 'U64'),
      col('payload_hash', 'String'),
      col('payload_json', 'String'),
      col('committed_at_unix_ms', 'U64'),
      col('durable_offset', 'U64'),
      col('confirmed_read', 'Bool'),
    ],
  },
  {
    id: 4100,
    name: 'stream_checkpoint',
    primaryKey: 'checkpoint_key',
    columns: [
      col('checkpoint_key', 'String'),
      col('client_id', 'String'),
      col('stream_id', 'String'),
      col('last_applied_seq', 'U64'),
      col('durable_offset', 'U64'),
      col('updated_at_unix_ms', 'U64'),
    ],
  },
];

/** findTable looks a table up by its exact name. */
export function findTable(name: string): TableDef | undefined {
  return TABLES.find((t) => t.name === name);
}

/** sqliteColumnType is the SQLite declared type used to store a column. */
export function sqliteColumnType(type: ColumnType): string {
  return type === 'U64' || type === 'Bool' || type === 'OptionU64' ? 'INTEGER' : 'TEXT';
}

/** algebraicType renders a column type as SATS-JSON, as in `schema.elements` of a /sql answer. */
export function algebraicType(type: ColumnType): unknown {
  const optionOf = (inner: unknown): unknown => ({
    Sum: {
      variants: [
        { name: { some: 'some' }, algebraic_type: inner },
        { name: { some: 'none' }, algebraic_type: { Product: { elements: [] } } },
      ],
    },
  });
  switch (type) {
    case 'Identity':
      return { Product: { elements: [{ name: { some: '__identity__' }, algebraic_type: { U256: [] } }] } };
    case 'String':
      return { String: [] };
    case 'U64':
      return { U64: [] };
    case 'Bool':
      return { Bool: [] };
    case 'OptionString':
      return optionOf({ String: [] });
    case 'OptionU64':
      return optionOf({ U64: [] });
    default: {
      const never: never = type;
      return never;
    }
  }
}

function numberValue(v: SqlValue): number | bigint {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  return typeof v === 'number' ? v : Number(v);
}

/**
 * untypedValue encodes one cell as in an untyped ProductValue (/sql rows and transaction deltas):
 * Identity `["0x…"]`, Option `[0, v]` / `[1, []]`.
 */
export function untypedValue(type: ColumnType, v: SqlValue): unknown {
  switch (type) {
    case 'Identity':
      return [`0x${String(v)}`];
    case 'String':
      return String(v);
    case 'U64':
      return numberValue(v);
    case 'Bool':
      return v === 1 || v === 1n || v === 'true';
    case 'OptionString':
      return v === null ? [1, []] : [0, String(v)];
    case 'OptionU64':
      return v === null ? [1, []] : [0, numberValue(v)];
    default: {
      const never: never = type;
      return never;
    }
  }
}

/** objectValue encodes one cell as read from table pages (initial and one-off rows): None is `[1, {}]`. */
export function objectValue(type: ColumnType, v: SqlValue): unknown {
  switch (type) {
    case 'Identity':
      return { __identity__: `0x${String(v)}` };
    case 'OptionString':
    case 'OptionU64':
      return v === null ? [1, {}] : untypedValue(type, v);
    default:
      return untypedValue(type, v);
  }
}

/** rowAsArray is a row in column order, untyped (a transaction delta row before stringifying). */
export function rowAsArray(table: TableDef, row: Row): unknown[] {
  return table.columns.map((c) => untypedValue(c.type, row[c.name] ?? null));
}

/** rowAsObject is a row keyed by column name (an initial/one-off row before stringifying). */
export function rowAsObject(table: TableDef, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of table.columns) out[c.name] = objectValue(c.type, row[c.name] ?? null);
  return out;
}

/** stringifyJson is JSON.stringify that writes bigint cells as exact integers (u64/u128 are bare numbers). */
export function stringifyJson(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') {
      marks.push(v.toString());
      return `\u0000big${marks.length - 1}\u0000`;
    }
    return v;
  });
  if (marks.length === 0) return text;
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)] ?? '0');
}
