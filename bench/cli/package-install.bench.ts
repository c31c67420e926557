/**
 * Package install, as README tells an operator: `npm pack` of this checkout, then
 * `npm install -g --prefix TMP ./spacetime-sentinel-<version>.tgz` with install scripts (so
 * better-sqlite3's native addon is fetched prebuilt or compiled, whichever npm manages), then
 * the installed `sentinel --version` and `sentinel --help`. Prints the tarball size, the files
 * in it, the installed size, and the pack and install wall times. Dependencies come from the npm
 * cache when they are there (`--prefer-offline`), from the registry otherwise.
 *
 * test/package/package.test.ts covers the same tarball in `npm test` without the native build
 * (minutes when no prebuilt binary can be downloaded).
 *
 * Run: npx tsx bench/cli/package-install.bench.ts [--keep]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEEP = process.argv.includes('--keep');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function timed<T>(f: () => T): { value: T; seconds: number } {
  const t0 = performance.now();
  const value = f();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

function duKiB(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8', timeout: 60_000 }).split('\t')[0]);
}

function main(): number {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sentinel-install-'));
  try {
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    const pack = timed(() => execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }));
    const [packed] = JSON.parse(pack.value) as Array<{ filename: string; size: number; unpackedSize: number; entryCount: number }>;
    console.log(`package: npm pack ${pack.seconds.toFixed(1)} s; ${packed.filename}: ${(packed.size / 1024).toFixed(0)} KiB, ${packed.entryCount} files, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
    const prefix = path.join(tmp, 'prefix');
    const install = timed(() =>
      execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp, packed.filename)], { cwd: tmp, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 }),
    );
    const installed = path.join(prefix, 'lib', 'node_modules', 'spacetime-sentinel');
    const nativeBuilt = ((): string => {
      try {
        return execFileSync('find', [path.join(installed, 'node_modules', 'better-sqlite3', 'build'), '-name', '*.o', '-print', '-quit'], { encoding: 'utf8', timeout: 30_000 }).trim() ? 'compiled from source' : 'prebuilt';
      } catch {
        return 'unknown';
      }
    })();
    console.log(`package: npm install -g ${install.seconds.toFixed(1)} s (better-sqlite3 ${nativeBuilt}); installed ${(duKiB(installed) / 1024).toFixed(1)} MiB, of which node_modules ${(duKiB(path.join(installed, 'node_modules')) / 1024).toFixed(1)} MiB`);
    const bin = path.join(prefix, 'bin', 'sentinel');
    const version = execFileSync(bin, ['--version'], { cwd: tmp, env, encoding: 'utf8', timeout: 30_000 }).trim();
    const help = timed(() => execFileSync(bin, ['--help'], { cwd: tmp, env, encoding: 'utf8', timeout: 30_000 }));
    console.log(`package: installed sentinel --version: ${version} (${version === VERSION ? 'PASS' : 'MISS'}: package.json says ${VERSION}); --help ${(help.seconds * 1000).toFixed(0)} ms, ${help.value.split('\n').length} lines`);
    return version === VERSION ? 0 : 1;
  } finally {
    if (KEEP) console.log(`package: kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = main();
