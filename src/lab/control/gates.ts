/**
 * gates: the route layers of the control service's protected router (OpenAgents
 * `apps/openagents.com/service/src/route_domains.rs:53-82`, `lib.rs:1689-1731` at 9b2b978949):
 * `auth_session_gate` (session or PAT, else 401 `Unauthenticated.`), then, with the default
 * `workos` provider, `workos_session_gate` (401 `WorkOS session required.` for a user without a
 * WorkOS id). Being route layers, they run for wrong methods of a known path too.
 */
import type { Gate } from '../axum-router.js';
import { unauthorized } from './api-envelope.js';
import { accessTokenFromHeaders } from './identity.js';
import type { LabIdentity } from './identity.js';

/** protectedGates are the two gates, outermost first. */
export function protectedGates(identity: LabIdentity): readonly Gate[] {
  const authSession: Gate = (req) => (identity.sessionOrPat(accessTokenFromHeaders(req.headers)) ? undefined : unauthorized());
  const workosSession: Gate = (req) => {
    const bundle = identity.sessionOrPat(accessTokenFromHeaders(req.headers));
    return bundle && bundle.workosUserId.trim() !== '' ? undefined : unauthorized('WorkOS session required.');
  };
  return [authSession, workosSession];
}
