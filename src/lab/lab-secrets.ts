/**
 * lab-secrets: the secrets the lab's services use and the files it shares them through
 * (`<stateDir>/secrets/*`, mode 0600), as a deployment shares mounted secret files.
 *
 * A lab keeps its secrets: at start it reuses what the files hold (a value given in the options
 * wins, a missing or empty file gets a fresh value), so a restarted lab and a running sentinel
 * still agree. Rotation is explicit: at start (`rotate`, `sentinel lab --rotate-secrets`) or
 * while running (`rotate()`, the `rotate_secrets` knob). Every file is replaced atomically (a
 * temporary file in the same directory, then rename), so a reader sees the old value or the new
 * one, never a torn write.
 *
 * SpacetimeDB signs its own identity tokens with a key of its own (`<stateDir>/spacetimedb/
 * identity-key`), kept across restarts and never rotated here: rotating the control's sync
 * signing key does not invalidate the identities clients already hold, as with a real host.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** SECRET_FILE_NAMES are the files under `<stateDir>/secrets/` the lab keeps its secrets in. */
export const SECRET_FILE_NAMES = {
  controlSessionToken: 'control-session-token',
  controlPersonalAccessToken: 'control-personal-access-token',
  jwtSigningKey: 'jwt-signing-key',
} as const;

/** LabSecrets are the secrets the lab's services use now. */
export interface LabSecrets {
  readonly controlSessionToken: string;
  /** controlPersonalAccessToken is a PAT of the control's user (`oa_pat_<32 hex>`). */
  readonly controlPersonalAccessToken: string;
  /** jwtSigningKey signs the control's sync tokens (SpacetimeDB accepts tokens signed with it). */
  readonly jwtSigningKey: string;
}

/** SecretName is one of the lab's secrets. */
export type SecretName = keyof LabSecrets;

/** SECRET_KNOB_NAMES maps the snake_case names the `rotate_secrets` knob takes to the secrets. */
export const SECRET_KNOB_NAMES: Readonly<Record<string, SecretName>> = {
  control_session_token: 'controlSessionToken',
  control_personal_access_token: 'controlPersonalAccessToken',
  jwt_signing_key: 'jwtSigningKey',
};

const SECRET_NAMES = Object.keys(SECRET_FILE_NAMES) as SecretName[];

/** freshSecret makes a new value of the kind `name` holds. */
function freshSecret(name: SecretName): string {
  if (name === 'controlPersonalAccessToken') return `oa_pat_${randomBytes(16).toString('hex')}`;
  return randomBytes(name === 'jwtSigningKey' ? 32 : 24).toString('base64url');
}

/** writeAtomically replaces `path` with `text` (mode 0600) through a rename in the same directory. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function readTrimmed(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const v = readFileSync(path, 'utf8').trim();
  return v === '' ? undefined : v;
}

/** LabSecretStoreOptions say where the files live and what to start from. */
export interface LabSecretStoreOptions {
  /** stateDir holds `secrets/` and `spacetimedb/`; without it the secrets live in memory only. */
  readonly stateDir?: string;
  /** given secrets win over the files (and are written to them). */
  readonly given?: Partial<LabSecrets>;
  /** rotate starts from fresh values instead of the files' (given ones still win). */
  readonly rotate?: boolean;
}

/** LabSecretStore holds the current secrets and keeps their files in step. */
export class LabSecretStore {
  private values: LabSecrets;
  private readonly identityKeyValue: string;
  /** files are the secret files (absent without a stateDir). */
  readonly files: { readonly [K in SecretName]: string } | undefined;
  /** rotations counts the secrets rotated while running, by name. */
  readonly rotations: Record<SecretName, number> = { controlSessionToken: 0, controlPersonalAccessToken: 0, jwtSigningKey: 0 };
  lastRotationAtMs: number | undefined;

  constructor(options: LabSecretStoreOptions = {}) {
    const dir = options.stateDir === undefined ? undefined : join(options.stateDir, 'secrets');
    this.files = dir === undefined ? undefined : (Object.fromEntries(SECRET_NAMES.map((n) => [n, join(dir, SECRET_FILE_NAMES[n])])) as { [K in SecretName]: string });
    const start = {} as Record<SecretName, string>;
    for (const n of SECRET_NAMES) {
      start[n] = options.given?.[n] ?? (options.rotate || !this.files ? undefined : readTrimmed(this.files[n])) ?? freshSecret(n);
    }
    this.values = start;
    if (dir !== undefined && this.files) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const n of SECRET_NAMES) writeAtomically(this.files[n], `${start[n]}\n`);
    }
    if (options.stateDir === undefined) {
      this.identityKeyValue = randomBytes(32).toString('base64url');
    } else {
      const keyDir = join(options.stateDir, 'spacetimedb');
      const keyFile = join(keyDir, 'identity-key');
      const kept = readTrimmed(keyFile);
      this.identityKeyValue = kept ?? randomBytes(32).toString('base64url');
      if (kept === undefined) {
        mkdirSync(keyDir, { recursive: true, mode: 0o700 });
        writeAtomically(keyFile, `${this.identityKeyValue}\n`);
      }
    }
  }

  /** current is a snapshot of the secrets in effect. */
  get current(): LabSecrets {
    return { ...this.values };
  }

  /** get reads one secret now (services call it at every use, so a rotation takes effect at once). */
  get(name: SecretName): string {
    return this.values[name];
  }

  /** identityKey is SpacetimeDB's own token key (not one of the shared secrets). */
  get identityKey(): string {
    return this.identityKeyValue;
  }

  /** rotate gives `names` (default: every secret) fresh values, rewriting their files atomically. */
  rotate(names: readonly SecretName[] = SECRET_NAMES, nowMs?: number): SecretName[] {
    const next = { ...this.values } as Record<SecretName, string>;
    for (const n of names) next[n] = freshSecret(n);
    if (this.files) for (const n of names) writeAtomically(this.files[n], `${next[n]}\n`);
    this.values = next;
    for (const n of names) this.rotations[n] += 1;
    this.lastRotationAtMs = nowMs;
    return [...names];
  }
}
