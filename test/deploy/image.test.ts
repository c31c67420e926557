/**
 * The container image, short of building it (no image registry here): its shell scripts run for
 * real. setup.sh creates the user and directories in a scratch root; the entrypoint under tini
 * (Debian's, as in the image) starts the real daemon with secrets from mounted files, the
 * image's HEALTHCHECK script sees it ready, and SIGTERM to tini stops it cleanly within
 * server.shutdown_timeout. The Dockerfile itself is checked against the scripts and the
 * repository it copies from, and both scripts pass shellcheck.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const IMAGE = join(ROOT, 'deploy', 'image');
const DOCKERFILE = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'sentinel-image-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** instructions lists the Dockerfile's instructions (continuation lines joined, comments dropped). */
function instructions(): Array<{ op: string; args: string; stage: number }> {
  const out: Array<{ op: string; args: string; stage: number }> = [];
  let stage = -1;
  const joined = DOCKERFILE.replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line.trim());
    if (!m || line.trim().startsWith('#')) continue;
    if (m[1] === 'FROM') stage++;
    out.push({ op: m[1], args: m[2].trim(), stage });
  }
  return out;
}

describe('deploy/image/setup.sh', () => {
  it.skipIf(process.getuid?.() !== 0)('creates uid/gid 10001 `sentinel`, its volumes and the sentinel command in a scratch root', () => {
    const root = join(work, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\n');
    writeFileSync(join(root, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
    writeFileSync(join(root, 'etc', 'gshadow'), 'root:*::\n', { mode: 0o640 });
    const r = spawnSync('sh', [join(IMAGE, 'setup.sh')], { env: { PATH: process.env.PATH ?? '', ROOT: root }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(root, 'etc', 'passwd'), 'utf8')).toContain('sentinel:x:10001:10001:spacetime-sentinel:/var/lib/sentinel:/usr/sbin/nologin\n');
    expect(readFileSync(join(root, 'etc', 'group'), 'utf8')).toContain('sentinel:x:10001:\n');
    for (const d of ['var/lib/sentinel', 'var/lib/sentinel/data', 'var/lib/sentinel/evidence']) {
      const s = statSync(join(root, d));
      expect([s.uid, s.gid, s.mode & 0o777], d).toEqual([10001, 10001, 0o750]);
    }
    expect(statSync(join(root, 'etc', 'sentinel')).uid).toBe(0);
    expect(lstatSync(join(root, 'usr', 'local', 'bin', 'sentinel')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'usr', 'local', 'bin', 'sentinel'))).toBe('/opt/sentinel/bin/sentinel.js');
    // Run twice (a rebuilt layer): refuses, as useradd does, rather than creating a second user.
    expect(spawnSync('sh', [join(IMAGE, 'setup.sh')], { env: { PATH: process.env.PATH ?? '', ROOT: root }, timeout: 30_000 }).status).not.toBe(0);
  });
});

/** fakeSentinelPath makes a `sentinel` on PATH that prints its arguments and one variable, for dispatch. */
function fakeSentinelPath(): string {
  const dir = join(work, 'fake-bin');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    writeFileSync(join(dir, 'sentinel'), '#!/bin/sh\nprintf "sentinel %s|" "$*"\nprintf "token=%s|file=%s\\n" "${SENTINEL_SPACETIMEDB_TOKEN-unset}" "${SENTINEL_SPACETIMEDB_TOKEN_FILE-unset}"\n', { mode: 0o755 });
  }
  return `${dir}:${process.env.PATH ?? ''}`;
}

function entrypoint(args: readonly string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', [join(IMAGE, 'entrypoint.sh'), ...args], { env: { PATH: fakeSentinelPath(), ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('deploy/image/entrypoint.sh', () => {
  it('runs `sentinel run` by default, sentinel commands and options as given, and other programs as they are', () => {
    expect(entrypoint([]).stdout).toBe('sentinel run|token=unset|file=unset\n');
    expect(entrypoint(['config', 'check']).stdout).toBe('sentinel config check|token=unset|file=unset\n');
    expect(entrypoint(['--version']).stdout).toBe('sentinel --version|token=unset|file=unset\n');
    expect(entrypoint(['sentinel', 'verdict', '/x']).stdout).toBe('sentinel verdict /x|token=unset|file=unset\n');
    expect(entrypoint(['echo', 'hello']).stdout).toBe('hello\n');
  });

  it('turns SENTINEL_NAME_FILE into SENTINEL_NAME from the mounted file, and refuses both or an unreadable file', () => {
    const secret = join(work, 'spacetimedb-token');
    writeFileSync(secret, 'from-a-mounted-file\n', { mode: 0o600 });
    expect(entrypoint(['run'], { SENTINEL_SPACETIMEDB_TOKEN_FILE: secret })).toEqual({ status: 0, stdout: 'sentinel run|token=from-a-mounted-file|file=unset\n', stderr: '' });
    expect(entrypoint(['run'], { SENTINEL_SPACETIMEDB_TOKEN: 'env' }).stdout).toBe('sentinel run|token=env|file=unset\n');
    const both = entrypoint(['run'], { SENTINEL_SPACETIMEDB_TOKEN: 'env', SENTINEL_SPACETIMEDB_TOKEN_FILE: secret });
    expect([both.status, both.stdout, both.stderr]).toEqual([2, '', 'sentinel-entrypoint: both SENTINEL_SPACETIMEDB_TOKEN and SENTINEL_SPACETIMEDB_TOKEN_FILE are set; set only one of them\n']);
    const missing = entrypoint(['run'], { SENTINEL_SPACETIMEDB_TOKEN_FILE: join(work, 'nope') });
    expect([missing.status, missing.stdout]).toEqual([2, '']);
    expect(missing.stderr).toBe(`sentinel-entrypoint: SENTINEL_SPACETIMEDB_TOKEN_FILE names ${join(work, 'nope')}, which is not a readable file; mount the secret there or unset SENTINEL_SPACETIMEDB_TOKEN_FILE\n`);
  });

  it('under tini, runs the real daemon with file secrets; HEALTHCHECK passes; SIGTERM stops it cleanly within the shutdown timeout', async () => {
    const dir = join(work, 'daemon');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    mkdirSync(join(dir, 'secrets'));
    // The image's /usr/local/bin/sentinel is a link to the package's bin; here, the checkout's.
    symlinkSync(join(ROOT, 'bin', 'sentinel.js'), join(dir, 'bin', 'sentinel'));
    const secrets = { spacetimedb: 'spacetimedb-secret-from-file', control: 'control-secret-from-file' };
    writeFileSync(join(dir, 'secrets', 'spacetimedb'), `${secrets.spacetimedb}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'secrets', 'control'), `${secrets.control}\n`, { mode: 0o600 });
    const config = join(dir, 'sentinel.yaml');
    writeFileSync(
      config,
      `environment: dev
target:
  spacetimedb: {base_url: "http://127.0.0.1:9", database: autopilot-sync, token: "\${SENTINEL_SPACETIMEDB_TOKEN}"}
  runtime: {base_url: "http://127.0.0.1:9"}
  control: {base_url: "http://127.0.0.1:9", session_token: "\${SENTINEL_CONTROL_SESSION_TOKEN}"}
server: {shutdown_timeout: 5s}
storage: {data_dir: ${join(dir, 'data')}}
drills: {evidence_dir: ${join(dir, 'evidence')}}
`,
    );
    const env = {
      PATH: `${join(dir, 'bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: dir,
      SENTINEL_CONFIG: config,
      SENTINEL_LISTEN: '127.0.0.1:0',
      SENTINEL_SPACETIMEDB_TOKEN_FILE: join(dir, 'secrets', 'spacetimedb'),
      SENTINEL_CONTROL_SESSION_TOKEN_FILE: join(dir, 'secrets', 'control'),
    };
    const child = spawn('tini', ['--', join(IMAGE, 'entrypoint.sh')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const line = (msg: string): Record<string, unknown> | undefined =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === msg);
    const deadline = Date.now() + 30_000;
    while (!line('sentinel running') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const address = String(line('sentinel running')?.address ?? '');
    expect(address, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = address.slice(address.lastIndexOf(':') + 1);
    // The daemon's own process trades TurboFan, young-generation growth and old-generation headroom for memory (src/daemon/v8-flags.ts).
    expect(line('sentinel running')).toMatchObject({ v8Flags: ['--no-opt', '--semi-space-growth-factor=1', '--optimize-for-size'] });

    const health = (): { status: number | null; stderr: string } => {
      const r = spawnSync(process.execPath, [join(IMAGE, 'healthcheck.mjs')], { env: { SENTINEL_LISTEN: `0.0.0.0:${port}` }, encoding: 'utf8', timeout: 10_000 });
      return { status: r.status, stderr: r.stderr };
    };
    expect(health()).toEqual({ status: 0, stderr: '' });

    const t0 = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000 + 2000);
    expect(line('sentinel stopped')).toMatchObject({ isClean: true });
    const down = health();
    expect(down.status).toBe(1);
    expect(down.stderr).toBe(`sentinel-healthcheck: http://127.0.0.1:${port}/readyz: ECONNREFUSED\n`);
    for (const s of Object.values(secrets)) expect(out).not.toContain(s);
  }, 60_000);
});

describe('deploy/Dockerfile', () => {
  const all = instructions();

  it('builds on the same Node 20 slim base in both stages and runs as the unprivileged user setup.sh creates', () => {
    const froms = all.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]);
    expect(froms).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    const setup = readFileSync(join(IMAGE, 'setup.sh'), 'utf8');
    const uid = /^SENTINEL_UID=(\d+)$/m.exec(setup)?.[1];
    const gid = /^SENTINEL_GID=(\d+)$/m.exec(setup)?.[1];
    const users = all.filter((i) => i.op === 'USER');
    expect(users.at(-1)?.args).toBe(`${uid}:${gid}`);
    expect(Number(uid)).toBeGreaterThan(0);
  });

  it('copies only paths that exist and the build context keeps, and runs what it copied', () => {
    const ignore = readFileSync(join(ROOT, 'deploy', 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = new Map<string, string>();
    for (const c of all.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      const words = c.args.split(/\s+/);
      const dest = words.at(-1) ?? '';
      for (const src of words.slice(0, -1)) {
        expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
        expect(ignore.some((keep) => src === keep || src.startsWith(`${keep}/`)), `${src} is kept by deploy/Dockerfile.dockerignore`).toBe(true);
        if (c.stage === 1) copied.set(dest, src);
      }
    }
    const entry = JSON.parse(all.find((i) => i.op === 'ENTRYPOINT')?.args ?? '[]') as string[];
    expect(entry[0]).toBe('/usr/bin/tini');
    expect(copied.get(entry.at(-1) ?? '')).toBe('deploy/image/entrypoint.sh');
    const check = all.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
    const checkCmd = JSON.parse(check.slice(check.indexOf('CMD') + 3).trim()) as string[];
    expect(copied.get(checkCmd.at(-1) ?? '')).toBe('deploy/image/healthcheck.mjs');
    expect(all.some((i) => i.op === 'RUN' && i.stage === 1 && i.args.includes(`sh ${[...copied].find(([, s]) => s === 'deploy/image/setup.sh')?.[0]}`))).toBe(true);
  });

  it('declares the volumes setup.sh owns, and the configuration and listen address the daemon reads', () => {
    const volumes = JSON.parse(all.find((i) => i.op === 'VOLUME')?.args ?? '[]') as string[];
    expect(volumes).toEqual(['/var/lib/sentinel/data', '/var/lib/sentinel/evidence']);
    const env = all.filter((i) => i.op === 'ENV' && i.stage === 1).map((i) => i.args).join(' ');
    expect(env).toContain('SENTINEL_CONFIG=/etc/sentinel/sentinel.yaml');
    expect(env).toContain('SENTINEL_LISTEN=0.0.0.0:9464');
    expect(all.find((i) => i.op === 'EXPOSE')?.args).toBe('9464');
    // The production install uses the lockfile and omits dev dependencies.
    expect(all.some((i) => i.op === 'RUN' && i.stage === 0 && /npm ci --omit=dev/.test(i.args))).toBe(true);
  });

  it('has shell scripts that pass shellcheck', () => {
    const r = spawnSync('shellcheck', ['--shell=sh', join(IMAGE, 'setup.sh'), join(IMAGE, 'entrypoint.sh')], { encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw new Error(`shellcheck is missing (npm test installs Debian's shellcheck): ${r.error.message}`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
