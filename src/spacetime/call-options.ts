/**
 * Options shared by the clients of the watched system: every client checks them in its
 * constructor, and every call can narrow the deadline and bring its own abort signal.
 */
import { ConfigError } from '../errors.js';

/** CallOptions are per-call: the caller's abort signal and an optional tighter timeout. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** timeoutMs overrides the client's default timeout for this call. */
  readonly timeoutMs?: number;
}

/** DEFAULT_TIMEOUT_MS is the per-request deadline when none is configured. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/** DEFAULT_MAX_RESPONSE_BYTES caps a response body (8 MiB, as `target.*.max_response_bytes`). */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** checkBaseUrl parses an http(s) base URL or throws a ConfigError naming the option. */
export function checkBaseUrl(client: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${client}: baseUrl ${JSON.stringify(value)} is not a URL; give an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${client}: baseUrl must be http or https, got ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new ConfigError(`${client}: baseUrl must not carry credentials; pass the token option instead`);
  }
  if (url.search || url.hash) {
    throw new ConfigError(`${client}: baseUrl must not have a query or fragment`);
  }
  return url;
}

/** checkPositive throws a ConfigError unless `value` is a positive finite number (or undefined). */
export function checkPositive(client: string, option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${client}: ${option} must be a positive number, got ${value}`);
  return value;
}

/** joinUrl resolves `path` (starting with `/`) under the base URL, keeping any base path prefix. */
export function joinUrl(base: URL, path: string): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  const url = new URL(base.href);
  const q = path.indexOf('?');
  url.pathname = prefix + (q >= 0 ? path.slice(0, q) : path);
  url.search = q >= 0 ? path.slice(q) : '';
  return url;
}

/** callTimeout picks the per-call timeout, checking it like a constructor option. */
export function callTimeout(client: string, opts: CallOptions | undefined, fallback: number): number {
  return checkPositive(client, 'timeoutMs', opts?.timeoutMs, fallback);
}
