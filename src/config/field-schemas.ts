/**
 * Field schemas shared by the configuration file kinds: durations, URLs, cron expressions,
 * secrets, listen addresses. Each one prints a message that says what it expected.
 */
import { z } from 'zod';
import { CronSchedule, parseDurationMs } from '../time/index.js';
import { Secret } from './secret.js';
import { expecting } from './validate-section.js';
import type { ListenAddress } from './types.js';

/** durationMs parses a Prometheus duration (`30s`, `5m`, `1h30m`) into milliseconds. */
export const durationMs = z.string(expecting('a duration like 30s, 5m or 1h30m')).transform((text, ctx) => {
  const ms = parseDurationMs(text.trim());
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(text)} (expected a duration like 30s, 5m or 1h30m)` });
    return z.NEVER;
  }
  return ms;
});

/** positiveDurationMs is durationMs for timeouts and intervals, where 0 makes no sense. */
export const positiveDurationMs = durationMs.refine((ms) => ms > 0, { error: 'zero duration (expected a duration > 0, like 10s)' });

/** parseUrl is `new URL(text)`, or undefined where that throws. */
function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** httpUrl accepts an absolute http:// or https:// URL and drops a trailing slash. */
export const httpUrl = z.string(expecting('an http:// or https:// URL')).transform((text, ctx) => {
  const url = parseUrl(text);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: `invalid URL ${JSON.stringify(text)} (expected an http:// or https:// URL)` });
    return z.NEVER;
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'URL contains credentials (expected them in a token field via ${ENV_VAR} or ${file:PATH})' });
    return z.NEVER;
  }
  return text.replace(/\/+$/, '');
});

/**
 * postgresUrl accepts `postgres://USER@HOST[:PORT]/DATABASE` (or `postgresql://`), query
 * parameters such as `sslmode` and `host=/socket/dir` included; a password in it is refused (it
 * belongs in a secret field).
 */
export const postgresUrl = z.string(expecting('a postgres://USER@HOST:PORT/DATABASE URL')).transform((text, ctx) => {
  const url = parseUrl(text);
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || url.hostname === '' || url.username === '') {
    ctx.addIssue({ code: 'custom', message: `invalid PostgreSQL URL ${JSON.stringify(text)} (expected postgres://USER@HOST:PORT/DATABASE; for a unix socket postgres://USER@localhost/DATABASE?host=/socket/dir)` });
    return z.NEVER;
  }
  if (url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'URL contains a password (expected it in the password field via ${ENV_VAR} or ${file:PATH})' });
    return z.NEVER;
  }
  return text;
});

/** cronExpression accepts a schedule in node-cron's grammar: 5 fields, or 6 with seconds first. */
export const cronExpression = z.string(expecting('a cron expression like "*/30 * * * * *"')).transform((text, ctx) => {
  const fields = text.trim().split(/\s+/).length;
  if ((fields !== 5 && fields !== 6) || CronSchedule.parse(text) === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid cron expression ${JSON.stringify(text)} (expected 5 fields, or 6 with seconds first, like "*/30 * * * * *")` });
    return z.NEVER;
  }
  return text.trim();
});

/** secret is a value already turned into a Secret by resolveReferences. */
export const secret = z.custom<Secret>((v) => v instanceof Secret, expecting('${ENV_VAR} or ${file:PATH}'));

/** urlPath is an absolute URL path (`/v1/ping`). */
export const urlPath = z.string(expecting('a path starting with /')).refine((text) => text.startsWith('/') && !/\s/.test(text), {
  error: (issue) => `invalid path ${JSON.stringify(issue.input)} (expected a path starting with /)`,
});

/** nonEmptyString is a string with at least one character. */
export const nonEmptyString = z.string(expecting('a string')).min(1);

/** count is an integer >= `min`. */
export function count(min: number): z.ZodInt {
  return z.int(expecting(`an integer >= ${min}`)).min(min);
}

/** listenAddress parses `HOST:PORT` (`[::1]:9464` for IPv6); port 0 means ephemeral. */
export const listenAddress = z.string(expecting('HOST:PORT, like 127.0.0.1:9464')).transform((text, ctx): ListenAddress => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `invalid listen address ${JSON.stringify(text)} (expected HOST:PORT, like 127.0.0.1:9464)` });
    return z.NEVER;
  }
  return { host: m[1] ?? m[2], port };
});
