/**
 * identity: the lab control service's one user and how a request proves to be them, following
 * OpenAgents `apps/openagents.com/service/src/auth.rs` and `lib.rs` at 9b2b978949:
 * - the access token is `Authorization: Bearer <t>` (exact `Bearer ` prefix, trimmed) or the
 *   `oa_access_token` cookie (`lib.rs:15251-15259`);
 * - the protected-router gate accepts a live session token or a personal access token (PAT);
 *   anything else is 401 `Unauthenticated.` (`lib.rs:1689-1701`, `:2064-2075`, `auth.rs:672-770`);
 * - a PAT session has `session_id = device_id = "pat:<token_id>"` (`auth.rs:752-758`);
 * - memberships: the personal org `user:<user_id>` (owner, default) plus `org:openagents` (member)
 *   for an `@openagents.com` email, sorted by org id (`auth.rs:2234-2297`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** OrgRole is a membership role. */
export type OrgRole = 'owner' | 'admin' | 'member' | 'viewer';

/** OrgMembership serializes in this field order (`auth.rs:138-144`). */
export interface OrgMembership {
  readonly org_id: string;
  readonly org_slug: string;
  readonly role: OrgRole;
  readonly role_scopes: readonly string[];
  readonly default_org: boolean;
}

/** SessionBundle is what a valid access token resolves to. */
export interface SessionBundle {
  readonly userId: string;
  readonly email: string;
  readonly workosUserId: string;
  readonly sessionId: string;
  readonly deviceId: string;
  readonly activeOrgId: string;
  readonly isPat: boolean;
  readonly memberships: readonly OrgMembership[];
}

/** OWNER_ROLE_SCOPES and MEMBER_ROLE_SCOPES are `auth.rs:2279-2297`. */
export const OWNER_ROLE_SCOPES = ['runtime.read', 'runtime.write', 'sync.subscribe', 'policy.evaluate', 'org.membership.read', 'org.membership.write'] as const;
export const MEMBER_ROLE_SCOPES = ['runtime.read', 'sync.subscribe', 'policy.evaluate', 'org.membership.read'] as const;

/** LAB_DEVICE_ID is the device of the lab's session (a desktop client's id form). */
export const LAB_DEVICE_ID = 'desktop:autopilot-desktop';

function hex32(): string {
  return randomBytes(16).toString('hex');
}

/** defaultMemberships is `ensure_default_memberships` for a user with no stored memberships. */
export function defaultMemberships(userId: string, email: string): OrgMembership[] {
  const out: OrgMembership[] = [
    { org_id: `user:${userId}`, org_slug: `user-${userId}`, role: 'owner', role_scopes: [...OWNER_ROLE_SCOPES], default_org: true },
  ];
  if (email.endsWith('@openagents.com')) {
    out.push({ org_id: 'org:openagents', org_slug: 'openagents', role: 'member', role_scopes: [...MEMBER_ROLE_SCOPES], default_org: false });
  }
  return out.sort((a, b) => (a.org_id < b.org_id ? -1 : a.org_id > b.org_id ? 1 : 0));
}

/** bearerToken is the control service's `bearer_token`: `Bearer ` prefix, trimmed, non-empty. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers.authorization?.trim();
  if (raw === undefined || !raw.startsWith('Bearer ')) return undefined;
  const token = raw.slice('Bearer '.length).trim();
  return token === '' ? undefined : token;
}

/** accessTokenFromHeaders is the bearer token, else the `oa_access_token` cookie. */
export function accessTokenFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const bearer = bearerToken(headers);
  if (bearer !== undefined) return bearer;
  const cookie = headers.cookie ?? '';
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === 'oa_access_token') {
      const v = part.slice(eq + 1).trim();
      return v === '' ? undefined : v;
    }
  }
  return undefined;
}

/** LabIdentityOptions: the tokens that authenticate as the lab's user. */
export interface LabIdentityOptions {
  readonly sessionToken: string;
  readonly personalAccessToken: string;
}

/** LabIdentity is the lab's one user with one live session and one PAT. */
export class LabIdentity {
  readonly userId = `user_${hex32()}`;
  readonly email = 'sentinel-lab@openagents.com';
  readonly workosUserId = `user_01${hex32().slice(0, 24).toUpperCase()}`;
  readonly sessionId = `sess_${hex32()}`;
  readonly patTokenId = `pat_${hex32()}`;
  readonly memberships: readonly OrgMembership[];

  constructor(private readonly opts: LabIdentityOptions) {
    this.memberships = defaultMemberships(this.userId, this.email);
  }

  private activeOrgId(): string {
    return this.memberships.find((m) => m.default_org)?.org_id ?? `user:${this.userId}`;
  }

  private bundle(isPat: boolean): SessionBundle {
    const sessionId = isPat ? `pat:${this.patTokenId}` : this.sessionId;
    return {
      userId: this.userId,
      email: this.email,
      workosUserId: this.workosUserId,
      sessionId,
      deviceId: isPat ? sessionId : LAB_DEVICE_ID,
      activeOrgId: this.activeOrgId(),
      isPat,
      memberships: this.memberships,
    };
  }

  /** session is `session_from_access_token`: live session tokens only. */
  session(token: string | undefined): SessionBundle | undefined {
    return token !== undefined && token === this.opts.sessionToken ? this.bundle(false) : undefined;
  }

  /** sessionOrPat is `session_or_pat_from_access_token`: the gate's lookup. */
  sessionOrPat(token: string | undefined): SessionBundle | undefined {
    if (token === undefined) return undefined;
    if (token === this.opts.sessionToken) return this.bundle(false);
    if (token === this.opts.personalAccessToken) return this.bundle(true);
    return undefined;
  }
}

/** scopeAllowed is `auth.rs` `scope_allowed`: owners/admins any scope, others their role scopes. */
export function scopeAllowed(m: OrgMembership, scope: string): boolean {
  return m.role === 'owner' || m.role === 'admin' || m.role_scopes.includes(scope);
}

/** topicAllowed is `auth.rs` `topic_allowed`. */
export function topicAllowed(topic: string, userId: string, orgId: string): boolean {
  if (topic.startsWith(`user:${userId}:`)) return true;
  const orgPrefix = orgId.startsWith('org:') ? `${orgId}:` : `org:${orgId}:`;
  return topic.startsWith(orgPrefix) || topic.startsWith('run:');
}

/** policyAllows is `evaluate_policy_by_access_token` for the session's org, scopes and topics. */
export function policyAllows(bundle: SessionBundle, orgId: string, scopes: readonly string[], topics: readonly string[]): boolean {
  const membership = bundle.memberships.find((m) => m.org_id === orgId);
  if (!membership) return false;
  for (const s of scopes) if (s.trim() !== '' && !scopeAllowed(membership, s.trim())) return false;
  for (const t of topics) if (t.trim() !== '' && !topicAllowed(t.trim(), bundle.userId, orgId)) return false;
  return true;
}
