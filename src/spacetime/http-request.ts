/**
 * One HTTP exchange with a peer of the sentinel: a deadline, the caller's abort signal, a cap on
 * the response size, and every failure turned into a `RequestError` with a code. No retries here
 * (see `withRetry`): a client that retries inside hides the failure the probe exists to see.
 */
import { RequestError } from '../errors.js';
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
  readonly headers: Headers;
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

const TIMEOUT = Symbol('timeout');

/** httpRequest performs the exchange; it resolves for every status and rejects only on transport failure. */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const endpoint = describeEndpoint(req.method, req.url);
  const secrets = req.secrets ?? [];
  if (req.signal?.aborted) {
    throw new RequestError('SENTINEL_ABORTED', endpoint, `${endpoint}: request aborted before it started`, { cause: req.signal.reason });
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(TIMEOUT), req.timeoutMs);
  const onAbort = (): void => controller.abort(req.signal?.reason);
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const failed = (err: unknown): RequestError => {
    if (err instanceof RequestError) return err;
    if (controller.signal.aborted) {
      if (controller.signal.reason === TIMEOUT) {
        return new RequestError('SENTINEL_TIMEOUT', endpoint, `${endpoint}: no complete response within ${req.timeoutMs} ms`, { cause: err });
      }
      return new RequestError('SENTINEL_ABORTED', endpoint, `${endpoint}: request aborted`, { cause: err });
    }
    const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
    const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String((cause as { code: unknown }).code) : '';
    const detail = code || (cause instanceof Error ? cause.message : String(cause));
    return new RequestError('SENTINEL_UNREACHABLE', endpoint, `${endpoint}: cannot reach the service (${redactSecrets(detail, secrets)}); check the URL and that the service is running`, { cause: err });
  };
  try {
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body === undefined ? undefined : Buffer.from(req.body, 'utf8'),
        signal: controller.signal,
        redirect: 'manual',
      });
    } catch (err) {
      throw failed(err);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > req.maxResponseBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new RequestError('SENTINEL_RESPONSE_TOO_LARGE', endpoint, `${endpoint}: response of ${declared} bytes exceeds the ${req.maxResponseBytes}-byte cap`, { status: res.status });
    }
    let body: string;
    try {
      body = await readCapped(res, req.maxResponseBytes, endpoint);
    } catch (err) {
      throw failed(err);
    }
    return { status: res.status, headers: res.headers, body, endpoint };
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

async function readCapped(res: Response, maxBytes: number, endpoint: string): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new RequestError('SENTINEL_RESPONSE_TOO_LARGE', endpoint, `${endpoint}: response exceeds the ${maxBytes}-byte cap`, { status: res.status });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
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
