/**
 * Mapping from the spacetime clients' typed errors to a probe's reason class, so every probe
 * classifies transport failures the same way.
 */
import { isSentinelError } from '../errors.js';
import type { ReasonClass } from './types.js';

/**
 * reasonFromError classifies an error a client call raised: timeouts and aborts → `timeout`,
 * connection failures → `unreachable`, 401/403 → `auth`, other HTTP statuses → `http_status`,
 * unparseable, oversized or protocol-violating answers → `bad_response`, a secret or setting that
 * cannot be used (a secret file gone or unreadable) → `config`, anything else → `error`.
 */
export function reasonFromError(err: unknown): ReasonClass {
  if (!isSentinelError(err)) return 'error';
  switch (err.code) {
    case 'SENTINEL_TIMEOUT':
    case 'SENTINEL_ABORTED':
      return 'timeout';
    case 'SENTINEL_UNREACHABLE':
      return 'unreachable';
    case 'SENTINEL_HTTP_STATUS': {
      const status = (err as { status?: number }).status;
      return status === 401 || status === 403 ? 'auth' : 'http_status';
    }
    case 'SENTINEL_BAD_RESPONSE':
    case 'SENTINEL_RESPONSE_TOO_LARGE':
    case 'SENTINEL_PROTOCOL':
      return 'bad_response';
    case 'SENTINEL_CONFIG_INVALID':
      return 'config';
    default:
      return 'error';
  }
}

/** resultReason is the reason a result stands for, filling the documented defaults. */
export function resultReason(result: { readonly ok: boolean; readonly reason?: ReasonClass }): ReasonClass {
  return result.reason ?? (result.ok ? 'ok' : 'error');
}
