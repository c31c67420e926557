/**
 * The package as an operator gets it, without a checkout: `npm pack` of this tree (`prepack`
 * compiles src/ into dist/, `postpack` removes it again), the tarball installed by npm into an
 * empty project, and the installed `sentinel` run from an empty directory with plain node:
 * --help, --version, `config check` on the shipped template, `rules test` on the shipped tests,
 * `demo`, and `verdict` on the demo's evidence.
 *
 * The install is `npm ci --offline` against a lockfile for the empty project written from this
 * checkout's package-lock.json (the tarball plus every non-dev entry, the versions this checkout
 * tests). So npm needs no registry metadata, only the dependency tarballs, which `npm ci` of the
 * checkout put into the npm cache: the test does not depend on the network. Were the cache
 * missing one, the install retries with `--prefer-offline` and says so. Install scripts are
 * skipped and better-sqlite3's native addon is copied from the checkout's build of the same
 * version (same node, same machine): building it from source takes minutes and is npm's and
 * node-gyp's job, measured by `bench/cli/package-install.bench.ts` with a real `npm install -g`.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
const work = mkdtempSync(join(tmpdir(), 'sentinel-package-'));
const app = join(work, 'app');
const installed = join(app, 'node_modules', PKG.name);
const bin = join(app, 'node_modules', '.bin', 'sentinel');
/** cwd for every installed command: an empty directory, so nothing resolves from the checkout. */
const elsewhere = join(work, 'elsewhere');

/** childEnv is a plain environment without the npm_* variables of a surrounding `npm test` or its SENTINEL_* settings. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(npm_|SENTINEL_|LOG_LEVEL$)/i.test(k)) env[k] = v;
  // The bin's `#!/usr/bin/env node` finds the node running this test first.
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

function run(cmd: string, args: readonly string[], options: { cwd: string; env?: Record<string, string>; timeoutMs: number }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd: options.cwd, env: options.env ?? childEnv(), encoding: 'utf8', timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}

function mustRun(cmd: string, args: readonly string[], options: { cwd: string; env?: Record<string, string>; timeoutMs: number }): string {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface LockEntry {
  readonly dev?: boolean;
  readonly [key: string]: unknown;
}

/** projectLock is the lockfile of an empty project depending only on the tarball. */
function projectLock(tarball: string, integrity: string): unknown {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const spec = `file:../${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'sentinel-install-check', dependencies: { [PKG.name]: spec } },
    [`node_modules/${PKG.name}`]: { version: PKG.version, resolved: spec, integrity, dependencies: PKG.dependencies, bin: { sentinel: 'bin/sentinel.js' }, engines: { node: '>=20' } },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev) packages[path] = entry;
  return { name: 'sentinel-install-check', lockfileVersion: 3, requires: true, packages };
}

let packedFiles: string[] = [];
let installNote = '';

beforeAll(() => {
  mkdirSync(app);
  mkdirSync(elsewhere);
  const packed = JSON.parse(mustRun('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, timeoutMs: 180_000 }).replace(/^[^[]*/, '')) as Array<{ filename: string; integrity: string; files: Array<{ path: string }> }>;
  const tarball = packed[0].filename;
  packedFiles = packed[0].files.map((f) => f.path);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'sentinel-install-check', private: true, dependencies: { [PKG.name]: `file:../${tarball}` } }, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(projectLock(tarball, packed[0].integrity), null, 2));
  const npmCi = ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  const offline = run('npm', [...npmCi, '--offline'], { cwd: app, timeoutMs: 180_000 });
  if (offline.status !== 0) {
    if (!/ENOTCACHED/.test(offline.stderr)) throw new Error(`npm ci --offline exited ${offline.status}:\n${offline.stderr}`);
    installNote = `the npm cache lacked a dependency tarball; installed with --prefer-offline (network):\n${offline.stderr}`;
    mustRun('npm', [...npmCi, '--prefer-offline'], { cwd: app, timeoutMs: 300_000 });
  }
  const checkoutSqlite = dirname(createRequire(join(ROOT, 'package.json')).resolve('better-sqlite3/package.json'));
  const installedSqlite = join(app, 'node_modules', 'better-sqlite3');
  const version = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  if (version(checkoutSqlite) !== version(installedSqlite)) throw new Error(`better-sqlite3 ${version(installedSqlite)} installed, but the checkout built ${version(checkoutSqlite)}; run npm ci in the checkout`);
  mkdirSync(join(installedSqlite, 'build', 'Release'), { recursive: true });
  copyFileSync(join(checkoutSqlite, 'build', 'Release', 'better_sqlite3.node'), join(installedSqlite, 'build', 'Release', 'better_sqlite3.node'));
}, 400_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function sentinel(args: readonly string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return run(bin, args, { cwd: elsewhere, env: childEnv(env), timeoutMs: 60_000 });
}

describe('the packed tarball', () => {
  it('holds the compiled CLI, the shipped configuration and dashboard, and no source, tests or TypeScript', () => {
    if (installNote) console.warn(`package test: ${installNote}`);
    for (const f of ['package.json', 'README.md', 'bin/sentinel.js', 'dist/cli.js', 'dist/commands/run.js', 'config/sentinel.yaml', 'config/lab.yaml', 'config/rules/spacetime-sync.rules.yaml', 'config/rules/spacetime-sync.test.yaml', 'config/drills/staging.yaml', 'dashboards/spacetime-sentinel.json']) {
      expect(packedFiles).toContain(f);
    }
    expect(packedFiles.filter((f) => /^(src|test|bench|scripts|deploy)\/|\.ts$|\.map$|tsconfig|package-lock/.test(f))).toEqual([]);
    // dist/ exists only while packing: a checkout never keeps a build that could go stale.
    expect(existsSync(join(ROOT, 'dist'))).toBe(false);
  });

  it('installs without dev dependencies: no tsx, TypeScript, esbuild or vitest', () => {
    const modules = readdirSync(join(app, 'node_modules'));
    expect(modules).toContain('better-sqlite3');
    for (const dev of ['tsx', 'typescript', 'esbuild', 'vitest', 'eslint']) expect(modules).not.toContain(dev);
    expect(existsSync(join(installed, 'src'))).toBe(false);
  });
});

describe('the installed sentinel', () => {
  it('prints its help from compiled JavaScript, loading no command module', () => {
    // A resolve hook lists every ES module node loads (to stderr).
    const hook = join(work, 'list-modules.mjs');
    writeFileSync(hook, 'export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(`loaded ${r.url}\\n`); return r; }\n');
    const register = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(pathToFileURL(hook).href)})`;
    const r = run(process.execPath, ['--import', register, bin, '--help'], { cwd: elsewhere, timeoutMs: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: sentinel <command>/);
    for (const command of ['run', 'demo', 'config check', 'rules test', 'verdict', 'gate']) expect(r.stdout).toContain(`sentinel ${command}`);
    const loaded = r.stderr.split('\n').filter((l) => l.startsWith('loaded file:')).map((l) => l.slice('loaded '.length));
    expect(loaded).toContain(pathToFileURL(join(installed, 'dist', 'cli.js')).href);
    expect(loaded.filter((u) => u.endsWith('.ts') || u.includes('/tsx/'))).toEqual([]);
    expect(loaded.filter((u) => u.includes('/dist/commands/')).map((u) => u.slice(u.lastIndexOf('/') + 1)).sort()).toEqual(['index.js', 'types.js']);
  });

  it('prints the package version', () => {
    const r = sentinel(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${PKG.version}\n`);
  });

  it('checks the shipped configuration template, and names the secret it lacks', () => {
    const template = join(installed, 'config', 'sentinel.yaml');
    // The template's header names the variables it needs ("This template needs A and B set.").
    const needs = /This template needs (.+?) set\./.exec(readFileSync(template, 'utf8'))?.[1].split(/,\s*|\s+and\s+/) ?? [];
    expect(needs.length).toBeGreaterThan(0);
    const missing = sentinel(['config', 'check', '--config', template]);
    expect(missing.status).toBe(2);
    for (const name of needs) expect(missing.stderr).toContain(name);
    const ok = sentinel(['config', 'check', '--config', template], Object.fromEntries(needs.map((n) => [n, `value-of-${n}`])));
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe(`OK: ${template}\n`);
    expect(ok.status).toBe(0);
  });

  it('runs the shipped rule unit tests', () => {
    const r = sentinel(['rules', 'test', join(installed, 'config', 'rules', 'spacetime-sync.test.yaml')]);
    expect(r.stdout).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('runs the demo: lab, daemon and a staged drill whose evidence verifies and carries the package version', async () => {
    const evidence = join(work, 'evidence');
    const child = spawn(bin, ['demo', '--out', evidence], { cwd: elsewhere, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    clearTimeout(timer);
    expect(out).toContain('Verdict: allow');
    expect(code).toBe(0);
    const dir = /^Evidence: (.+)$/m.exec(out)?.[1] ?? '';
    expect(dir.startsWith(evidence)).toBe(true);
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { sentinel_version: string };
    expect(run.sentinel_version).toBe(PKG.version);
    const verdict = sentinel(['verdict', dir]);
    expect(verdict.status).toBe(0);
  }, 180_000);
});
