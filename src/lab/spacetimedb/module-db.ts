/**
 * module-db: the `autopilot-sync` module (9b2b978949 semantics) on better-sqlite3. Every reducer
 * runs in one SQLite transaction and returns the rows it inserted and deleted, so the WebSocket
 * layer can fan the delta out exactly as SpacetimeDB does.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Row, SqlValue, TableDef } from './schema.js';
import { TABLES, findTable, sqliteColumnType } from './schema.js';
import type { CompiledSql } from './sql-query.js';
import { verifySchnorr } from './schnorr.js';

/** TableDelta is what one transaction did to one table. */
export interface TableDelta {
  readonly table: TableDef;
  readonly deletes: Row[];
  readonly inserts: Row[];
}

/** CommittedTx is a committed transaction: its start time and its per-table deltas. */
export interface CommittedTx {
  readonly timestampMicros: number;
  readonly deltas: readonly TableDelta[];
}

/** ReducerFailureKinds names how a reducer call can fail; each maps to its own status. */
export const ReducerFailureKinds = ['reducer_error', 'invalid_arguments', 'no_such_reducer', 'lifecycle'] as const;
/** ReducerFailureKind is one of ReducerFailureKinds. */
export type ReducerFailureKind = (typeof ReducerFailureKinds)[number];

/** ReducerOutcome is the result of a reducer call: a committed transaction or a failure message. */
export type ReducerOutcome =
  | { readonly ok: true; readonly tx: CommittedTx; readonly reducerId: number }
  | { readonly ok: false; readonly kind: ReducerFailureKind; readonly message: string; readonly reducerId: number };

type ParamType = 'String' | 'U64' | 'Bool';

interface ReducerDef {
  readonly name: string;
  readonly params: ReadonlyArray<{ name: string; type: ParamType }>;
}

/** reducer is a ReducerDef whose `params` list the arguments in declaration order, as `name: type`. */
function reducer(name: string, params: Readonly<Record<string, ParamType>> = {}): ReducerDef {
  return { name, params: Object.entries(params).map(([param, type]) => ({ name: param, type })) };
}

/**
 * REDUCERS lists the module's reducers in definition order (`lib.rs:65-315` at 9b2b978949); the
 * index is the `reducer_id`. `init`, `client_connected` and `client_disconnected` are lifecycle
 * reducers SpacetimeDB runs itself.
 */
export const REDUCERS: readonly ReducerDef[] = [
  reducer('init'),
  reducer('client_connected'),
  reducer('client_disconnected'),
  reducer('heartbeat'),
  reducer('request_nostr_presence_challenge'),
  reducer('bind_nostr_presence_identity', { nostr_pubkey_hex: 'String', nostr_pubkey_npub: 'String', challenge: 'String', challenge_signature_hex: 'String' }),
  reducer('append_sync_event', {
    stream_id: 'String',
    idempotency_key: 'String',
    payload_hash: 'String',
    payload_json: 'String',
    committed_at_unix_ms: 'U64',
    durable_offset: 'U64',
    confirmed_read: 'Bool',
    expected_next_seq: 'U64',
  }),
  reducer('ack_stream_checkpoint', { client_id: 'String', stream_id: 'String', last_applied_seq: 'U64', durable_offset: 'U64' }),
];

/** LIFECYCLE maps the lifecycle reducers to SpacetimeDB's Lifecycle variant names. */
export const LIFECYCLE: Readonly<Record<string, 'Init' | 'OnConnect' | 'OnDisconnect'>> = { init: 'Init', client_connected: 'OnConnect', client_disconnected: 'OnDisconnect' };

/** NOSTR_CLAIM_TTL_MS is how long a presence challenge stays valid (`lib.rs:7`). */
export const NOSTR_CLAIM_TTL_MS = 300_000;

/** NOSTR_CHALLENGE_DOMAIN prefixes presence challenges and their signed digest (`lib.rs:8`). */
export const NOSTR_CHALLENGE_DOMAIN = 'openagents:nostr-presence-bind:v1';

/** nostrChallengeDigest is the 32-byte message a presence binding signs (`lib.rs:374-381`). */
export function nostrChallengeDigest(identityHex: string, challenge: string): Uint8Array {
  return createHash('sha256').update(`${NOSTR_CHALLENGE_DOMAIN}:${identityHex}:${challenge}`).digest();
}

/** reducerId is a reducer's index in REDUCERS, or undefined when the module has no such reducer. */
export function reducerId(name: string): number | undefined {
  const i = REDUCERS.findIndex((r) => r.name === name);
  return i < 0 ? undefined : i;
}

/** isLifecycleReducer tells the reducers SpacetimeDB runs itself (a client may not call them). */
export function isLifecycleReducer(name: string): boolean {
  return LIFECYCLE[name] !== undefined;
}

/** NO_SUCH_REDUCER_ID is the `reducer_id` SpacetimeDB reports for an unknown reducer. */
export const NO_SUCH_REDUCER_ID = 4294967295;

class ReducerError extends Error {}

function describeJson(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  if (typeof v === 'boolean') return `boolean \`${v}\``;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'sequence';
  return 'map';
}

/** parseArgs turns a JSON array or object into typed reducer arguments, with serde-like messages. */
function parseArgs(def: ReducerDef, raw: unknown): Array<string | number | boolean> {
  let values: unknown[];
  if (Array.isArray(raw)) {
    if (raw.length !== def.params.length) {
      throw new ReducerError(`invalid length ${raw.length}, expected ${def.params.length === 0 ? 'an empty sequence' : `${def.params.length} elements`}`);
    }
    values = raw;
  } else if (raw !== null && typeof raw === 'object') {
    const obj = raw as Record<string, unknown>;
    values = def.params.map((p) => {
      if (!(p.name in obj)) throw new ReducerError(`missing field \`${p.name}\``);
      return obj[p.name];
    });
  } else {
    throw new ReducerError(`invalid type: ${describeJson(raw)}, expected a sequence or map`);
  }
  return def.params.map((p, i) => {
    const v = values[i];
    switch (p.type) {
      case 'String':
        if (typeof v !== 'string') throw new ReducerError(`invalid type: ${describeJson(v)}, expected a string`);
        return v;
      case 'U64':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ReducerError(`invalid type: ${describeJson(v)}, expected u64`);
        if (v > 2 ** 64 - 1) throw new ReducerError(`invalid value: ${describeJson(v)}, expected u64`);
        return v;
      case 'Bool':
        if (typeof v !== 'boolean') throw new ReducerError(`invalid type: ${describeJson(v)}, expected a boolean`);
        return v;
    }
  });
}

function required(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new ReducerError(`${field} is required`);
  return trimmed;
}

/** ModuleDbOptions: where to keep the tables (`:memory:` by default) and the reducer clock. */
export interface ModuleDbOptions {
  readonly filename?: string;
  /** nowMs is the reducer timestamp source (ms); the lab runs on real time by default. */
  readonly nowMs: () => number;
}

class TxRecorder {
  readonly deltas = new Map<string, TableDelta>();
  delta(table: TableDef): TableDelta {
    let d = this.deltas.get(table.name);
    if (!d) {
      d = { table, deletes: [], inserts: [] };
      this.deltas.set(table.name, d);
    }
    return d;
  }
}

/** ModuleDb holds the module's tables and runs its reducers. */
export class ModuleDb {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly nowMs: () => number;
  /** duplicateAppends counts idempotent duplicate `append_sync_event` calls (mirror suppression). */
  duplicateAppends = 0;

  constructor(options: ModuleDbOptions) {
    this.db = new Database(options.filename ?? ':memory:');
    this.nowMs = options.nowMs;
    this.db.pragma('journal_mode = WAL');
    for (const t of TABLES) {
      const cols = t.columns.map((c) => `"${c.name}" ${sqliteColumnType(c.type)}${c.name === t.primaryKey ? ' PRIMARY KEY' : ''}`);
      this.db.exec(`CREATE TABLE IF NOT EXISTS "${t.name}" (${cols.join(', ')})`);
    }
    this.db.exec('CREATE INDEX IF NOT EXISTS sync_event_stream_seq ON sync_event(stream_id, seq)');
    this.db.exec('CREATE INDEX IF NOT EXISTS sync_event_seq ON sync_event(seq)');
    this.db.exec('CREATE INDEX IF NOT EXISTS stream_checkpoint_client ON stream_checkpoint(client_id, stream_id)');
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  /** prepare returns the cached statement for `sql` (reducers run the same few statements all the time). */
  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** rows reads a table (optionally filtered in SQLite) in storage order, as SpacetimeDB scans do. */
  rows(tableName: string, where = '', params: SqlValue[] = []): Row[] {
    return this.prepare(`SELECT * FROM "${tableName}" ${where} ORDER BY rowid`).all(...params) as Row[];
  }

  /** count is the number of rows of a table. */
  count(tableName: string): number {
    return (this.prepare(`SELECT COUNT(*) AS n FROM "${tableName}"`).get() as { n: number }).n;
  }

  /** runSql executes a compiled `/sql` SELECT and returns the raw rows in output-column order. */
  runSql(compiled: CompiledSql): SqlValue[][] {
    // Not cached: one-off SQL, and raw mode changes the statement.
    const stmt = this.db.prepare(compiled.sqlite).raw(true);
    return stmt.all(...compiled.params) as SqlValue[][];
  }

  private find(table: TableDef, key: SqlValue): Row | undefined {
    return this.prepare(`SELECT * FROM "${table.name}" WHERE "${table.primaryKey}" = ?`).get(key) as Row | undefined;
  }

  private insert(rec: TxRecorder, table: TableDef, row: Row): void {
    const names = table.columns.map((c) => c.name);
    this.prepare(`INSERT INTO "${table.name}" (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...names.map((n) => row[n] ?? null));
    rec.delta(table).inserts.push(row);
  }

  private remove(rec: TxRecorder, table: TableDef, key: SqlValue): boolean {
    const old = this.find(table, key);
    if (!old) return false;
    this.prepare(`DELETE FROM "${table.name}" WHERE "${table.primaryKey}" = ?`).run(key);
    rec.delta(table).deletes.push(old);
    return true;
  }

  /** upsert is an update through the primary key: a delete of the old row plus an insert. */
  private upsert(rec: TxRecorder, table: TableDef, row: Row): void {
    this.remove(rec, table, row[table.primaryKey] ?? null);
    this.insert(rec, table, row);
  }

  private transaction(body: (rec: TxRecorder, nowMs: number) => void): CommittedTx {
    const startMs = this.nowMs();
    const rec = new TxRecorder();
    this.db.transaction(() => body(rec, startMs))();
    return { timestampMicros: startMs * 1000, deltas: [...rec.deltas.values()] };
  }

  private table(name: string): TableDef {
    return findTable(name) as TableDef;
  }

  /** connect runs `client_connected`: upsert the caller's presence row with the Nostr fields reset. */
  connect(identityHex: string): CommittedTx {
    return this.transaction((rec, now) => {
      const t = this.table('active_connection');
      this.upsert(rec, t, {
        identity: identityHex,
        identity_hex: identityHex,
        connected_at_unix_ms: now,
        last_seen_unix_ms: now,
        nostr_pubkey_hex: null,
        nostr_pubkey_npub: null,
        nostr_challenge_proof_sig: null,
        nostr_challenge_bound_at_unix_ms: null,
      });
    });
  }

  /**
   * disconnect runs `client_disconnected`: delete the caller's presence row and presence claim,
   * both keyed by identity alone (`lib.rs:98-102`).
   */
  disconnect(identityHex: string): CommittedTx {
    return this.transaction((rec) => {
      this.remove(rec, this.table('active_connection'), identityHex);
      this.remove(rec, this.table('nostr_presence_claim'), identityHex);
    });
  }

  /** callReducer runs a client-callable reducer by name with JSON arguments (array or object). */
  callReducer(name: string, rawArgs: unknown, callerHex: string): ReducerOutcome {
    const reducerId = REDUCERS.findIndex((r) => r.name === name);
    const def = REDUCERS[reducerId];
    if (!def) return { ok: false, kind: 'no_such_reducer', message: 'no such reducer', reducerId: NO_SUCH_REDUCER_ID };
    const lifecycle = LIFECYCLE[name];
    if (lifecycle !== undefined) return { ok: false, kind: 'lifecycle', message: `can't directly call special ${lifecycle} lifecycle reducer`, reducerId };
    let args: Array<string | number | boolean>;
    try {
      args = parseArgs(def, rawArgs);
    } catch (err) {
      return { ok: false, kind: 'invalid_arguments', message: `invalid arguments for reducer ${name}: ${(err as Error).message}`, reducerId };
    }
    try {
      const tx = this.transaction((rec, now) => {
        switch (name) {
          case 'append_sync_event':
            this.appendSyncEvent(rec, now, args);
            break;
          case 'ack_stream_checkpoint':
            this.ackStreamCheckpoint(rec, now, args);
            break;
          case 'heartbeat':
            this.heartbeat(rec, now, callerHex);
            break;
          case 'request_nostr_presence_challenge':
            this.requestNostrPresenceChallenge(rec, now, callerHex);
            break;
          case 'bind_nostr_presence_identity':
            this.bindNostrPresenceIdentity(rec, now, callerHex, args as [string, string, string, string]);
            break;
        }
      });
      return { ok: true, tx, reducerId };
    } catch (err) {
      if (err instanceof ReducerError) return { ok: false, kind: 'reducer_error', message: err.message, reducerId };
      throw err;
    }
  }

  private appendSyncEvent(rec: TxRecorder, now: number, args: Array<string | number | boolean>): void {
    const [rawStream, rawKey, rawHash, payloadJson, committedAt, durableOffset, confirmedRead, expectedNextSeq] = args as [string, string, string, string, number, number, boolean, number];
    const streamId = required(rawStream, 'stream_id');
    const key = required(rawKey, 'idempotency_key');
    const hash = required(rawHash, 'payload_hash');
    const events = this.table('sync_event');
    if (this.find(events, key)) {
      this.duplicateAppends += 1;
      return;
    }
    const heads = this.table('stream_head');
    const head = this.find(heads, streamId);
    const nextSeq = Number(head?.head_seq ?? 0) + 1;
    if (expectedNextSeq > 0 && expectedNextSeq !== nextSeq) {
      throw new ReducerError(`sequence_conflict expected_next_seq=${expectedNextSeq} actual_next_seq=${nextSeq}`);
    }
    this.insert(rec, events, {
      idempotency_key: key,
      stream_id: streamId,
      seq: nextSeq,
      payload_hash: hash,
      payload_json: payloadJson,
      committed_at_unix_ms: committedAt,
      durable_offset: durableOffset,
      confirmed_read: confirmedRead ? 1 : 0,
    });
    this.upsert(rec, heads, { stream_id: streamId, head_seq: nextSeq, updated_at_unix_ms: now });
  }

  private ackStreamCheckpoint(rec: TxRecorder, now: number, args: Array<string | number | boolean>): void {
    const [rawClient, rawStream, lastApplied, durableOffset] = args as [string, string, number, number];
    const clientId = required(rawClient, 'client_id');
    const streamId = required(rawStream, 'stream_id');
    this.upsert(rec, this.table('stream_checkpoint'), {
      checkpoint_key: `${clientId}:${streamId}`,
      client_id: clientId,
      stream_id: streamId,
      last_applied_seq: lastApplied,
      durable_offset: durableOffset,
      updated_at_unix_ms: now,
    });
  }

  /** heartbeat refreshes the caller's `last_seen_unix_ms`; a caller with no row is a silent no-op (`lib.rs:104-112`). */
  private heartbeat(rec: TxRecorder, now: number, callerHex: string): void {
    const t = this.table('active_connection');
    const row = this.find(t, callerHex);
    if (!row) return;
    this.upsert(rec, t, { ...row, last_seen_unix_ms: now });
  }

  private ensureConnected(callerHex: string): Row {
    const row = this.find(this.table('active_connection'), callerHex);
    if (!row) throw new ReducerError('identity is not connected');
    return row;
  }

  /** requestNostrPresenceChallenge upserts a 300 s challenge for a connected caller (`lib.rs:114-146`). */
  private requestNostrPresenceChallenge(rec: TxRecorder, now: number, callerHex: string): void {
    this.ensureConnected(callerHex);
    this.upsert(rec, this.table('nostr_presence_claim'), {
      identity: callerHex,
      challenge: `${NOSTR_CHALLENGE_DOMAIN}:${callerHex}:${now}`,
      issued_at_unix_ms: now,
      expires_at_unix_ms: now + NOSTR_CLAIM_TTL_MS,
      consumed: 0,
    });
  }

  /**
   * bindNostrPresenceIdentity binds a Nostr key to the caller's connection once it signed the
   * caller's unconsumed, unexpired challenge (BIP-340 over sha256(domain:identity_hex:challenge));
   * the npub is stored as given (`lib.rs:148-204`, `:342-381`).
   */
  private bindNostrPresenceIdentity(rec: TxRecorder, now: number, callerHex: string, args: [string, string, string, string]): void {
    const [pubkeyHex, npub, challenge, signatureHex] = args;
    const connection = this.ensureConnected(callerHex);
    const claims = this.table('nostr_presence_claim');
    const claim = this.find(claims, callerHex);
    if (!claim) throw new ReducerError('nostr claim challenge missing');
    if (Number(claim.consumed) === 1) throw new ReducerError('nostr claim challenge already consumed');
    if (now > Number(claim.expires_at_unix_ms)) throw new ReducerError('nostr claim challenge expired');
    const normalized = challenge.trim();
    if (normalized === '' || normalized !== claim.challenge) throw new ReducerError('nostr claim challenge mismatch');
    const pubkey = pubkeyHex.trim();
    if (pubkey === '') throw new ReducerError('nostr_pubkey_hex is required');
    const signature = signatureHex.trim();
    if (signature === '') throw new ReducerError('challenge_signature_hex is required');
    const check = verifySchnorr(pubkey, nostrChallengeDigest(callerHex, normalized), signature);
    if (!check.ok) throw new ReducerError(check.message);
    this.upsert(rec, this.table('active_connection'), {
      ...connection,
      nostr_pubkey_hex: pubkey,
      nostr_pubkey_npub: npub.trim(),
      nostr_challenge_proof_sig: signature,
      nostr_challenge_bound_at_unix_ms: now,
      last_seen_unix_ms: now,
    });
    this.upsert(rec, claims, { ...claim, consumed: 1 });
  }

  /** dropBelow deletes every `sync_event` with `seq < floor` (retention), as one transaction. */
  dropBelow(floor: number): CommittedTx {
    return this.transaction((rec) => {
      const t = this.table('sync_event');
      const old = this.prepare('SELECT * FROM sync_event WHERE seq < ? ORDER BY rowid').all(floor) as Row[];
      if (old.length === 0) return;
      this.prepare('DELETE FROM sync_event WHERE seq < ?').run(floor);
      rec.delta(t).deletes.push(...old);
    });
  }

  /** streamSummaries reports per stream its head and oldest retained seq (null when none retained). */
  streamSummaries(): Array<{ streamId: string; headSeq: number; oldestSeq: number | null; retained: number }> {
    const rows = this.db
      .prepare(
        `SELECT h.stream_id AS streamId, h.head_seq AS headSeq,
                (SELECT MIN(seq) FROM sync_event e WHERE e.stream_id = h.stream_id) AS oldestSeq,
                (SELECT COUNT(*) FROM sync_event e WHERE e.stream_id = h.stream_id) AS retained
         FROM stream_head h ORDER BY h.stream_id`,
      )
      .all() as Array<{ streamId: string; headSeq: number; oldestSeq: number | null; retained: number }>;
    return rows;
  }

  /** eventsAfter reads a stream's retained events with seq > afterSeq, in seq order. */
  eventsAfter(streamId: string, afterSeq: number, limit: number): Row[] {
    return this.prepare('SELECT * FROM sync_event WHERE stream_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(streamId, afterSeq, limit) as Row[];
  }
}
