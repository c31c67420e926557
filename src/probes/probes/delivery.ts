/**
 * delivery (canary liveness): a long-lived subscriber follows the canary stream; each run the
 * canary writer, over its own long-lived WebSocket (a reducer call over HTTP would churn presence
 * rows), appends one event, and the probe measures send-to-receipt time at the subscriber and how
 * many other transactions arrived first. An event that committed (visible over SQL) but never
 * reached the subscriber is `not_streaming`: the "connected but not streaming" failure that a
 * connect check cannot see.
 *
 * The subscriber's query filters on `committed_at_unix_ms` instead of `seq > N`: its snapshot
 * stays small however long the stream grows, and it is not a resume (a resume query would be the
 * one a `next_resume` fault lands on).
 */
import type { CallOptions, ServerMessage, SpacetimeWsClient, TransactionUpdateMessage } from '../../spacetime/index.js';
import { rowsOf } from '../../spacetime/index.js';
import { RequestError } from '../../errors.js';
import { reasonFromError } from '../reason-class.js';
import type { Probe, ProbeContext, ProbeCounter, ProbeHistogram, ProbeInstruments, ProbeResult, ReasonClass } from '../types.js';
import { appendArgs, CanaryEventFactory } from './canary-events.js';
import { CanaryConnection } from './canary-connection.js';
import { CANARY_NAMESPACE, CanaryWrites } from './canary-writes.js';
import { errorDetail, probeFailure } from './probe-failure.js';
import type { SpacetimeTarget } from './spacetime-target.js';
import { sqlString } from './sql-literal.js';

/** DEFAULT_CANARY_STREAM is the delivery canary's stream (in the canary namespace). */
export const DEFAULT_CANARY_STREAM = `${CANARY_NAMESPACE}delivery`;

/** DELIVERY_LATENCY_BUCKETS resolve a 600 ms p95 budget (seconds). */
export const DELIVERY_LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.5, 2.5, 5, 10] as const;

/** DeliveryProbeOptions configure the probe. */
export interface DeliveryProbeOptions {
  readonly target: SpacetimeTarget;
  readonly instruments: ProbeInstruments;
  readonly canaryStream?: string;
  readonly receiveTimeoutMs?: number;
  /** canary governs the probe's writes (read-only mode, daily event budget); shared per daemon. */
  readonly canary?: CanaryWrites;
}

/** DeliveryProbe is the `delivery` probe. */
export class DeliveryProbe implements Probe {
  readonly name = 'delivery';
  private readonly stream: string;
  private readonly receiveTimeoutMs: number;
  private readonly writer: CanaryConnection;
  private readonly subscriber: CanaryConnection;
  private readonly events = new CanaryEventFactory('delivery');
  private readonly latency: ProbeHistogram;
  private readonly timeouts: ProbeCounter;
  private readonly reconnects: ProbeCounter;
  private subscribeFromMs = 0;
  private readonly canary: CanaryWrites;

  constructor(private readonly options: DeliveryProbeOptions) {
    this.stream = options.canaryStream ?? DEFAULT_CANARY_STREAM;
    this.canary = options.canary ?? new CanaryWrites();
    this.canary.register(this.stream);
    this.receiveTimeoutMs = options.receiveTimeoutMs ?? 10_000;
    this.writer = new CanaryConnection(options.target);
    this.subscriber = new CanaryConnection(options.target, async (client, opts) => {
      await client.subscribe([`SELECT * FROM sync_event WHERE stream_id = ${sqlString(this.stream)} AND committed_at_unix_ms >= ${this.subscribeFromMs}`], opts);
    });
    this.latency = options.instruments.histogram('sentinel_delivery_latency_seconds', 'Canary event send-to-receipt time at a live subscriber.', [], DELIVERY_LATENCY_BUCKETS);
    this.timeouts = options.instruments.counter('sentinel_delivery_timeouts_total', 'Canary events not received by the subscriber within the receive timeout.');
    this.timeouts.inc({}, 0);
    this.reconnects = options.instruments.counter('sentinel_ws_reconnects_total', 'Reconnects of the canary probes\' long-lived WebSocket connections.', ['probe']);
    this.reconnects.inc({ probe: 'delivery' }, 0);
  }

  /** run appends one canary event per run, when the canary writes permit it. */
  run(ctx: ProbeContext): Promise<ProbeResult> {
    return this.canary.guard(this.name, 1, this.options.target.http, ctx, () => this.measure(ctx));
  }

  private async measure(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    const opts: CallOptions = { signal: ctx.signal, timeoutMs: this.receiveTimeoutMs };
    let sub: SpacetimeWsClient;
    let writer: SpacetimeWsClient;
    try {
      this.subscribeFromMs = Math.trunc(ctx.clock.nowMs());
      const s = await this.subscriber.ensure(opts);
      const w = await this.writer.ensure(opts);
      sub = s.client;
      writer = w.client;
      // Reconnects of long-lived sockets (after the first connect) feed the reconnect-rate rule.
      for (const [c, conn] of [[s, this.subscriber], [w, this.writer]] as const) if (c.fresh && conn.reconnects > 0) this.reconnects.inc({ probe: 'delivery' });
    } catch (err) {
      return probeFailure(err, ctx.clock.nowMs() - start, { detail: { phase: 'connect' } });
    }
    // Anything queued since the last run is not this run's traffic.
    const leftover = sub.drain().filter((m) => m.type !== 'Closed').length;
    writer.drain();

    const event = this.events.next(this.stream, ctx.clock.nowMs(), ctx.scheduledAtMs);
    const sentAtMs = ctx.clock.nowMs();
    const callFailed = new AbortController();
    let callError: unknown;
    let ackMs: number | undefined;
    const call = writer.callReducer('append_sync_event', appendArgs(event), opts).then(
      (tx: TransactionUpdateMessage) => {
        ackMs = ctx.clock.nowMs() - sentAtMs;
        return tx;
      },
      (err: unknown) => {
        callError = err;
        callFailed.abort();
        return undefined;
      },
    );
    const waitSignal = AbortSignal.any([ctx.signal, callFailed.signal]);
    let interleaved = 0;
    let received = false;
    let closed: ServerMessage | undefined;
    const deadline = sentAtMs + this.receiveTimeoutMs;
    try {
      while (!received) {
        const left = deadline - ctx.clock.nowMs();
        if (left <= 0) break;
        const m = await sub.next({ signal: waitSignal, timeoutMs: left });
        if (m.type === 'Closed') {
          closed = m;
          break;
        }
        if (m.type !== 'TransactionUpdateLight' && m.type !== 'TransactionUpdate') continue;
        if (rowsOf(m.tables, 'sync_event', 'inserts').some((r) => r.idempotency_key === event.idempotencyKey)) received = true;
        else interleaved++;
      }
    } catch (err) {
      if (!(err instanceof RequestError) || (err.code !== 'SENTINEL_TIMEOUT' && err.code !== 'SENTINEL_ABORTED')) throw err;
    }
    const receivedAtMs = ctx.clock.nowMs();
    if (received) {
      const latencyS = (receivedAtMs - sentAtMs) / 1000;
      this.latency.observe({}, latencyS);
      return {
        ok: true,
        durationMs: receivedAtMs - start,
        detail: { stream: this.stream, latency_ms: receivedAtMs - sentAtMs, writer_ack_ms: ackMs ?? 'pending', interleaved_transactions: interleaved, leftover_messages: leftover },
        samples: [
          { name: 'sentinel_delivery_last_latency_seconds', value: latencyS },
          { name: 'sentinel_delivery_interleaved_transactions', value: interleaved },
        ],
      };
    }
    await call;
    if (closed) this.subscriber.reset();
    // Did the event commit? SQL has no lifecycle side effects, so it is safe to ask.
    let committed: boolean | undefined;
    try {
      committed = (await this.options.target.http.sqlCount(`SELECT COUNT(*) AS n FROM sync_event WHERE idempotency_key = ${sqlString(event.idempotencyKey)}`, { signal: ctx.signal })) > 0;
    } catch {
      committed = undefined;
    }
    let reason: ReasonClass;
    if (closed) reason = 'unreachable';
    else if (committed) reason = 'not_streaming';
    else if (callError !== undefined) reason = reasonFromError(callError);
    else reason = 'timeout';
    // A write that failed is the writer's problem; every other miss is a delivery timeout.
    if (callError === undefined || committed) this.timeouts.inc();
    return {
      ok: false,
      reason,
      durationMs: ctx.clock.nowMs() - start,
      detail: {
        stream: this.stream,
        waited_ms: receivedAtMs - sentAtMs,
        committed: committed ?? 'unknown',
        interleaved_transactions: interleaved,
        subscriber_closed: closed?.type === 'Closed' ? { code: closed.code, reason: closed.reason } : false,
        writer_error: callError === undefined ? undefined : errorDetail(callError),
        explanation: committed
          ? 'the event committed (visible over SQL) but the live subscriber never received it: sessions are connected but not streaming'
          : undefined,
      },
      samples: [{ name: 'sentinel_delivery_interleaved_transactions', value: interleaved }],
    };
  }

  /** close ends the long-lived connections (daemon shutdown). */
  async close(): Promise<void> {
    await Promise.all([this.writer.close(), this.subscriber.close()]);
  }
}
