/**
 * redact: keep tokens out of messages. Peers echo what they were sent (a 401 body may quote the
 * JWT; SpacetimeDB puts a fresh token in every response), so any text that may reach a log,
 * a probe result or evidence goes through here first.
 */

// A JWT is three base64url parts; the first two start with `eyJ` (`{"`).
const JWT_RE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER_RE = /(bearer\s+)[^\s"',;]+/gi;

/** REDACTED replaces a secret in text. */
export const REDACTED = '<redacted>';

/** redactSecrets removes the given secret values, anything shaped like a JWT and bearer credentials. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    // Short strings would blank out ordinary words; real secrets are long.
    if (s.length >= 6) out = out.split(s).join(REDACTED);
  }
  return out.replace(JWT_RE, REDACTED).replace(BEARER_RE, `$1${REDACTED}`);
}
