/**
 * legacy-chat: `GET /api/chat/guest-session`, retired with 410 for a session user (OpenAgents
 * `apps/openagents.com/service/src/lib.rs:12234-12274`, `:12472-12474` at 9b2b978949). It sits in
 * the protected router, so without a token the gate answers 401 first; a PAT passes the gate but
 * not the handler's session lookup (401).
 */
import type { LabRequest, LabResponse } from '../axum-router.js';
import { okData, unauthorized } from './api-envelope.js';
import { accessTokenFromHeaders } from './identity.js';
import type { LabIdentity } from './identity.js';
import type { ControlCounters } from './observability.js';

/** GUEST_SESSION_PATH is the retired guest-chat route. */
export const GUEST_SESSION_PATH = '/api/chat/guest-session';

/** guestSessionHandler answers 410 with the retirement notice and `x-oa-chat-auth-policy`. */
export function guestSessionHandler(identity: LabIdentity, counters: ControlCounters): (req: LabRequest) => LabResponse {
  return (req) => {
    const session = identity.session(accessTokenFromHeaders(req.headers));
    if (!session) return unauthorized();
    const rid = req.headers['x-request-id'];
    counters.increment('legacy.chat.guest_session.retired', (Array.isArray(rid) ? rid[0] : rid) ?? '');
    const res = okData(
      {
        retired: true,
        status: 'codex_auth_required',
        canonical: '/api/runtime/threads',
        message: 'Guest chat is retired. Authenticate with a ChatGPT account to use Codex threads.',
      },
      410,
    );
    return { ...res, headers: { ...res.headers, 'x-oa-chat-auth-policy': 'codex-auth-required' } };
  };
}
