/**
 * traffic: the lab's traffic generator. A mirror appends events to a few streams at a
 * configurable rate (failing into an outbox under `publish_failures`), and simulated clients
 * apply them at their own pace and ack checkpoints through the module's
 * `ack_stream_checkpoint` reducer, so replay lag is real and known.
 *
 * Client health comes in three kinds: a healthy client applies at its `applyPerSecond` and acks
 * what it applied; a slow client (knob `slow_clients`) applies at `slowApplyPerSecond` (default
 * 0: stuck) but stays connected and keeps re-acking its checkpoint every ack interval; a dead
 * client (knob `dead_clients`) neither applies nor acks, and its checkpoint row stays behind, as
 * the module never deletes one.
 */
import { createHash } from 'node:crypto';
import type { MirrorCounters } from './runtime-service.js';
import type { PublishFailureKind } from './knobs.js';

/** SENTINEL_CANARY_PREFIX marks the sentinel's canary streams; the lab never writes to them. */
export const SENTINEL_CANARY_PREFIX = 'sentinel.canary.';

/** SimulatedClientOptions: a client id and how many events per second it applies per stream. */
export interface SimulatedClientOptions {
  readonly id: string;
  readonly applyPerSecond: number;
}

/** TrafficOptions configures streams and clients. */
export interface TrafficOptions {
  readonly streams: readonly string[];
  readonly clients: readonly SimulatedClientOptions[];
  /** ackIntervalMs is how often a client writes its checkpoints (when they moved; slow clients always). */
  readonly ackIntervalMs: number;
  /** slowApplyPerSecond is how many events per second a slow client applies per stream (default 0). */
  readonly slowApplyPerSecond?: number;
}

/** DEFAULT_TRAFFIC is two streams and two clients that keep up. */
export const DEFAULT_TRAFFIC: TrafficOptions = {
  streams: ['runtime.run.lab-1.events', 'runtime.worker.lab-w1.lifecycle'],
  clients: [
    { id: 'lab-client-a', applyPerSecond: 1000 },
    { id: 'lab-client-b', applyPerSecond: 1000 },
  ],
  ackIntervalMs: 250,
  slowApplyPerSecond: 0,
};

/** TrafficModule is what the generator needs from the database host (reached in-process). */
export interface TrafficModule {
  /** append runs `append_sync_event` (mirror publish) and reports whether it committed (an idempotent repeat included). */
  append(streamId: string, key: string, payloadHash: string, payloadJson: string, committedAtMs: number): boolean;
  /** ack runs `ack_stream_checkpoint`. */
  ack(clientId: string, streamId: string, lastAppliedSeq: number): void;
  /** stream reads a stream's head and oldest retained seq. */
  stream(streamId: string): { headSeq: number; oldestSeq: number | null };
}

/** ClientStreamState is one simulated client's cursor on one stream. */
export interface ClientStreamState {
  readonly stream_id: string;
  readonly last_applied_seq: number;
  /** acked_seq is the checkpoint written to `stream_checkpoint.last_applied_seq`. */
  readonly acked_seq: number;
  /** lag is `head_seq - acked_seq`, the replay lag the sentinel can measure. */
  readonly lag: number;
}

/** ClientState is one simulated client for `/lab/state`. */
export interface ClientState {
  readonly client_id: string;
  readonly slow: boolean;
  /** dead clients stopped applying and acking; their checkpoints stay as they were. */
  readonly dead: boolean;
  readonly streams: ClientStreamState[];
  readonly max_lag: number;
}

interface PendingEvent {
  readonly streamId: string;
  readonly key: string;
  readonly hash: string;
  readonly json: string;
  readonly createdAtMs: number;
}

interface ClientCursor {
  applied: number;
  acked: number;
  credit: number;
}

/** TrafficGenerator is driven by the lab's ticker; every step takes the current time. */
export class TrafficGenerator {
  readonly mirror: MirrorCounters = {
    published_total: 0,
    duplicate_suppressed_total: 0,
    failed_total: 0,
    outbox_depth: 0,
    auth_failures_total: 0,
    rate_limited_failures_total: 0,
    network_failures_total: 0,
    validation_failures_total: 0,
    unknown_failures_total: 0,
  };
  /** publishedStreams are the streams published to since the runtime started (`delivery.stream_count`). */
  readonly publishedStreams = new Set<string>();
  /** eventCount is `delivery.event_count`: it moves with `published_total`. */
  eventCount = 0;
  /** staleCursorResets counts simulated clients that fell below the retention floor and rebootstrapped. */
  staleCursorResets = 0;
  private readonly outbox: PendingEvent[] = [];
  /** failureKind is the class failed publishes are counted under (knob publish_failure_kind). */
  private failureKind: PublishFailureKind = 'network';
  private readonly cursors = new Map<string, Map<string, ClientCursor>>();
  private credit = 0;
  private nextStream = 0;
  private serial = 0;
  private lastAckMs = 0;

  constructor(
    private readonly opts: TrafficOptions,
    private readonly module: TrafficModule,
    private readonly random: () => number,
    private readonly runId: string,
  ) {
    for (const s of opts.streams) {
      if (s.startsWith(SENTINEL_CANARY_PREFIX)) throw new Error(`traffic stream ${s} is a sentinel canary stream; the lab never writes under ${SENTINEL_CANARY_PREFIX}`);
    }
    for (const c of opts.clients) this.cursors.set(c.id, new Map(opts.streams.map((s) => [s, { applied: 0, acked: 0, credit: 0 }])));
  }

  private makeEvent(streamId: string, nowMs: number): PendingEvent {
    this.serial += 1;
    const json = JSON.stringify({ kind: 'lab.event', n: this.serial, stream: streamId, at_ms: nowMs });
    return { streamId, key: `lab:${this.runId}:${this.serial}`, hash: `sha256:${createHash('sha256').update(json).digest('hex')}`, json, createdAtMs: nowMs };
  }

  /**
   * publish tries one mirror publish; a failure (ratio `failureRatio`) leaves it in the outbox.
   * Only an event's first failure is counted, so failed_total tracks events, not retry ticks.
   * As in the runtime's HTTP publisher, every committed call counts as applied (published and
   * event count together), an idempotent repeat included: the reducer answers it 2xx, so
   * `duplicate_suppressed_total` stays 0 (OpenAgents `crates/autopilot-spacetime/src/client.rs:472-488`,
   * `apps/runtime/src/spacetime_publisher.rs:223-246` at 9b2b978949).
   */
  private publish(ev: PendingEvent, failureRatio: number, isRetry = false): boolean {
    if (failureRatio > 0 && this.random() < failureRatio) {
      if (!isRetry) {
        this.mirror.failed_total += 1;
        this.countFailureKind();
        // Half the failures are ambiguous (committed, acknowledgement lost): the retry from the
        // outbox then repeats an idempotency key the module already holds.
        if (this.random() < 0.5) this.module.append(ev.streamId, ev.key, ev.hash, ev.json, ev.createdAtMs);
      }
      return false;
    }
    if (this.module.append(ev.streamId, ev.key, ev.hash, ev.json, ev.createdAtMs)) {
      this.mirror.published_total += 1;
      this.eventCount += 1;
      this.publishedStreams.add(ev.streamId);
    }
    return true;
  }

  /**
   * restartRuntime is a runtime process restart: its counters live in memory and start from zero,
   * while the outbox is a file and survives (`spacetime_publisher.rs:16-20`, `:116-128`).
   */
  restartRuntime(): void {
    for (const k of Object.keys(this.mirror) as Array<keyof MirrorCounters>) if (k !== 'outbox_depth') this.mirror[k] = 0;
    this.eventCount = 0;
    this.publishedStreams.clear();
  }

  private countFailureKind(): void {
    this.mirror[`${this.failureKind}_failures_total`] += 1;
  }

  /** step generates `eventsPerSecond × dt` events (unless paused), retries the outbox, applies and acks. */
  step(nowMs: number, dtMs: number, knobs: { paused: boolean; eventsPerSecond: number; publishFailures: number; publishFailureKind?: PublishFailureKind; slowClients: readonly string[]; deadClients?: readonly string[] }): void {
    const dead = knobs.deadClients ?? [];
    this.failureKind = knobs.publishFailureKind ?? 'network';
    // Outbox first: the mirror retries in order before publishing anything new.
    while (this.outbox.length > 0) {
      const head = this.outbox[0] as PendingEvent;
      if (!this.publish(head, knobs.publishFailures, true)) break;
      this.outbox.shift();
    }
    if (!knobs.paused && this.opts.streams.length > 0) {
      this.credit += (knobs.eventsPerSecond * dtMs) / 1000;
      while (this.credit >= 1) {
        this.credit -= 1;
        const streamId = this.opts.streams[this.nextStream % this.opts.streams.length] as string;
        this.nextStream += 1;
        const ev = this.makeEvent(streamId, nowMs);
        if (this.outbox.length > 0) {
          // Queued behind older failures to keep stream order: counted as a failed publish.
          this.mirror.failed_total += 1;
          this.countFailureKind();
          this.outbox.push(ev);
        } else if (!this.publish(ev, knobs.publishFailures)) {
          this.outbox.push(ev);
        }
      }
    } else {
      this.credit = 0;
    }
    this.mirror.outbox_depth = this.outbox.length;
    this.applyClients(dtMs, knobs.slowClients, dead);
    if (nowMs - this.lastAckMs >= this.opts.ackIntervalMs) {
      this.lastAckMs = nowMs;
      this.ackClients(knobs.slowClients, dead);
    }
  }

  /** burst appends `count` events to `streamId` at once (the `append_burst` knob). */
  burst(streamId: string, count: number, nowMs: number): number {
    let appended = 0;
    for (let i = 0; i < count; i += 1) {
      if (this.publish(this.makeEvent(streamId, nowMs), 0)) appended += 1;
    }
    return appended;
  }

  private applyClients(dtMs: number, slowClients: readonly string[], deadClients: readonly string[]): void {
    for (const c of this.opts.clients) {
      if (deadClients.includes(c.id)) continue;
      const rate = slowClients.includes(c.id) ? (this.opts.slowApplyPerSecond ?? 0) : c.applyPerSecond;
      const cursors = this.cursors.get(c.id) as Map<string, ClientCursor>;
      for (const [streamId, cur] of cursors) {
        const { headSeq, oldestSeq } = this.module.stream(streamId);
        if (oldestSeq !== null && cur.applied < oldestSeq - 1) {
          // Stale cursor (retention_floor_breach): reset and take a fresh snapshot at the head.
          this.staleCursorResets += 1;
          cur.applied = headSeq;
          cur.credit = 0;
          continue;
        }
        // A stuck client applies nothing, not even credit left from its healthy pace.
        if (rate === 0) cur.credit = 0;
        cur.credit += (rate * dtMs) / 1000;
        const n = Math.min(Math.floor(cur.credit), headSeq - cur.applied);
        if (n > 0) {
          cur.applied += n;
          cur.credit -= n;
        }
        if (cur.applied >= headSeq) cur.credit = Math.min(cur.credit, 1);
      }
    }
  }

  private ackClients(slowClients: readonly string[], deadClients: readonly string[]): void {
    for (const c of this.opts.clients) {
      if (deadClients.includes(c.id)) continue;
      // A slow client is alive: it re-acks its (unmoved) checkpoint every interval.
      const always = slowClients.includes(c.id);
      for (const [streamId, cur] of this.cursors.get(c.id) as Map<string, ClientCursor>) {
        if (always || cur.applied !== cur.acked) {
          this.module.ack(c.id, streamId, cur.applied);
          cur.acked = cur.applied;
        }
      }
    }
  }

  /** clients reports each simulated client's cursors and lag (head − acked checkpoint). */
  clients(slowClients: readonly string[], deadClients: readonly string[] = []): ClientState[] {
    return this.opts.clients.map((c) => {
      const streams: ClientStreamState[] = [];
      for (const [streamId, cur] of this.cursors.get(c.id) as Map<string, ClientCursor>) {
        const { headSeq } = this.module.stream(streamId);
        // Lag is measured against the acked checkpoint: what `stream_checkpoint` shows the sentinel.
        streams.push({ stream_id: streamId, last_applied_seq: cur.applied, acked_seq: cur.acked, lag: Math.max(0, headSeq - cur.acked) });
      }
      return { client_id: c.id, slow: slowClients.includes(c.id), dead: deadClients.includes(c.id), streams, max_lag: streams.reduce((m, s) => Math.max(m, s.lag), 0) };
    });
  }

  /** maxReplayLag is the largest lag of any connected (not dead) simulated client on any stream. */
  maxReplayLag(slowClients: readonly string[], deadClients: readonly string[] = []): number {
    return this.clients(slowClients, deadClients).filter((c) => !c.dead).reduce((m, c) => Math.max(m, c.max_lag), 0);
  }
}
