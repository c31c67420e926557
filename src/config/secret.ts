/**
 * Secret: a token or key read from the environment or a file. It prints as `<redacted>` in
 * JSON, `String(x)` and `util.inspect`, so a config object can be logged or served whole.
 */
import { inspect } from 'node:util';

const REDACTED = '<redacted>';

/** Secret wraps a secret value; only `reveal()` returns it. */
export class Secret {
  readonly #value: string;
  /** source says where the value came from (`env:NAME` or `file:PATH`), never the value. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  /** reveal returns the secret itself; call it only where the value goes on the wire. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED} from ${this.source})`;
  }
}

/**
 * isSecretKey tells the keys whose values must come from `${ENV}` or `${file:PATH}`; a key ending
 * in `_keys` or `_tokens` holds a list of them.
 */
export function isSecretKey(key: string): boolean {
  return key === 'token' || key === 'password' || key === 'secret' || key.endsWith('_token') || key.endsWith('_key') || isSecretListKey(key);
}

/** isSecretListKey tells the keys whose value is a list of secrets (`jwt_fallback_signing_keys`). */
export function isSecretListKey(key: string): boolean {
  return key.endsWith('_keys') || key.endsWith('_tokens');
}
