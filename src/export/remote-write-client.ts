/**
 * RemoteWriteClient: one POST of a remote-write 1.0 request (snappy block-compressed protobuf,
 * the headers of Prometheus' `storage/remote/client.go` `Store`). It never retries and never
 * throws for the receiver's answer: the outcome is a value the queue loop acts on, classified as
 * Prometheus classifies it — 2xx sent; 5xx, 429 and transport failures recoverable (with the
 * receiver's Retry-After, when given); any other status refused for good.
 */
import snappy from 'snappyjs';

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

/** MAX_ERROR_BODY bounds how much of a refusal's body is kept for the log. */
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
  /** endpoint names the receiver in messages (no credentials: the config refuses them in URLs). */
  readonly endpoint: string;

  constructor(private readonly options: RemoteWriteClientOptions) {
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
    // The request's own controller: the caller's signal and the timeout both abort it, and the
    // caller's listener goes when the exchange ends.
    const controller = new AbortController();
    let isTimedOut = false;
    const timer = setTimeout(() => {
      isTimedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let res: Response;
      try {
        res = await fetch(this.options.url, { method: 'POST', headers, body, signal: controller.signal });
      } catch (err) {
        if (signal.aborted) throw err;
        return { kind: 'retry', reason: isTimedOut ? `no answer within ${this.options.timeoutMs} ms` : `cannot reach the endpoint (${transportDetail(err)})` };
      }
      return await this.classify(res, body.byteLength, nowMs, credentials.secrets);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async classify(res: Response, bytes: number, nowMs: number, secrets: readonly string[]): Promise<SendOutcome> {
    // Some receivers echo the request's headers in an error body: no credential goes on to a log.
    let text = await readBounded(res);
    for (const secret of secrets) text = text.split(secret).join('<redacted>');
    if (res.status >= 200 && res.status < 300) return { kind: 'sent', status: res.status, bytes };
    const reason = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
    if (res.status >= 500 || res.status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), nowMs);
      return { kind: 'retry', reason, status: res.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    return { kind: 'rejected', reason, status: res.status };
  }
}

function transportDetail(err: unknown): string {
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  if (typeof cause === 'object' && cause !== null && 'code' in cause) return String((cause as { code: unknown }).code);
  return cause instanceof Error ? cause.message : String(cause);
}

async function readBounded(res: Response): Promise<string> {
  try {
    const text = await res.text();
    const flat = text.replace(/\s+/g, ' ').trim();
    return flat.length > MAX_ERROR_BODY ? `${flat.slice(0, MAX_ERROR_BODY)}…` : flat;
  } catch {
    return '';
  }
}
