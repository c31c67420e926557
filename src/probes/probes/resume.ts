/**
 * resume: a canary client that disconnects and comes back must get exactly what it missed, in
 * order, then live events (OpenAgents `docs/sync/SPACETIME_CUTOVER_ACCEPTANCE_AND_ROLLBACK.md` go/no-go gates at 9b2b978949). One run:
 *
 * 1. Read the client's checkpoint N (`stream_checkpoint`, its durable cursor) and the head H.
 * 2. Reconnect and check the cursor window: stale when N+1 is no longer retained
 *    (`retention_floor_breach`) or H - N exceeds the replay budget (`replay_budget_exceeded`).
 * 3. Resume with `seq > N` (or, when stale, reset the cursor and take a fresh snapshot). The first
 *    message after subscribing is that replay/snapshot baseline, not live traffic; it must be
 *    exactly N+1..H (or a contiguous snapshot up to H).
 * 4. The canary writer appends one live event; it must be the next insert the client sees.
 * 5. Ack the new checkpoint, disconnect, and append K events while the client is away, so the next
 *    run has something to resume. The away period spans the gap between runs, where faults
 *    (retention, an injected replay fault) land deterministically.
 *
 * A follower on its own long-lived socket sees the same stream live; the (seq, payload_hash)
 * sequences of client and follower are compared for ordering divergence. Reducers go over the
 * writer's long-lived WebSocket (never HTTP: that would churn presence rows), and seqs are read
 * back from `stream_head` in the writer's own TransactionUpdate.
 */
import type { CallOptions, InitialSubscriptionMessage, ServerMessage, SpacetimeWsClient, SyncEventRow } from '../../spacetime/index.js';
import { fromSqlRow, rowsOf } from '../../spacetime/index.js';
import { RequestError } from '../../errors.js';
import { reasonFromError } from '../reason-class.js';
import type { Probe, ProbeContext, ProbeCounter, ProbeInstruments, ProbeResult, ProbeSample, ReasonClass } from '../types.js';
import { appendArgs, CanaryEventFactory } from './canary-events.js';
import type { CanaryEvent } from './canary-events.js';
import { CanaryConnection } from './canary-connection.js';
import { CANARY_NAMESPACE, CanaryWrites } from './canary-writes.js';
import { ConnectionChurnLock } from './churn-lock.js';
import { errorDetail } from './probe-failure.js';
import { checkSnapshot, classifyReplay, compareOrdering } from './resume-classify.js';
import type { SeqHash } from './resume-classify.js';
import type { SpacetimeTarget } from './spacetime-target.js';
import { sqlString } from './sql-literal.js';

/** RESUME_OUTCOMES are the values of `sentinel_resume_total{outcome}`. */
export const RESUME_OUTCOMES = ['ok', 'gap', 'duplicate', 'reorder', 'stale_rebootstrap_ok', 'stale_rebootstrap_failed', 'timeout', 'error'] as const;
/** ResumeOutcome is one of RESUME_OUTCOMES. */
export type ResumeOutcome = (typeof RESUME_OUTCOMES)[number];

/** DEFAULT_RESUME_STREAM is the resume canary's stream (in the canary namespace). */
export const DEFAULT_RESUME_STREAM = `${CANARY_NAMESPACE}resume`;

/** DEFAULT_RESUME_CLIENT_ID is the resume canary's checkpoint client id: one `stream_checkpoint` row, reused forever. */
export const DEFAULT_RESUME_CLIENT_ID = `${CANARY_NAMESPACE}resume-client`;

/** DEFAULT_REPLAY_BUDGET_EVENTS is the clients' default replay budget (OpenAgents `crates/autopilot-spacetime/src/client.rs:116` at 9b2b978949). */
export const DEFAULT_REPLAY_BUDGET_EVENTS = 20_000;

/** ResumeProbeOptions configure the probe. */
export interface ResumeProbeOptions {
  readonly target: SpacetimeTarget;
  readonly instruments: ProbeInstruments;
  readonly stream?: string;
  /** eventsWhileAway is K, the events appended while the client is away (default 5). */
  readonly eventsWhileAway?: number;
  /** receiveTimeoutMs bounds each wait for a message (default 10 s). */
  readonly receiveTimeoutMs?: number;
  /** clientId is the canary client's id in `stream_checkpoint` (default `sentinel.canary.resume-client`). */
  readonly clientId?: string;
  readonly replayBudgetEvents?: number;
  readonly churnLock?: ConnectionChurnLock;
  /** canary governs the probe's writes (read-only mode, daily event budget); shared per daemon. */
  readonly canary?: CanaryWrites;
}

const OUTCOME_REASON: Record<ResumeOutcome, ReasonClass> = {
  ok: 'ok',
  gap: 'gap',
  duplicate: 'duplicate',
  reorder: 'reorder',
  stale_rebootstrap_ok: 'stale',
  stale_rebootstrap_failed: 'stale',
  timeout: 'timeout',
  error: 'error',
};

/** Finding is a classified end of a run. */
class Finding extends Error {
  constructor(
    readonly outcome: ResumeOutcome,
    message: string,
    readonly reason?: ReasonClass,
  ) {
    super(message);
  }
}

/** ResumeProbe is the `resume` probe. */
export class ResumeProbe implements Probe {
  readonly name = 'resume';
  private readonly stream: string;
  private readonly k: number;
  private readonly receiveTimeoutMs: number;
  private readonly clientId: string;
  private readonly budget: number;
  private readonly lock: ConnectionChurnLock;
  private readonly events = new CanaryEventFactory('resume');
  private readonly writer: CanaryConnection;
  private readonly follower: CanaryConnection;
  private readonly outcomes: ProbeCounter;
  private readonly divergence: ProbeCounter;
  private readonly reconnects: ProbeCounter;
  private clientToken: string | undefined;
  private followerLog: SeqHash[] = [];
  private followFromMs = 0;
  private readonly canary: CanaryWrites;

  constructor(private readonly options: ResumeProbeOptions) {
    this.stream = options.stream ?? DEFAULT_RESUME_STREAM;
    this.k = options.eventsWhileAway ?? 5;
    if (!Number.isInteger(this.k) || this.k < 1) throw new TypeError(`resume: eventsWhileAway must be a positive integer, got ${this.k}`);
    this.receiveTimeoutMs = options.receiveTimeoutMs ?? 10_000;
    this.clientId = options.clientId ?? DEFAULT_RESUME_CLIENT_ID;
    this.canary = options.canary ?? new CanaryWrites();
    this.canary.register(this.stream);
    if (!this.clientId.startsWith(this.canary.namespace)) throw new TypeError(`resume: client id ${this.clientId} is outside the canary namespace ${this.canary.namespace}`);
    this.budget = options.replayBudgetEvents ?? DEFAULT_REPLAY_BUDGET_EVENTS;
    this.lock = options.churnLock ?? new ConnectionChurnLock();
    this.writer = new CanaryConnection(options.target, async (c, opts) => {
      await c.subscribeSingle(`SELECT * FROM stream_head WHERE stream_id = ${sqlString(this.stream)}`, opts);
    });
    this.follower = new CanaryConnection(options.target, async (c, opts) => {
      this.followerLog = [];
      // Live only (see delivery.ts): a committed_at filter is not a resume query.
      await c.subscribe([`SELECT * FROM sync_event WHERE stream_id = ${sqlString(this.stream)} AND committed_at_unix_ms >= ${this.followFromMs}`], opts);
    });
    this.outcomes = options.instruments.counter('sentinel_resume_total', 'Resume probe runs by outcome.', ['outcome']);
    this.divergence = options.instruments.counter('sentinel_ordering_divergence_total', 'Runs in which the resuming client and the live follower saw different (seq, payload_hash) sequences.');
    for (const outcome of RESUME_OUTCOMES) this.outcomes.inc({ outcome }, 0);
    this.divergence.inc({}, 0);
    this.reconnects = options.instruments.counter('sentinel_ws_reconnects_total', 'Reconnects of the canary probes\' long-lived WebSocket connections.', ['probe']);
    this.reconnects.inc({ probe: 'resume' }, 0);
  }

  /** run appends 1 + K canary events per run (the live one and K while away), when permitted. */
  run(ctx: ProbeContext): Promise<ProbeResult> {
    return this.canary.guard(this.name, 1 + this.k, this.options.target.http, ctx, () => this.resume(ctx));
  }

  private async resume(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    const opts: CallOptions = { signal: ctx.signal, timeoutMs: this.receiveTimeoutMs };
    const detail: Record<string, unknown> = { stream: this.stream, client_id: this.clientId };
    let client: SpacetimeWsClient | undefined;
    let outcome: ResumeOutcome;
    let reason: ReasonClass;
    let resumeMs: number | undefined;
    let applied: SeqHash[] = [];
    let appliedFrom: number | undefined;
    let bootstrap = false;
    try {
      this.followFromMs = Math.trunc(ctx.clock.nowMs());
      const w = await this.writer.ensure(opts);
      const writer = w.client;
      writer.drain();
      const f = await this.follower.ensure(opts);
      for (const [c, conn] of [[w, this.writer], [f, this.follower]] as const) if (c.fresh && conn.reconnects > 0) this.reconnects.inc({ probe: 'resume' });
      this.readFollower();

      const cpRows = await this.options.target.http.sql(`SELECT * FROM stream_checkpoint WHERE checkpoint_key = ${sqlString(`${this.clientId}:${this.stream}`)}`, { signal: ctx.signal });
      const checkpoint = cpRows.rows.length > 0 ? fromSqlRow('stream_checkpoint', cpRows.rows[0]) : undefined;
      const headRows = await this.options.target.http.sql(`SELECT * FROM stream_head WHERE stream_id = ${sqlString(this.stream)}`, { signal: ctx.signal });
      const head = headRows.rows.length > 0 ? fromSqlRow('stream_head', headRows.rows[0]).head_seq : 0;
      const cursor = checkpoint?.last_applied_seq;
      bootstrap = cursor === undefined;
      detail.checkpoint = cursor ?? 'none';
      detail.head = head;

      const reconnectAt = ctx.clock.nowMs();
      client = this.options.target.connect(this.clientToken);
      const c = client;
      const hello = await this.lock.withLock(() => c.connect(opts));
      this.clientToken = hello.token;

      let stale: string | undefined;
      if (cursor !== undefined) {
        if (head - cursor > this.budget) stale = 'replay_budget_exceeded';
        else if (head > cursor) {
          const retained = await this.options.target.http.sqlCount(`SELECT COUNT(*) AS n FROM sync_event WHERE stream_id = ${sqlString(this.stream)} AND seq = ${cursor + 1}`, { signal: ctx.signal });
          if (retained === 0) stale = 'retention_floor_breach';
        }
      }
      detail.stale = stale ?? false;

      if (cursor !== undefined && stale === undefined) {
        // Resume: the baseline is the replay of everything after the cursor.
        const init = await client.subscribe([`SELECT * FROM sync_event WHERE stream_id = ${sqlString(this.stream)} AND seq > ${cursor}`], opts);
        const replay = this.ofStream(rowsOf(init.tables, 'sync_event', 'inserts'));
        applied = replay.map(toSeqHash);
        appliedFrom = cursor + 1;
        const verdict = classifyReplay(cursor, head, replay.map((r) => r.seq));
        detail.replay = summarize(replay.map((r) => r.seq));
        if (verdict !== 'ok') throw new Finding(verdict, `after seq ${cursor} with head ${head} the replay was ${summarize(replay.map((r) => r.seq))}`);
        const live = await this.appendLive(client, writer, head, opts, ctx);
        applied.push(live);
        outcome = 'ok';
      } else {
        // Stale cursor (or first run): reset to 0 and take a fresh snapshot, then live deltas.
        let init: InitialSubscriptionMessage;
        try {
          init = await client.subscribe([`SELECT * FROM sync_event WHERE stream_id = ${sqlString(this.stream)}`], opts);
        } catch (err) {
          // A refused snapshot leaves a stale client with no way back: the re-bootstrap failed.
          if (stale && err instanceof RequestError && err.message.includes('subscription refused')) throw new Finding('stale_rebootstrap_failed', `the fresh snapshot was refused: ${err.excerpt ?? err.message}`, 'stale');
          throw err;
        }
        const snapshot = this.ofStream(rowsOf(init.tables, 'sync_event', 'inserts'));
        const seqs = snapshot.map((r) => r.seq);
        detail.snapshot = summarize(seqs);
        const problem = checkSnapshot(head, seqs);
        if (problem !== undefined) {
          throw new Finding(stale ? 'stale_rebootstrap_failed' : 'error', problem, stale ? 'stale' : 'contract_violation');
        }
        applied = snapshot.map(toSeqHash);
        try {
          applied.push(await this.appendLive(client, writer, head, opts, ctx));
        } catch (err) {
          if (stale && err instanceof Finding && err.outcome !== 'timeout' && err.outcome !== 'error') throw new Finding('stale_rebootstrap_failed', err.message, 'stale');
          throw err;
        }
        outcome = stale ? 'stale_rebootstrap_ok' : 'ok';
      }
      resumeMs = ctx.clock.nowMs() - reconnectAt;
      const last = applied[applied.length - 1].seq;
      await client.callReducer('ack_stream_checkpoint', [this.clientId, this.stream, last, 0], opts);
      reason = OUTCOME_REASON[outcome];
    } catch (err) {
      if (err instanceof Finding) {
        outcome = err.outcome;
        reason = err.reason ?? OUTCOME_REASON[err.outcome];
        detail.finding = err.message;
      } else if (err instanceof RequestError && (err.code === 'SENTINEL_TIMEOUT' || err.code === 'SENTINEL_ABORTED')) {
        outcome = 'timeout';
        reason = 'timeout';
        detail.error = errorDetail(err);
      } else {
        // Not a finding: a transport or protocol failure (or a bug, which still must not leak
        // the client's socket): recorded as `error` with its reason class.
        outcome = 'error';
        reason = reasonFromError(err);
        detail.error = errorDetail(err);
      }
    }
    // Close the session, then let K events pile up while it is away (the next run resumes them).
    const c = client;
    if (c) await this.lock.withLock(() => c.close(1000, 'sentinel resume canary away', { timeoutMs: 2000 }));
    // With the writer gone (target down), there is nothing to rebase or append: skip both
    // rather than spend the run's deadline on more connection attempts.
    const writerUp = this.writer.current !== undefined;
    let repairedTo: number | undefined;
    if (writerUp && outcome !== 'ok' && outcome !== 'stale_rebootstrap_ok' && outcome !== 'timeout') {
      // The canary client's state is no longer trustworthy: rebase its cursor on the head so the
      // next run measures afresh instead of re-reporting this fault.
      repairedTo = await this.rebase(ctx).catch(() => undefined);
      detail.rebased_to = repairedTo ?? 'failed';
    }
    try {
      if (writerUp) await this.appendAway(ctx, opts);
    } catch (err) {
      detail.away_error = errorDetail(err);
    }
    const divergence = await this.compareWithFollower(applied, appliedFrom, ctx);
    detail.follower = divergence === undefined ? 'incomplete' : divergence ? 'diverged' : 'agrees';
    if (divergence) this.divergence.inc();
    if (!bootstrap) this.outcomes.inc({ outcome });
    detail.outcome = outcome;
    detail.bootstrap = bootstrap;
    const samples: ProbeSample[] = [];
    if (resumeMs !== undefined) samples.push({ name: 'sentinel_resume_duration_seconds', value: resumeMs / 1000 });
    const ok = outcome === 'ok' || outcome === 'stale_rebootstrap_ok';
    return { ok, reason, durationMs: ctx.clock.nowMs() - start, detail, samples };
  }

  /** close ends the long-lived connections (daemon shutdown). */
  async close(): Promise<void> {
    await Promise.all([this.writer.close(), this.follower.close()]);
  }

  private ofStream(rows: SyncEventRow[]): SyncEventRow[] {
    return rows.filter((r) => r.stream_id === this.stream);
  }

  /** append writes one event over the writer's socket and reads its seq back from stream_head. */
  private async append(writer: SpacetimeWsClient, event: CanaryEvent, opts: CallOptions): Promise<number> {
    const tx = await writer.callReducer('append_sync_event', appendArgs(event), opts);
    const heads = rowsOf(tx.tables, 'stream_head', 'inserts').filter((h) => h.stream_id === this.stream);
    if (heads.length > 0) return heads[heads.length - 1].head_seq;
    const r = await this.options.target.http.sql(`SELECT * FROM sync_event WHERE idempotency_key = ${sqlString(event.idempotencyKey)}`, opts);
    if (r.rows.length === 0) throw new RequestError('SENTINEL_PROTOCOL', writer.endpoint, `append_sync_event for ${event.idempotencyKey} committed but the event is not in sync_event`);
    return fromSqlRow('sync_event', r.rows[0]).seq;
  }

  /** appendLive appends one event and expects it as the client's next insert, seq head+1. */
  private async appendLive(client: SpacetimeWsClient, writer: SpacetimeWsClient, head: number, opts: CallOptions, ctx: ProbeContext): Promise<SeqHash> {
    const event = this.events.next(this.stream, ctx.clock.nowMs(), ctx.scheduledAtMs);
    const seq = await this.append(writer, event, opts);
    if (seq !== head + 1) throw new Finding('error', `the live event got seq ${seq}, expected ${head + 1}: someone else writes to ${this.stream}`, 'contract_violation');
    const deadline = ctx.clock.nowMs() + this.receiveTimeoutMs;
    for (;;) {
      const left = deadline - ctx.clock.nowMs();
      if (left <= 0) throw new Finding('timeout', `live event seq ${seq} not received within ${this.receiveTimeoutMs} ms`);
      let m: ServerMessage;
      try {
        m = await client.next({ signal: ctx.signal, timeoutMs: left });
      } catch (err) {
        if (err instanceof RequestError && err.code === 'SENTINEL_TIMEOUT') throw new Finding('timeout', `live event seq ${seq} not received within ${this.receiveTimeoutMs} ms`);
        throw err;
      }
      if (m.type === 'Closed') throw new Finding('error', `connection closed while waiting for the live event (code ${m.code})`, 'unreachable');
      if (m.type !== 'TransactionUpdateLight' && m.type !== 'TransactionUpdate') continue;
      const inserts = this.ofStream(rowsOf(m.tables, 'sync_event', 'inserts'));
      if (inserts.length === 0) continue;
      const first = inserts[0];
      if (first.seq === seq && first.idempotency_key === event.idempotencyKey) return toSeqHash(first);
      const verdict = first.seq <= head ? 'duplicate' : first.seq > seq ? 'gap' : 'reorder';
      throw new Finding(verdict, `expected live seq ${seq} next, got seq ${first.seq}`);
    }
  }

  private async appendAway(ctx: ProbeContext, opts: CallOptions): Promise<void> {
    const writer = (await this.writer.ensure(opts)).client;
    for (let i = 0; i < this.k; i++) await this.append(writer, this.events.next(this.stream, ctx.clock.nowMs(), ctx.scheduledAtMs), opts);
  }

  /** rebase moves the canary client's checkpoint to the current head. */
  private async rebase(ctx: ProbeContext): Promise<number> {
    const opts: CallOptions = { signal: ctx.signal, timeoutMs: this.receiveTimeoutMs };
    const writer = (await this.writer.ensure(opts)).client;
    const headRows = await this.options.target.http.sql(`SELECT * FROM stream_head WHERE stream_id = ${sqlString(this.stream)}`, opts);
    const head = headRows.rows.length > 0 ? fromSqlRow('stream_head', headRows.rows[0]).head_seq : 0;
    await writer.callReducer('ack_stream_checkpoint', [this.clientId, this.stream, head, 0], opts);
    return head;
  }

  private readFollower(): void {
    const f = this.follower.current;
    if (!f) return;
    for (const m of f.drain()) {
      if (m.type !== 'TransactionUpdateLight' && m.type !== 'TransactionUpdate') continue;
      for (const r of this.ofStream(rowsOf(m.tables, 'sync_event', 'inserts'))) this.followerLog.push(toSeqHash(r));
    }
    // Bound memory: only recent seqs can be compared.
    if (this.followerLog.length > 10_000) this.followerLog = this.followerLog.slice(-5_000);
  }

  private async compareWithFollower(applied: readonly SeqHash[], fromSeq: number | undefined, ctx: ProbeContext): Promise<boolean | undefined> {
    if (applied.length === 0) return false;
    const want = Math.max(...applied.map((a) => a.seq));
    const deadline = ctx.clock.nowMs() + Math.min(this.receiveTimeoutMs, 2_000);
    this.readFollower();
    while (!this.followerLog.some((f) => f.seq >= want)) {
      const f = this.follower.current;
      if (!f || ctx.clock.nowMs() >= deadline) break;
      try {
        await f.next({ signal: ctx.signal, timeoutMs: Math.max(1, deadline - ctx.clock.nowMs()) }).then((m) => {
          if (m.type === 'TransactionUpdateLight' || m.type === 'TransactionUpdate') {
            for (const r of this.ofStream(rowsOf(m.tables, 'sync_event', 'inserts'))) this.followerLog.push(toSeqHash(r));
          }
        });
      } catch {
        break;
      }
    }
    return compareOrdering(applied, this.followerLog, fromSeq);
  }
}

function toSeqHash(r: SyncEventRow): SeqHash {
  return { seq: r.seq, hash: r.payload_hash };
}

function summarize(seqs: readonly number[]): string {
  if (seqs.length <= 12) return `[${seqs.join(',')}]`;
  return `[${seqs.slice(0, 5).join(',')},…,${seqs.slice(-5).join(',')}] (${seqs.length} events)`;
}
