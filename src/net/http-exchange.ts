/**
 * httpExchange: one HTTP request and its whole response over `node:http`/`node:https`, bounded by
 * a deadline, the caller's abort signal and a cap on the response size. It is the sentinel's one
 * HTTP client: under the probes' clients (spacetime/http-request.ts), the notifiers, the Toxiproxy
 * driver, remote_write, the external query source and the commands that call a running daemon.
 *
 * Not the global `fetch`: in Node 20 that loads undici (`lib/internal/deps/undici/undici.js`),
 * whose first use costs the process about 2 MB of V8 heap and 15 MB of resident memory, more
 * than any other part of a sidecar whose budget is memory. `node:http` is already loaded by the
 * HTTP server and the WebSocket client. Like `fetch(url, { redirect: 'manual' })` it follows no
 * redirect and decodes no content encoding (it asks for none), and it keeps connections alive
 * between requests, dropping an idle one after FREE_SOCKET_TIMEOUT_MS (undici's default
 * keep-alive timeout, `lib/dispatcher/client.js`), before a peer's usual 5 s could close it
 * under a request.
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import { BodyTooLargeError, readCapped, readPrefix } from './read-capped.js';

/** ExchangeRequest describes one call; durations in ms. */
export interface ExchangeRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** body is sent as is (UTF-8 for a string) with its Content-Length; no Content-Type is implied. */
  readonly body?: string | Uint8Array;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /**
   * truncateOverCap keeps the first `maxResponseBytes` bytes of a longer body and resolves with
   * `truncated: true` instead of failing `too_large`; the rest is never read (the connection is
   * closed). It is for a caller that only quotes the body, as Prometheus reads a remote-write
   * refusal through an `io.LimitReader` (`storage/remote/client.go`). Off by default.
   */
  readonly truncateOverCap?: boolean;
  readonly signal?: AbortSignal;
}

/** ExchangeResponse is a complete response whose body fit under the cap, or its first bytes when `truncateOverCap` cut it. */
export interface ExchangeResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: Buffer;
  /** truncated is true when the body went past the cap and `truncateOverCap` kept its first `maxResponseBytes` bytes. */
  readonly truncated: boolean;
}

/**
 * ExchangeFailure says why no complete response arrived: `timeout` (the deadline passed),
 * `aborted` (the caller's signal), `unreachable` (connect, TLS or connection errors, a response
 * cut short), `too_large` (over the cap; `status` is the response's).
 */
export type ExchangeFailure = 'timeout' | 'aborted' | 'unreachable' | 'too_large';

/** ExchangeError carries the failure, the system error code when there is one (ECONNREFUSED), and the status for `too_large`. */
export class ExchangeError extends Error {
  constructor(
    readonly failure: ExchangeFailure,
    message: string,
    readonly code: string | undefined,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ExchangeError';
  }
}

/** ResponseHeaders reads response headers by case-insensitive name, repeated ones joined with ", " as the Fetch standard's Headers does. */
export class ResponseHeaders {
  constructor(private readonly raw: IncomingHttpHeaders = {}) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/** FREE_SOCKET_TIMEOUT_MS drops a kept-alive connection idle this long. */
const FREE_SOCKET_TIMEOUT_MS = 4000;
const httpAgent = new http.Agent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS });
const httpsAgent = new https.Agent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS });

/** httpExchange performs the call; it resolves for every status and rejects with an ExchangeError otherwise. */
export function httpExchange(req: ExchangeRequest): Promise<ExchangeResponse> {
  return new Promise<ExchangeResponse>((resolve, reject) => {
    const transport = req.url.protocol === 'https:' ? { request: https.request, agent: httpsAgent } : req.url.protocol === 'http:' ? { request: http.request, agent: httpAgent } : undefined;
    if (transport === undefined) {
      reject(new ExchangeError('unreachable', `unsupported URL scheme ${req.url.protocol} (use http: or https:)`, undefined));
      return;
    }
    if (req.signal?.aborted) {
      reject(new ExchangeError('aborted', 'aborted before it started', undefined, undefined, { cause: req.signal.reason }));
      return;
    }
    const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
    const headers: Record<string, string> = { ...req.headers };
    if (body !== undefined) headers['content-length'] = String(body.byteLength);

    let request: http.ClientRequest;
    try {
      request = transport.request(req.url, { method: req.method, headers, agent: transport.agent });
    } catch (err) {
      // A header node:http refuses (a newline in a token read from a file): Node's message names the header, never its value.
      const e = err as NodeJS.ErrnoException;
      reject(new ExchangeError('unreachable', `invalid request (${e.message})`, e.code, undefined, { cause: err }));
      return;
    }
    let done = false;
    const settle = (outcome: ExchangeResponse | ExchangeError): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof ExchangeError) {
        request.destroy();
        reject(outcome);
      } else {
        resolve(outcome);
      }
    };
    const onAbort = (): void => settle(new ExchangeError('aborted', 'aborted', undefined, undefined, { cause: req.signal?.reason }));
    const timer = setTimeout(() => settle(new ExchangeError('timeout', `no complete response within ${req.timeoutMs} ms`, undefined)), req.timeoutMs);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (err: NodeJS.ErrnoException) => settle(new ExchangeError('unreachable', err.code ?? err.message, err.code, undefined, { cause: err })));
    request.on('response', (res: IncomingMessage) => readBody(res, req.maxResponseBytes, req.truncateOverCap ?? false, settle));
    request.end(body);
  });
}

/**
 * readBody collects the response under the cap (or, with `truncateOverCap`, up to it) and settles
 * the exchange once.
 */
function readBody(res: IncomingMessage, maxBytes: number, truncateOverCap: boolean, settle: (outcome: ExchangeResponse | ExchangeError) => void): void {
  const status = res.statusCode ?? 0;
  const read = truncateOverCap ? readPrefix(res, maxBytes) : readCapped(res, maxBytes).then((body) => ({ body, truncated: false }));
  read.then(
    ({ body, truncated }) => {
      settle({ status, headers: new ResponseHeaders(res.headers), body, truncated });
      // The rest of a truncated body is never read: the connection cannot carry another request.
      if (truncated) res.destroy();
    },
    (err: NodeJS.ErrnoException) => {
      if (err instanceof BodyTooLargeError) {
        const size = err.declaredBytes === undefined ? 'response' : `response of ${err.declaredBytes} bytes`;
        settle(new ExchangeError('too_large', `${size} exceeds the ${maxBytes}-byte cap`, undefined, status));
      } else {
        settle(new ExchangeError('unreachable', err.code ?? err.message, err.code, undefined, { cause: err }));
      }
    },
  );
}
