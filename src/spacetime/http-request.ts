/**
 * One HTTP exchange with a peer of the sentinel: a deadline, the caller's abort signal, a cap on
 * the response size, and every failure turned into a `RequestError` with a code. No retries here
 * (see `withRetry`): a client that retries inside hides the failure the probe exists to see.
 */
import { RequestError } from '../errors.js';
import { ExchangeError, httpExchange } from '../net/index.js';
import type { ResponseHeaders } from '../net/index.js';
import { JsonSyntaxError, parseJsonBig } from './json.js';
import type { JsonValue } from './json.js';
import { redactSecrets } from './redact.js';

/** HttpRequest describes one call. `secrets` are scrubbed from every error message and excerpt. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** body is sent as raw bytes, so no Content-Type is implied; set one in `headers` if needed. */
  readonly body?: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly signal?: AbortSignal;
  readonly secrets?: readonly string[];
}

/** HttpResponse is a complete response whose body fit under the cap. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: string;
  /** endpoint is `METHOD url` with any query string dropped (tokens travel there). */
  readonly endpoint: string;
}

/** EXCERPT_CHARS bounds how much of an error body goes into a message. */
export const EXCERPT_CHARS = 200;

/** describeEndpoint names an endpoint for messages: method, origin and path, no query, no userinfo. */
export function describeEndpoint(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

/** bodyExcerpt shortens a response body for an error message, with secrets removed. */
export function bodyExcerpt(body: string, secrets: readonly string[] = []): string {
  const flat = redactSecrets(body, secrets).replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** httpRequest performs the exchange; it resolves for every status and rejects only on transport failure. */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const endpoint = describeEndpoint(req.method, req.url);
  const secrets = req.secrets ?? [];
  try {
    const res = await httpExchange(req);
    return { status: res.status, headers: res.headers, body: res.body.toString('utf8'), endpoint };
  } catch (err) {
    if (!(err instanceof ExchangeError)) throw err;
    switch (err.failure) {
      case 'timeout':
        throw new RequestError('SENTINEL_TIMEOUT', endpoint, `${endpoint}: no complete response within ${req.timeoutMs} ms`, { cause: err });
      case 'aborted':
        throw new RequestError('SENTINEL_ABORTED', endpoint, `${endpoint}: request ${err.message}`, { cause: err.cause });
      case 'too_large':
        throw new RequestError('SENTINEL_RESPONSE_TOO_LARGE', endpoint, `${endpoint}: ${err.message}`, { status: err.status });
      case 'unreachable':
        throw new RequestError('SENTINEL_UNREACHABLE', endpoint, `${endpoint}: cannot reach the service (${redactSecrets(err.message, secrets)}); check the URL and that the service is running`, { cause: err });
    }
  }
}

/** statusError is the RequestError for an HTTP status the caller did not expect, with a secret-free excerpt. */
export function statusError(res: HttpResponse, secrets: readonly string[]): RequestError {
  const excerpt = bodyExcerpt(res.body, secrets);
  return new RequestError('SENTINEL_HTTP_STATUS', res.endpoint, `${res.endpoint}: HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`, { status: res.status, excerpt });
}

/** badResponseError is the RequestError for a response whose body is not what the contract says. */
export function badResponseError(res: HttpResponse, what: string, secrets: readonly string[], cause?: unknown): RequestError {
  return new RequestError('SENTINEL_BAD_RESPONSE', res.endpoint, `${res.endpoint}: unexpected response: ${redactSecrets(what, secrets)}`, {
    status: res.status,
    excerpt: bodyExcerpt(res.body, secrets),
    cause,
  });
}

/** parseJsonResponse parses a response body as JSON (big-int safe); a syntax error is a bad response. */
export function parseJsonResponse(res: HttpResponse, secrets: readonly string[]): JsonValue {
  try {
    return parseJsonBig(res.body);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw badResponseError(res, `body is not JSON (${err.message})`, secrets, err);
    throw err;
  }
}
