/**
 * RuntimeMetricsClient reads the OpenAgents runtime's sync metrics
 * (`GET <base>/internal/v1/spacetime/sync/metrics`). The route has no auth at all
 * (`apps/runtime/src/server.rs:1321-1323`, `:1621-1651` at 9b2b978949), so no bearer is sent
 * unless one is configured (a proxy in front may want one). The body publishes fewer fields than
 * the operators document, so a missing field stays missing (never 0), while a present field of
 * the wrong type is an error naming it. `route` fetches any other runtime path (health, retired
 * routes) the same way.
 */
import { ConfigError } from '../errors.js';
import { callTimeout, checkBaseUrl, checkPositive, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, joinUrl } from './call-options.js';
import type { CallOptions } from './call-options.js';
import { badResponseError, bodyExcerpt, httpRequest, parseJsonResponse, statusError } from './http-request.js';
import type { RawRouteResponse } from './control-client.js';
import { isJsonObject } from './json.js';
import { redactSecrets } from './redact.js';
import type { JsonObject, JsonValue } from './json.js';
import { bearerValue, checkFixedCredential, credentialOf } from './credential.js';
import type { Credential, CredentialInput } from './credential.js';

/** DEFAULT_METRICS_PATH is the runtime's sync metrics route. */
export const DEFAULT_METRICS_PATH = '/internal/v1/spacetime/sync/metrics';

/** KNOWN_NUMERIC_FIELDS are the published and documented numeric fields, by dotted path. */
export const KNOWN_NUMERIC_FIELDS = [
  'mirror.published_total',
  'mirror.duplicate_suppressed_total',
  'mirror.failed_total',
  'mirror.outbox_depth',
  'mirror.auth_failures_total',
  'mirror.rate_limited_failures_total',
  'mirror.network_failures_total',
  'mirror.validation_failures_total',
  'mirror.unknown_failures_total',
  'mirror.duplicate_suppression_rate_pct',
  'delivery.stream_count',
  'delivery.event_count',
  'delivery.max_replay_lag',
  'delivery.dropped_messages_total',
  'delivery.stale_cursor_events_total',
  'auth_failures.unauthorized_total',
  'auth_failures.forbidden_total',
  'auth_failures.invalid_token_total',
  'auth_failures.token_expired_total',
  'auth_failures.token_not_yet_valid_total',
  'auth_failures.token_revoked_total',
] as const;

/** RuntimeSyncMetrics is one scrape. */
export interface RuntimeSyncMetrics {
  readonly transport: string | undefined;
  readonly generatedAt: string | undefined;
  /** fields holds every numeric field present, by dotted path (`mirror.failed_total`), unknown ones included. */
  readonly fields: ReadonlyMap<string, number>;
}

/** RuntimeMetricsClientOptions configure the client. */
export interface RuntimeMetricsClientOptions {
  readonly baseUrl: string;
  /** token, when set, is sent as a Bearer token (the runtime itself ignores it), read at every request. */
  readonly token?: CredentialInput;
  readonly metricsPath?: string;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

const NAME = 'RuntimeMetricsClient';
const KNOWN = new Set<string>(KNOWN_NUMERIC_FIELDS);

/** RuntimeMetricsClient scrapes the runtime's sync metrics JSON. */
export class RuntimeMetricsClient {
  readonly baseUrl: URL;
  private readonly token: Credential | undefined;
  private readonly metricsPath: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: RuntimeMetricsClientOptions) {
    this.baseUrl = checkBaseUrl(NAME, options.baseUrl);
    checkFixedCredential(options.token, `${NAME}: token`);
    this.token = options.token === undefined ? undefined : credentialOf(options.token);
    this.metricsPath = options.metricsPath ?? DEFAULT_METRICS_PATH;
    if (!this.metricsPath.startsWith('/')) throw new ConfigError(`${NAME}: metricsPath must start with '/', got ${JSON.stringify(this.metricsPath)}`);
    this.timeoutMs = checkPositive(NAME, 'timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.maxResponseBytes = checkPositive(NAME, 'maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
  }

  /** request reads the token for one request; `secrets` are the values to keep out of messages. */
  private request(): { headers: Record<string, string>; secrets: string[] } {
    if (this.token === undefined) return { headers: { Accept: 'application/json' }, secrets: [] };
    const token = bearerValue(this.token, `${NAME}: token`);
    return { headers: { Accept: 'application/json', Authorization: `Bearer ${token}` }, secrets: [token] };
  }

  /** fetchMetrics scrapes the endpoint once. */
  async fetchMetrics(opts?: CallOptions): Promise<RuntimeSyncMetrics> {
    const { headers, secrets } = this.request();
    const res = await httpRequest({
      method: 'GET',
      url: joinUrl(this.baseUrl, this.metricsPath),
      headers,
      timeoutMs: callTimeout(NAME, opts, this.timeoutMs),
      maxResponseBytes: this.maxResponseBytes,
      signal: opts?.signal,
      secrets,
    });
    if (res.status !== 200) throw statusError(res, secrets);
    const doc = parseJsonResponse(res, secrets);
    return parseRuntimeMetrics(doc, (what) => badResponseError(res, what, secrets));
  }

  /** route calls any runtime path and reports what it answered, whatever the status. */
  async route(path: string, opts?: CallOptions & { readonly method?: 'GET' | 'POST' }): Promise<RawRouteResponse> {
    if (!path.startsWith('/')) throw new ConfigError(`${NAME}: path must start with '/', got ${JSON.stringify(path)}`);
    const method = opts?.method ?? 'GET';
    const { headers, secrets } = this.request();
    const res = await httpRequest({
      method,
      url: joinUrl(this.baseUrl, path),
      headers: { ...headers, ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}) },
      body: method === 'POST' ? '{}' : undefined,
      timeoutMs: callTimeout(NAME, opts, this.timeoutMs),
      maxResponseBytes: this.maxResponseBytes,
      signal: opts?.signal,
      secrets,
    });
    return { status: res.status, headers: res.headers, body: redactSecrets(res.body, secrets), excerpt: bodyExcerpt(res.body, secrets) };
  }
}

/**
 * parseRuntimeMetrics reads a metrics document. `fail(what)` builds the error thrown for a
 * wrongly typed field.
 */
export function parseRuntimeMetrics(doc: JsonValue, fail: (what: string) => Error): RuntimeSyncMetrics {
  if (!isJsonObject(doc)) throw fail('expected a JSON object');
  const transport = optionalString(doc, 'transport', fail);
  const generatedAt = optionalString(doc, 'generated_at', fail);
  const fields = new Map<string, number>();
  const walk = (o: JsonObject, prefix: string, depth: number): void => {
    for (const [k, v] of Object.entries(o)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (typeof v === 'number') {
        if (prefix) fields.set(path, v);
      } else if (typeof v === 'bigint') {
        fields.set(path, Number(v));
      } else if (isJsonObject(v) && depth < 3) {
        walk(v, path, depth + 1);
      } else if (KNOWN.has(path) && v !== null) {
        throw fail(`field ${path} must be a number, got ${typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : Array.isArray(v) ? 'an array' : typeof v}`);
      }
    }
  };
  walk(doc, '', 0);
  for (const section of ['mirror', 'delivery', 'auth_failures']) {
    const v = doc[section];
    if (v !== undefined && v !== null && !isJsonObject(v)) throw fail(`field ${section} must be an object`);
  }
  return { transport, generatedAt, fields };
}

function optionalString(doc: JsonObject, key: string, fail: (what: string) => Error): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw fail(`field ${key} must be a string`);
  return v;
}
