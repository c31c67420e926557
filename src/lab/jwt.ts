/**
 * jwt: HS256 JSON Web Tokens on node:crypto, for the tokens the lab mints (SpacetimeDB identity
 * tokens and the control service's sync tokens share the lab's JWT signing key).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** JwtClaims is a decoded claim set. */
export type JwtClaims = Record<string, unknown>;

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** signJwt signs `claims` with HS256 and the given header fields (e.g. `kid`). */
export function signJwt(claims: JwtClaims, key: string, header: Record<string, string> = {}): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...header }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(sig)}`;
}

/** JwtFailureKinds names why a token was refused; the names follow the jsonwebtoken crate's ErrorKind. */
export const JwtFailureKinds = ['InvalidToken', 'InvalidAlgorithm', 'InvalidSignature', 'ExpiredSignature', 'ImmatureSignature'] as const;
/** JwtFailureKind is one of JwtFailureKinds. */
export type JwtFailureKind = (typeof JwtFailureKinds)[number];

/** JwtVerification is a verified claim set or the reason it was refused. */
export type JwtVerification = { readonly ok: true; readonly claims: JwtClaims; readonly header: JwtClaims } | { readonly ok: false; readonly kind: JwtFailureKind };

/** verifyJwt checks shape, algorithm, signature, then `exp`/`nbf` against `nowSec` with `leewaySec`. */
export function verifyJwt(token: string, key: string, nowSec: number, leewaySec = 0): JwtVerification {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, kind: 'InvalidToken' };
  const [head, body, sig] = parts as [string, string, string];
  let header: JwtClaims;
  let claims: JwtClaims;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as JwtClaims;
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as JwtClaims;
  } catch {
    return { ok: false, kind: 'InvalidToken' };
  }
  if (header === null || typeof header !== 'object' || claims === null || typeof claims !== 'object') return { ok: false, kind: 'InvalidToken' };
  if (header.alg !== 'HS256') return { ok: false, kind: 'InvalidAlgorithm' };
  const expected = createHmac('sha256', key).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, kind: 'InvalidSignature' };
  if (typeof claims.exp === 'number' && claims.exp + leewaySec <= nowSec) return { ok: false, kind: 'ExpiredSignature' };
  if (typeof claims.nbf === 'number' && claims.nbf - leewaySec > nowSec) return { ok: false, kind: 'ImmatureSignature' };
  return { ok: true, claims, header };
}

/** decodeJwtUnverified reads a token's claims without checking the signature (tests, diagnostics). */
export function decodeJwtUnverified(token: string): { header: JwtClaims; claims: JwtClaims } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8')) as JwtClaims,
      claims: JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as JwtClaims,
    };
  } catch {
    return undefined;
  }
}
