/**
 * gates: the route layers of the control service's protected router (OpenAgents
 * `apps/openagents.com/service/src/route_domains.rs:53-82`, `lib.rs:1689-1731` at 9b2b978949):
 * `auth_session_gate` (session or PAT, else 401 `Unauthenticated.`), then, with the default
 * `workos` provider, `workos_session_gate` (401 `WorkOS session required.` for a user without a
 * WorkOS id). Being route layers, they run for wrong methods of a known path too.
 */
import type { Gate } from '../axum-router.js';
import { forbidden, unauthorized } from './api-envelope.js';
import { accessTokenFromHeaders } from './identity.js';
import type { LabIdentity } from './identity.js';

/** adminEmailGate is `admin_email_gate`: 403 `Forbidden.` unless the user's email is an admin email. */
export function adminEmailGate(identity: LabIdentity, isAdminEmail: (email: string) => boolean): Gate {
  return (req) => {
    const bundle = identity.sessionOrPat(accessTokenFromHeaders(req.headers));
    if (!bundle) return unauthorized();
    return isAdminEmail(bundle.email) ? undefined : forbidden('Forbidden.');
  };
}

/** protectedGates are the two gates, outermost first. */
export function protectedGates(identity: LabIdentity): readonly Gate[] {
  const authSession: Gate = (req) => (identity.sessionOrPat(accessTokenFromHeaders(req.headers)) ? undefined : unauthorized());
  const workosSession: Gate = (req) => {
    const bundle = identity.sessionOrPat(accessTokenFromHeaders(req.headers));
    return bundle && bundle.workosUserId.trim() !== '' ? undefined : unauthorized('WorkOS session required.');
  };
  return [authSession, workosSession];
}
