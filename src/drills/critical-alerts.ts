/**
 * Critical alerts firing: the one definition the drill runner's preflight, the drill scheduler
 * and the promotion gate share, with one fail-closed policy. An alert counts when it is firing
 * and labelled `severity="critical"` (the shipped rules' convention). Where the alerts come from
 * is a `FiringAlertsSource`: the rule manager's ALERTS series in the daemon's own store, or a
 * running daemon's `GET /api/v1/alerts` (Prometheus' alerts API shape) for commands that run
 * outside it. Any failure to read them (a query error, a daemon that does not answer, an answer
 * that is not what the API promises) is `error`, and every caller refuses on `error`.
 */
import { ExchangeError, httpExchange } from '../net/index.js';
import type { ExchangeResponse } from '../net/index.js';
import type { Labels } from '../store/index.js';
import type { ConditionQueryFn } from './conditions.js';

/** CRITICAL_ALERTS_QUERY selects the firing alerts in the store that count as critical. */
export const CRITICAL_ALERTS_QUERY = 'ALERTS{alertstate="firing",severity="critical"}';

/** FiringAlertsSource lists the alerts firing now, with their labels; it throws when it cannot. */
export interface FiringAlertsSource {
  /** description names the source for messages, e.g. "the daemon at http://127.0.0.1:9464". */
  readonly description: string;
  firingAlerts(tMs: number, signal: AbortSignal): Promise<readonly Labels[]>;
}

/** CriticalAlertsCheck is the answer: clear, firing (with alert names), or error (refuse). */
export type CriticalAlertsCheck =
  | { readonly status: 'clear'; readonly source: string }
  | { readonly status: 'firing'; readonly source: string; readonly alerts: readonly string[] }
  | { readonly status: 'error'; readonly source: string; readonly reason: string };

/** isCriticalFiring is the definition: an alert's labels mark it critical. */
export function isCriticalFiring(labels: Labels): boolean {
  return labels.severity === 'critical';
}

/**
 * checkCriticalAlerts reads `source` and never throws: every failure becomes `error`, which the
 * callers treat as a refusal (fail closed), never as "no alerts".
 */
export async function checkCriticalAlerts(source: FiringAlertsSource, tMs: number, signal: AbortSignal): Promise<CriticalAlertsCheck> {
  let alerts: readonly Labels[];
  try {
    alerts = await source.firingAlerts(tMs, signal);
  } catch (err) {
    return { status: 'error', source: source.description, reason: `cannot check firing critical alerts (${source.description}): ${(err as Error).message}` };
  }
  const critical = alerts.filter(isCriticalFiring).map((l) => l.alertname ?? '(unnamed)');
  return critical.length === 0 ? { status: 'clear', source: source.description } : { status: 'firing', source: source.description, alerts: [...new Set(critical)].sort() };
}

/** queryAlertsSource reads the ALERTS series the rule manager writes into the store. */
export function queryAlertsSource(query: ConditionQueryFn, description = "the sentinel's own store (ALERTS)"): FiringAlertsSource {
  return {
    description,
    async firingAlerts(tMs) {
      const value = (await query(CRITICAL_ALERTS_QUERY, tMs)).value;
      if (value.type !== 'vector') throw new Error(`the ALERTS query answered a ${value.type}, not a vector`);
      return value.samples.map((s) => s.labels);
    },
  };
}

/** DaemonAlertsSourceOptions locate a running daemon. */
export interface DaemonAlertsSourceOptions {
  /** baseUrl is the daemon's HTTP address, e.g. http://127.0.0.1:9464. */
  readonly baseUrl: string;
  /** adminToken is sent as a bearer token when configured (never logged). */
  readonly adminToken?: string;
  /** timeoutMs bounds the request (default 5000). */
  readonly timeoutMs?: number;
}

/** MAX_ALERTS_ANSWER_BYTES caps the daemon's alerts list: thousands of alerts of a few hundred bytes each fit many times over. */
const MAX_ALERTS_ANSWER_BYTES = 8 * 1024 * 1024;

/** DEFAULT_ALERTS_TIMEOUT_MS bounds the request when the caller names no timeout. */
const DEFAULT_ALERTS_TIMEOUT_MS = 5000;

interface ApiAlert {
  readonly labels?: unknown;
  readonly state?: unknown;
}

/** daemonAlertsSource asks a running daemon's `GET /api/v1/alerts` (Prometheus' alerts API). */
export function daemonAlertsSource(options: DaemonAlertsSourceOptions): FiringAlertsSource {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/api/v1/alerts`;
  return {
    description: `the sentinel daemon at ${url}`,
    async firingAlerts(_tMs, signal) {
      let res: ExchangeResponse;
      try {
        res = await httpExchange({
          method: 'GET',
          url: new URL(url),
          headers: { accept: 'application/json', ...(options.adminToken ? { authorization: `Bearer ${options.adminToken}` } : {}) },
          timeoutMs: options.timeoutMs ?? DEFAULT_ALERTS_TIMEOUT_MS,
          maxResponseBytes: MAX_ALERTS_ANSWER_BYTES,
          signal,
        });
      } catch (err) {
        if (err instanceof ExchangeError && err.failure === 'too_large') throw new Error(`HTTP ${err.status ?? 0}: the answer is over the ${MAX_ALERTS_ANSWER_BYTES / 1024 / 1024} MiB cap on an alerts list; is that address really the sentinel daemon?`, { cause: err });
        throw new Error(`no answer (${(err as Error).message}); start the daemon (sentinel run) with this configuration, or pass --skip-alert-check to run without the check`, { cause: err });
      }
      const text = res.body.toString('utf8');
      if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      let body: { status?: unknown; data?: { alerts?: unknown } };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new Error('the answer is not JSON; is that address really the sentinel daemon?');
      }
      if (body.status !== 'success' || !Array.isArray(body.data?.alerts)) throw new Error('the answer is not a Prometheus alerts list ({"status":"success","data":{"alerts":[...]}})');
      const firing: Labels[] = [];
      for (const a of body.data.alerts as ApiAlert[]) {
        if (typeof a !== 'object' || a === null || typeof a.labels !== 'object' || a.labels === null) throw new Error('an alert in the answer has no labels');
        if (a.state === 'firing') firing.push(a.labels as Labels);
      }
      return firing;
    },
  };
}
