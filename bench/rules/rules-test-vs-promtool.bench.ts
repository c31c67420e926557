/**
 * `sentinel rules test` against `/usr/bin/promtool test rules`, wall time and peak RSS, on
 * generated unit-test files that both tools must pass (a round where either fails is an error,
 * not a figure):
 *   - `thresholds`: 100 instances x 6 metrics = 600 series x 6 h of 15 s samples, 6 alerts in the
 *     shapes of the shipped thresholds and 1 recording rule at a 1m interval (threshold-shape.ts);
 *   - `thresholds-10x`: the same with 1000 instances (6000 series);
 *   - `shipped`: the shipped rule file over 300 streams and the probes' other series (shipped-shape.ts).
 * Each round runs, alternating on the same file, the compiled sentinel as a child process
 * (`node dist/cli.js rules test FILE`, what an installed sentinel runs; the bench compiles src/
 * once into node_modules/.cache/ and removes it at the end) and promtool. Peak RSS is the child's
 * VmHWM from /proc, read every 20 ms while it runs. Prints each round, the medians and the median
 * of the per-round ratios sentinel/promtool.
 * Targets: wall ratio <= 0.50 and RSS ratio <= 1.00 on the two threshold shapes (PASS/MISS); the
 * shipped file's wall ratio <= 1.00.
 *
 * Run: npx tsx bench/rules/rules-test-vs-promtool.bench.ts [--shapes thresholds,thresholds-10x,shipped] [--rounds N] [--rounds-10x N] [--keep]
 *      (or `npm run bench -- rules-test-vs-promtool`)
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { shippedShape } from './shipped-shape.js';
import { thresholdShape } from './threshold-shape.js';
import { figure } from '../figure.js';
import { numberArg, runMain } from '../bench-cli.js';

const SHAPES = ['thresholds', 'thresholds-10x', 'shipped'] as const;
type ShapeName = (typeof SHAPES)[number];

function shapesArg(): ShapeName[] {
  const i = process.argv.indexOf('--shapes');
  if (i < 0) return [...SHAPES];
  const names = (process.argv[i + 1] ?? '').split(',').filter((s) => s !== '');
  const bad = names.filter((n) => !(SHAPES as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    console.error(`rules-test-vs-promtool: --shapes takes a comma-separated list of ${SHAPES.join(', ')}`);
    process.exit(2);
  }
  return names as ShapeName[];
}

const ROUNDS = numberArg('rounds', 5, { integer: true });
const ROUNDS_10X = numberArg('rounds-10x', 2, { integer: true });
const KEEP = process.argv.includes('--keep');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHIPPED_RULES = path.join(ROOT, 'config', 'rules', 'spacetime-sync.rules.yaml');
const PROMTOOL = '/usr/bin/promtool';
/** CHILD_TIMEOUT_MS bounds each child run; a hung tool must not hang the bench. */
const CHILD_TIMEOUT_MS = 600_000;
/** TSC is the TypeScript compiler of this checkout. */
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** BUILD_DIR is inside node_modules so the compiled files resolve the checkout's packages; per process, removed at the end. */
const BUILD_DIR = path.join(ROOT, 'node_modules', '.cache', `sentinel-rules-bench-${process.pid}`);

/** Run is one measured child run. */
interface Run {
  readonly ms: number;
  readonly peakRssKb: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mib = (kb: number): string => `${(kb / 1024).toFixed(0)} MiB`;

/** vmHwmKb reads a live process' peak RSS (VmHWM, kB) from /proc, or 0 once it is gone. */
function vmHwmKb(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** measure runs a command to completion: its wall time and peak RSS; throws on a non-zero exit or overrun. */
function measure(label: string, cmd: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (chunk: Buffer): void => {
      if (out.length < 100_000) out += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let peak = 0;
    const poll = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, vmHwmKb(child.pid));
    }, 20);
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', (err) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`${label}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      const ms = performance.now() - t0;
      clearInterval(poll);
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${label} exited ${code ?? signal}:\n${out.slice(0, 3000)}`));
      else resolve({ ms, peakRssKb: peak });
    });
  });
}

/** writeShape writes a shape's files into `dir` and returns the test file's name and a description. */
function writeShape(name: ShapeName, dir: string): { file: string; describe: string } {
  if (name === 'shipped') {
    copyFileSync(SHIPPED_RULES, path.join(dir, 'spacetime-sync.rules.yaml'));
    const s = shippedShape(300, 6);
    writeFileSync(path.join(dir, 'shipped.test.yaml'), s.text);
    return { file: 'shipped.test.yaml', describe: `shipped rules over ${s.series} series x ${s.samplesPerSeries} samples (6 h at 15 s)` };
  }
  const instances = name === 'thresholds' ? 100 : 1000;
  const s = thresholdShape(instances, 6);
  writeFileSync(path.join(dir, 'thresholds.rules.yaml'), s.rules);
  writeFileSync(path.join(dir, 'thresholds.test.yaml'), s.test);
  return {
    file: 'thresholds.test.yaml',
    describe: `${instances} instances x 6 metrics = ${s.series} series x ${s.samplesPerSeries} samples (6 h at 15 s), 6 alerts + 1 recording rule at 1m`,
  };
}

async function compare(name: ShapeName, cli: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `sentinel-rules-vs-promtool-${name}-`));
  try {
    const { file, describe } = writeShape(name, dir);
    const rounds = name === 'thresholds-10x' ? ROUNDS_10X : ROUNDS;
    console.log(`\n[${name}] ${describe}; file ${(statSync(path.join(dir, file)).size / 1024).toFixed(0)} KiB${KEEP ? ` in ${dir}` : ''}; ${rounds} rounds`);
    const ours: Run[] = [];
    const theirs: Run[] = [];
    for (let r = 0; r < rounds; r++) {
      ours.push(await measure('sentinel rules test', process.execPath, [cli, 'rules', 'test', file], dir));
      theirs.push(await measure('promtool test rules', PROMTOOL, ['test', 'rules', file], dir));
      console.log(`[${name}] round ${r + 1}: sentinel ${seconds(ours[r].ms)} ${mib(ours[r].peakRssKb)}, promtool ${seconds(theirs[r].ms)} ${mib(theirs[r].peakRssKb)}`);
    }
    const wall = median(ours.map((o, i) => o.ms / theirs[i].ms));
    const rss = median(ours.map((o, i) => o.peakRssKb / theirs[i].peakRssKb));
    const wallTarget = name === 'shipped' ? 1 : 0.5;
    const verdict = (x: number, target: number): 'PASS' | 'MISS' => (x <= target ? 'PASS' : 'MISS');
    console.log(
      `[${name}] medians: sentinel ${seconds(median(ours.map((o) => o.ms)))} ${mib(median(ours.map((o) => o.peakRssKb)))}, ` +
        `promtool ${seconds(median(theirs.map((o) => o.ms)))} ${mib(median(theirs.map((o) => o.peakRssKb)))}`,
    );
    console.log(`[${name}] wall ratio sentinel/promtool ${wall.toFixed(2)} (target <= ${wallTarget.toFixed(2)}): ${verdict(wall, wallTarget)}`);
    const oursWall = `${seconds(median(ours.map((o) => o.ms)))}, ${mib(median(ours.map((o) => o.peakRssKb)))}`;
    const theirsWall = `promtool ${seconds(median(theirs.map((o) => o.ms)))}, ${mib(median(theirs.map((o) => o.peakRssKb)))}`;
    figure(`rules test, ${name}: wall`, `${oursWall} (${wall.toFixed(2)}x)`, theirsWall, `<= ${wallTarget.toFixed(2)}x`, verdict(wall, wallTarget));
    if (name !== 'shipped') figure(`rules test, ${name}: peak RSS`, `${rss.toFixed(2)}x promtool`, theirsWall, '<= 1.00x', verdict(rss, 1));
    if (name !== 'shipped') console.log(`[${name}] peak RSS ratio sentinel/promtool ${rss.toFixed(2)} (target <= 1.00): ${verdict(rss, 1)}`);
    else console.log(`[${name}] peak RSS ratio sentinel/promtool ${rss.toFixed(2)} (for information)`);
  } finally {
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  if (spawnSync(PROMTOOL, ['--version'], { timeout: 10_000 }).status !== 0) {
    console.error(`rules-test-vs-promtool: ${PROMTOOL} is missing; install Debian's package prometheus (apt-get install -y prometheus) to compare`);
    return 2;
  }
  const promtoolVersion = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout.split('\n')[0] ?? '';
  const cpus = os.cpus();
  console.log(`rules test vs promtool: node ${process.version}, ${promtoolVersion}`);
  console.log(`machine: ${cpus[0]?.model.trim() ?? 'cpu'} x ${cpus.length}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    const t0 = performance.now();
    const build = spawnSync(process.execPath, [TSC, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD_DIR], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    const cli = path.join(BUILD_DIR, 'cli.js');
    if (build.status !== 0 && !statSync(cli, { throwIfNoEntry: false })) throw new Error(`tsc failed:\n${(build.stdout + build.stderr).slice(0, 2000)}`);
    console.log(`compiled src/ in ${seconds(performance.now() - t0)} (not timed in the rounds)`);
    for (const shape of shapesArg()) await compare(shape, cli);
    return 0;
  } finally {
    rmSync(BUILD_DIR, { recursive: true, force: true });
  }
}

runMain(main);
