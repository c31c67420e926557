/**
 * fanout: sends a committed transaction to the sessions whose subscriptions it touches, as
 * SpacetimeDB 2.0.1 does for a module built with the 2.x bindings (RawModuleDef V10): the
 * WebSocket caller gets a full TransactionUpdate with only its subscribed rows; every other
 * affected subscriber gets TransactionUpdateLight carrying the caller's request id (0 without a
 * WebSocket caller); unaffected sessions get nothing.
 */
import type { CommittedTx } from './module-db.js';
import { rowAsArray, stringifyJson } from './schema.js';
import type { Session, SessionRegistry } from './sessions.js';
import type { TableUpdateJson } from './wire.js';
import { ENERGY_PER_CALL, tableUpdate } from './wire.js';

/** CallerCall is the WebSocket reducer call a transaction came from. */
export interface CallerCall {
  readonly session: Session;
  readonly requestId: number;
  readonly reducerName: string;
  readonly reducerId: number;
  readonly args: string;
  readonly flags: number;
}

/** Fanout delivers committed transactions; `streaming_stopped` withholds (and counts) them. */
export class Fanout {
  private dropped = 0;

  constructor(
    private readonly sessions: SessionRegistry,
    /** isStreamingStopped is the `streaming_stopped` fault: sessions stay open but hear nothing. */
    private readonly isStreamingStopped: () => boolean,
  ) {}

  /** droppedMessages counts transaction updates withheld while streaming was stopped. */
  get droppedMessages(): number {
    return this.dropped;
  }

  /** withhold reports whether a message to a caller must be dropped (streaming stopped), counting it. */
  withhold(): boolean {
    if (!this.isStreamingStopped()) return false;
    this.dropped += 1;
    return true;
  }

  /** deltaTables is the part of a transaction a session subscribed to, rows as arrays. */
  private deltaTables(session: Session, tx: CommittedTx): TableUpdateJson[] {
    const queries = [...session.legacy, ...[...session.byQueryId.values()].flat()];
    const out: TableUpdateJson[] = [];
    for (const d of tx.deltas) {
      const qs = queries.filter((q) => q.table.name === d.table.name);
      if (qs.length === 0) continue;
      const deletes = d.deletes.filter((r) => qs.some((q) => q.matches(r))).map((r) => stringifyJson(rowAsArray(d.table, r)));
      const inserts = d.inserts.filter((r) => qs.some((q) => q.matches(r))).map((r) => stringifyJson(rowAsArray(d.table, r)));
      if (deletes.length + inserts.length > 0) out.push(tableUpdate(d.table, deletes, inserts));
    }
    return out;
  }

  /** broadcast fans a committed transaction out; `micros` is the caller's reported execution time. */
  broadcast(tx: CommittedTx, call: CallerCall | undefined, micros = 1): void {
    if (tx.deltas.length === 0 && !call) return;
    const stopped = this.isStreamingStopped();
    for (const s of this.sessions.live()) {
      const tables = this.deltaTables(s, tx);
      if (stopped) {
        // Ground truth for the runtime's dropped-message counter: what this session missed.
        if (tables.length > 0 || (call && s === call.session)) this.dropped += 1;
        continue;
      }
      if (call && s === call.session) {
        if (call.flags === 1 && tables.length === 0) continue;
        this.sessions.send(s, {
          TransactionUpdate: {
            status: { Committed: { tables } },
            timestamp: { __timestamp_micros_since_unix_epoch__: tx.timestampMicros },
            caller_identity: { __identity__: `0x${s.caller.identityHex}` },
            caller_connection_id: { __connection_id__: s.connectionId },
            reducer_call: { reducer_name: call.reducerName, reducer_id: call.reducerId, args: call.args, request_id: call.requestId },
            energy_quanta_used: { quanta: ENERGY_PER_CALL },
            total_host_execution_duration: { __time_duration_micros__: micros },
          },
        });
        continue;
      }
      if (tables.length === 0) continue;
      this.sessions.send(s, { TransactionUpdateLight: { request_id: call?.requestId ?? 0, update: { tables } } });
    }
  }
}
