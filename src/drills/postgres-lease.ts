/**
 * PostgresDrillLease: the drill lease of an HA pair, held as a PostgreSQL session-level advisory
 * lock (`pg_try_advisory_lock(int, int)`, PostgreSQL `src/backend/utils/adt/lockfuncs.c`) on a
 * session opened for that one hold. The key is derived from the lease name, so every sentinel
 * configured with the same name (default: one per environment) contends for the same lock.
 *
 * A lock lives exactly as long as its session: the holder's process dying closes the socket and
 * the server drops the lock at once. A holder that hangs or is cut off is covered both ways:
 * - the server ends the session after `ttlMs` without a statement (`idle_session_timeout`,
 *   PostgreSQL 14+), which releases the lock for the other sentinel;
 * - the holder checks every ttl/3 that its session still holds the lock (pg_locks), and calls the
 *   lease lost on a failed or late check, on a session error or end: well before the server could
 *   have given the lock to anyone else (the last good check is at most 2/3 ttl old).
 * Who holds the lease is read from pg_locks and pg_stat_activity (the holder's application_name
 * names it and its drill), so no table and no DDL privilege are needed.
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client as PgClient } from 'pg';
import pino from 'pino';
import type { Logger } from 'pino';
import { SentinelError } from '../errors.js';
import type { Clock } from '../time/index.js';
import { DrillLeaseBusyError } from './drill-lease.js';
import type { DrillLease, HeldLease, LeaseClaim } from './drill-lease.js';

/** APP_PREFIX starts the application_name of a session holding a drill lease. */
const APP_PREFIX = 'sentinel-lease';
/** NAMEDATALEN - 1: PostgreSQL truncates application_name to 63 bytes. */
const APP_NAME_MAX = 63;

/** PostgresLeaseOptions configure one lease. */
export interface PostgresLeaseOptions {
  /** url is `postgres://USER@HOST:PORT/DATABASE[?sslmode=...&host=/socket/dir]`, without a password. */
  readonly url: string;
  /** password returns the password (from a secret); called only when connecting. */
  readonly password?: () => string;
  /** name is the lease's name; sentinels sharing it run one drill at a time. */
  readonly name: string;
  /** holder names this sentinel in the refusals the other one gives (no whitespace). */
  readonly holder: string;
  /** ttlMs: a holder silent this long loses the lease on the server. */
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/** leaseKey derives the two int4 advisory-lock keys of a lease name (non-negative, stable). */
export function leaseKey(name: string): readonly [number, number] {
  const digest = createHash('sha256').update(`spacetime-sentinel drill lease\0${name}`).digest();
  return [digest.readInt32BE(0) & 0x7fffffff, digest.readInt32BE(4) & 0x7fffffff];
}

/** applicationName is what the holding session shows in pg_stat_activity. */
export function applicationName(holder: string, drill: string): string {
  return Buffer.from(`${APP_PREFIX} ${holder} ${drill}`, 'utf8').subarray(0, APP_NAME_MAX).toString('utf8').replace(/\uFFFD$/, '');
}

/** describeEndpoint names a PostgreSQL URL without its credentials. */
export function describeEndpoint(url: string): string {
  const u = new URL(url);
  const socket = u.searchParams.get('host');
  const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username);
  return `${socket ?? u.host}/${db}`;
}

/** TRY_LOCK_ATTEMPTS bounds the try-locks of one acquire (a refusal whose holder is releasing the lock is tried again). */
const TRY_LOCK_ATTEMPTS = 3;
/** RETRY_PAUSE_MS lets an exiting holder's backend finish releasing before the next try (x attempt). */
const RETRY_PAUSE_MS = 50;

interface HolderRow {
  readonly pid: number;
  readonly application_name: string | null;
  readonly backend_start: Date | null;
}

const HOLDER_SQL = `SELECT a.pid, a.application_name, a.backend_start
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.classid = $1::oid AND l.objid = $2::oid
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

const HOLDS_SQL = `SELECT EXISTS (SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND pid = pg_backend_pid()
    AND classid = $1::oid AND objid = $2::oid) AS held`;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** PostgresDrillLease is a DrillLease held in PostgreSQL. */
export class PostgresDrillLease implements DrillLease {
  readonly description: string;
  private readonly key: readonly [number, number];
  private readonly logger: Logger;
  private readonly checkMs: number;

  constructor(private readonly options: PostgresLeaseOptions) {
    this.description = `PostgreSQL advisory lock '${options.name}' on ${describeEndpoint(options.url)}`;
    this.key = leaseKey(options.name);
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.checkMs = Math.max(100, Math.floor(options.ttlMs / 3));
  }

  /**
   * client opens nothing yet; pg is imported here, at the first claim, so a daemon without a
   * PostgreSQL lease never loads it (at load, pg's lib/stream.js reads the global Response,
   * which makes Node load undici).
   */
  private async client(drill: string): Promise<PgClient> {
    const { default: pg } = await import('pg');
    const u = new URL(this.options.url);
    const password = this.options.password?.();
    // pg's URL parser overrides a separate password option, so it travels inside the URL; this
    // string is handed to the client only, never logged.
    if (password) u.password = encodeURIComponent(password);
    return new pg.Client({
      connectionString: u.toString(),
      application_name: applicationName(this.options.holder, drill),
      connectionTimeoutMillis: Math.max(1000, this.options.ttlMs),
      query_timeout: this.checkMs,
      keepAlive: true,
    });
  }

  async acquire(claim: LeaseClaim): Promise<HeldLease> {
    const client = await this.client(claim.drill);
    const early: Error[] = [];
    const onEarlyError = (err: Error): void => void early.push(err);
    client.on('error', onEarlyError);
    try {
      await client.connect();
      // The server ends a session silent for ttl, and with it the lock (PostgreSQL 14+).
      await client.query(`SELECT set_config('idle_session_timeout', $1, false)`, [`${this.options.ttlMs}ms`]);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new SentinelError('SENTINEL_UNREACHABLE', `cannot take the drill lease (${this.description}): ${errorText(err)}`);
    }
    try {
      // A refused try-lock whose holder is gone by the time pg_locks is read (or whose backend
      // has already left pg_stat_activity and is exiting) lost a race with that holder's release:
      // its session ended, or the server ended it. The lock is then tried again after a moment;
      // only a holder still there refuses, and the refusal names it.
      for (let attempt = 1; ; attempt++) {
        const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [this.key[0], this.key[1]]);
        if (res.rows[0]?.ok === true) break;
        const holder = await this.readHolder(client);
        const leaving = holder === undefined || holder.application_name === null;
        if (!leaving || attempt >= TRY_LOCK_ATTEMPTS) throw new DrillLeaseBusyError(this.holderMessage(holder));
        await delay(RETRY_PAUSE_MS * attempt);
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      if (err instanceof SentinelError) throw err;
      throw new SentinelError('SENTINEL_UNREACHABLE', `cannot take the drill lease (${this.description}): ${errorText(err)}`);
    }
    client.off('error', onEarlyError);
    this.logger.info({ lease: this.options.name, drill: claim.drill, run: claim.runId }, 'drill lease taken');
    return this.hold(client, claim, early);
  }

  /** readHolder reads who holds the lock from pg_locks and pg_stat_activity; undefined when nobody does. */
  private async readHolder(client: PgClient): Promise<HolderRow | undefined> {
    const res = await client.query<HolderRow>(HOLDER_SQL, [this.key[0], this.key[1]]);
    return res.rows[0];
  }

  /** holderMessage names whoever holds the lock, as far as pg_stat_activity shows it. */
  private holderMessage(row: HolderRow | undefined): string {
    const base = `the drill lease '${this.options.name}' (${this.description}) is held by`;
    if (!row) return `${base} another session that kept taking and releasing it while this sentinel tried; try again`;
    const app = row.application_name ?? '';
    const since = row.backend_start ? ` since ${row.backend_start.toISOString()}` : '';
    if (app.startsWith(`${APP_PREFIX} `)) {
      const [holder, ...drill] = app.slice(APP_PREFIX.length + 1).split(' ');
      return `${base} sentinel '${holder}' running drill '${drill.join(' ')}'${since} (PostgreSQL backend pid ${row.pid}); one drill at a time across the sentinels sharing this lease`;
    }
    return `${base} PostgreSQL backend pid ${row.pid}${app ? ` ('${app}')` : ''}${since}; one drill at a time across the sentinels sharing this lease`;
  }

  private hold(client: PgClient, claim: LeaseClaim, early: readonly Error[]): HeldLease {
    const { clock, ttlMs } = this.options;
    const lost = new AbortController();
    const released = new AbortController();
    let lastGoodMs = clock.nowMs();
    const lose = (why: string): void => {
      if (released.signal.aborted || lost.signal.aborted) return;
      const reason = `drill lease '${this.options.name}' lost: ${why}`;
      this.logger.error({ lease: this.options.name, drill: claim.drill, run: claim.runId }, reason);
      lost.abort(new Error(reason));
      client.end().catch(() => undefined);
    };
    client.on('error', (err: Error) => lose(`the PostgreSQL session failed (${err.message})`));
    client.on('end', () => lose('the PostgreSQL session ended'));
    if (early.length > 0) lose(`the PostgreSQL session failed (${early[0].message})`);

    const heartbeat = (async () => {
      while (!released.signal.aborted && !lost.signal.aborted) {
        try {
          await clock.sleep(this.checkMs, released.signal);
        } catch {
          return;
        }
        if (released.signal.aborted || lost.signal.aborted) return;
        const silentMs = clock.nowMs() - lastGoodMs;
        if (silentMs > (2 * ttlMs) / 3) {
          lose(`no lease check succeeded for ${silentMs} ms (ttl ${ttlMs} ms); the server may have given it away`);
          return;
        }
        try {
          const res = await client.query<{ held: boolean }>(HOLDS_SQL, [this.key[0], this.key[1]]);
          if (res.rows[0]?.held !== true) {
            lose('the PostgreSQL session no longer holds the lock');
            return;
          }
          lastGoodMs = clock.nowMs();
        } catch (err) {
          lose(`the lease check failed (${errorText(err)})`);
          return;
        }
      }
    })();

    return {
      lost: lost.signal,
      release: async () => {
        if (released.signal.aborted) return;
        released.abort();
        await heartbeat;
        if (!lost.signal.aborted) {
          try {
            await client.query('SELECT pg_advisory_unlock($1, $2)', [this.key[0], this.key[1]]);
          } catch (err) {
            // Ending the session below releases the lock anyway.
            this.logger.warn({ err: errorText(err), lease: this.options.name }, 'drill lease unlock failed; closing its session');
          }
        }
        await client.end().catch(() => undefined);
        this.logger.info({ lease: this.options.name, drill: claim.drill, run: claim.runId }, 'drill lease released');
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
