/**
 * notifier: the `Notifier` interface every alert delivery channel implements, the alert shape it
 * receives, and the pieces the channels share (fingerprints, RFC 3339 times, metrics, HTTP POST).
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { AlertmanagerError } from '../errors.js';
import { ExchangeError, httpExchange } from '../net/index.js';
import type { ExchangeResponse } from '../net/index.js';
import type { Labels } from '../store/types.js';

/**
 * NotifiableAlert is one alert as handed to the notifiers, in Alertmanager's terms: `labels`
 * already carry `alertname` and the external labels, `endsAtMs` is the lease of a firing alert
 * (evalTime + 4 × max(interval, resendDelay)) or the `ResolvedAt` of a resolved one.
 */
export interface NotifiableAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
  /** startsAtMs is `FiredAt`: when the alert became firing, not when it became pending. */
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly generatorURL: string;
  /** isResolved is true once the alert's condition stopped holding (`endsAtMs` = ResolvedAt). */
  readonly isResolved: boolean;
}

/** NotifyOutcome is what `Notifier.send` did with a batch; delivery failures are values, not throws. */
export interface NotifyOutcome {
  /** accepted alerts were delivered (log) or durably queued for delivery (network notifiers). */
  readonly accepted: number;
  /** skipped alerts needed no message (for example a webhook repeat inside `repeatIntervalMs`). */
  readonly skipped: number;
  /** dropped alerts were pushed out of a full queue (oldest first). */
  readonly dropped: number;
}

/**
 * Notifier is one delivery channel (Alertmanager v2, webhook, log). `send` never throws because a
 * receiver is down: network notifiers queue durably and deliver in the background between
 * `start()` and `stop()`; `flush` waits until the queue is empty or the deadline passes.
 */
export interface Notifier {
  readonly name: string;
  send(alerts: readonly NotifiableAlert[], signal?: AbortSignal): Promise<NotifyOutcome>;
  start(): Promise<void>;
  /** stop ends background delivery; queued alerts stay on disk for the next start. */
  stop(deadlineMs: number): Promise<void>;
  /** flush resolves true when everything queued was delivered before `deadlineMs` (epoch ms). */
  flush(deadlineMs: number): Promise<boolean>;
  /** queueLength is how many alerts wait for delivery (0 for notifiers without a queue). */
  queueLength(): number;
}

/** NotificationResults is the closed vocabulary of `sentinel_notifications_total{result}`. */
export const NotificationResults = ['sent', 'failed', 'rejected', 'dropped', 'expired', 'logged'] as const;
export type NotificationResult = (typeof NotificationResults)[number];

/** NotifierMetrics are the counters and gauges shared by every notifier on one registry. */
export interface NotifierMetrics {
  /** notifications counts alerts per notifier and result (`failed` counts failed attempts). */
  readonly notifications: Counter<'notifier' | 'result'>;
  readonly queueLength: Gauge<'notifier'>;
}

const queueSources = new WeakMap<Registry, Map<string, () => number>>();

/**
 * notifierMetrics returns the notifier metrics of `registry`, creating them on first use, and
 * registers `queueLength` as the source of `sentinel_notification_queue_length{notifier=name}`.
 * Several notifiers share one registry, so the metrics are looked up rather than re-created.
 */
export function notifierMetrics(registry: Registry, name?: string, queueLength?: () => number): NotifierMetrics {
  let sources = queueSources.get(registry);
  if (!sources) {
    sources = new Map();
    queueSources.set(registry, sources);
  }
  if (name !== undefined && queueLength) sources.set(name, queueLength);
  const existingCounter = registry.getSingleMetric('sentinel_notifications_total') as Counter<'notifier' | 'result'> | undefined;
  const notifications =
    existingCounter ??
    new Counter({
      name: 'sentinel_notifications_total',
      help: 'Alerts handled by each notifier, by result (sent, failed attempt, rejected by the receiver, dropped from a full queue, expired, logged).',
      labelNames: ['notifier', 'result'],
      registers: [registry],
    });
  const existingGauge = registry.getSingleMetric('sentinel_notification_queue_length') as Gauge<'notifier'> | undefined;
  const ownSources = sources;
  const queueGauge =
    existingGauge ??
    new Gauge({
      name: 'sentinel_notification_queue_length',
      help: 'Alerts waiting in the durable delivery queue of each notifier.',
      labelNames: ['notifier'],
      registers: [registry],
      collect() {
        for (const [notifier, length] of ownSources) this.set({ notifier }, length());
      },
    });
  return { notifications, queueLength: queueGauge };
}

const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const MASK64 = (1n << 64n) - 1n;
const encoder = new TextEncoder();

function fnvAdd(hash: bigint, bytes: Uint8Array): bigint {
  let h = hash;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * FNV_PRIME) & MASK64;
  }
  return h;
}

/**
 * alertFingerprint is Alertmanager's fingerprint of a label set (prometheus/common
 * `LabelSet.Fingerprint`: FNV-1a 64 over sorted name, 0xff, value, 0xff), as 16 hex digits.
 */
export function alertFingerprint(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let h = FNV_OFFSET;
  const sep = new Uint8Array([0xff]);
  for (const name of names) {
    h = fnvAdd(h, encoder.encode(name));
    h = fnvAdd(h, sep);
    h = fnvAdd(h, encoder.encode(labels[name]));
    h = fnvAdd(h, sep);
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * formatGoTime prints epoch ms the way Go marshals a `time.Time` to JSON (RFC 3339 in UTC with
 * trailing zero fractions removed: `2026-11-25T17:24:40Z`, `...:40.5Z`), as Alertmanager does.
 */
export function formatGoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d*?)0+Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

/**
 * SecretLike is a credential revealed only where it is sent (a config `Secret`), at every send,
 * so a rotated secret file is in effect at the next delivery.
 */
export interface SecretLike {
  reveal(): string;
}

/** MAX_RECEIVER_ANSWER_BYTES bounds what a receiver's answer may hold (Alertmanager answers a few bytes). */
const MAX_RECEIVER_ANSWER_BYTES = 1 << 20;

/** PostJsonOptions bound one HTTP POST of a notifier. */
export interface PostJsonOptions {
  readonly timeoutMs: number;
  /** bearerToken is read at every POST; one that cannot be read fails the delivery, which is retried. */
  readonly bearerToken?: string | SecretLike;
  readonly signal?: AbortSignal;
  readonly userAgent?: string;
}

/**
 * postJson POSTs `body` as JSON and resolves on a 2xx answer; anything else rejects with an
 * `AlertmanagerError` naming the endpoint (never the token) and the status.
 */
export async function postJson(url: string, body: unknown, options: PostJsonOptions): Promise<void> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': options.userAgent ?? 'spacetime-sentinel',
  };
  const bearerToken = typeof options.bearerToken === 'string' ? options.bearerToken : options.bearerToken?.reveal();
  if (bearerToken) headers.authorization = `Bearer ${bearerToken}`;
  let res: ExchangeResponse;
  try {
    res = await httpExchange({ method: 'POST', url: new URL(url), headers, body: JSON.stringify(body), timeoutMs: options.timeoutMs, maxResponseBytes: MAX_RECEIVER_ANSWER_BYTES, signal: options.signal });
  } catch (err) {
    const reason = err instanceof ExchangeError && err.failure === 'timeout' ? `timed out after ${options.timeoutMs} ms` : err instanceof ExchangeError && err.failure === 'too_large' ? `answered with more than ${MAX_RECEIVER_ANSWER_BYTES} bytes` : 'could not be reached';
    throw new AlertmanagerError(`POST ${redactUrl(url)} ${reason}; check that the receiver is up and the URL is right`, { cause: err });
  }
  if (res.status < 200 || res.status > 299) {
    throw new AlertmanagerError(`POST ${redactUrl(url)} answered ${res.status}: ${res.body.toString('utf8').slice(0, 200).trim()}`, { status: res.status });
  }
}

/** redactUrl drops user info and the query string, which may hold credentials, from a URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
