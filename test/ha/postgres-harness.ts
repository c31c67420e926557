/**
 * postgres-harness: a throwaway PostgreSQL (Debian's `postgresql` package) for the HA tests:
 * `initdb` into a temp dir with a password-protected superuser (scram-sha-256), then `postgres`
 * on a free loopback port with its socket in that dir, tuned small (no fsync, few buffers). As
 * root, the server runs as the `postgres` user (it refuses to run as root), through setpriv.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../helpers/free-port.js';

/** postgresBinDir is the newest /usr/lib/postgresql/<version>/bin with initdb and postgres, if any. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}


function idOf(user: string): { uid: number; gid: number } | undefined {
  const res = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gres = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (res.status !== 0 || gres.status !== 0) return undefined;
  return { uid: Number(res.stdout.trim()), gid: Number(gres.stdout.trim()) };
}

/** ThrowawayPostgres is one running server; `stop()` shuts it down and removes its files. */
export class ThrowawayPostgres {
  private log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    /** password of the `sentinel` superuser; also in `passwordFile`. */
    readonly password: string,
    readonly passwordFile: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  /** url is the server's URL without the password (the way the sentinel's config takes it). */
  get url(): string {
    return `postgres://sentinel@127.0.0.1:${this.port}/postgres`;
  }

  get output(): string {
    return this.log;
  }

  static async start(bin: string): Promise<ThrowawayPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-pg-'));
    const asRoot = process.getuid?.() === 0;
    const runAs = asRoot ? (idOf('postgres') ?? idOf('nobody')) : undefined;
    if (asRoot && !runAs) throw new Error('running as root, but neither a postgres nor a nobody user exists to run PostgreSQL as');
    const wrap = (cmd: string, args: string[]): [string, string[]] => (runAs ? ['setpriv', [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', cmd, ...args]] : [cmd, args]);
    const password = randomBytes(12).toString('hex');
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      chownSync(dir, runAs.uid, runAs.gid);
      chownSync(passwordFile, runAs.uid, runAs.gid);
    }
    const data = join(dir, 'data');
    const [initCmd, initArgs] = wrap(join(bin, 'initdb'), ['-D', data, '-U', 'sentinel', '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const init = spawnSync(initCmd, initArgs, { encoding: 'utf8', timeout: 60_000 });
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed (${init.status}): ${init.stderr}${init.stdout}`);
    }
    const port = await freePort();
    const settings = ['listen_addresses=127.0.0.1', `unix_socket_directories=${dir}`, 'fsync=off', 'full_page_writes=off', 'synchronous_commit=off', 'shared_buffers=8MB', 'max_connections=20', 'max_wal_size=64MB'];
    const [cmd, args] = wrap(join(bin, 'postgres'), ['-D', data, '-p', String(port), ...settings.flatMap((s) => ['-c', s])]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ThrowawayPostgres(dir, port, password, passwordFile, child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await server.query('SELECT 1');
        return server;
      } catch (err) {
        if (child.exitCode !== null || Date.now() > deadline) {
          await server.stop();
          throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${server.output}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** query runs one statement on a fresh superuser session. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'sentinel', database: 'postgres', password: this.password, connectionTimeoutMillis: 5000, query_timeout: 10_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** sessions lists the sessions holding an advisory lock, with their application_name. */
  async leaseSessions(): Promise<Array<{ pid: number; application_name: string }>> {
    return this.query<{ pid: number; application_name: string }>(
      `SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted ORDER BY a.pid`,
    );
  }

  /** terminate ends the sessions whose application_name starts with `prefix` (as an operator would). */
  async terminate(prefix: string): Promise<number> {
    const rows = await this.query<{ ok: boolean }>(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name LIKE $1 || '%' AND pid <> pg_backend_pid()`, [prefix]);
    return rows.filter((r) => r.ok).length;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      // SIGINT is PostgreSQL's fast shutdown: sessions are ended, no waiting for clients.
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
