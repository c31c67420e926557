/**
 * PrometheusHttpSource: a QuerySource over a Prometheus HTTP API (`POST /api/v1/query`,
 * `POST /api/v1/query_range`, form-encoded as Prometheus' own web UI and Grafana send them), for
 * a sentinel that evaluates its rules, drill conditions and gate where the team's data already
 * is. Each request is bounded by `timeoutMs` (also sent as the API's `timeout` parameter, so the
 * server gives up too) and its answer by MAX_QUERY_ANSWER_BYTES. Anything but a `{"status":"success"}` answer of the expected shape is an
 * error naming the endpoint and what to do; credentials are read at every request and never
 * appear in an error.
 *
 * The answer's JSON is read back into the engine's `QueryValue`: sample values as the API prints
 * them (Prometheus `util/jsonutil/marshal.go`: decimal text, `NaN`, `+Inf`, `-Inf`), timestamps
 * as Unix seconds with millisecond precision.
 */
import { ExchangeError, httpExchange } from '../net/index.js';
import type { ExchangeResponse } from '../net/index.js';
import type { Labels } from './queryable.js';
import type { QueryResult, QueryValue } from './types.js';
import type { QuerySource } from './query-source.js';

/** HttpCredential is a fixed string or a secret read at every request (a config `Secret`). */
export type HttpCredential = string | { reveal(): string };

/** PrometheusHttpSourceOptions locate the API and bound each request. */
export interface PrometheusHttpSourceOptions {
  /** url is the API's base, e.g. https://prometheus.example (the `/api/v1/...` paths are added). */
  readonly url: string;
  readonly timeoutMs: number;
  readonly bearerToken?: HttpCredential;
  readonly basicAuth?: { readonly username: string; readonly password: HttpCredential };
  /** userAgent identifies the sentinel to the server. */
  readonly userAgent?: string;
}

/** MAX_ERROR_TEXT bounds how much of a server's error is quoted. */
const MAX_ERROR_TEXT = 300;

/**
 * MAX_QUERY_ANSWER_BYTES caps one query's answer: an instant vector over as many series as the
 * sentinel's own store may hold (`storage.max_series`, 50,000) at ~200 bytes of JSON each is
 * 10 MB; a larger answer is a query that should aggregate, not one the sidecar should hold.
 */
const MAX_QUERY_ANSWER_BYTES = 16 * 1024 * 1024;

function reveal(c: HttpCredential): string {
  return typeof c === 'string' ? c : c.reveal();
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** parseApiValue reads a sample value as the Prometheus API prints it. */
export function parseApiValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const v = Number(text);
  if (text.trim() === '' || Number.isNaN(v)) throw new Error(`sample value ${JSON.stringify(text)} is not a number`);
  return v;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function labelsOf(metric: unknown): Labels {
  if (!isRecord(metric)) throw new Error('a series has no metric labels');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metric)) {
    if (typeof v !== 'string') throw new Error(`label ${k} is not a string`);
    out[k] = v;
  }
  return out;
}

function pairOf(pair: unknown): { t: number; v: number } {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'string') throw new Error('a sample is not [seconds, "value"]');
  return { t: Math.round(pair[0] * 1000), v: parseApiValue(pair[1]) };
}

/** fromApiQueryData reads the `data` of a query or query_range answer into a QueryValue. */
export function fromApiQueryData(data: unknown): QueryValue {
  if (!isRecord(data) || typeof data.resultType !== 'string') throw new Error('the answer has no data.resultType');
  const { resultType, result } = data;
  switch (resultType) {
    case 'vector':
      if (!Array.isArray(result)) throw new Error('a vector answer has no result list');
      return {
        type: 'vector',
        samples: result.map((r: unknown) => {
          if (!isRecord(r)) throw new Error('a vector element is not an object');
          const { t, v } = pairOf(r.value);
          return { labels: labelsOf(r.metric), t, v };
        }),
      };
    case 'matrix':
      if (!Array.isArray(result)) throw new Error('a matrix answer has no result list');
      return {
        type: 'matrix',
        series: result.map((r: unknown) => {
          if (!isRecord(r) || !Array.isArray(r.values)) throw new Error('a matrix series has no values');
          return { labels: labelsOf(r.metric), points: r.values.map(pairOf) };
        }),
      };
    case 'scalar': {
      const { t, v } = pairOf(result);
      return { type: 'scalar', t, v };
    }
    case 'string': {
      if (!Array.isArray(result) || typeof result[0] !== 'number' || typeof result[1] !== 'string') throw new Error('a string answer is not [seconds, "text"]');
      return { type: 'string', t: Math.round(result[0] * 1000), v: result[1] };
    }
    default:
      throw new Error(`unknown resultType ${JSON.stringify(resultType)}`);
  }
}

/** PrometheusHttpSource queries one Prometheus HTTP API. */
export class PrometheusHttpSource implements QuerySource {
  readonly description: string;
  private readonly base: string;

  constructor(private readonly options: PrometheusHttpSourceOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.description = `Prometheus at ${this.base}`;
  }

  instantQuery(expr: string, tMs: number, signal?: AbortSignal): Promise<QueryResult> {
    return this.post('query', { query: expr, time: seconds(tMs) }, signal);
  }

  rangeQuery(expr: string, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<QueryResult> {
    return this.post('query_range', { query: expr, start: seconds(startMs), end: seconds(endMs), step: seconds(stepMs) }, signal);
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    const { bearerToken, basicAuth } = this.options;
    if (basicAuth) headers.authorization = `Basic ${Buffer.from(`${basicAuth.username}:${reveal(basicAuth.password)}`).toString('base64')}`;
    else if (bearerToken) headers.authorization = `Bearer ${reveal(bearerToken)}`;
    return headers;
  }

  private async post(path: 'query' | 'query_range', params: Record<string, string>, signal: AbortSignal | undefined): Promise<QueryResult> {
    const endpoint = `${this.base}/api/v1/${path}`;
    const what = `query source ${endpoint}`;
    let headers: Record<string, string>;
    try {
      headers = this.headers();
    } catch (err) {
      throw new Error(`${what}: cannot read its credential (${(err as Error).message})`, { cause: err });
    }
    const body = new URLSearchParams({ ...params, timeout: `${this.options.timeoutMs / 1000}s` }).toString();
    let res: ExchangeResponse;
    try {
      res = await httpExchange({ method: 'POST', url: new URL(endpoint), headers, body, timeoutMs: this.options.timeoutMs, maxResponseBytes: MAX_QUERY_ANSWER_BYTES, signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(`${what}: canceled`);
      if (!(err instanceof ExchangeError)) throw new Error(`${what}: cannot send the query (${(err as Error).message}); check query_source.url`, { cause: err });
      switch (err.failure) {
        case 'timeout':
          throw new Error(`${what}: no answer within ${this.options.timeoutMs} ms (query_source.timeout); is the server overloaded or the query too heavy?`, { cause: err });
        case 'too_large':
          throw new Error(`${what}: the answer (HTTP ${err.status ?? 0}) is over the ${MAX_QUERY_ANSWER_BYTES / 1024 / 1024} MiB cap on a query answer; make the query return fewer series (aggregate it, e.g. sum by (...), or narrow its label matchers)`, { cause: err });
        default:
          throw new Error(`${what}: cannot reach it (${err.message}); check query_source.url and that Prometheus is up`, { cause: err });
      }
    }
    const text = res.body.toString('utf8');
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new Error(`${what}: HTTP ${res.status}, not a Prometheus API answer (${text.replace(/\s+/g, ' ').slice(0, MAX_ERROR_TEXT)}); is query_source.url the server's base URL?`);
    }
    if (!isRecord(answer) || answer.status !== 'success') {
      const detail = isRecord(answer) && typeof answer.error === 'string' ? `${typeof answer.errorType === 'string' ? `${answer.errorType}: ` : ''}${answer.error.slice(0, MAX_ERROR_TEXT)}` : text.slice(0, MAX_ERROR_TEXT);
      const hint = res.status === 401 || res.status === 403 ? ' (check query_source.bearer_token or basic_auth)' : '';
      throw new Error(`${what}: HTTP ${res.status}: ${detail}${hint}`);
    }
    let value: QueryValue;
    try {
      value = fromApiQueryData(answer.data);
    } catch (err) {
      throw new Error(`${what}: unexpected answer: ${(err as Error).message}`, { cause: err });
    }
    const warnings = Array.isArray(answer.warnings) ? answer.warnings.filter((w): w is string => typeof w === 'string') : [];
    return { value, warnings };
  }
}
