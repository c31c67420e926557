/**
 * requireAdmin: the guard of admin endpoints. A `Bearer` token in `Authorization` is compared
 * in constant time with `server.admin_token`. No header or a malformed one is 401; a wrong
 * token, or no admin token configured (admin endpoints disabled), is 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../errors.js';

/** AdminToken is anything that reveals the configured token (a config `Secret`). */
export interface AdminToken {
  reveal(): string;
}

function digest(text: string): Buffer {
  // Hashing first gives equal-length buffers, so the comparison time does not leak the length.
  return createHash('sha256').update(text, 'utf8').digest();
}

/** requireAdmin throws an ApiError (401/403) unless the request carries the admin token. */
export function requireAdmin(headers: IncomingHttpHeaders, adminToken: AdminToken | undefined): void {
  const header = headers.authorization;
  const m = typeof header === 'string' ? /^Bearer +(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new ApiError(401, 'unauthorized', 'admin endpoint: send "Authorization: Bearer <server.admin_token>"');
  if (!adminToken) throw new ApiError(403, 'forbidden', 'admin endpoints are disabled; set server.admin_token in the config to enable them');
  if (!timingSafeEqual(digest(m[1]), digest(adminToken.reveal()))) throw new ApiError(403, 'forbidden', 'admin endpoint: the bearer token is not the admin token');
}
