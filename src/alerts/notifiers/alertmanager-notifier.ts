/**
 * alertmanager-notifier: delivers alerts to one or more Alertmanagers through `POST
 * /api/v2/alerts` (Alertmanager API v2, `api/v2/openapi.yaml` `postableAlerts`), each Alertmanager with its own durable queue, so an
 * outage of one neither loses alerts nor delays the others.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { AlertmanagerError } from '../../errors.js';
import type { Clock } from '../../time/index.js';
import { alertFingerprint, formatGoTime, notifierMetrics, postJson, redactUrl } from '../notifier.js';
import type { NotifiableAlert, Notifier, NotifyOutcome } from '../notifier.js';
import { countedOutcomes, DeliveryLoop, DeliveryQueue } from './delivery-queue.js';
import type { QueuedNotifierOptions } from './delivery-queue.js';

/** PostableAlert is one element of the `POST /api/v2/alerts` body. */
export interface PostableAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL?: string;
}

/** AlertmanagerNotifierOptions configure one Alertmanager notifier (default name `alertmanager`; one queue per URL under `queueDir`). */
export interface AlertmanagerNotifierOptions extends QueuedNotifierOptions {
  /** urls are the Alertmanagers' base URLs (`http://host:9093`, optionally with a path prefix). */
  readonly urls: readonly string[];
}

/** toPostableAlert renders a `NotifiableAlert` in the Alertmanager v2 API's JSON shape. */
export function toPostableAlert(alert: NotifiableAlert): PostableAlert {
  const labels: Record<string, string> = {};
  // Alertmanager drops empty-valued labels itself; dropping them here keeps fingerprints equal.
  for (const [k, v] of Object.entries(alert.labels)) if (v !== '' && k !== '__name__') labels[k] = v;
  return {
    labels,
    annotations: { ...alert.annotations },
    startsAt: formatGoTime(alert.startsAtMs),
    endsAt: formatGoTime(alert.endsAtMs),
    ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
  };
}

interface Target {
  readonly url: string;
  readonly queue: DeliveryQueue<PostableAlert>;
  readonly loop: DeliveryLoop<PostableAlert>;
}

/**
 * AlertmanagerNotifier queues every alert it is given for every configured Alertmanager and
 * POSTs them in batches of at most 64. A queued copy of the same alert (same labels and
 * `startsAt`) is replaced by the newer one, since Alertmanager keeps only the latest `endsAt`.
 */
export class AlertmanagerNotifier implements Notifier {
  readonly name: string;
  private readonly targets: Target[];
  private readonly clock: Clock;
  private readonly metrics: ReturnType<typeof notifierMetrics>;
  private readonly logger: Logger;

  constructor(options: AlertmanagerNotifierOptions) {
    this.name = options.name ?? 'alertmanager';
    this.clock = options.clock;
    if (options.urls.length === 0) throw new AlertmanagerError(`notifier '${this.name}': list at least one Alertmanager URL`);
    const logger = options.logger ?? pino({ level: 'silent' });
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.metrics = notifierMetrics(options.registry, this.name, () => this.queueLength());
    this.targets = options.urls.map((base) => {
      let endpoint: string;
      try {
        const u = new URL(base);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
        endpoint = `${u.origin}${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
      } catch (err) {
        throw new AlertmanagerError(`notifier '${this.name}': Alertmanager URL ${redactUrl(base)} is not an http(s) URL; write it like http://host:9093`, { cause: err });
      }
      const id = createHash('sha256').update(endpoint).digest('hex').slice(0, 12);
      const queue = new DeliveryQueue<PostableAlert>({
        path: options.queueDir ? join(options.queueDir, `${this.name}-${id}.sqlite`) : ':memory:',
        maxItems: options.maxQueueItems,
      });
      const loop = new DeliveryLoop<PostableAlert>({
        queue,
        clock: options.clock,
        logger,
        target: redactUrl(endpoint),
        notifier: this.name,
        ...(options.tracer ? { tracer: options.tracer } : {}),
        initialBackoffMs: options.initialBackoffMs,
        maxBackoffMs: options.maxBackoffMs,
        maxItemAgeMs: options.maxItemAgeMs,
        deliver: (items, signal) => postJson(endpoint, items, { timeoutMs, bearerToken: options.bearerToken, signal }),
        ...countedOutcomes(this.metrics, this.name),
      });
      return { url: endpoint, queue, loop };
    });
    this.logger = logger;
  }

  async send(alerts: readonly NotifiableAlert[]): Promise<NotifyOutcome> {
    if (alerts.length === 0) return { accepted: 0, skipped: 0, dropped: 0 };
    const items = alerts.map((a) => {
      const item = toPostableAlert(a);
      return { key: `${alertFingerprint(item.labels)}@${item.startsAt}`, item };
    });
    let dropped = 0;
    const nowMs = this.clock.nowMs();
    for (const t of this.targets) {
      const result = t.queue.push(items, nowMs);
      if (result.dropped > 0) {
        dropped += result.dropped;
        this.metrics.notifications.inc({ notifier: this.name, result: 'dropped' }, result.dropped);
        this.logger.warn({ notifier: this.name, target: redactUrl(t.url), dropped: result.dropped, maxItems: t.queue.maxItems }, 'delivery queue full; dropped the oldest alerts');
      }
      t.loop.wake();
    }
    return { accepted: alerts.length, skipped: 0, dropped };
  }

  async start(): Promise<void> {
    for (const t of this.targets) t.loop.start();
  }

  async stop(deadlineMs: number): Promise<void> {
    await Promise.all(this.targets.map((t) => t.loop.stop(deadlineMs)));
    for (const t of this.targets) t.queue.close();
  }

  async flush(deadlineMs: number): Promise<boolean> {
    const results = await Promise.all(this.targets.map((t) => t.loop.flush(deadlineMs)));
    return results.every(Boolean);
  }

  queueLength(): number {
    let n = 0;
    for (const t of this.targets) n += t.queue.length;
    return n;
  }
}
