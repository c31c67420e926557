/**
 * RemoteWriter: sends every sample the probes record to one Prometheus remote-write endpoint
 * (protocol 1.0). It listens to the store's commits (`tapAppends`), keeps what the store took in
 * a durable, bounded queue (`RemoteWriteQueue`), and drains the queue in order from one loop:
 *
 * - one request at a time (shard-less), oldest first, so each series reaches the receiver in
 *   time order: a receiver refuses out-of-order samples, and a restart resumes where it stopped;
 * - a request holds up to `maxSamplesPerSend` samples and leaves once it is full or its oldest
 *   sample has waited `batchSendDeadlineMs` (Prometheus' `batch_send_deadline`);
 * - 5xx, 429 and transport failures are retried with exponential backoff from `minBackoffMs` to
 *   `maxBackoffMs`, or after the receiver's Retry-After when it sends one (capped at
 *   MAX_RETRY_AFTER_MS); any other 4xx drops the request, counted, and logged once per status
 *   (retrying cannot fix it, and it would block every later sample);
 * - past `capacity` queued samples the oldest are dropped, counted and logged.
 *
 * Rule output (ALERTS, recording rules) is not sent, as it is not on /metrics: the receiving
 * side evaluates the same rule files over the same samples.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { labelsKey } from '../store/index.js';
import type { AppendResult, Labels, LabelMatcher, SampleStore } from '../store/index.js';
import type { Clock } from '../time/index.js';
import type { AppendListener, TappedSample } from './append-tap.js';
import { RemoteWriteClient } from './remote-write-client.js';
import type { CredentialSource, SendOutcome } from './remote-write-client.js';
import type { RemoteWriteMetrics } from './remote-write-metrics.js';
import { encodeWriteRequest } from './remote-write-proto.js';
import type { WriteSeries } from './remote-write-proto.js';
import { RemoteWriteQueue } from './remote-write-queue.js';
import type { PendingSend } from './remote-write-queue.js';

/** MAX_RETRY_AFTER_MS caps a receiver's Retry-After, so a bogus value cannot park the queue for days. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** RemoteWriteQueueSettings are Prometheus' queue_config knobs that apply to one shard-less queue. */
export interface RemoteWriteQueueSettings {
  /** capacity bounds the samples kept on disk while the endpoint does not take them. */
  readonly capacity: number;
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadlineMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** RemoteWriterOptions configure one endpoint. */
export interface RemoteWriterOptions {
  /** name is the endpoint's `remote_name` label and its queue file's name. */
  readonly name: string;
  readonly url: string;
  readonly timeoutMs: number;
  readonly basicAuth?: { readonly username: string; readonly password: CredentialSource };
  readonly bearerToken?: CredentialSource;
  /** externalLabels are added to every series sent; a series' own label of the same name wins. */
  readonly externalLabels: Labels;
  readonly queue: RemoteWriteQueueSettings;
  /** queueFile is the queue's SQLite file (`:memory:` for none). */
  readonly queueFile: string;
  /** store tells which samples of a batch it took, when it refused some. */
  readonly store: Pick<SampleStore, 'select'>;
  readonly clock: Clock;
  readonly metrics: RemoteWriteMetrics;
  readonly userAgent: string;
  readonly logger?: Logger;
}

/** RemoteWriter is an AppendListener and a daemon component (start, stop, isReady). */
export class RemoteWriter implements AppendListener {
  readonly name: string;
  private readonly logger: Logger;
  private readonly client: RemoteWriteClient;
  private readonly labels: { readonly remote_name: string; readonly url: string };
  private queue: RemoteWriteQueue | undefined;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wakeUp: AbortController | undefined;
  private idleWaiters: Array<() => void> = [];
  /** fillingSinceMs is when the oldest unsent sample was queued, as far as this process knows. */
  private fillingSinceMs: number | undefined;
  /** waiting says what the loop waits for: new samples, a batch to fill, or a retry's backoff. */
  private waiting: 'work' | 'fill' | 'backoff' | undefined;
  /** isFlushing sends partial batches at once (flush and shutdown). */
  private isFlushing = false;
  private highestSentMs = -Infinity;
  /** refusalsLogged are the HTTP statuses whose refusal was logged (once per status, then counted only). */
  private readonly refusalsLogged = new Set<number>();
  /** isQueueFullLogged: the current run of capacity drops was logged (reset by a successful send). */
  private isQueueFullLogged = false;

  constructor(private readonly options: RemoteWriterOptions) {
    this.name = `remote-write ${options.name}`;
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ remote_name: options.name, url: options.url });
    this.client = new RemoteWriteClient({
      url: options.url,
      timeoutMs: options.timeoutMs,
      userAgent: options.userAgent,
      ...(options.basicAuth ? { basicAuth: options.basicAuth } : {}),
      ...(options.bearerToken ? { bearerToken: options.bearerToken } : {}),
    });
    this.labels = { remote_name: options.name, url: options.url };
  }

  /** pending is the number of samples queued and not yet accepted. */
  get pending(): number {
    return this.queue?.pending ?? 0;
  }

  async start(): Promise<void> {
    this.queue = new RemoteWriteQueue({ path: this.options.queueFile, capacity: this.options.queue.capacity });
    this.options.metrics.samplesPending.set(this.labels, this.queue.pending);
    if (this.queue.pending > 0) this.logger.info({ pending: this.queue.pending }, 'remote write resumes samples queued before the restart');
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal);
    return Promise.resolve();
  }

  isReady(): boolean {
    return this.queue !== undefined;
  }

  /**
   * stop sends what it can for half the time left until `deadlineMs` (the queue survives anyway,
   * unless it lives in memory), then aborts the send in flight and closes the queue. The waits are
   * on real timers: a shutdown deadline is wall-clock time, whatever clock drives the batching.
   */
  async stop(deadlineMs: number): Promise<void> {
    if (!this.controller || !this.loop) return;
    const { clock } = this.options;
    const budgetMs = (): number => Math.min(2 ** 31 - 1, Math.max(0, deadlineMs - clock.nowMs()));
    if (this.pending > 0) await this.drainWithin(budgetMs() / 2);
    this.controller.abort(new Error('remote write stopped'));
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, budgetMs())))]);
    clearTimeout(timer);
    this.loop = undefined;
    this.queue?.close();
    this.queue = undefined;
    this.options.metrics.samplesPending.set(this.labels, 0);
  }

  /** flush resolves true once every queued sample was accepted or dropped, false at `deadlineMs` (on the clock). */
  async flush(deadlineMs: number): Promise<boolean> {
    const ctl = new AbortController();
    const timedOut = this.options.clock
      .sleep(Math.max(0, deadlineMs - this.options.clock.nowMs()), ctl.signal)
      .then(() => this.pending === 0)
      .catch(() => false);
    try {
      return await this.drainUntil(timedOut);
    } finally {
      ctl.abort();
    }
  }

  private async drainWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(this.pending === 0), ms)));
    try {
      return await this.drainUntil(timedOut);
    } finally {
      clearTimeout(timer);
    }
  }

  /** drainUntil sends partial batches at once until the queue is empty or `timedOut` settles. */
  private async drainUntil(timedOut: Promise<boolean>): Promise<boolean> {
    if (this.pending === 0) return true;
    const emptied = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    this.isFlushing = true;
    if (this.waiting !== 'backoff') this.wake();
    try {
      return await Promise.race([emptied, timedOut]);
    } finally {
      this.isFlushing = false;
    }
  }

  onCommit(samples: readonly TappedSample[], result: AppendResult): void {
    const queue = this.queue;
    if (!queue || samples.length === 0) return;
    const stored = result.appended === samples.length ? samples : samples.filter((s) => this.isStored(s));
    if (stored.length === 0) return;
    const { metrics } = this.options;
    try {
      const rows = this.encode(stored);
      const { dropped } = queue.push(rows);
      metrics.samplesIn.inc(this.labels, stored.length);
      if (dropped > 0) {
        metrics.samplesDropped.inc({ ...this.labels, reason: 'queue_full' }, dropped);
        // Once per outage: the counter keeps the total, the log says it started.
        if (!this.isQueueFullLogged) this.logger.warn({ dropped, capacity: queue.capacity }, 'remote-write queue full: dropping the oldest samples until the endpoint takes them again (counted in sentinel_remote_storage_samples_dropped_total{reason="queue_full"})');
        this.isQueueFullLogged = true;
      }
    } catch (err) {
      metrics.samplesDropped.inc({ ...this.labels, reason: 'queue_error' }, stored.length);
      this.logger.error({ err, dropped: stored.length }, 'remote-write queue could not store samples; dropped them');
      return;
    }
    metrics.samplesPending.set(this.labels, queue.pending);
    let maxT = -Infinity;
    for (const s of stored) maxT = Math.max(maxT, s.t);
    metrics.highestTimestampIn.set(this.labels, maxT / 1000);
    this.fillingSinceMs ??= this.options.clock.nowMs();
    // A retry's backoff is never cut short: the receiver asked for the pause.
    if (this.waiting === 'work' || (this.waiting === 'fill' && queue.pending >= this.options.queue.maxSamplesPerSend)) this.wake();
  }

  /** encode groups samples by series and encodes rows of at most maxSamplesPerSend samples. */
  private encode(samples: readonly TappedSample[]): Array<{ samples: number; maxT: number; body: Uint8Array }> {
    const bySeries = new Map<string, { labels: Labels; samples: Array<{ t: number; v: number; isStale: boolean }> }>();
    for (const s of samples) {
      const key = labelsKey(s.labels);
      let entry = bySeries.get(key);
      if (!entry) {
        entry = { labels: { ...this.options.externalLabels, ...s.labels }, samples: [] };
        bySeries.set(key, entry);
      }
      entry.samples.push({ t: s.t, v: s.v, isStale: s.isStale });
    }
    const max = this.options.queue.maxSamplesPerSend;
    const rows: Array<{ samples: number; maxT: number; body: Uint8Array }> = [];
    let row: WriteSeries[] = [];
    let count = 0;
    let maxT = -Infinity;
    const flushRow = (): void => {
      if (count === 0) return;
      rows.push({ samples: count, maxT, body: encodeWriteRequest(row) });
      row = [];
      count = 0;
      maxT = -Infinity;
    };
    for (const series of bySeries.values()) {
      for (let i = 0; i < series.samples.length; i += max) {
        const part = series.samples.slice(i, i + max);
        if (count + part.length > max) flushRow();
        row.push({ labels: series.labels, samples: part });
        count += part.length;
        for (const p of part) maxT = Math.max(maxT, p.t);
      }
    }
    flushRow();
    return rows;
  }

  /** isStored asks the store whether it holds `s` (only when a commit refused some samples). */
  private isStored(s: TappedSample): boolean {
    const matchers: LabelMatcher[] = Object.entries(s.labels).map(([name, value]) => ({ name, type: '=', value }));
    const key = labelsKey(s.labels);
    for (const series of this.options.store.select(matchers, s.t, s.t)) {
      if (labelsKey(series.labels) !== key) continue;
      return series.samples.some((x) => x.t === Math.round(s.t) && (s.isStale ? x.stale === true : x.stale !== true && Object.is(x.v, s.v)));
    }
    return false;
  }

  private wake(): void {
    this.wakeUp?.abort();
  }

  /** pause sleeps `ms` (Infinity: until woken) unless woken or stopped first; false when stopped. */
  private async pause(ms: number, signal: AbortSignal, waiting: 'work' | 'fill' | 'backoff'): Promise<boolean> {
    if (signal.aborted) return false;
    // One controller per pause, linked to the loop's signal by a listener removed afterwards (no
    // AbortSignal.any on the long-lived signal, which would keep one dependent per pause).
    const wake = new AbortController();
    const onStop = (): void => wake.abort();
    signal.addEventListener('abort', onStop, { once: true });
    this.wakeUp = wake;
    this.waiting = waiting;
    try {
      if (ms === Infinity) await new Promise<void>((resolve) => wake.signal.addEventListener('abort', () => resolve(), { once: true }));
      else await this.options.clock.sleep(ms, wake.signal).catch(() => undefined);
    } finally {
      signal.removeEventListener('abort', onStop);
      if (this.wakeUp === wake) {
        this.wakeUp = undefined;
        this.waiting = undefined;
      }
    }
    return !signal.aborted;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { clock, queue: settings } = this.options;
    let failures = 0;
    while (!signal.aborted) {
      const queue = this.queue;
      if (!queue) return;
      let send: PendingSend | undefined;
      try {
        send = queue.next(settings.maxSamplesPerSend);
      } catch (err) {
        this.logger.error({ err }, 'remote-write queue unreadable; retrying');
        if (!(await this.pause(settings.maxBackoffMs, signal, 'backoff'))) return;
        continue;
      }
      if (!send) {
        this.fillingSinceMs = undefined;
        for (const w of this.idleWaiters.splice(0)) w();
        if (!(await this.pause(Infinity, signal, 'work'))) return;
        continue;
      }
      // Not full yet: give the batch until its deadline to fill (Prometheus' batch_send_deadline).
      const since = this.fillingSinceMs ?? clock.nowMs();
      this.fillingSinceMs = since;
      const waitMs = since + settings.batchSendDeadlineMs - clock.nowMs();
      if (send.samples < settings.maxSamplesPerSend && waitMs > 0 && !this.isFlushing) {
        if (!(await this.pause(waitMs, signal, 'fill'))) return;
        continue;
      }
      const outcome = await this.attempt(send, signal);
      if (outcome === undefined) return;
      if (outcome.kind === 'retry') {
        failures += 1;
        const backoffMs = outcome.retryAfterMs !== undefined ? Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS) : Math.min(settings.maxBackoffMs, settings.minBackoffMs * 2 ** Math.min(failures - 1, 30));
        this.options.metrics.samplesRetried.inc(this.labels, send.samples);
        // The first failure of an outage is a warning, the retries that follow are debug lines.
        const level = failures === 1 ? 'warn' : 'debug';
        this.logger[level]({ reason: outcome.reason, attempt: failures, backoffMs, pending: queue.pending }, 'remote write failed; retrying with backoff');
        if (!(await this.pause(backoffMs, signal, 'backoff'))) return;
        continue;
      }
      if (failures > 0 && outcome.kind === 'sent') this.logger.info({ attempts: failures + 1, pending: queue.pending }, 'remote write recovered');
      if (outcome.kind === 'sent') this.isQueueFullLogged = false;
      failures = 0;
      queue.ack(send);
      this.fillingSinceMs = queue.pending > 0 ? clock.nowMs() : undefined;
      this.options.metrics.samplesPending.set(this.labels, queue.pending);
    }
  }

  /** attempt sends one request and records its outcome; undefined when the loop was stopped. */
  private async attempt(send: PendingSend, signal: AbortSignal): Promise<SendOutcome | undefined> {
    const { metrics, clock } = this.options;
    const end = metrics.sendDuration.startTimer(this.labels);
    let outcome: SendOutcome;
    try {
      outcome = await this.client.send(send.body, signal, clock.nowMs());
    } catch (err) {
      if (signal.aborted) return undefined;
      outcome = { kind: 'retry', reason: (err as Error).message };
    } finally {
      end();
    }
    if (outcome.kind === 'sent') {
      metrics.samplesSent.inc(this.labels, send.samples);
      metrics.bytesSent.inc(this.labels, outcome.bytes);
      this.highestSentMs = Math.max(this.highestSentMs, send.maxT);
      metrics.highestSentTimestamp.set(this.labels, this.highestSentMs / 1000);
    } else if (outcome.kind === 'rejected') {
      metrics.samplesFailed.inc(this.labels, send.samples);
      // Logged once per status: a receiver that refuses every request would otherwise fill the
      // log; sentinel_remote_storage_samples_failed_total keeps the count.
      if (!this.refusalsLogged.has(outcome.status)) {
        this.refusalsLogged.add(outcome.status);
        this.logger.error({ reason: outcome.reason, status: outcome.status, dropped: send.samples }, 'remote storage refused samples; dropped them (retrying cannot help; further refusals with this status are counted in sentinel_remote_storage_samples_failed_total, not logged)');
      }
    }
    return outcome;
  }
}
