/**
 * ControlClient talks to the OpenAgents control service: mint a sync token
 * (`POST /api/sync/token`), read the control status (`GET /api/v1/control/status`, which takes a
 * Bearer *session* token, never a PAT: `apps/openagents.com/service/src/lib.rs:14529-14540` at
 * 9b2b978949), and fetch any route to check what it answers (retired routes, health). It returns
 * the documents as received; judging the contract is the probes' job.
 */
import { ConfigError } from '../errors.js';
import type { RequestError } from '../errors.js';
import type { ResponseHeaders } from '../net/index.js';
import { callTimeout, checkBaseUrl, checkPositive, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, joinUrl } from './call-options.js';
import type { CallOptions } from './call-options.js';
import { badResponseError, bodyExcerpt, httpRequest, parseJsonResponse, statusError } from './http-request.js';
import type { HttpRequest, HttpResponse } from './http-request.js';
import { isJsonObject } from './json.js';
import { redactSecrets } from './redact.js';
import type { JsonObject } from './json.js';
import { bearerValue, checkFixedCredential, credentialOf } from './credential.js';
import type { Credential, CredentialInput } from './credential.js';

/** SYNC_TOKEN_PATH is the one live token route; the retired aliases must answer 404. */
export const SYNC_TOKEN_PATH = '/api/sync/token';

/** CONTROL_STATUS_PATH is the control status route. */
export const CONTROL_STATUS_PATH = '/api/v1/control/status';

/** SyncTokenResponse is the `data` object of a token grant; `token` is a secret: never log it. */
export interface SyncTokenResponse {
  readonly token: string;
  readonly data: JsonObject;
}

/** ControlStatus is the `data` object of the status route, with the cutover fields picked out. */
export interface ControlStatus {
  readonly data: JsonObject;
  readonly defaultTransport: string | undefined;
  readonly syncTokenRoute: string | undefined;
}

/** RawRouteResponse is what a route answered, for route checks: status, headers and body. */
export interface RawRouteResponse {
  readonly status: number;
  /** headers are the response headers (lower-case names). */
  readonly headers: ResponseHeaders;
  /** body is the response body as text, secrets removed. */
  readonly body: string;
  /** excerpt is a short one-line form of the body for messages. */
  readonly excerpt: string;
}

/** SyncTokenRequest is the optional body of a mint (`SyncTokenRequestPayload`); absent fields are left out. */
export interface SyncTokenRequest {
  readonly scopes?: readonly string[];
  readonly topics?: readonly string[];
  readonly ttl_seconds?: number;
  readonly device_id?: string;
}

/** RouteRequestOptions say how to call a route in a route check. */
export interface RouteRequestOptions extends CallOptions {
  /** authenticated adds the session token (default false: retired routes need no auth). */
  readonly authenticated?: boolean;
  readonly method?: 'GET' | 'POST';
  /** jsonBody is sent with `content-type: application/json` (POST only). */
  readonly jsonBody?: string;
}

/** ControlClientOptions configure the client. */
export interface ControlClientOptions {
  readonly baseUrl: string;
  /** sessionToken is the Bearer session token for token minting and status, read at every request. */
  readonly sessionToken: CredentialInput;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

const NAME = 'ControlClient';

/** ControlClient is a client of the control service. */
export class ControlClient {
  readonly baseUrl: URL;
  private readonly sessionToken: Credential;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: ControlClientOptions) {
    this.baseUrl = checkBaseUrl(NAME, options.baseUrl);
    if (options.sessionToken === undefined || options.sessionToken === null) throw new ConfigError(`${NAME}: sessionToken is required`);
    checkFixedCredential(options.sessionToken, `${NAME}: sessionToken`);
    this.sessionToken = credentialOf(options.sessionToken);
    this.timeoutMs = checkPositive(NAME, 'timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.maxResponseBytes = checkPositive(NAME, 'maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
  }

  /**
   * mintSyncToken is `POST /api/sync/token` with `opts.request` as the JSON body (`{}` by
   * default); resolves with the grant's `data`, rejects with a RequestError carrying the HTTP status.
   */
  async mintSyncToken(opts?: CallOptions & { readonly request?: SyncTokenRequest }): Promise<SyncTokenResponse> {
    const res = await this.send('POST', SYNC_TOKEN_PATH, opts, true, JSON.stringify(opts?.request ?? {}));
    const data = this.dataOf(res);
    if (typeof data.token !== 'string' || data.token === '') throw this.bad(res, 'data.token is missing or not a string');
    return { token: data.token, data };
  }

  /** status is `GET /api/v1/control/status`. */
  async status(opts?: CallOptions): Promise<ControlStatus> {
    const res = await this.send('GET', CONTROL_STATUS_PATH, opts, true);
    const data = this.dataOf(res);
    const cut = data.syncCutover;
    if (cut !== undefined && !isJsonObject(cut)) throw this.bad(res, 'data.syncCutover must be an object');
    const field = (k: string): string | undefined => {
      const v = isJsonObject(cut) ? cut[k] : undefined;
      if (v !== undefined && typeof v !== 'string') throw this.bad(res, `data.syncCutover.${k} must be a string`);
      return v;
    };
    return { data, defaultTransport: field('defaultTransport'), syncTokenRoute: field('syncTokenRoute') };
  }

  /**
   * route calls a path and reports what it answered, whatever the status. Without
   * `authenticated` no credentials are sent, so the session token never goes to a route that is
   * supposed to be gone.
   */
  async route(path: string, opts: RouteRequestOptions = {}): Promise<RawRouteResponse> {
    if (!path.startsWith('/')) throw new ConfigError(`${NAME}: path must start with '/', got ${JSON.stringify(path)}`);
    const method = opts.method ?? 'GET';
    const res = await this.send(method, path, opts, opts.authenticated ?? false, method === 'POST' ? (opts.jsonBody ?? '{}') : undefined);
    const secrets = this.secrets();
    return { status: res.status, headers: res.headers, body: redactSecrets(res.body, secrets), excerpt: bodyExcerpt(res.body, secrets) };
  }

  /** secrets are the values to keep out of messages: the session token as it is now, when it can be read. */
  private secrets(): string[] {
    try {
      return [this.sessionToken.reveal()];
    } catch {
      return [];
    }
  }

  private send(method: HttpRequest['method'], path: string, opts: CallOptions | undefined, authenticated: boolean, body?: string): Promise<HttpResponse> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (authenticated) {
      try {
        headers.Authorization = `Bearer ${bearerValue(this.sessionToken, `${NAME}: sessionToken`)}`;
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return httpRequest({
      method,
      url: joinUrl(this.baseUrl, path),
      headers,
      body,
      timeoutMs: callTimeout(NAME, opts, this.timeoutMs),
      maxResponseBytes: this.maxResponseBytes,
      signal: opts?.signal,
      secrets: this.secrets(),
    });
  }

  private dataOf(res: HttpResponse): JsonObject {
    if (res.status !== 200) throw statusError(res, this.secrets());
    const doc = parseJsonResponse(res, this.secrets());
    if (!isJsonObject(doc) || !isJsonObject(doc.data)) throw this.bad(res, 'expected {"data": {...}}');
    return doc.data;
  }

  private bad(res: HttpResponse, what: string): RequestError {
    return badResponseError(res, what, this.secrets());
  }
}
