/**
 * webhook-notifier: POSTs Alertmanager's webhook payload (version 4, Alertmanager
 * `notify/webhook/webhook.go` `Message`)
 * straight to a receiver, so chat bridges and paging tools built for Alertmanager work unchanged.
 * It behaves like one Alertmanager route: alerts are grouped by `groupBy`, a group is notified
 * when an alert in it starts firing or resolves, and again every `repeatIntervalMs` while firing.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { AlertmanagerError } from '../../errors.js';
import type { Labels } from '../../store/types.js';
import { alertFingerprint, formatGoTime, notifierMetrics, postJson, redactUrl } from '../notifier.js';
import type { NotifiableAlert, Notifier, NotifyOutcome } from '../notifier.js';
import { countedOutcomes, DeliveryLoop, DeliveryQueue } from './delivery-queue.js';
import type { QueuedNotifierOptions } from './delivery-queue.js';
import { join } from 'node:path';

/** WebhookAlert is one element of the webhook payload's `alerts`. */
export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

/** WebhookMessage is Alertmanager's webhook payload, version 4, with its fields in Alertmanager's order. */
export interface WebhookMessage {
  readonly receiver: string;
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly WebhookAlert[];
  readonly groupLabels: Record<string, string>;
  readonly commonLabels: Record<string, string>;
  readonly commonAnnotations: Record<string, string>;
  readonly externalURL: string;
  readonly version: '4';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
}

/** WebhookNotifierOptions configure one webhook receiver; `name` is the `receiver` of every message. */
export interface WebhookNotifierOptions extends QueuedNotifierOptions {
  readonly url: string;
  /** groupBy are the labels alerts are grouped by (default `['alertname']`). */
  readonly groupBy?: readonly string[];
  /** repeatIntervalMs re-notifies a still-firing group (default 4h, as Alertmanager). */
  readonly repeatIntervalMs?: number;
  /** maxAlerts truncates a message's alerts (0 = no limit), counted in `truncatedAlerts`. */
  readonly maxAlerts?: number;
  /** externalURL is the sentinel's own URL, reported as the message's `externalURL`. */
  readonly externalURL?: string;
}

interface TrackedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAtMs: number;
  endsAtMs: number;
  generatorURL: string;
  isResolved: boolean;
}

interface GroupState {
  /** alerts by fingerprint: firing ones that were notified, plus resolved ones still to notify. */
  alerts: Record<string, TrackedAlert>;
  lastSentMs: number;
  isDirty: boolean;
}

interface SavedState {
  groups: Record<string, GroupState>;
}

const NULL_TIME = '0001-01-01T00:00:00Z';
const STATE_NAME = 'webhook-groups';

function labelSetString(labels: Readonly<Record<string, string>>): string {
  const parts = Object.keys(labels).map((k) => `${k}=${JSON.stringify(labels[k])}`);
  parts.sort();
  return `{${parts.join(', ')}}`;
}

function compareLabelSets(a: Labels, b: Labels): number {
  const ak = Object.keys(a).sort();
  const bk = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ak.length, bk.length); i++) {
    if (ak[i] !== bk[i]) return ak[i] < bk[i] ? -1 : 1;
    if (a[ak[i]] !== b[bk[i]]) return a[ak[i]] < b[bk[i]] ? -1 : 1;
  }
  return ak.length - bk.length;
}

/** compareWebhookAlerts orders alerts as Alertmanager does: by job, then instance, then the whole label set. */
function compareWebhookAlerts(a: WebhookAlert, b: WebhookAlert): number {
  for (const name of ['job', 'instance']) {
    const av = a.labels[name] ?? '';
    const bv = b.labels[name] ?? '';
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return compareLabelSets(a.labels, b.labels);
}

function common(maps: ReadonlyArray<Record<string, string>>): Record<string, string> {
  if (maps.length === 0) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(maps[0])) if (maps.every((m) => m[k] === v)) out[k] = v;
  return out;
}

/**
 * buildWebhookMessage renders one group's alerts as a version-4 webhook payload, truncating to
 * `maxAlerts` (common labels and annotations are computed after truncation, as Alertmanager does).
 */
export function buildWebhookMessage(options: {
  readonly receiver: string;
  readonly groupLabels: Record<string, string>;
  readonly alerts: ReadonlyArray<Omit<TrackedAlert, never>>;
  readonly externalURL: string;
  readonly maxAlerts: number;
}): WebhookMessage {
  const all = options.alerts
    .map(
      (a): WebhookAlert => ({
        status: a.isResolved ? 'resolved' : 'firing',
        labels: a.labels,
        annotations: a.annotations,
        startsAt: formatGoTime(a.startsAtMs),
        endsAt: a.isResolved ? formatGoTime(a.endsAtMs) : NULL_TIME,
        generatorURL: a.generatorURL,
        fingerprint: alertFingerprint(a.labels),
      }),
    )
    .sort(compareWebhookAlerts);
  const kept = options.maxAlerts > 0 ? all.slice(0, options.maxAlerts) : all;
  return {
    receiver: options.receiver,
    status: all.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts: kept,
    groupLabels: options.groupLabels,
    commonLabels: common(kept.map((a) => a.labels)),
    commonAnnotations: common(kept.map((a) => a.annotations)),
    externalURL: options.externalURL.replace(/\/+$/, ''),
    version: '4',
    groupKey: `{}:${labelSetString(options.groupLabels)}`,
    truncatedAlerts: all.length - kept.length,
  };
}

/**
 * WebhookNotifier groups alerts like an Alertmanager route and queues one message per group
 * change durably. Its grouping state is saved in the queue's database in the same transaction as
 * the messages, so a restart neither repeats a notification nor forgets a firing alert.
 */
export class WebhookNotifier implements Notifier {
  readonly name: string;
  private readonly opts: WebhookNotifierOptions & { groupBy: readonly string[]; repeatIntervalMs: number; maxAlerts: number };
  private readonly queue: DeliveryQueue<WebhookMessage>;
  private readonly loop: DeliveryLoop<WebhookMessage>;
  private readonly metrics: ReturnType<typeof notifierMetrics>;
  private readonly logger: Logger;
  private state: SavedState;

  constructor(options: WebhookNotifierOptions) {
    this.name = options.name ?? 'webhook';
    this.opts = { groupBy: ['alertname'], repeatIntervalMs: 4 * 3600_000, maxAlerts: 0, ...options };
    try {
      const u = new URL(options.url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch (err) {
      throw new AlertmanagerError(`notifier '${this.name}': webhook URL ${redactUrl(options.url)} is not an http(s) URL`, { cause: err });
    }
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.metrics = notifierMetrics(options.registry, this.name, () => this.queueLength());
    this.queue = new DeliveryQueue<WebhookMessage>({
      path: options.queueDir ? join(options.queueDir, `${this.name.replace(/[^A-Za-z0-9_-]/g, '_')}.sqlite`) : ':memory:',
      maxItems: options.maxQueueItems ?? 1000,
    });
    this.state = (this.queue.loadState(STATE_NAME) as SavedState | undefined) ?? { groups: {} };
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.loop = new DeliveryLoop<WebhookMessage>({
      queue: this.queue,
      clock: options.clock,
      logger: this.logger,
      target: redactUrl(options.url),
      notifier: this.name,
      ...(options.tracer ? { tracer: options.tracer } : {}),
      alertsIn: (messages) => messages.reduce((n, m) => n + m.alerts.length, 0),
      batchSize: 1,
      initialBackoffMs: options.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
      maxItemAgeMs: options.maxItemAgeMs,
      deliver: (messages, signal) =>
        postJson(options.url, messages[0], { timeoutMs, bearerToken: options.bearerToken, signal, userAgent: 'spacetime-sentinel (Alertmanager webhook v4)' }),
      ...countedOutcomes(this.metrics, this.name),
    });
  }

  async send(alerts: readonly NotifiableAlert[]): Promise<NotifyOutcome> {
    const nowMs = this.opts.clock.nowMs();
    let skipped = 0;
    for (const a of alerts) {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(a.labels)) if (v !== '' && k !== '__name__') labels[k] = v;
      const groupLabels: Record<string, string> = {};
      for (const name of this.opts.groupBy) if (labels[name] !== undefined) groupLabels[name] = labels[name];
      const groupKey = labelSetString(groupLabels);
      const group = (this.state.groups[groupKey] ??= { alerts: {}, lastSentMs: 0, isDirty: false });
      const fp = alertFingerprint(labels);
      const known = group.alerts[fp];
      const tracked: TrackedAlert = { labels, annotations: { ...a.annotations }, startsAtMs: a.startsAtMs, endsAtMs: a.endsAtMs, generatorURL: a.generatorURL, isResolved: a.isResolved };
      if (a.isResolved) {
        // Only a resolution of an alert the receiver heard firing is news; repeats are not.
        if (known && !known.isResolved && known.startsAtMs === a.startsAtMs) {
          group.alerts[fp] = tracked;
          group.isDirty = true;
        } else skipped += 1;
      } else if (!known || known.isResolved || known.startsAtMs !== a.startsAtMs) {
        group.alerts[fp] = tracked;
        group.isDirty = true;
      } else {
        group.alerts[fp] = tracked;
        skipped += 1;
      }
    }
    const messages: Array<{ item: WebhookMessage }> = [];
    for (const [groupKey, group] of Object.entries(this.state.groups)) {
      // A firing alert nobody refreshed past its lease resolved at the lease's end, as in Alertmanager.
      for (const a of Object.values(group.alerts)) {
        if (!a.isResolved && a.endsAtMs < nowMs) {
          a.isResolved = true;
          group.isDirty = true;
        }
      }
      const list = Object.values(group.alerts);
      const hasFiring = list.some((a) => !a.isResolved);
      const isRepeatDue = hasFiring && nowMs - group.lastSentMs >= this.opts.repeatIntervalMs;
      if (list.length > 0 && (group.isDirty || isRepeatDue)) {
        const groupLabels: Record<string, string> = {};
        for (const name of this.opts.groupBy) if (list[0].labels[name] !== undefined) groupLabels[name] = list[0].labels[name];
        messages.push({
          item: buildWebhookMessage({ receiver: this.name, groupLabels, alerts: list, externalURL: this.opts.externalURL ?? '', maxAlerts: this.opts.maxAlerts }),
        });
        group.lastSentMs = nowMs;
        group.isDirty = false;
        for (const [fp, a] of Object.entries(group.alerts)) if (a.isResolved) delete group.alerts[fp];
      }
      if (Object.keys(group.alerts).length === 0) delete this.state.groups[groupKey];
    }
    const { dropped } = this.queue.pushWithState(messages, nowMs, STATE_NAME, this.state);
    if (dropped > 0) {
      this.metrics.notifications.inc({ notifier: this.name, result: 'dropped' }, dropped);
      this.logger.warn({ notifier: this.name, dropped, maxItems: this.queue.maxItems }, 'webhook queue full; dropped the oldest messages');
    }
    if (messages.length > 0) this.loop.wake();
    return { accepted: alerts.length - skipped, skipped, dropped };
  }

  async start(): Promise<void> {
    this.loop.start();
  }

  async stop(deadlineMs: number): Promise<void> {
    await this.loop.stop(deadlineMs);
    this.queue.close();
  }

  flush(deadlineMs: number): Promise<boolean> {
    return this.loop.flush(deadlineMs);
  }

  queueLength(): number {
    return this.queue.length;
  }
}
