/**
 * token-contract: what a sync token grant of the OpenAgents control service guarantees, as its
 * issuer computes it (`apps/openagents.com/service/src/sync_token.rs:108-398` at 9b2b978949).
 * Only what the service itself would break is a violation: values it lets operators configure
 * (issuer, audience, key id, TTL bounds, allowed scopes) are checked against what the probe was
 * told to expect, never against guessed defaults.
 *
 * The grant's invariants:
 * 1. `token_type` Bearer, `transport` spacetime_ws, `protocol_version` spacetime.sync.v1;
 * 2. `refresh_after_in = max(expires_in - 30, 1)`; `refresh_after` and `expires_at` are
 *    `issued_at` plus those seconds (one chrono instant, so exact);
 * 3. `scopes` sorted and unique (a BTreeSet); each granted topic's `required_scope` is the one its
 *    suffix names (`:worker_events`, `:workers`, `:runs`) and is among `scopes`; with no topics
 *    requested, the topics are the defaults of the scopes (`org:<org>:worker_events`,
 *    `org:<org>:workers`, `user:<user>:runs`, with `<org>` not doubly prefixed);
 * 4. `granted_streams[i]` is `{stream: granted_topics[i].topic, required_scope: …}`: the stream
 *    is the topic string itself (`:184-194`);
 * 5. the JWT: header `alg` HS256, `typ` JWT, `kid` = `kid`; claims `iss`, `aud` (a string), `sub`
 *    = `user:<oa_user_id>` = `subject`, `iat` = `issued_at` (within the clock skew), `nbf` = `iat`,
 *    `exp` = `iat + expires_in`, `jti` = `token_id`, `oa_user_id` a string, `oa_org_id`,
 *    `oa_session_id`, `oa_device_id`, `oa_sync_scopes` = `scopes`, `oa_sync_topics` =
 *    `oa_sync_streams` = the granted topics, `oa_claims_version` = `claims_version`;
 * 6. with signing keys configured, the HS256 signature verifies with the current key or one of
 *    the fallback keys (rotation), and jose accepts the time claims at the service's own
 *    `issued_at` with the configured clock tolerance.
 */
// jose's subpath modules: the package root would also load its JWE, JWKS and key-generation code.
import { decodeProtectedHeader } from 'jose/decode/protected_header';
import * as errors from 'jose/errors';
import { decodeJwt } from 'jose/jwt/decode';
import { jwtVerify } from 'jose/jwt/verify';
import type { JsonObject, JsonValue } from '../../spacetime/index.js';
import { isJsonObject } from '../../spacetime/index.js';

/** DEFAULT_CLOCK_SKEW_SECONDS is the default tolerance for time claims (the runtime verifier's default). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

/** GrantExpectations are what the probe asked for and what it was told to expect. */
export interface GrantExpectations {
  /** scopes requested (the grant's scopes must be their sorted, unique form); absent = server default. */
  readonly scopes?: readonly string[];
  /** ttlSeconds requested (`expires_in` must equal it). */
  readonly ttlSeconds?: number;
  /** issuer and audience the operator configured on the control service, when known. */
  readonly issuer?: string;
  readonly audience?: string;
  readonly clockSkewSeconds: number;
}

/** normalizeUnique is the issuer's scope normalization: trimmed, no blanks, unique, sorted. */
export function normalizeUnique(values: readonly string[]): string[] {
  return [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))].sort();
}

/** scopeForTopic is the issuer's `scope_for_topic`. */
export function scopeForTopic(topic: string): string | undefined {
  if (topic.endsWith(':worker_events')) return 'runtime.codex_worker_events';
  if (topic.endsWith(':workers')) return 'runtime.codex_worker_summaries';
  if (topic.endsWith(':runs')) return 'runtime.run_summaries';
  return undefined;
}

/** defaultTopics are the topics the issuer grants for `scopes` when none are requested. */
export function defaultTopics(scopes: readonly string[], userId: string, orgId: string): string[] {
  const org = orgId.startsWith('org:') ? orgId : `org:${orgId}`;
  return scopes.flatMap((s) => {
    if (s === 'runtime.codex_worker_events') return [`${org}:worker_events`];
    if (s === 'runtime.codex_worker_summaries') return [`${org}:workers`];
    if (s === 'runtime.run_summaries') return [`user:${userId}:runs`];
    return [];
  });
}

function show(v: JsonValue | unknown): string {
  if (v === undefined) return 'absent';
  const s = typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** RFC3339 matches the shapes chrono and others print (`Z` or an offset, optional fraction). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** rfc3339Ms parses an RFC 3339 time to epoch ms (fraction truncated to ms), or undefined. */
export function rfc3339Ms(v: unknown): number | undefined {
  if (typeof v !== 'string' || !RFC3339.test(v)) return undefined;
  const t = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(t) ? t : undefined;
}

interface Grants {
  readonly name: string;
  readonly scope: string;
}

function grants(v: JsonValue | undefined, key: 'topic' | 'stream'): Grants[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: Grants[] = [];
  for (const g of v) {
    if (!isJsonObject(g) || typeof g[key] !== 'string' || typeof g.required_scope !== 'string') return undefined;
    out.push({ name: g[key] as string, scope: g.required_scope });
  }
  return out;
}

/** CheckedGrant is the outcome of checkGrant. */
export interface CheckedGrant {
  readonly violations: string[];
  /** issuedAtMs is the grant's `issued_at` (the service's clock), when readable. */
  readonly issuedAtMs: number | undefined;
}

/**
 * checkGrant returns every way a grant (`data` of the response, `token` its JWT) breaks the
 * issuer's own contract or the probe's expectations; the signature is checked separately.
 */
export function checkGrant(data: JsonObject, token: string, expect: GrantExpectations): CheckedGrant {
  const v: string[] = [];
  const equal = (field: string, want: string): void => {
    if (data[field] !== want) v.push(`${field} is ${show(data[field])}, expected ${JSON.stringify(want)}`);
  };
  equal('token_type', 'Bearer');
  equal('transport', 'spacetime_ws');
  equal('protocol_version', 'spacetime.sync.v1');
  for (const f of ['issuer', 'audience', 'subject', 'org_id', 'claims_version', 'kid', 'token_id', 'session_id', 'device_id']) {
    if (typeof data[f] !== 'string' || data[f] === '') v.push(`${f} is ${show(data[f])}, expected a non-empty string`);
  }
  if (expect.issuer !== undefined && data.issuer !== expect.issuer) v.push(`issuer is ${show(data.issuer)}, expected the configured ${JSON.stringify(expect.issuer)}`);
  if (expect.audience !== undefined && data.audience !== expect.audience) v.push(`audience is ${show(data.audience)}, expected the configured ${JSON.stringify(expect.audience)}`);

  const expiresIn = data.expires_in;
  const refreshIn = data.refresh_after_in;
  const ttlOk = typeof expiresIn === 'number' && Number.isInteger(expiresIn) && expiresIn > 0;
  if (!ttlOk) v.push(`expires_in is ${show(expiresIn)}, expected a positive whole number of seconds`);
  else {
    if (expect.ttlSeconds !== undefined && expiresIn !== expect.ttlSeconds) v.push(`expires_in is ${expiresIn}, expected the requested ttl_seconds ${expect.ttlSeconds}`);
    const want = Math.max(expiresIn - 30, 1);
    if (refreshIn !== want) v.push(`refresh_after_in is ${show(refreshIn)}, expected max(expires_in - 30, 1) = ${want}`);
  }
  const issuedAt = rfc3339Ms(data.issued_at);
  const refreshAt = rfc3339Ms(data.refresh_after);
  const expiresAt = rfc3339Ms(data.expires_at);
  if (issuedAt === undefined) v.push(`issued_at is ${show(data.issued_at)}, expected an RFC 3339 time`);
  if (refreshAt === undefined) v.push(`refresh_after is ${show(data.refresh_after)}, expected an RFC 3339 time`);
  if (expiresAt === undefined) v.push(`expires_at is ${show(data.expires_at)}, expected an RFC 3339 time`);
  if (issuedAt !== undefined && expiresAt !== undefined && ttlOk && expiresAt - issuedAt !== expiresIn * 1000) {
    v.push(`expires_at - issued_at is ${(expiresAt - issuedAt) / 1000} s, expected expires_in = ${expiresIn} s`);
  }
  if (issuedAt !== undefined && refreshAt !== undefined && typeof refreshIn === 'number' && refreshAt - issuedAt !== refreshIn * 1000) {
    v.push(`refresh_after - issued_at is ${(refreshAt - issuedAt) / 1000} s, expected refresh_after_in = ${refreshIn} s`);
  }

  const scopes = stringList(data.scopes);
  if (scopes === undefined || scopes.length === 0) v.push(`scopes is ${show(data.scopes)}, expected a non-empty list of strings`);
  else {
    if (!sameList(scopes, normalizeUnique(scopes))) v.push(`scopes ${show(scopes)} are not sorted and unique`);
    if (expect.scopes !== undefined && expect.scopes.length > 0 && !sameList(scopes, normalizeUnique(expect.scopes))) {
      v.push(`scopes ${show(scopes)} differ from the requested ${show(normalizeUnique(expect.scopes))}`);
    }
  }
  const topics = grants(data.granted_topics, 'topic');
  const streams = grants(data.granted_streams, 'stream');
  if (topics === undefined) v.push('granted_topics is not a list of {topic, required_scope}');
  else if (topics.length === 0) v.push('granted_topics is empty');
  if (streams === undefined) v.push('granted_streams is not a list of {stream, required_scope}');
  if (topics) {
    const seen = new Set<string>();
    for (const t of topics) {
      if (seen.has(t.name)) v.push(`granted topic ${JSON.stringify(t.name)} appears twice`);
      seen.add(t.name);
      const need = scopeForTopic(t.name);
      if (need === undefined) v.push(`granted topic ${JSON.stringify(t.name)} has no scope the issuer knows (suffix :worker_events, :workers or :runs)`);
      else if (t.scope !== need) v.push(`granted topic ${JSON.stringify(t.name)} has required_scope ${JSON.stringify(t.scope)}, expected ${JSON.stringify(need)}`);
      if (scopes && !scopes.includes(t.scope)) v.push(`granted topic ${JSON.stringify(t.name)} requires scope ${JSON.stringify(t.scope)}, which is not in scopes`);
    }
  }
  if (topics && streams) {
    const want = topics.map((t) => `${t.name}|${t.scope}`);
    const got = streams.map((s) => `${s.name}|${s.scope}`);
    if (!sameList(got, want)) v.push(`granted_streams ${show(streams.map((s) => s.name))} differ from granted_topics ${show(topics.map((t) => t.name))} (each stream is its topic string)`);
  }

  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
    claims = decodeJwt(token) as Record<string, unknown>;
  } catch {
    v.push('token is not a JWT (three base64url parts with JSON header and claims)');
    return { violations: v, issuedAtMs: issuedAt };
  }
  if (header.alg !== 'HS256') v.push(`JWT alg is ${show(header.alg)}, expected "HS256"`);
  if (header.typ !== 'JWT') v.push(`JWT typ is ${show(header.typ)}, expected "JWT"`);
  if (header.kid !== data.kid) v.push(`JWT kid ${show(header.kid)} differs from kid ${show(data.kid)}`);
  const claimEq = (claim: string, field: string): void => {
    if (claims[claim] !== data[field]) v.push(`JWT ${claim} ${show(claims[claim])} differs from ${field} ${show(data[field])}`);
  };
  claimEq('iss', 'issuer');
  claimEq('aud', 'audience');
  claimEq('sub', 'subject');
  claimEq('jti', 'token_id');
  claimEq('oa_org_id', 'org_id');
  claimEq('oa_session_id', 'session_id');
  claimEq('oa_device_id', 'device_id');
  claimEq('oa_claims_version', 'claims_version');
  const userId = claims.oa_user_id;
  if (typeof userId !== 'string' || userId === '') v.push(`JWT oa_user_id is ${show(userId)}, expected the user id as a string`);
  else {
    if (data.subject !== `user:${userId}`) v.push(`subject ${show(data.subject)} is not "user:" + oa_user_id ${JSON.stringify(userId)}`);
    // The probe never requests topics, so the grant must hold the scopes' default topics.
    if (topics && scopes && typeof data.org_id === 'string') {
      const want = defaultTopics(scopes, userId, data.org_id);
      if (!sameList(topics.map((t) => t.name), want)) v.push(`granted topics ${show(topics.map((t) => t.name))} are not the default topics ${show(want)} of scopes ${show(scopes)}`);
    }
  }
  const iat = claims.iat;
  const nbf = claims.nbf;
  const exp = claims.exp;
  if (typeof iat !== 'number' || !Number.isInteger(iat)) v.push(`JWT iat is ${show(iat)}, expected whole seconds`);
  else {
    if (nbf !== iat) v.push(`JWT nbf ${show(nbf)} differs from iat ${iat}`);
    if (ttlOk && exp !== iat + expiresIn) v.push(`JWT exp ${show(exp)} is not iat + expires_in = ${iat + expiresIn}`);
    if (issuedAt !== undefined && Math.abs(iat - Math.floor(issuedAt / 1000)) > expect.clockSkewSeconds) {
      v.push(`JWT iat ${iat} is more than ${expect.clockSkewSeconds} s from issued_at ${show(data.issued_at)}`);
    }
  }
  const claimList = (claim: string, want: readonly string[] | undefined, what: string): void => {
    const got = stringList(claims[claim]);
    if (got === undefined) v.push(`JWT ${claim} is ${show(claims[claim])}, expected a list of strings`);
    else if (want !== undefined && !sameList(got, want)) v.push(`JWT ${claim} ${show(got)} differs from ${what} ${show(want)}`);
  };
  claimList('oa_sync_scopes', scopes, 'scopes');
  claimList('oa_sync_topics', topics?.map((t) => t.name), 'granted topics');
  claimList('oa_sync_streams', topics?.map((t) => t.name), 'granted topics');
  return { violations: v, issuedAtMs: issuedAt };
}

/** SignatureCheck is the outcome of verifySignature. */
export type SignatureCheck =
  | { readonly checked: false }
  | { readonly checked: true; readonly ok: true; readonly keyIndex: number }
  | { readonly checked: true; readonly ok: false; readonly violation: string };

/**
 * verifySignature verifies the JWT with jose: `keys[0]` is the current key, the rest are fallback
 * keys tried only after a signature mismatch (as a verifier during key rotation does). The time
 * claims are judged at `issuedAtMs`, the service's own clock, with `clockSkewSeconds` tolerance.
 */
export async function verifySignature(token: string, keys: readonly string[], issuedAtMs: number | undefined, clockSkewSeconds: number): Promise<SignatureCheck> {
  if (keys.length === 0) return { checked: false };
  const encoder = new TextEncoder();
  for (const [i, key] of keys.entries()) {
    try {
      await jwtVerify(token, encoder.encode(key.trim()), {
        algorithms: ['HS256'],
        typ: 'JWT',
        clockTolerance: clockSkewSeconds,
        ...(issuedAtMs !== undefined ? { currentDate: new Date(issuedAtMs) } : {}),
      });
      return { checked: true, ok: true, keyIndex: i };
    } catch (err) {
      if (err instanceof errors.JWSSignatureVerificationFailed) continue;
      const why = err instanceof errors.JOSEError ? `${err.code}: ${err.message}` : String(err);
      return { checked: true, ok: false, violation: `JWT does not verify (${why})` };
    }
  }
  const what = keys.length === 1 ? 'the configured signing key' : `the configured signing key or any of ${keys.length - 1} fallback key(s)`;
  return { checked: true, ok: false, violation: `JWT signature does not verify with ${what}` };
}
