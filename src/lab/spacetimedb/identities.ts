/**
 * identities: SpacetimeDB-shaped identities (64 hex, always `c200…`, derived from `iss|sub`) and
 * the auth rules of the `/v1/database/*` middleware (SpacetimeDB 2.0.1 `crates/client-api/src/auth.rs`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { JwtVerification } from '../jwt.js';
import { signJwt, verifyJwt } from '../jwt.js';

/** ISSUER is the local issuer of tokens the lab's SpacetimeDB mints, as standalone uses. */
export const ISSUER = 'localhost';

/** identityFor derives the identity of an `iss|sub` pair: `c200` + 60 hex of its hash. */
export function identityFor(iss: string, sub: string): string {
  return `c200${createHash('sha256').update(`${iss}|${sub}`).digest('hex').slice(0, 60)}`;
}

/**
 * SyncGrant is what a caller's token says when the control service issued it (`POST
 * /api/sync/token`: claims `oa_sync_scopes`, `exp`, `nbf`; OpenAgents
 * `apps/openagents.com/service/src/sync_token.rs:371-398` at 9b2b978949). SpacetimeDB itself
 * ignores these claims; only the lab's `enforce_caller_auth` mode reads them.
 */
export interface SyncGrant {
  readonly scopes: readonly string[];
  readonly expSec: number | undefined;
  readonly nbfSec: number | undefined;
}

/** Caller is who a request runs as: identity hex (no `0x`) and the token that proves it. */
export interface Caller {
  readonly identityHex: string;
  readonly token: string;
  /** syncGrant is set when the token is a control-issued sync token. */
  readonly syncGrant?: SyncGrant;
}

function syncGrantOf(claims: Record<string, unknown>): SyncGrant | undefined {
  const scopes = claims.oa_sync_scopes;
  if (!Array.isArray(scopes) || scopes.some((x) => typeof x !== 'string')) return undefined;
  return {
    scopes: scopes as string[],
    expSec: typeof claims.exp === 'number' ? claims.exp : undefined,
    nbfSec: typeof claims.nbf === 'number' ? claims.nbf : undefined,
  };
}

/** AuthFailureReasons classify refused credentials (the runtime's auth failure counters use them). */
export const AuthFailureReasons = ['malformed', 'token_expired', 'invalid_token', 'unauthorized'] as const;
/** AuthFailureReason is one of AuthFailureReasons. */
export type AuthFailureReason = (typeof AuthFailureReasons)[number];

/** AuthFailure is a refused credential: the HTTP status and text body SpacetimeDB answers. */
export interface AuthFailure {
  readonly status: 400 | 401;
  readonly body: string;
  readonly reason: AuthFailureReason;
}

/**
 * Authenticator mints anonymous identities and validates presented tokens. It signs with the
 * host's own key and also accepts tokens of a trusted issuer (the control service's sync tokens,
 * signed with the sync key), as SpacetimeDB accepts tokens of the OIDC issuers it trusts.
 */
export class Authenticator {
  constructor(
    /** ownKey signs the host's identity tokens; read at every use. */
    private readonly ownKey: () => string,
    /** trustedKeys verify tokens other issuers signed (read at every use, so a rotation applies at once). */
    private readonly trustedKeys: () => readonly string[],
    private readonly nowMs: () => number,
  ) {}

  /** mint creates a fresh anonymous identity and its token. */
  async mint(): Promise<Caller> {
    const sub = randomUUID();
    const identityHex = identityFor(ISSUER, sub);
    const token = await signJwt({ hex_identity: identityHex, sub, iss: ISSUER, aud: ['spacetimedb'], iat: Math.floor(this.nowMs() / 1000), exp: null }, this.ownKey());
    return { identityHex, token };
  }

  /** websocketToken re-signs a validated token's claims with a 60 s expiry (`/v1/identity/websocket-token`). */
  async websocketToken(token: string): Promise<string | undefined> {
    const v = await this.verify(token);
    if (!v.ok) return undefined;
    const now = Math.floor(this.nowMs() / 1000);
    return await signJwt({ ...v.claims, iat: now, exp: now + 60 }, this.ownKey());
  }

  /** verify checks a token against the host's key, then each trusted key (a bad signature moves on). */
  private async verify(token: string): Promise<JwtVerification> {
    const nowSec = Math.floor(this.nowMs() / 1000);
    let v = await verifyJwt(token, this.ownKey(), nowSec);
    for (const key of this.trustedKeys()) {
      if (v.ok || v.kind !== 'InvalidSignature') break;
      v = await verifyJwt(token, key, nowSec);
    }
    return v;
  }

  /**
   * authenticate applies the middleware: no credentials mints an identity; a malformed
   * Authorization header is a 400; a token that fails validation is a 401.
   */
  async authenticate(authorization: string | undefined, queryToken: string | null): Promise<Caller | AuthFailure> {
    let token: string | undefined;
    if (authorization !== undefined) {
      const m = /^Bearer +(\S+)\s*$/i.exec(authorization);
      if (!m) return { status: 400, body: 'Authorization is invalid: malformed token', reason: 'malformed' };
      token = m[1] as string;
    } else if (queryToken !== null && queryToken !== '') {
      token = queryToken;
    }
    if (token === undefined) return await this.mint();
    return await this.validate(token);
  }

  /** validate checks a presented token; the identity stays the one derived from its `iss|sub`. */
  async validate(token: string): Promise<Caller | AuthFailure> {
    const v = await this.verify(token);
    if (!v.ok) {
      if (v.kind === 'InvalidSignature') return { status: 401, body: 'Authorization failed: token not signed by this instance', reason: 'invalid_token' };
      return { status: 401, body: `Error(${v.kind})`, reason: v.kind === 'ExpiredSignature' ? 'token_expired' : v.kind === 'ImmatureSignature' ? 'unauthorized' : 'invalid_token' };
    }
    const iss = typeof v.claims.iss === 'string' ? v.claims.iss : '';
    const sub = typeof v.claims.sub === 'string' ? v.claims.sub : '';
    if (iss === '' || sub === '') return { status: 401, body: 'Error(MissingRequiredClaim("sub"))', reason: 'invalid_token' };
    const syncGrant = syncGrantOf(v.claims);
    return syncGrant ? { identityHex: identityFor(iss, sub), token, syncGrant } : { identityHex: identityFor(iss, sub), token };
  }
}

/** isAuthFailure tells a refused credential from a caller. */
export function isAuthFailure(x: Caller | AuthFailure): x is AuthFailure {
  return 'status' in x;
}
