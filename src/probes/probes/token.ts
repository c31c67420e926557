/**
 * token: mint a sync token at `POST /api/sync/token` and check the grant against SYSTEM.md's
 * contract: the response fields, `refresh_after_in = max(1, expires_in - 30)`, the granted
 * topics/streams/scopes agreeing with each other and with the JWT's `oa_sync_*` claims, and the
 * JWT's time claims (`exp > nbf`, `iat`, `jti`). With the signing key configured, the HS256
 * signature is verified too. The token itself never leaves this function.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ControlClient, JsonObject, JsonValue } from '../../spacetime/index.js';
import { isJsonObject } from '../../spacetime/index.js';
import { reasonFromError } from '../reason-class.js';
import type { Probe, ProbeContext, ProbeCounter, ProbeInstruments, ProbeResult, ReasonClass } from '../types.js';
import { probeFailure } from './probe-failure.js';
import { topicToStream } from './topic-stream.js';

/** CLOCK_SKEW_SECONDS is the token's documented default clock skew. */
export const CLOCK_SKEW_SECONDS = 30;

/** TokenProbeOptions configure the probe. */
export interface TokenProbeOptions {
  readonly control: ControlClient;
  readonly instruments: ProbeInstruments;
  /** jwtSigningKey, when known, lets the probe verify the HS256 signature. */
  readonly jwtSigningKey?: string;
}

const FAILURE_REASONS: readonly ReasonClass[] = ['timeout', 'unreachable', 'http_status', 'auth', 'bad_response', 'contract_violation', 'error'];

/** TokenProbe is the `token` probe. */
export class TokenProbe implements Probe {
  readonly name = 'token';
  private readonly attempts: ProbeCounter;
  private readonly failures: ProbeCounter;

  constructor(private readonly options: TokenProbeOptions) {
    this.attempts = options.instruments.counter('sentinel_token_issue_attempts_total', 'Sync token issue attempts made by the token probe.');
    this.failures = options.instruments.counter('sentinel_token_issue_failures_total', 'Sync token issue attempts that failed, by reason.', ['reason']);
    // Ratios over increase() need every series to exist from the start.
    this.attempts.inc({}, 0);
    for (const reason of FAILURE_REASONS) this.failures.inc({ reason }, 0);
  }

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    this.attempts.inc();
    let grant;
    try {
      grant = await this.options.control.mintSyncToken({ signal: ctx.signal });
    } catch (err) {
      const reason = reasonFromError(err);
      this.failures.inc({ reason });
      const durationMs = ctx.clock.nowMs() - start;
      return probeFailure(err, durationMs, { reason, samples: [{ name: 'sentinel_token_contract_ok', value: 0 }] });
    }
    const issueMs = ctx.clock.nowMs() - start;
    const violations = checkGrant(grant.data, grant.token, ctx.clock.nowMs() / 1000, this.options.jwtSigningKey);
    const ok = violations.length === 0;
    if (!ok) this.failures.inc({ reason: 'contract_violation' });
    return {
      ok,
      reason: ok ? 'ok' : 'contract_violation',
      durationMs: ctx.clock.nowMs() - start,
      detail: {
        issue_ms: issueMs,
        expires_in: grant.data.expires_in ?? 'absent',
        granted_streams: Array.isArray(grant.data.granted_streams) ? grant.data.granted_streams.length : 'absent',
        signature_checked: this.options.jwtSigningKey !== undefined,
        violations,
      },
      samples: [
        { name: 'sentinel_token_issue_duration_seconds', value: issueMs / 1000 },
        { name: 'sentinel_token_contract_ok', value: ok ? 1 : 0 },
      ],
    };
  }
}

/**
 * checkGrant returns every way the grant breaks the contract (empty when it holds). `nowSec` is
 * the probe's clock; `signingKey` enables the signature check.
 */
export function checkGrant(data: JsonObject, token: string, nowSec: number, signingKey?: string): string[] {
  const v: string[] = [];
  const expectEq = (field: string, want: string): void => {
    if (data[field] !== want) v.push(`${field} is ${show(data[field])}, expected ${JSON.stringify(want)}`);
  };
  expectEq('token_type', 'Bearer');
  expectEq('transport', 'spacetime_ws');
  expectEq('protocol_version', 'spacetime.sync.v1');
  for (const f of ['issuer', 'audience', 'subject', 'org_id', 'claims_version', 'kid', 'token_id', 'session_id', 'device_id']) {
    if (typeof data[f] !== 'string' || data[f] === '') v.push(`${f} is ${show(data[f])}, expected a non-empty string`);
  }
  const expiresIn = data.expires_in;
  const refreshIn = data.refresh_after_in;
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn <= 0) {
    v.push(`expires_in is ${show(expiresIn)}, expected a positive number of seconds`);
  } else if (refreshIn !== Math.max(1, expiresIn - 30)) {
    v.push(`refresh_after_in is ${show(refreshIn)}, expected max(1, expires_in - 30) = ${Math.max(1, expiresIn - 30)}`);
  }
  const issuedAt = isoMs(data.issued_at);
  const expiresAt = isoMs(data.expires_at);
  const refreshAt = isoMs(data.refresh_after);
  if (issuedAt === undefined) v.push(`issued_at is ${show(data.issued_at)}, expected an RFC 3339 time`);
  if (expiresAt === undefined) v.push(`expires_at is ${show(data.expires_at)}, expected an RFC 3339 time`);
  if (refreshAt === undefined) v.push(`refresh_after is ${show(data.refresh_after)}, expected an RFC 3339 time`);
  if (issuedAt !== undefined && expiresAt !== undefined && typeof expiresIn === 'number' && Math.abs(expiresAt - issuedAt - expiresIn * 1000) > 1000) {
    v.push(`expires_at - issued_at is ${(expiresAt - issuedAt) / 1000} s, expected expires_in = ${expiresIn} s`);
  }
  if (issuedAt !== undefined && refreshAt !== undefined && typeof refreshIn === 'number' && Math.abs(refreshAt - issuedAt - refreshIn * 1000) > 1000) {
    v.push(`refresh_after - issued_at is ${(refreshAt - issuedAt) / 1000} s, expected refresh_after_in = ${refreshIn} s`);
  }
  const scopes = stringList(data.scopes);
  if (scopes === undefined) v.push('scopes is not a list of strings');
  const topics = grants(data.granted_topics, 'topic');
  const streams = grants(data.granted_streams, 'stream');
  if (topics === undefined) v.push('granted_topics is not a list of {topic, required_scope}');
  if (streams === undefined) v.push('granted_streams is not a list of {stream, required_scope}');
  else if (streams.length === 0) v.push('granted_streams is empty');
  for (const g of [...(topics ?? []), ...(streams ?? [])]) {
    if (scopes && !scopes.includes(g.scope)) v.push(`${g.name} requires scope ${JSON.stringify(g.scope)}, which is not in scopes`);
  }
  if (topics && streams) {
    const granted = new Set(streams.map((s) => s.name));
    for (const t of topics) {
      const s = topicToStream(t.name);
      if (!granted.has(s)) v.push(`granted topic ${JSON.stringify(t.name)} maps to stream ${JSON.stringify(s)}, which is not granted`);
    }
  }
  const jwt = decodeJwt(token);
  if (!jwt) {
    v.push('token is not a JWT (three base64url parts with JSON header and claims)');
    return v;
  }
  const { header, claims } = jwt;
  if (header.alg !== 'HS256') v.push(`JWT alg is ${show(header.alg)}, expected "HS256"`);
  if (typeof data.kid === 'string' && header.kid !== undefined && header.kid !== data.kid) v.push(`JWT kid ${show(header.kid)} differs from kid ${show(data.kid)}`);
  const exp = claims.exp;
  const nbf = claims.nbf;
  const iat = claims.iat;
  if (typeof exp !== 'number') v.push('JWT exp is missing');
  if (typeof nbf !== 'number') v.push('JWT nbf is missing');
  if (typeof iat !== 'number') v.push('JWT iat is missing');
  if (typeof exp === 'number' && typeof nbf === 'number' && !(exp > nbf)) v.push(`JWT exp ${exp} is not after nbf ${nbf}`);
  if (typeof exp === 'number' && typeof iat === 'number' && typeof expiresIn === 'number' && exp - iat !== expiresIn) v.push(`JWT exp - iat is ${exp - iat} s, expected expires_in = ${expiresIn} s`);
  if (typeof exp === 'number' && exp <= nowSec - CLOCK_SKEW_SECONDS) v.push(`JWT is already expired (exp ${exp})`);
  if (typeof nbf === 'number' && nbf > nowSec + CLOCK_SKEW_SECONDS) v.push(`JWT nbf ${nbf} is more than ${CLOCK_SKEW_SECONDS} s in the future`);
  if (typeof claims.jti !== 'string' || claims.jti === '') v.push('JWT jti is missing');
  else if (typeof data.token_id === 'string' && claims.jti !== data.token_id) v.push('JWT jti differs from token_id');
  if (claims.iss !== undefined && claims.iss !== data.issuer) v.push(`JWT iss ${show(claims.iss)} differs from issuer ${show(data.issuer)}`);
  if (claims.sub !== undefined && claims.sub !== data.subject) v.push(`JWT sub ${show(claims.sub)} differs from subject ${show(data.subject)}`);
  const aud = typeof claims.aud === 'string' ? [claims.aud] : stringList(claims.aud);
  if (claims.aud !== undefined && (aud === undefined || (typeof data.audience === 'string' && !aud.includes(data.audience)))) v.push(`JWT aud ${show(claims.aud)} does not include audience ${show(data.audience)}`);
  compareSet(v, 'oa_sync_scopes', stringList(claims.oa_sync_scopes), scopes, 'scopes');
  compareSet(v, 'oa_sync_streams', stringList(claims.oa_sync_streams), streams?.map((s) => s.name), 'granted_streams');
  if (claims.oa_sync_topics !== undefined) compareSet(v, 'oa_sync_topics', stringList(claims.oa_sync_topics), topics?.map((t) => t.name), 'granted_topics');
  if (signingKey !== undefined && !verifyHs256(token, signingKey)) v.push('JWT signature does not verify with the configured signing key');
  return v;
}

function compareSet(v: string[], claim: string, got: string[] | undefined, want: string[] | undefined, field: string): void {
  if (got === undefined) {
    v.push(`JWT ${claim} is missing or not a list of strings`);
    return;
  }
  if (want === undefined) return;
  const a = [...new Set(got)].sort();
  const b = [...new Set(want)].sort();
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) v.push(`JWT ${claim} ${JSON.stringify(a)} differs from ${field} ${JSON.stringify(b)}`);
}

function grants(v: JsonValue | undefined, key: string): Array<{ name: string; scope: string }> | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: Array<{ name: string; scope: string }> = [];
  for (const g of v) {
    if (!isJsonObject(g) || typeof g[key] !== 'string' || typeof g.required_scope !== 'string') return undefined;
    out.push({ name: g[key] as string, scope: g.required_scope });
  }
  return out;
}

function stringList(v: JsonValue | undefined): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

function isoMs(v: JsonValue | undefined): number | undefined {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

function show(v: JsonValue | undefined): string {
  if (v === undefined) return 'absent';
  const s = typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** decodeJwt reads a JWT's header and claims without verifying it. */
export function decodeJwt(token: string): { header: JsonObject; claims: JsonObject } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as JsonValue;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as JsonValue;
    if (!isJsonObject(header) || !isJsonObject(claims)) return undefined;
    return { header, claims };
  } catch {
    return undefined;
  }
}

/** verifyHs256 checks an HS256 JWT signature in constant time. */
export function verifyHs256(token: string, key: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const want = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  return got.length === want.length && timingSafeEqual(got, want);
}
