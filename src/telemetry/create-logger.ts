/**
 * createLogger: the daemon's pino logger (JSON lines). Secrets are redacted by key wherever
 * they are commonly logged; `Secret` values also print as `<redacted>` on their own.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

/** SECRET_KEYS are the field names whose values never reach the log. */
const SECRET_KEYS = [
  'token',
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'secret',
  'session_token',
  'sessionToken',
  'admin_token',
  'adminToken',
  'bearer_token',
  'bearerToken',
  'access_token',
  'accessToken',
  'refresh_token',
  'jwt_signing_key',
  'jwtSigningKey',
  'manifest_hmac_key',
  'manifestHmacKey',
  'api_key',
  'apiKey',
  'x-api-key',
] as const;

function bracket(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `["${key}"]`;
}

/** REDACT_PATHS covers each secret key at the top level and up to three levels deep (pino paths have no `**`). */
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => {
  const k = bracket(key);
  return [k.startsWith('.') ? k.slice(1) : k, `*${k}`, `*.*${k}`, `*.*.*${k}`];
});

/** LoggerOptions configures createLogger. */
export interface LoggerOptions {
  readonly level: string;
  /** destination defaults to stdout; tests pass a stream to read what was logged. */
  readonly destination?: DestinationStream;
  /** base fields on every line (e.g. `{ service: 'sentinel' }`). */
  readonly base?: Readonly<Record<string, unknown>>;
}

/** createLogger builds a pino logger writing JSON lines, with secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { ...(options.base ?? {}) },
      redact: { paths: [...REDACT_PATHS], censor: '<redacted>' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** silentLogger is the default for components given no logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
