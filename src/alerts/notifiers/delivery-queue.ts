/**
 * delivery-queue: the durable, bounded queue between `Notifier.send` and the network, and the
 * loop that drains it with retries. An item is removed only after its receiver answered 2xx, so
 * a receiver outage (or a sentinel restart) loses nothing; past the bound the oldest go first.
 */
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import pino from 'pino';
import type { Logger } from 'pino';
import { trace } from '@opentelemetry/api';
import type { Attributes, Tracer } from '@opentelemetry/api';
import { AlertmanagerError } from '../../errors.js';
import type { Registry } from 'prom-client';
import type { Clock } from '../../time/index.js';
import type { NotifierMetrics, SecretLike } from '../notifier.js';
import { withSpan } from '../../telemetry/index.js';
import { openSqliteFile } from '../../store/index.js';

/** QueuedItem is one entry of a `DeliveryQueue`: its row id, coalescing key and payload. */
export interface QueuedItem<T> {
  readonly id: number;
  readonly key: string | null;
  readonly enqueuedAtMs: number;
  readonly item: T;
}

/** DeliveryQueueOptions configure one durable queue. */
export interface DeliveryQueueOptions {
  /** path is the queue's sqlite file (`:memory:` for a queue that need not survive). */
  readonly path: string;
  /** maxItems bounds the queue; pushing past it drops the oldest items (default 10000, as Prometheus). */
  readonly maxItems?: number;
}

interface Row {
  id: number;
  key: string | null;
  enqueued_at_ms: number;
  body: string;
}

/**
 * DeliveryQueue is a FIFO of JSON payloads kept in a sqlite file (WAL, synchronous=NORMAL, so a
 * crash of the process loses nothing committed). Items pushed with a key replace a queued item
 * with the same key: a newer copy of the same alert supersedes the older one, which keeps an
 * outage from filling the queue with resends.
 */
export class DeliveryQueue<T> {
  readonly maxItems: number;
  private readonly db: SqliteDatabase;
  private readonly insert: Statement<[string | null, number, string]>;
  private readonly deleteKey: Statement<[string]>;
  private readonly deleteId: Statement<[number]>;
  private readonly count: Statement<[], { n: number }>;
  private readonly head: Statement<[number], Row>;
  private readonly dropOldest: Statement<[number], { n: number }>;
  private readonly deleteOlder: Statement<[number]>;
  private readonly getMeta: Statement<[string], { body: string }>;
  private readonly putMeta: Statement<[string, string]>;

  constructor(options: DeliveryQueueOptions) {
    this.maxItems = options.maxItems ?? 10_000;
    if (!Number.isInteger(this.maxItems) || this.maxItems < 1) {
      throw new AlertmanagerError(`delivery queue ${options.path}: maxItems must be a positive integer, got ${options.maxItems}`);
    }
    this.db = openSqliteFile(options.path);
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, enqueued_at_ms INTEGER NOT NULL, body TEXT NOT NULL);' +
        'CREATE INDEX IF NOT EXISTS items_key ON items(key);' +
        'CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, body TEXT NOT NULL);',
    );
    this.getMeta = this.db.prepare('SELECT body FROM meta WHERE name = ?');
    this.putMeta = this.db.prepare('INSERT INTO meta (name, body) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET body = excluded.body');
    this.insert = this.db.prepare('INSERT INTO items (key, enqueued_at_ms, body) VALUES (?, ?, ?)');
    this.deleteKey = this.db.prepare('DELETE FROM items WHERE key = ?');
    this.deleteId = this.db.prepare('DELETE FROM items WHERE id = ?');
    this.count = this.db.prepare('SELECT count(*) AS n FROM items');
    this.head = this.db.prepare('SELECT id, key, enqueued_at_ms, body FROM items ORDER BY id LIMIT ?');
    this.dropOldest = this.db.prepare('DELETE FROM items WHERE id IN (SELECT id FROM items ORDER BY id LIMIT ?) RETURNING 1 AS n');
    this.deleteOlder = this.db.prepare('DELETE FROM items WHERE enqueued_at_ms < ?');
  }

  /** push appends items in one transaction and returns how many old items the bound pushed out. */
  push(items: ReadonlyArray<{ readonly key?: string; readonly item: T }>, nowMs: number): { dropped: number } {
    const tx = this.db.transaction(() => {
      for (const { key, item } of items) {
        if (key !== undefined) this.deleteKey.run(key);
        this.insert.run(key ?? null, nowMs, JSON.stringify(item));
      }
      const excess = this.count.get()!.n - this.maxItems;
      return excess > 0 ? this.dropOldest.all(excess).length : 0;
    });
    return { dropped: tx() };
  }

  /**
   * pushWithState is `push` plus saving a notifier's bookkeeping (`state`, JSON) in the same
   * transaction, so "queued" and "remembered as sent" can never disagree after a crash.
   */
  pushWithState(items: ReadonlyArray<{ readonly key?: string; readonly item: T }>, nowMs: number, stateName: string, state: unknown): { dropped: number } {
    return this.db.transaction(() => {
      this.putMeta.run(stateName, JSON.stringify(state));
      return this.push(items, nowMs);
    })();
  }

  /** loadState returns the bookkeeping saved by `pushWithState`, or undefined. */
  loadState(stateName: string): unknown {
    const row = this.getMeta.get(stateName);
    return row ? (JSON.parse(row.body) as unknown) : undefined;
  }

  /** peek returns up to `limit` of the oldest items without removing them. */
  peek(limit: number): QueuedItem<T>[] {
    return this.head.all(limit).map((r) => ({ id: r.id, key: r.key, enqueuedAtMs: r.enqueued_at_ms, item: JSON.parse(r.body) as T }));
  }

  /** ack removes delivered items; ids already superseded or dropped are ignored. */
  ack(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.deleteId.run(id);
    })();
  }

  /** expire removes items enqueued before `cutoffMs` and returns how many. */
  expire(cutoffMs: number): number {
    return this.deleteOlder.run(cutoffMs).changes;
  }

  /** length is the number of queued items. */
  get length(): number {
    // A closed queue is still asked by the metrics collector; it holds nothing we can reach.
    if (!this.db.open) return 0;
    return this.count.get()!.n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** QueuedNotifierOptions are the settings every notifier with a durable queue and an HTTP receiver shares. */
export interface QueuedNotifierOptions {
  /** name labels the notifier's metrics, logs and spans, and names its queue file. */
  readonly name?: string;
  /** bearerToken is read at every POST (a config Secret follows its rotated file). */
  readonly bearerToken?: string | SecretLike;
  /** queueDir holds the notifier's sqlite queues; undefined keeps them in memory. */
  readonly queueDir?: string;
  readonly maxQueueItems?: number;
  readonly timeoutMs?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxItemAgeMs?: number;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly logger?: Logger;
  /** tracer receives an `alerts.deliver` span per delivery attempt. */
  readonly tracer?: Tracer;
}

/**
 * countedOutcomes are the DeliveryLoop callbacks that count a notifier's delivered, failed,
 * expired and rejected alerts in `sentinel_notifications_total`.
 */
export function countedOutcomes(metrics: NotifierMetrics, notifier: string): Pick<DeliveryLoopOptions<unknown>, 'onSent' | 'onFailed' | 'onExpired' | 'onRejected'> {
  const count = (result: 'sent' | 'failed' | 'expired' | 'rejected') => (n: number) => metrics.notifications.inc({ notifier, result }, n);
  return { onSent: count('sent'), onFailed: count('failed'), onExpired: count('expired'), onRejected: count('rejected') };
}

/** DeliveryLoopOptions configure the background drain of one queue towards one receiver. */
export interface DeliveryLoopOptions<T> {
  readonly queue: DeliveryQueue<T>;
  /** deliver sends one batch; it must reject (never resolve) when the receiver did not take it. */
  readonly deliver: (items: readonly T[], signal: AbortSignal) => Promise<void>;
  readonly clock: Clock;
  /** batchSize is the most items per delivery (64, as Prometheus posts to Alertmanager). */
  readonly batchSize?: number;
  /** initialBackoffMs is the first retry delay; it doubles per failure up to maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** maxItemAgeMs is the retry deadline: items queued longer are dropped and counted as expired (default 24h). */
  readonly maxItemAgeMs?: number;
  readonly logger?: Logger;
  /** target names the receiver in logs and spans (without credentials). */
  readonly target: string;
  /**
   * tracer receives one `alerts.deliver` span per attempt (notifier, receiver, alerts, attempt,
   * result, HTTP status; never a credential). Default: the API's no-op tracer.
   */
  readonly tracer?: Tracer;
  /** notifier is the name of the notifier the loop delivers for, as the spans say it. */
  readonly notifier?: string;
  /** alertsIn counts the alerts in a batch (default: one per item). */
  readonly alertsIn?: (items: readonly T[]) => number;
  readonly onSent?: (n: number) => void;
  readonly onFailed?: (n: number, err: unknown) => void;
  readonly onExpired?: (n: number) => void;
  /** onRejected is told about a batch the receiver refused for good (dropped, not retried). */
  readonly onRejected?: (n: number, err: unknown) => void;
  /**
   * isPermanent tells failures that retrying cannot fix (default: HTTP 400, 413 or 422, e.g.
   * Alertmanager's 400 for an invalid alert). Such a batch is dropped, so one poison batch cannot
   * block every later alert behind it until its deadline. Auth and not-found answers (401, 403,
   * 404) are retried: they are configuration mistakes, and the queue keeps the alerts until fixed.
   */
  readonly isPermanent?: (err: unknown) => boolean;
}

/** isPermanentHttpFailure is the default `isPermanent`: the receiver refused the payload itself (400, 413, 422). */
export function isPermanentHttpFailure(err: unknown): boolean {
  const status = (err as { status?: unknown } | undefined)?.status;
  return status === 400 || status === 413 || status === 422;
}

/**
 * DeliveryLoop drains a `DeliveryQueue` in order: it sends the oldest batch, removes it on
 * success, and on failure waits with exponential backoff (with jitter-free doubling, so tests can
 * reason about it) and retries the same batch. It never dies on an error and never overlaps
 * itself: there is one drain at a time per queue.
 */
export class DeliveryLoop<T> {
  private readonly opts: Required<Omit<DeliveryLoopOptions<T>, 'onSent' | 'onFailed' | 'onExpired' | 'onRejected' | 'notifier'>> &
    Pick<DeliveryLoopOptions<T>, 'onSent' | 'onFailed' | 'onExpired' | 'onRejected' | 'notifier'>;
  private controller: AbortController | undefined;
  private running: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(options: DeliveryLoopOptions<T>) {
    this.opts = {
      batchSize: 64,
      initialBackoffMs: 500,
      maxBackoffMs: 30_000,
      maxItemAgeMs: 24 * 3600_000,
      logger: pino({ level: 'silent' }),
      isPermanent: isPermanentHttpFailure,
      tracer: trace.getTracer('spacetime-sentinel'),
      alertsIn: (items: readonly T[]) => items.length,
      ...options,
    };
  }

  /** start begins draining in the background (idempotent). */
  start(): void {
    if (this.running) return;
    this.controller = new AbortController();
    this.running = this.run(this.controller.signal);
  }

  /** wake tells an idle loop that items were pushed. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /** stop aborts the in-flight delivery (its items stay queued) and waits until `deadlineMs`. */
  async stop(deadlineMs: number): Promise<void> {
    if (!this.controller || !this.running) return;
    this.controller.abort(new Error('delivery loop stopped'));
    this.wake();
    const running = this.running;
    this.running = undefined;
    // Clamped: Node timers overflow past 2^31 ms (a deadline on another clock than ours).
    const waitMs = Math.min(2 ** 31 - 1, Math.max(0, deadlineMs - this.opts.clock.nowMs()));
    await Promise.race([running, new Promise<void>((r) => setTimeout(r, waitMs).unref())]);
  }

  /** flush resolves true once the queue is empty, false if `deadlineMs` passes first. */
  async flush(deadlineMs: number): Promise<boolean> {
    if (this.opts.queue.length === 0) return true;
    const ctl = new AbortController();
    const emptied = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timedOut = this.opts.clock
      .sleep(Math.max(0, deadlineMs - this.opts.clock.nowMs()), ctl.signal)
      .then(() => this.opts.queue.length === 0)
      .catch(() => false);
    this.wake();
    const result = await Promise.race([emptied, timedOut]);
    ctl.abort();
    return result;
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** deliverTraced is one delivery attempt in an `alerts.deliver` span. */
  private deliverTraced(items: readonly T[], attempt: number, signal: AbortSignal): Promise<void> {
    const attributes: Attributes = {
      'sentinel.notifier': this.opts.notifier ?? this.opts.target,
      'sentinel.notifier.receiver': this.opts.target,
      'sentinel.alerts': this.opts.alertsIn(items),
      'sentinel.notification.attempt': attempt,
    };
    return withSpan(this.opts.tracer, 'alerts.deliver', attributes, async (span) => {
      try {
        await this.opts.deliver(items, signal);
        span.setAttribute('sentinel.notification.result', 'sent');
      } catch (err) {
        const status = (err as { status?: unknown } | undefined)?.status;
        if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
        span.setAttribute('sentinel.notification.result', signal.aborted ? 'aborted' : this.opts.isPermanent(err) ? 'rejected' : 'failed');
        throw err;
      }
    });
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { queue, clock, logger } = this.opts;
    let failures = 0;
    while (!signal.aborted) {
      const expired = queue.expire(clock.nowMs() - this.opts.maxItemAgeMs);
      if (expired > 0) {
        logger.warn({ target: this.opts.target, expired }, 'dropped queued alerts past their delivery deadline');
        this.opts.onExpired?.(expired);
      }
      const batch = queue.peek(this.opts.batchSize);
      if (batch.length === 0) {
        this.notifyIdle();
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          if (signal.aborted) resolve();
        });
        continue;
      }
      try {
        await this.deliverTraced(
          batch.map((b) => b.item),
          failures + 1,
          signal,
        );
        queue.ack(batch.map((b) => b.id));
        failures = 0;
        this.opts.onSent?.(batch.length);
      } catch (err) {
        if (signal.aborted) break;
        if (this.opts.isPermanent(err)) {
          queue.ack(batch.map((b) => b.id));
          failures = 0;
          this.opts.onRejected?.(batch.length, err);
          logger.error({ target: this.opts.target, err: (err as Error).message, dropped: batch.length }, 'receiver rejected alerts; dropped them (retrying cannot help)');
          continue;
        }
        failures += 1;
        this.opts.onFailed?.(batch.length, err);
        const backoffMs = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** Math.min(failures - 1, 30));
        logger.warn({ target: this.opts.target, err: (err as Error).message, attempt: failures, backoffMs, queued: queue.length }, 'alert delivery failed; retrying');
        try {
          await clock.sleep(backoffMs, signal);
        } catch {
          break;
        }
      }
    }
  }
}
