/**
 * Credential: a token the clients send, read at every request rather than once at construction,
 * so a rotated secret file is in effect at the next call (a config `Secret` is one). A plain
 * string is a credential that never changes.
 */
import { ConfigError } from '../errors.js';

/** Credential reveals the current value of a token; it throws (a ConfigError) when it cannot. */
export interface Credential {
  reveal(): string;
}

/** CredentialInput is a credential or a fixed string. */
export type CredentialInput = string | Credential;

/** credentialOf wraps a fixed string; a Credential is returned as is. */
export function credentialOf(input: CredentialInput): Credential {
  if (typeof input !== 'string') return input;
  return { reveal: () => input };
}

/**
 * bearerValue reads a credential for one request and checks it can go in an `Authorization`
 * header: non-empty, no whitespace. `what` names the client and option in the error.
 */
export function bearerValue(credential: Credential, what: string): string {
  const value = credential.reveal();
  if (value === '' || /\s/.test(value)) throw new ConfigError(`${what} must be a non-empty token without whitespace (check the secret it is read from)`);
  return value;
}

/** checkFixedCredential refuses a fixed string that could never be sent, at construction. */
export function checkFixedCredential(input: CredentialInput | undefined, what: string): void {
  if (typeof input === 'string' && (input === '' || /\s/.test(input))) throw new ConfigError(`${what} must be a non-empty token without whitespace`);
}
