/**
 * jwt: HS256 JSON Web Tokens for the tokens the lab mints (SpacetimeDB identity tokens and the
 * control service's sync tokens share the lab's JWT signing key), signed and verified with `jose`.
 *
 * Signing keeps the caller's header and claim order byte for byte: the OpenAgents control service
 * serializes `{"alg","typ","kid"}` and its claims in struct order
 * (`apps/openagents.com/service/src/sync_token.rs:371-398` at 9b2b978949).
 */
import { CompactSign, compactVerify, decodeJwt, decodeProtectedHeader, errors } from 'jose';

/** JwtClaims is a decoded claim set. */
export type JwtClaims = Record<string, unknown>;

const encoder = new TextEncoder();

/** hmacKey is the key bytes of an HS256 secret (the control service uses the trimmed key's bytes). */
function hmacKey(key: string): Uint8Array {
  return encoder.encode(key);
}

/** signJwt signs `claims` with HS256; the header is `{"alg":"HS256","typ":"JWT", ...header}` in that order. */
export async function signJwt(claims: JwtClaims, key: string, header: Record<string, string> = {}): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(hmacKey(key));
}

/** JwtFailureKinds names why a token was refused; the names follow the jsonwebtoken crate's ErrorKind. */
export const JwtFailureKinds = ['InvalidToken', 'InvalidAlgorithm', 'InvalidSignature', 'ExpiredSignature', 'ImmatureSignature'] as const;
/** JwtFailureKind is one of JwtFailureKinds. */
export type JwtFailureKind = (typeof JwtFailureKinds)[number];

/** JwtVerification is a verified claim set or the reason it was refused. */
export type JwtVerification = { readonly ok: true; readonly claims: JwtClaims; readonly header: JwtClaims } | { readonly ok: false; readonly kind: JwtFailureKind };

function isObject(v: unknown): v is JwtClaims {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * verifyJwt checks shape, algorithm and signature (jose's compactVerify), then `exp`/`nbf`
 * against `nowSec` with `leewaySec`. A `null` or absent `exp` means "no expiry", as in the tokens
 * SpacetimeDB standalone mints, which is why the time claims are compared here rather than by
 * jose's jwtVerify (that one refuses a non-numeric `exp`).
 */
export async function verifyJwt(token: string, key: string, nowSec: number, leewaySec = 0): Promise<JwtVerification> {
  let header: JwtClaims;
  let claims: unknown;
  try {
    const verified = await compactVerify(token, hmacKey(key), { algorithms: ['HS256'] });
    header = verified.protectedHeader as JwtClaims;
    claims = JSON.parse(new TextDecoder().decode(verified.payload)) as unknown;
  } catch (err) {
    if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, kind: 'InvalidSignature' };
    if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return { ok: false, kind: 'InvalidAlgorithm' };
    return { ok: false, kind: 'InvalidToken' };
  }
  if (!isObject(claims)) return { ok: false, kind: 'InvalidToken' };
  if (typeof claims.exp === 'number' && claims.exp + leewaySec <= nowSec) return { ok: false, kind: 'ExpiredSignature' };
  if (typeof claims.nbf === 'number' && claims.nbf - leewaySec > nowSec) return { ok: false, kind: 'ImmatureSignature' };
  return { ok: true, claims, header };
}

/** decodeJwtUnverified reads a token's header and claims without checking the signature (tests, diagnostics). */
export function decodeJwtUnverified(token: string): { header: JwtClaims; claims: JwtClaims } | undefined {
  try {
    return { header: decodeProtectedHeader(token) as JwtClaims, claims: decodeJwt(token) };
  } catch {
    return undefined;
  }
}
