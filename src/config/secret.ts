/**
 * Secret: a token or key read from the environment or a file. It prints as `<redacted>` in
 * JSON, `String(x)` and `util.inspect`, so a config object can be logged or served whole.
 *
 * A secret from `${ENV}` is fixed for the life of the process. A secret from `${file:PATH}` is
 * read at every `reveal()`, the way Prometheus reads `credentials_file` on every request
 * (`prometheus/common` `config/http_config.go`, `FileSecret.Fetch`): a token rotated by a
 * Kubernetes Secret volume (an atomic swap of the `..data` symlink), by a Secret Manager volume
 * that fetches the latest version on read, or by any writer that renames a new file into place is
 * in effect at the next request, with no restart. A file that disappears, cannot be read or is
 * empty makes `reveal()` throw a `ConfigError` naming the key and the file (never the value), so
 * a caller reports a configuration problem rather than an authentication failure.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConfigError } from '../errors.js';

const REDACTED = '<redacted>';

/** Secret wraps a secret value; only `reveal()` returns it. This one is fixed (`${ENV}`). */
export class Secret {
  readonly #value: string;
  /** source says where the value came from (`env:NAME` or `file:PATH`), never the value. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  /** reveal returns the secret itself; call it where the value goes on the wire, at every use. */
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

/** SecretFileEvent is what a FileSecret tells its listeners when what it reads changes. */
export interface SecretFileEvent {
  /** key is the configuration key the secret belongs to (`target.control.session_token`). */
  readonly key: string;
  readonly path: string;
  /** state: `rotated` (a new value is in effect), `unreadable` (reveal now throws), `restored` (readable again). */
  readonly state: 'rotated' | 'unreadable' | 'restored';
  /** problem says why the file cannot be used (only with `unreadable`). */
  readonly problem?: string;
}

/** SecretFileListener receives the changes of a FileSecret; it must not throw. */
export type SecretFileListener = (event: SecretFileEvent) => void;

type Reading = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly code: string; readonly problem: string };

/** readSecretFile reads one secret file; a trailing newline (from `echo` or an editor) is not part of it. */
function readSecretFile(path: string): Reading {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, code, problem: `cannot read file ${path} (${code})` };
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') return { ok: false, code: 'EMPTY', problem: `file ${path} is empty` };
  return { ok: true, value };
}

/**
 * FileSecret is a secret kept in a file (`${file:PATH}`), read at every use, as Prometheus reads
 * `credentials_file` on each request (`config/http_config.go` in prometheus/common): a rotation is
 * seen even where the file's metadata does not change (Cloud Run's Secret Manager volumes fetch
 * the latest version when the file is read). Listeners hear of each change once: a rotation,
 * the file becoming unusable, its return.
 */
export class FileSecret extends Secret {
  /** key is the configuration key (`target.control.session_token`), for messages. */
  readonly key: string;
  readonly path: string;
  #reading: Reading;
  readonly #listeners = new Set<SecretFileListener>();

  /** The file is read now; `problem()` tells whether it could be. */
  constructor(path: string, key: string) {
    super('', `file:${path}`);
    this.key = key;
    this.path = path;
    this.#reading = readSecretFile(path);
  }

  /** problem is why the file cannot be used now, or undefined when it can. */
  problem(): string | undefined {
    const reading = this.refresh();
    return reading.ok ? undefined : reading.problem;
  }

  /** reveal returns the file's current content; it throws a ConfigError when the file cannot be used. */
  override reveal(): string {
    const reading = this.refresh();
    if (reading.ok) return reading.value;
    throw new ConfigError(`${this.key}: ${reading.problem}; the secret it holds is needed here (restore the file, or fix the configuration and reload)`);
  }

  /** onChange adds a listener; the returned function removes it. */
  onChange(listener: SecretFileListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  private refresh(): Reading {
    const before = this.#reading;
    const after = readSecretFile(this.path);
    this.#reading = after;
    const state = after.ok ? (before.ok ? (after.value !== before.value ? 'rotated' : undefined) : 'restored') : before.ok || before.code !== after.code ? 'unreadable' : undefined;
    if (state) this.emit({ key: this.key, path: this.path, state, ...(after.ok ? {} : { problem: after.problem }) });
    return after;
  }

  private emit(event: SecretFileEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener that throws must not turn a readable secret into a failed request.
        continue;
      }
    }
  }

  override [inspect.custom](): string {
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

/**
 * secretsIn lists every Secret in a configuration tree (a `Config` or any part of it), each once,
 * so the daemon can listen to the file-backed ones.
 */
export function secretsIn(tree: unknown): Secret[] {
  const out = new Set<Secret>();
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (v instanceof Secret) out.add(v);
    else if (v !== null && typeof v === 'object' && !seen.has(v)) {
      seen.add(v);
      for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child);
    }
  };
  walk(tree);
  return [...out];
}
