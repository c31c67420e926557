/**
 * subscriptions: the v1.json subscription messages (legacy `Subscribe`, `SubscribeSingle`,
 * `SubscribeMulti`, their unsubscribes, and `OneOffQuery`) answered from committed state:
 * object-form rows, empty tables omitted (SpacetimeDB 2.0.1 `module_subscription_actor.rs`).
 * Later deltas reach the session through the Fanout, which reads the same query sets.
 */
import type { CallerPolicy } from './caller-policy.js';
import type { AuthFailureReason } from './identities.js';
import type { ModuleDb } from './module-db.js';
import { NO_SUCH_REDUCER_ID } from './module-db.js';
import type { Row, TableDef } from './schema.js';
import { rowAsObject, stringifyJson } from './schema.js';
import type { Session, SessionRegistry } from './sessions.js';
import type { SnapshotFaults } from './snapshot-faults.js';
import type { SubscriptionQuery } from './sql-query.js';
import { SqlRejection, compileSubscription } from './sql-query.js';
import type { TableUpdateJson } from './wire.js';
import { ProtocolViolation, asU32, elapsedMicros, failedTransactionUpdate, messageIdHex, queryIdOf, requireField, subscriptionError, tableUpdate } from './wire.js';

/** SubscriptionServiceOptions: the module, the sessions, the faults and the caller policy. */
export interface SubscriptionServiceOptions {
  readonly db: ModuleDb;
  readonly sessions: SessionRegistry;
  readonly faults: SnapshotFaults;
  readonly policy: CallerPolicy;
  readonly onAuthFailure: (reason: AuthFailureReason) => void;
  readonly nowMs: () => number;
}

/** SubscriptionService answers the subscription messages of one host. */
export class SubscriptionService {
  constructor(private readonly opts: SubscriptionServiceOptions) {}

  /** scan reads a query's rows from committed state in storage order, narrowed by its equality. */
  scan(q: SubscriptionQuery): Row[] {
    const rows = q.equality ? this.opts.db.rows(q.table.name, `WHERE "${q.equality.column}" = ?`, [q.equality.value]) : this.opts.db.rows(q.table.name);
    return rows.filter((r) => q.matches(r));
  }

  private compileAll(session: Session, queries: unknown, variant: string): SubscriptionQuery[] {
    if (!Array.isArray(queries) || queries.some((q) => typeof q !== 'string')) throw new ProtocolViolation(`invalid ${variant} message: query_strings must be an array of strings`);
    return (queries as string[]).map((q) => compileSubscription(q, session.caller.identityHex));
  }

  /** initialTables builds the TableUpdates of a fresh subscription: object rows, empty tables omitted. */
  private initialTables(queries: readonly SubscriptionQuery[], asDeletes = false): TableUpdateJson[] {
    const tables = new Map<string, { table: TableDef; queries: SubscriptionQuery[] }>();
    for (const q of queries) {
      const entry = tables.get(q.table.name) ?? { table: q.table, queries: [] };
      entry.queries.push(q);
      tables.set(q.table.name, entry);
    }
    const out: TableUpdateJson[] = [];
    for (const { table, queries: qs } of tables.values()) {
      if (this.opts.db.count(table.name) === 0) continue;
      let rows: Row[];
      if (qs.length === 1) rows = this.scan(qs[0] as SubscriptionQuery);
      else rows = this.opts.db.rows(table.name).filter((r) => qs.some((q) => q.matches(r)));
      if (!asDeletes) rows = this.opts.faults.apply(qs, rows);
      const strings = rows.map((r) => stringifyJson(rowAsObject(table, r)));
      out.push(asDeletes ? tableUpdate(table, strings, []) : tableUpdate(table, [], strings));
    }
    return out;
  }

  /** refusal is why a new subscription must be refused (caller policy, then an injected fault). */
  private refusal(session: Session, queries: readonly SubscriptionQuery[]): string | undefined {
    const denied = this.opts.policy.refusal(session.caller, { kind: 'subscribe' });
    if (denied) {
      this.opts.onAuthFailure(denied.reason);
      return denied.message;
    }
    return this.opts.faults.refusal(queries, (q) => this.scan(q).length);
  }

  private failLegacy(session: Session, started: bigint, message: string): void {
    this.opts.sessions.send(session, failedTransactionUpdate({ message, nowMs: this.opts.nowMs(), callerHex: session.caller.identityHex, connectionId: session.connectionId, reducerName: '', reducerId: NO_SUCH_REDUCER_ID, args: '', micros: elapsedMicros(started) }));
  }

  /** onSubscribe answers a legacy `Subscribe`; errors come back as a Failed TransactionUpdate. */
  onSubscribe(session: Session, f: Record<string, unknown>): void {
    const queries = requireField(f, 'query_strings', 'Subscribe');
    const requestId = asU32(requireField(f, 'request_id', 'Subscribe'), 'request_id');
    const started = process.hrtime.bigint();
    let compiled: SubscriptionQuery[];
    try {
      compiled = this.compileAll(session, queries, 'Subscribe');
    } catch (err) {
      if (!(err instanceof SqlRejection)) throw err;
      const failing = (queries as string[]).find((q) => {
        try {
          compileSubscription(q, session.caller.identityHex);
          return false;
        } catch {
          return true;
        }
      });
      return this.failLegacy(session, started, `${err.message}, executing: \`${failing ?? ''}\``);
    }
    const refused = this.refusal(session, compiled);
    if (refused !== undefined) return this.failLegacy(session, started, refused);
    session.legacy = compiled;
    this.opts.sessions.send(session, {
      InitialSubscription: {
        database_update: { tables: this.initialTables(compiled) },
        request_id: requestId,
        total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) },
      },
    });
  }

  onSubscribeSingle(session: Session, f: Record<string, unknown>): void {
    const query = requireField(f, 'query', 'SubscribeSingle');
    const requestId = asU32(requireField(f, 'request_id', 'SubscribeSingle'), 'request_id');
    const queryId = queryIdOf(requireField(f, 'query_id', 'SubscribeSingle'), 'SubscribeSingle');
    if (typeof query !== 'string') throw new ProtocolViolation('invalid SubscribeSingle message: query must be a string');
    const started = process.hrtime.bigint();
    const fail = (message: string): void => this.opts.sessions.send(session, subscriptionError(elapsedMicros(started), requestId, queryId, message));
    if (session.byQueryId.has(queryId)) return fail(`Query ID ${queryId} is already in use`);
    let q: SubscriptionQuery;
    try {
      q = compileSubscription(query, session.caller.identityHex);
    } catch (err) {
      if (err instanceof SqlRejection) return fail(err.message);
      throw err;
    }
    const refused = this.refusal(session, [q]);
    if (refused !== undefined) return fail(refused);
    session.byQueryId.set(queryId, [q]);
    const rows = this.opts.faults.apply([q], this.scan(q));
    const strings = rows.map((r) => stringifyJson(rowAsObject(q.table, r)));
    this.opts.sessions.send(session, {
      SubscribeApplied: {
        request_id: requestId,
        total_host_execution_duration_micros: elapsedMicros(started),
        query_id: { id: queryId },
        rows: { table_id: q.table.id, table_name: q.table.name, table_rows: tableUpdate(q.table, [], strings) },
      },
    });
  }

  onSubscribeMulti(session: Session, f: Record<string, unknown>): void {
    const queries = requireField(f, 'query_strings', 'SubscribeMulti');
    const requestId = asU32(requireField(f, 'request_id', 'SubscribeMulti'), 'request_id');
    const queryId = queryIdOf(requireField(f, 'query_id', 'SubscribeMulti'), 'SubscribeMulti');
    const started = process.hrtime.bigint();
    const fail = (message: string): void => this.opts.sessions.send(session, subscriptionError(elapsedMicros(started), requestId, queryId, message));
    if (session.byQueryId.has(queryId)) return fail(`Query ID ${queryId} is already in use`);
    let compiled: SubscriptionQuery[];
    try {
      compiled = this.compileAll(session, queries, 'SubscribeMulti');
    } catch (err) {
      if (err instanceof SqlRejection) return fail(err.message);
      throw err;
    }
    const refused = this.refusal(session, compiled);
    if (refused !== undefined) return fail(refused);
    session.byQueryId.set(queryId, compiled);
    this.opts.sessions.send(session, {
      SubscribeMultiApplied: {
        request_id: requestId,
        total_host_execution_duration_micros: elapsedMicros(started),
        query_id: { id: queryId },
        update: { tables: this.initialTables(compiled) },
      },
    });
  }

  onUnsubscribe(session: Session, f: Record<string, unknown>, variant: 'Unsubscribe' | 'UnsubscribeMulti'): void {
    const requestId = asU32(requireField(f, 'request_id', variant), 'request_id');
    const queryId = queryIdOf(requireField(f, 'query_id', variant), variant);
    const started = process.hrtime.bigint();
    const queries = session.byQueryId.get(queryId);
    if (!queries) return this.opts.sessions.send(session, subscriptionError(elapsedMicros(started), requestId, queryId, `No subscription with query ID ${queryId}`));
    session.byQueryId.delete(queryId);
    if (variant === 'Unsubscribe') {
      const q = queries[0] as SubscriptionQuery;
      const strings = this.scan(q).map((r) => stringifyJson(rowAsObject(q.table, r)));
      this.opts.sessions.send(session, {
        UnsubscribeApplied: {
          request_id: requestId,
          total_host_execution_duration_micros: elapsedMicros(started),
          query_id: { id: queryId },
          rows: { table_id: q.table.id, table_name: q.table.name, table_rows: tableUpdate(q.table, strings, []) },
        },
      });
      return;
    }
    this.opts.sessions.send(session, {
      UnsubscribeMultiApplied: {
        request_id: requestId,
        total_host_execution_duration_micros: elapsedMicros(started),
        query_id: { id: queryId },
        update: { tables: this.initialTables(queries, true) },
      },
    });
  }

  onOneOffQuery(session: Session, f: Record<string, unknown>): void {
    const messageId = messageIdHex(requireField(f, 'message_id', 'OneOffQuery'));
    const query = requireField(f, 'query_string', 'OneOffQuery');
    if (typeof query !== 'string') throw new ProtocolViolation('invalid OneOffQuery message: query_string must be a string');
    const started = process.hrtime.bigint();
    try {
      const q = compileSubscription(query, session.caller.identityHex);
      const rows = this.scan(q).map((r) => stringifyJson(rowAsObject(q.table, r)));
      this.opts.sessions.send(session, {
        OneOffQueryResponse: { message_id: messageId, error: { none: [] }, tables: [{ table_name: q.table.name, rows }], total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) } },
      });
    } catch (err) {
      if (!(err instanceof SqlRejection)) throw err;
      this.opts.sessions.send(session, {
        OneOffQueryResponse: { message_id: messageId, error: { some: err.message }, tables: [], total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) } },
      });
    }
  }
}
