/**
 * `npm run bench [-- FILTER...]`: runs every `*.bench.ts` under `bench/` (or those whose path
 * contains one of the FILTERs) as its own child process, one after another, streaming its
 * output, each under a time limit; prints the machine first (figures mean nothing without it)
 * and a table of exit statuses and durations last. Exit code 1 when any bench failed or timed
 * out. Never part of `npm test`: timings on a shared 2-core box are not assertions.
 *
 * Environment: BENCH_TIMEOUT_SECONDS (per bench, default 900); SOAK_SECONDS also widens the
 * soak bench's limit so a long soak is not cut short.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runMain } from './bench-cli.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
/** Grace between SIGTERM and SIGKILL when a bench overruns its limit. */
const KILL_GRACE_MS = 10_000;

/**
 * SETS name groups of benches: `npm run bench -- @issue-13` runs the ones whose figures answer
 * the performance issue (rules test vs promtool at 1x and 10x, query jitter, daemon RSS, fault
 * proxy, CLI start-up, evidence index).
 */
const SETS: Readonly<Record<string, readonly string[]>> = {
  'issue-13': ['rules/rules-test-vs-promtool', 'daemon/query-jitter', 'daemon/soak', 'lab/fault-proxy', 'cli/startup', 'drills/evidence-index'],
};

/** A Figure is one `FIGURE` line a bench printed (see bench/figure.ts). */
interface Figure {
  readonly what: string;
  readonly sentinel: string;
  readonly peer: string;
  readonly target: string;
  readonly verdict: string;
}

const figures: Figure[] = [];

interface BenchOutcome {
  readonly file: string;
  readonly status: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly pass: number;
  readonly miss: number;
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!(n > 0)) {
    console.error(`bench: ${name}=${raw} is not a positive number of seconds; unset it or give e.g. ${name}=${fallback}`);
    process.exit(2);
  }
  return n;
}

/** findBenches lists bench files relative to the repo root, sorted, so runs are in a stable order. */
function findBenches(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) out.push(...findBenches(full));
    } else if (entry.isFile() && entry.name.endsWith('.bench.ts')) {
      out.push(path.relative(ROOT, full));
    }
  }
  return out.sort();
}

/**
 * timeLimitSeconds gives the soak its own duration plus start/stop room, the rules-test
 * comparison (whose 10x shape runs promtool for minutes on a busy machine) 30 minutes, others
 * the default.
 */
function timeLimitSeconds(file: string, fallback: number): number {
  if (file.includes(`daemon${path.sep}soak`)) {
    const soak = positiveNumber('SOAK_SECONDS', 600);
    return Math.max(fallback, soak + 240);
  }
  if (file.includes(`rules${path.sep}rules-test-vs-promtool`)) return Math.max(fallback, 1800);
  return fallback;
}

function gitHead(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', timeout: 5000 }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', timeout: 5000 }).trim();
    return dirty ? `${head} (+ uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

function machineHeader(): string {
  const cpus = os.cpus();
  const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(1)} GiB`;
  return [
    `bench: ${new Date().toISOString()}  commit ${gitHead()}`,
    `node ${process.version} (${process.platform}/${process.arch}), ${os.type()} ${os.release()}`,
    `cpu: ${cpus[0]?.model.trim() ?? 'unknown'} x ${cpus.length} cores (available parallelism ${os.availableParallelism()}), load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `memory: ${gib(os.totalmem())} total, ${gib(os.freemem())} free`,
  ].join('\n');
}

/** runOne runs one bench file; PASS/MISS words in its output are counted for the summary. */
function runOne(file: string, limitSeconds: number): Promise<BenchOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    // detached: the bench gets its own process group, so an overrun kills what it spawned too.
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: process.env });
    let pass = 0;
    let miss = 0;
    let carry = '';
    const count = (chunk: Buffer): void => {
      const text = carry + chunk.toString('utf8');
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('FIGURE\t')) {
          const [, what = '', sentinel = '', peer = '', target = '', verdict = ''] = line.split('\t');
          figures.push({ what, sentinel, peer, target, verdict });
          continue;
        }
        if (/\bPASS\b/.test(line)) pass++;
        if (/\bMISS\b/.test(line)) miss++;
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      count(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    let timedOut = false;
    const killGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const limitTimer = setTimeout(() => {
      timedOut = true;
      console.error(`bench: ${file} exceeded its ${limitSeconds} s limit; sending SIGTERM`);
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    }, limitSeconds * 1000);
    const onInterrupt = (): void => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onInterrupt);
    const finish = (status: string, ok: boolean): void => {
      clearTimeout(limitTimer);
      clearTimeout(killTimer);
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
      if (/\bPASS\b/.test(carry)) pass++;
      if (/\bMISS\b/.test(carry)) miss++;
      resolve({ file, status, ok, seconds: (performance.now() - t0) / 1000, pass, miss });
    };
    child.on('error', (err) => finish(`spawn failed: ${err.message}`, false));
    child.on('close', (code, signal) => {
      if (timedOut) finish(`timeout (${limitSeconds} s)`, false);
      else if (signal) finish(`killed by ${signal}`, false);
      else finish(code === 0 ? 'ok' : `exit ${code}`, code === 0);
    });
  });
}

function figureTable(rows: readonly Figure[]): string {
  const head = ['figure', 'sentinel', 'peer', 'target', ''];
  const body = rows.map((f) => [f.what, f.sentinel, f.peer, f.target, f.verdict]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function table(rows: readonly BenchOutcome[]): string {
  const head = ['bench', 'status', 'duration', 'targets'];
  const body = rows.map((r) => [r.file, r.status, `${r.seconds.toFixed(1)} s`, r.pass + r.miss === 0 ? '-' : `${r.pass} PASS, ${r.miss} MISS`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  const filters = process.argv
    .slice(2)
    .filter((a) => a !== '--')
    .flatMap((a) => {
      if (!a.startsWith('@')) return [a];
      const set = SETS[a.slice(1)];
      if (set === undefined) throw new Error(`bench: no set ${a}; sets: ${Object.keys(SETS).map((k) => `@${k}`).join(', ')}`);
      return set;
    });
  const all = findBenches(BENCH_DIR);
  const selected = filters.length === 0 ? all : all.filter((f) => filters.some((flt) => f.includes(flt)));
  console.log(machineHeader());
  if (selected.length === 0) {
    console.error(`bench: no bench file matches ${filters.map((f) => JSON.stringify(f)).join(', ')}; available: ${all.join(', ') || '(none)'}`);
    return 2;
  }
  const defaultLimit = positiveNumber('BENCH_TIMEOUT_SECONDS', 900);
  console.log(`running ${selected.length} of ${all.length} bench files: ${selected.join(', ')}\n`);
  const outcomes: BenchOutcome[] = [];
  let interrupted = false;
  const noteInterrupt = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', noteInterrupt);
  for (const file of selected) {
    if (interrupted) break;
    if (!statSync(path.join(ROOT, file)).isFile()) continue;
    const limit = timeLimitSeconds(file, defaultLimit);
    console.log(`\n=== ${file} (limit ${limit} s) ===`);
    const outcome = await runOne(file, limit);
    outcomes.push(outcome);
    console.log(`=== ${file}: ${outcome.status} in ${outcome.seconds.toFixed(1)} s ===`);
  }
  console.log(`\n${table(outcomes)}`);
  if (figures.length > 0) console.log(`\n${figureTable(figures)}\n(machine and load as printed at the top; 2 shared cores make every timing a figure, not an assertion)`);
  if (interrupted) console.log('bench: interrupted; later benches did not run');
  return outcomes.every((o) => o.ok) && !interrupted ? 0 : 1;
}

runMain(main);
