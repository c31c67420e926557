/**
 * Caller-auth checks of the sync-security gate: the operators' token contract says only a holder
 * of a valid control-issued sync token may subscribe or call the sync reducers
 * (`docs/sync/SPACETIME_TOKEN_SCOPE_AND_ROTATION.md` in OpenAgents at 9b2b978949). The checks try
 * it against the live SpacetimeDB host:
 *
 * 1. with a freshly minted, valid sync token, a subscription and a reducer call are accepted
 *    (without this control, refusing the others proves nothing);
 * 2. with no token, a subscription and a reducer call are refused;
 * 3. with an expired sync token, a subscription and a reducer call are refused.
 *
 * The deployed `autopilot-sync` module checks nothing about its callers (all tables public,
 * `append_sync_event` and `ack_stream_checkpoint` accept any sender:
 * `spacetime/modules/autopilot-sync/spacetimedb/src/lib.rs:10-63`, `:206-315`), so against it
 * check 2 fails, and the gate says why. The reducer call writes one checkpoint row of the
 * sentinel's own (client `sentinel.canary.sync-security-client` on its canary stream), idempotently.
 */
// jose's subpath modules: the package root would also load its JWE, JWKS and key-generation code.
import { decodeProtectedHeader } from 'jose/decode/protected_header';
import { decodeJwt } from 'jose/jwt/decode';
import { SignJWT } from 'jose/jwt/sign';
import { ReducerError, RequestError } from '../errors.js';
import { SpacetimeHttpClient, SpacetimeWsClient } from '../spacetime/index.js';

/** CallerCheckOutcome: refused or accepted as the check expects, or `error` (no answer: the check proves nothing). */
export type CallerCheckOutcome = 'refused' | 'accepted' | 'error';

/** CallerCheck is one attempt. */
export interface CallerCheck {
  readonly name: string;
  readonly credential: 'valid' | 'none' | 'expired';
  readonly action: 'subscribe' | 'call';
  readonly outcome: CallerCheckOutcome;
  readonly detail: string;
}

/** CallerAuthReport is every attempt and the problems the gate reports (empty when all held). */
export interface CallerAuthReport {
  readonly checks: readonly CallerCheck[];
  readonly problems: readonly string[];
}

/** CallerAuthOptions locate the host and say how to get tokens. */
export interface CallerAuthOptions {
  readonly baseUrl: string;
  readonly database: string;
  readonly websocketPath?: string;
  readonly timeoutMs: number;
  /** mintSyncToken asks the control service for a fresh sync token (a secret). */
  readonly mintSyncToken: (signal: AbortSignal) => Promise<string>;
  /** signingKey lets the check make an expired copy of a minted token (the control's HS256 key). */
  readonly signingKey?: string;
  /** stream is the sentinel's own stream the reducer call acks. */
  readonly stream: string;
  readonly nowMs: () => number;
}

/** CALLER_AUTH_CLIENT_ID is the checkpoint client id of the reducer calls. */
export const CALLER_AUTH_CLIENT_ID = 'sentinel.canary.sync-security-client';

/** SUBSCRIBE_QUERY is what the subscription asks for (a public table of the deployed module). */
export const SUBSCRIBE_QUERY = 'SELECT * FROM stream_head';

const AUTH_TEXT = /unauthori[sz]ed|forbidden|not allowed|permission|token/i;

function isAuthStatus(err: unknown): boolean {
  return err instanceof RequestError && (err.status === 401 || err.status === 403);
}

async function trySubscribe(o: CallerAuthOptions, token: string | undefined, signal: AbortSignal): Promise<{ outcome: CallerCheckOutcome; detail: string }> {
  const client = new SpacetimeWsClient({ baseUrl: o.baseUrl, database: o.database, path: o.websocketPath, timeoutMs: o.timeoutMs, ...(token ? { token } : {}) });
  try {
    try {
      await client.connect({ signal });
    } catch (err) {
      if (isAuthStatus(err)) return { outcome: 'refused', detail: `connection refused: ${(err as Error).message}` };
      return { outcome: 'error', detail: `could not connect: ${(err as Error).message}` };
    }
    try {
      const applied = await client.subscribeSingle(SUBSCRIBE_QUERY, { signal });
      return { outcome: 'accepted', detail: `subscribed to ${SUBSCRIBE_QUERY} as ${client.identity ?? '?'} (${applied.type})` };
    } catch (err) {
      if (err instanceof RequestError && err.code === 'SENTINEL_PROTOCOL' && err.excerpt !== undefined) return { outcome: 'refused', detail: `subscription refused: ${err.excerpt}` };
      return { outcome: 'error', detail: `subscription got no answer: ${(err as Error).message}` };
    }
  } finally {
    client.terminate();
  }
}

async function tryCall(o: CallerAuthOptions, token: string | undefined, signal: AbortSignal): Promise<{ outcome: CallerCheckOutcome; detail: string }> {
  const http = new SpacetimeHttpClient({ baseUrl: o.baseUrl, database: o.database, timeoutMs: o.timeoutMs, ...(token ? { token } : {}) });
  try {
    const r = await http.callReducer('ack_stream_checkpoint', [CALLER_AUTH_CLIENT_ID, o.stream, 0, 0], { signal });
    return { outcome: 'accepted', detail: `ack_stream_checkpoint accepted (caller ${r.identity ?? '?'})` };
  } catch (err) {
    if (isAuthStatus(err)) return { outcome: 'refused', detail: `refused: ${(err as Error).message}` };
    if (err instanceof ReducerError && AUTH_TEXT.test(err.reducerMessage)) return { outcome: 'refused', detail: `reducer refused the caller: ${err.reducerMessage}` };
    return { outcome: 'error', detail: `no usable answer: ${(err as Error).message}` };
  }
}

/** expiredCopy re-signs a minted token's claims so it expired five minutes ago (same header, same key). */
async function expiredCopy(token: string, key: string, nowMs: number): Promise<string> {
  const header = decodeProtectedHeader(token);
  const claims = decodeJwt(token);
  const now = Math.floor(nowMs / 1000);
  const ttl = typeof claims.exp === 'number' && typeof claims.iat === 'number' ? Math.max(60, claims.exp - claims.iat) : 300;
  const issuedAt = now - 300 - ttl;
  return new SignJWT({ ...claims, iat: issuedAt, nbf: issuedAt, exp: now - 300 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...(typeof header.kid === 'string' ? { kid: header.kid } : {}) })
    .sign(new TextEncoder().encode(key.trim()));
}

/** runCallerAuthChecks runs the six attempts and judges them. */
export async function runCallerAuthChecks(o: CallerAuthOptions, signal: AbortSignal): Promise<CallerAuthReport> {
  const checks: CallerCheck[] = [];
  const problems: string[] = [];
  let valid: string | undefined;
  try {
    valid = await o.mintSyncToken(signal);
  } catch (err) {
    problems.push(`could not mint a sync token for the checks: ${(err as Error).message}`);
  }
  const attempt = async (credential: CallerCheck['credential'], token: string | undefined): Promise<void> => {
    const what = { valid: 'a valid token', none: 'no token', expired: 'an expired token' }[credential];
    const sub = await trySubscribe(o, token, signal);
    checks.push({ name: `subscribe with ${what}`, credential, action: 'subscribe', ...sub });
    const call = await tryCall(o, token, signal);
    checks.push({ name: `reducer call with ${what}`, credential, action: 'call', ...call });
  };
  if (valid !== undefined) await attempt('valid', valid);
  await attempt('none', undefined);
  let expired: string | undefined;
  if (valid !== undefined && o.signingKey) {
    try {
      expired = await expiredCopy(valid, o.signingKey, o.nowMs());
    } catch (err) {
      problems.push(`could not make an expired copy of the minted token: ${(err as Error).message}`);
    }
  } else if (valid !== undefined) {
    problems.push('the expired-token checks need the control signing key (target.control.jwt_signing_key) to make an expired token; without them the gate cannot say expired tokens are refused');
  }
  if (expired !== undefined) await attempt('expired', expired);

  for (const c of checks) {
    if (c.credential === 'valid' && c.outcome !== 'accepted') problems.push(`${c.name} was ${c.outcome} (${c.detail}); a valid token must work, or refusing the others proves nothing`);
    if (c.credential !== 'valid' && c.outcome === 'error') problems.push(`${c.name}: ${c.detail}; the check proves nothing`);
  }
  // One sentence per credential for what was accepted: the finding, not a list of attempts.
  for (const credential of ['none', 'expired'] as const) {
    const accepted = checks.filter((c) => c.credential === credential && c.outcome === 'accepted').map((c) => c.name);
    if (accepted.length === 0) continue;
    const why =
      credential === 'none'
        ? 'the module checks nothing about its callers (the deployed autopilot-sync module at 9b2b978949 makes every table public and accepts any sender in append_sync_event and ack_stream_checkpoint)'
        : 'an expired sync token still works';
    problems.push(`${accepted.join(' and ')} ${accepted.length > 1 ? 'were' : 'was'} accepted: ${why}; the operators' token contract requires a valid sync token`);
  }
  return { checks, problems };
}
