/**
 * withRetry is the one place a call to the watched system is repeated. The clients never retry
 * (a probe must see the first failure); callers that want retries wrap the call, as undici's
 * retry interceptor wraps a dispatcher.
 */
import type { Clock } from '../time/index.js';
import { RequestError } from '../errors.js';

/** RetryOptions bound the attempts and the wait between them. */
export interface RetryOptions {
  /** retries is the number of extra attempts after the first (0 = no retry). */
  readonly retries: number;
  /** backoffMs is the first wait; it doubles each attempt up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs?: number;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** isRetryable decides per error; the default retries unreachable and timeout failures only. */
  readonly isRetryable?: (err: unknown) => boolean;
}

/** isTransientFailure is the default retry policy: the peer was unreachable or slow, not wrong. */
export function isTransientFailure(err: unknown): boolean {
  return err instanceof RequestError && (err.code === 'SENTINEL_UNREACHABLE' || err.code === 'SENTINEL_TIMEOUT');
}

/** withRetry runs `attempt` until it succeeds, a non-retryable error occurs, or the retries run out. */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const isRetryable = options.isRetryable ?? isTransientFailure;
  let wait = options.backoffMs;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= options.retries || !isRetryable(err) || options.signal?.aborted) throw err;
    }
    await options.clock.sleep(wait, options.signal);
    wait = Math.min(wait * 2, options.maxBackoffMs ?? Number.POSITIVE_INFINITY);
  }
}
