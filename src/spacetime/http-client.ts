/**
 * SpacetimeHttpClient speaks SpacetimeDB 2.0.x's HTTP API (2.0.x
 * `crates/client-api/src/routes/database.rs`): `/sql` with a
 * raw-text body, reducer calls with `Content-Type: application/json` and an argument array,
 * ping, health, identity and database info. It never retries; wrap calls in `withRetry`.
 */
import { ConfigError, ReducerError, RequestError } from '../errors.js';
import { callTimeout, checkBaseUrl, checkPositive, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, joinUrl } from './call-options.js';
import type { CallOptions } from './call-options.js';
import { badResponseError, bodyExcerpt, httpRequest, parseJsonResponse, statusError } from './http-request.js';
import type { HttpRequest, HttpResponse } from './http-request.js';
import { isJsonObject } from './json.js';
import type { JsonValue } from './json.js';
import { decodeRow, normalizeIdentity, productElements, SatsDecodeError } from './sats.js';
import type { Column, SatsValue } from './sats.js';
import { redactSecrets } from './redact.js';
import { bearerValue, checkFixedCredential, credentialOf } from './credential.js';
import type { Credential, CredentialInput } from './credential.js';

/** SpacetimeHttpClientOptions configure one client for one database. */
export interface SpacetimeHttpClientOptions {
  /** baseUrl is the host, e.g. `https://spacetime.staging.example` (a path prefix is kept). */
  readonly baseUrl: string;
  /** database is the name (or 64-hex identity) in `/v1/database/:name_or_identity`. */
  readonly database: string;
  /**
   * token is sent as `Authorization: Bearer`, read at every request (a rotated secret file is in
   * effect at the next one); absent means every request is a fresh anonymous identity.
   */
  readonly token?: CredentialInput;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

/** SqlResult is one statement's result, rows decoded against its schema and keyed by column. */
export interface SqlResult {
  readonly columns: readonly Column[];
  readonly rows: ReadonlyArray<Readonly<Record<string, SatsValue>>>;
  readonly totalDurationMicros: number | undefined;
}

/** ReducerCallResult is a successful (200, empty body) reducer call. */
export interface ReducerCallResult {
  /** identity is the caller identity the server used (from `spacetime-identity`). */
  readonly identity: string | undefined;
  readonly executionDurationMicros: number | undefined;
}

/** HealthInfo is `GET /v1/health` (standalone servers only). */
export interface HealthInfo {
  readonly packageName: string | undefined;
  readonly version: string | undefined;
  readonly schedulable: boolean | undefined;
  readonly raw: JsonValue;
}

/** IdentityInfo is a freshly minted identity and its token (`POST /v1/identity`). */
export interface IdentityInfo {
  readonly identity: string;
  readonly token: string;
}

/** DatabaseInfo is `GET /v1/database/:db`. */
export interface DatabaseInfo {
  readonly databaseIdentity: string;
  readonly ownerIdentity: string;
  readonly hostType: string | undefined;
}

/** RawResponse is a status and a short, secret-free excerpt of the body. */
export interface RawResponse {
  readonly status: number;
  readonly excerpt: string;
  readonly contentType: string | undefined;
}

const NAME = 'SpacetimeHttpClient';

/** SpacetimeHttpClient is a client of one SpacetimeDB database over HTTP. */
export class SpacetimeHttpClient {
  readonly baseUrl: URL;
  readonly database: string;
  private readonly token: Credential | undefined;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: SpacetimeHttpClientOptions) {
    this.baseUrl = checkBaseUrl(NAME, options.baseUrl);
    if (!options.database || /[/?#\s]/.test(options.database)) {
      throw new ConfigError(`${NAME}: database must be a database name or identity, got ${JSON.stringify(options.database)}`);
    }
    this.database = options.database;
    checkFixedCredential(options.token, `${NAME}: token`);
    this.token = options.token === undefined ? undefined : credentialOf(options.token);
    this.timeoutMs = checkPositive(NAME, 'timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.maxResponseBytes = checkPositive(NAME, 'maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
  }

  /** sql runs one SQL statement (`POST /v1/database/:db/sql`, raw text body). */
  async sql(query: string, opts?: CallOptions): Promise<SqlResult> {
    const res = await this.send('POST', this.dbPath('/sql'), opts, { body: query });
    this.expectStatus(res, 200);
    const doc = this.parseJson(res);
    const first = Array.isArray(doc) ? doc[0] : undefined;
    if (!isJsonObject(first) || !isJsonObject(first.schema) || !Array.isArray(first.rows)) {
      throw this.badResponse(res, 'expected an array of statement results with schema and rows');
    }
    try {
      const columns = productElements(first.schema);
      const rows = first.rows.map((r, i) => decodeRow(columns, r, `rows[${i}]`));
      const dur = first.total_duration_micros;
      return { columns, rows, totalDurationMicros: typeof dur === 'number' ? dur : undefined };
    } catch (err) {
      if (err instanceof SatsDecodeError) throw this.badResponse(res, err.message, err);
      throw err;
    }
  }

  /**
   * sqlCount runs a `SELECT COUNT(*) AS n FROM …` and returns the single count. The alias is
   * mandatory in SpacetimeDB 2.0.
   */
  async sqlCount(query: string, opts?: CallOptions): Promise<number> {
    const result = await this.sql(query, opts);
    const row = result.rows[0];
    const col = result.columns[0];
    const v = row !== undefined && col !== undefined ? row[col.name] : undefined;
    if (result.rows.length !== 1 || result.columns.length !== 1 || typeof v !== 'number') {
      throw new RequestError('SENTINEL_BAD_RESPONSE', this.endpoint('POST', '/sql'), `${this.endpoint('POST', '/sql')}: expected one count, got ${result.rows.length} rows`);
    }
    return v;
  }

  /**
   * callReducer calls a reducer with its arguments in declaration order. Success is a 200 with
   * an empty body (a reducer's return value never reaches the caller); a 530 is the reducer's own
   * error and becomes a `ReducerError` carrying its text.
   */
  async callReducer(name: string, args: readonly JsonValue[] | Readonly<Record<string, JsonValue>>, opts?: CallOptions): Promise<ReducerCallResult> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`${NAME}: reducer name ${JSON.stringify(name)} is not an identifier`);
    const res = await this.send('POST', this.dbPath(`/call/${name}`), opts, {
      body: stringifyArgs(args),
      headers: { 'Content-Type': 'application/json' },
    });
    if (res.status === 530) {
      throw new ReducerError(res.endpoint, name, redactSecrets(res.body, this.secrets()).trim(), { status: 530 });
    }
    this.expectStatus(res, 200);
    const dur = Number(res.headers.get('spacetime-execution-duration-micros') ?? NaN);
    return {
      identity: res.headers.get('spacetime-identity') ?? undefined,
      executionDurationMicros: Number.isFinite(dur) ? dur : undefined,
    };
  }

  /** ping is `GET /v1/ping`: 200 with an empty body when the host is up. */
  async ping(opts?: CallOptions): Promise<void> {
    const res = await this.send('GET', '/v1/ping', opts);
    this.expectStatus(res, 200);
  }

  /** health is `GET /v1/health` (standalone servers; Maincloud may answer 404). */
  async health(opts?: CallOptions): Promise<HealthInfo> {
    const res = await this.send('GET', '/v1/health', opts);
    this.expectStatus(res, 200);
    const doc = this.parseJson(res);
    if (!isJsonObject(doc)) throw this.badResponse(res, 'expected a JSON object');
    return {
      packageName: typeof doc.package_name === 'string' ? doc.package_name : undefined,
      version: typeof doc.version === 'string' ? doc.version : undefined,
      schedulable: typeof doc.schedulable === 'boolean' ? doc.schedulable : undefined,
      raw: doc,
    };
  }

  /** identity mints a new identity and token (`POST /v1/identity`, no auth). */
  async identity(opts?: CallOptions): Promise<IdentityInfo> {
    const res = await this.send('POST', '/v1/identity', opts, { anonymous: true });
    this.expectStatus(res, 200);
    const doc = this.parseJson(res);
    if (!isJsonObject(doc) || typeof doc.identity !== 'string' || typeof doc.token !== 'string' || doc.token === '') {
      throw this.badResponse(res, 'expected {"identity": "<hex>", "token": "<jwt>"}');
    }
    try {
      return { identity: normalizeIdentity(doc.identity), token: doc.token };
    } catch (err) {
      throw this.badResponse(res, 'identity is not 64 hex digits', err);
    }
  }

  /** databaseInfo is `GET /v1/database/:db`: the database and owner identities. */
  async databaseInfo(opts?: CallOptions): Promise<DatabaseInfo> {
    const res = await this.send('GET', this.dbPath(''), opts);
    this.expectStatus(res, 200);
    const doc = this.parseJson(res);
    if (!isJsonObject(doc)) throw this.badResponse(res, 'expected a JSON object');
    try {
      const hostType = isJsonObject(doc.host_type) ? Object.keys(doc.host_type)[0] : undefined;
      return {
        databaseIdentity: normalizeIdentity(doc.database_identity, 'database_identity'),
        ownerIdentity: normalizeIdentity(doc.owner_identity, 'owner_identity'),
        hostType,
      };
    } catch (err) {
      if (err instanceof SatsDecodeError) throw this.badResponse(res, err.message, err);
      throw err;
    }
  }

  /** rawGet fetches any path on the host and reports status and an excerpt, for route checks. */
  async rawGet(path: string, opts?: CallOptions): Promise<RawResponse> {
    if (!path.startsWith('/')) throw new ConfigError(`${NAME}: path must start with '/', got ${JSON.stringify(path)}`);
    const res = await this.send('GET', path, opts);
    return { status: res.status, excerpt: bodyExcerpt(res.body, this.secrets()), contentType: res.headers.get('content-type') ?? undefined };
  }

  private dbPath(suffix: string): string {
    return `/v1/database/${encodeURIComponent(this.database)}${suffix}`;
  }

  private endpoint(method: string, suffix: string): string {
    const url = joinUrl(this.baseUrl, this.dbPath(suffix));
    return `${method} ${url.origin}${url.pathname}`;
  }

  /** secrets are the values to keep out of messages: the token as it is now, when it can be read. */
  private secrets(): string[] {
    try {
      return this.token ? [this.token.reveal()] : [];
    } catch {
      return [];
    }
  }

  private send(method: HttpRequest['method'], path: string, opts: CallOptions | undefined, extra?: { body?: string; headers?: Record<string, string>; anonymous?: boolean }): Promise<HttpResponse> {
    const headers: Record<string, string> = { Accept: 'application/json, text/plain', ...extra?.headers };
    if (this.token && !extra?.anonymous) {
      try {
        headers.Authorization = `Bearer ${bearerValue(this.token, `${NAME}: token`)}`;
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return httpRequest({
      method,
      url: joinUrl(this.baseUrl, path),
      headers,
      body: extra?.body,
      timeoutMs: callTimeout(NAME, opts, this.timeoutMs),
      maxResponseBytes: this.maxResponseBytes,
      signal: opts?.signal,
      secrets: this.secrets(),
    });
  }

  private expectStatus(res: HttpResponse, status: number): void {
    if (res.status !== status) throw statusError(res, this.secrets());
  }

  private parseJson(res: HttpResponse): JsonValue {
    return parseJsonResponse(res, this.secrets());
  }

  private badResponse(res: HttpResponse, what: string, cause?: unknown): RequestError {
    return badResponseError(res, what, this.secrets(), cause);
  }
}

/** stringifyArgs renders reducer arguments; bigint values are written as exact JSON integers. */
export function stringifyArgs(args: readonly JsonValue[] | Readonly<Record<string, JsonValue>>): string {
  const marks: string[] = [];
  const text = JSON.stringify(args, (_k, v: unknown) => {
    if (typeof v === 'bigint') {
      marks.push(v.toString());
      return `\u0000big${marks.length - 1}\u0000`;
    }
    return v;
  });
  return marks.length === 0 ? text : text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]);
}
