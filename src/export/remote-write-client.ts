/**
 * RemoteWriteClient: one POST of a remote-write 1.0 request (snappy block-compressed protobuf,
 * the headers of Prometheus' `storage/remote/client.go` `Store`). It never retries and never
 * throws for the receiver's answer: the outcome is a value the queue loop acts on, classified as
 * Prometheus classifies it — 2xx sent; 5xx, 429 and transport failures recoverable (with the
 * receiver's Retry-After, when given); any other status refused for good.
 */
import snappy from 'snappyjs';
import { ExchangeError, httpExchange } from '../net/index.js';
import type { ExchangeResponse } from '../net/index.js';

/** SendOutcome is what became of one request. */
export type SendOutcome =
  | { readonly kind: 'sent'; readonly status: number; readonly bytes: number }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly retryAfterMs?: number }
  | { readonly kind: 'rejected'; readonly reason: string; readonly status: number };

/** CredentialSource is a fixed string or a secret read at every request (a config `Secret`). */
export type CredentialSource = string | { reveal(): string };

function reveal(source: CredentialSource): string {
  return typeof source === 'string' ? source : source.reveal();
}

/** RemoteWriteClientOptions configure the endpoint and its credentials. */
export interface RemoteWriteClientOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly basicAuth?: { readonly username: string; readonly password: CredentialSource };
  readonly bearerToken?: CredentialSource;
  /** userAgent identifies the sender (`spacetime-sentinel/<version>`). */
  readonly userAgent: string;
}

/**
 * MAX_ANSWER_BYTES is how much of the receiver's answer is read: only a refusal's body is used, to
 * quote it in the log, and Prometheus reads no more of it either (`maxErrMsgLen`,
 * `storage/remote/client.go`). A longer answer is cut there, its status and headers kept.
 */
const MAX_ANSWER_BYTES = 1024;

/** MAX_ERROR_BODY bounds how much of a refusal's body is quoted in the log. */
const MAX_ERROR_BODY = 512;

/**
 * parseRetryAfter reads a Retry-After header (delay in seconds, or an HTTP date) as a delay in
 * ms from `nowMs`; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/** RemoteWriteClient posts requests to one endpoint. */
export class RemoteWriteClient {
  private readonly headers: Record<string, string>;
  private readonly url: URL;
  /** endpoint names the receiver in messages (no credentials: the config refuses them in URLs). */
  readonly endpoint: string;

  constructor(private readonly options: RemoteWriteClientOptions) {
    this.url = new URL(options.url);
    this.endpoint = `POST ${options.url}`;
    this.headers = {
      'content-encoding': 'snappy',
      'content-type': 'application/x-protobuf',
      'user-agent': options.userAgent,
      'x-prometheus-remote-write-version': '0.1.0',
    };
  }

  /**
   * credentials reads the configured credential for one request (a secret file rotated since the
   * last request is in effect now): the Authorization header, and the strings a refusal's body
   * must not carry into a log.
   */
  private credentials(): { authorization?: string; secrets: string[] } {
    const { basicAuth, bearerToken } = this.options;
    if (basicAuth) {
      const password = reveal(basicAuth.password);
      const encoded = Buffer.from(`${basicAuth.username}:${password}`).toString('base64');
      return { authorization: `Basic ${encoded}`, secrets: [password, encoded].filter((x) => x !== '') };
    }
    if (bearerToken) {
      const token = reveal(bearerToken);
      return { authorization: `Bearer ${token}`, secrets: token === '' ? [] : [token] };
    }
    return { secrets: [] };
  }

  /** send compresses and posts one uncompressed WriteRequest; `nowMs` dates a Retry-After given as a date. */
  async send(request: Uint8Array, signal: AbortSignal, nowMs: number): Promise<SendOutcome> {
    let credentials: { authorization?: string; secrets: string[] };
    try {
      credentials = this.credentials();
    } catch (err) {
      // An unreadable secret file may be back at the next attempt: keep the samples, retry.
      return { kind: 'retry', reason: `cannot read the credential: ${(err as Error).message}` };
    }
    const headers = credentials.authorization ? { ...this.headers, authorization: credentials.authorization } : this.headers;
    const body = snappy.compress(request);
    let res: ExchangeResponse;
    try {
      res = await httpExchange({ method: 'POST', url: this.url, headers, body, timeoutMs: this.options.timeoutMs, maxResponseBytes: MAX_ANSWER_BYTES, truncateOverCap: true, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      return { kind: 'retry', reason: err instanceof ExchangeError && err.failure === 'timeout' ? `no answer within ${this.options.timeoutMs} ms` : `cannot reach the endpoint (${(err as Error).message})` };
    }
    return this.classify(res, body.byteLength, nowMs, credentials.secrets);
  }

  private classify(res: ExchangeResponse, bytes: number, nowMs: number, secrets: readonly string[]): SendOutcome {
    if (res.status >= 200 && res.status < 300) return { kind: 'sent', status: res.status, bytes };
    const text = quoteRefusal(res.body, res.truncated, secrets);
    const reason = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
    if (res.status >= 500 || res.status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), nowMs);
      return { kind: 'retry', reason, status: res.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    return { kind: 'rejected', reason, status: res.status };
  }
}

/**
 * quoteRefusal flattens a refusal's body for the log. Some receivers echo the request's headers in
 * an error body: no credential goes on to a log, not even the first characters of one a body cut
 * at MAX_ANSWER_BYTES ends with.
 */
function quoteRefusal(body: Buffer, truncated: boolean, secrets: readonly string[]): string {
  let text = body.toString('utf8');
  for (const secret of secrets) text = text.split(secret).join('<redacted>');
  if (truncated) {
    // The cut may fall inside a character (decoded as U+FFFD) or a credential.
    const whole = text.replace(/\uFFFD+$/, '');
    text = whole.slice(0, whole.length - secretPrefixAtEnd(whole, secrets));
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ERROR_BODY || truncated ? `${flat.slice(0, MAX_ERROR_BODY)}…` : flat;
}

/** secretPrefixAtEnd is the length of the longest start of a secret that `text` ends with (0 for none). */
function secretPrefixAtEnd(text: string, secrets: readonly string[]): number {
  let longest = 0;
  for (const secret of secrets) {
    for (let n = Math.min(secret.length - 1, text.length); n > longest; n--) {
      if (text.endsWith(secret.slice(0, n))) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}
