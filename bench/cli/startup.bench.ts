/**
 * CLI start-up: wall time of the compiled `sentinel` as an operator runs it, hyperfine style
 * (warm-up runs, then N timed rounds in which the cases take turns; min / median / p90 /
 * mean ± sd).
 *
 * The CLI is the packed package: `npm pack` of this checkout (prepack compiles dist/, postpack
 * removes it) unpacked into a temp directory, with a node_modules symlink to the checkout's, and
 * run as `node bin/sentinel.js ...` (what the installed bin's `#!/usr/bin/env node` does). The
 * floor is `node -e 0` on the same machine in the same run; start-up above it is printed too,
 * and the CPU time (user + system, from GNU time) of each run, which a busy machine inflates far
 * less than wall time. Target: `sentinel --help` and `sentinel verdict DIR` (a signed, passing
 * evidence directory) under 150 ms median wall time.
 *
 * Some variables of the caller's environment put a fixed cost on every node start that no
 * program can avoid: with NODE_EXTRA_CA_CERTS, node 20 builds its root certificate store (its
 * bundled roots and that file) as the process starts, before the first line of JavaScript (on a
 * 2-core machine: +20 ms for an empty file, +40 ms for Debian's 144-certificate bundle), and
 * NODE_OPTIONS adds flags and preloads. When any is set, every case also runs with
 * them unset, and both environments are printed with their own floor: the clean one is start-up
 * as the sentinel makes it, the caller's is what this host pays.
 *
 * Run: npx tsx bench/cli/startup.bench.ts [--runs N] [--warmup N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { figure } from '../figure.js';
import { numberArg, runMain } from '../bench-cli.js';
import { scenarioResult, writeEvidence } from '../../test/drills/helpers/finished-evidence.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET_MS = 150;
/** HOST_START_COSTS are the variables that change how every node process starts. */
const HOST_START_COSTS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'] as const;

const RUNS = numberArg('runs', 30);
const WARMUP = numberArg('warmup', 3, { zero: true });
/** GNU_TIME reports a child's CPU time; without it only wall time is measured. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** packInto runs `npm pack` and unpacks the tarball into `<dir>/package`; returns its bin. */
function packInto(dir: string): { bin: string; tarballBytes: number } {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  const [packed] = JSON.parse(out) as Array<{ filename: string; size: number }>;
  execFileSync('tar', ['-xzf', path.join(dir, packed.filename), '-C', dir], { timeout: 60_000 });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'package', 'node_modules'), 'dir');
  return { bin: path.join(dir, 'package', 'bin', 'sentinel.js'), tarballBytes: packed.size };
}

/** passingEvidence writes a finished, HMAC-signed evidence directory that `verdict` allows. */
function passingEvidence(root: string, key: string): Promise<string> {
  return writeEvidence(root, [scenarioResult('temporary-partition')], { hmacKey: key });
}

interface Case {
  readonly label: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly expectStatus: number;
  readonly target: boolean;
}

/** An Environment is the variables every case of one pass runs with. */
interface Environment {
  readonly label: string;
  readonly vars: NodeJS.ProcessEnv;
}

/**
 * environments is the caller's environment, and when it sets any of HOST_START_COSTS, the same
 * without them.
 */
function environments(): Environment[] {
  const set = HOST_START_COSTS.filter((name) => (process.env[name] ?? '') !== '');
  if (set.length === 0) return [{ label: 'this environment', vars: process.env }];
  const clean = { ...process.env };
  for (const name of set) delete clean[name];
  return [
    { label: `clean environment (${set.join(', ')} unset)`, vars: clean },
    { label: `this host's environment (${set.map((n) => `${n} set`).join(', ')})`, vars: process.env },
  ];
}

/** timeOnce runs the case once: wall time, and CPU time (user + system) when GNU time is there. */
function timeOnce(c: Case, env: Environment, cwd: string): { wallMs: number; cpuMs: number } {
  const [cmd, args] = GNU_TIME ? [GNU_TIME, ['-f', 'cpu %U %S', process.execPath, ...c.args]] : [process.execPath, c.args];
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env: { ...env.vars, ...c.env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  const wallMs = performance.now() - t0;
  const stderr = r.stderr.toString();
  if (r.status !== c.expectStatus) throw new Error(`${c.label}: exit ${r.status ?? r.signal} (expected ${c.expectStatus}): ${stderr.slice(0, 500)}`);
  const cpu = /^cpu ([\d.]+) ([\d.]+)$/m.exec(stderr);
  return { wallMs, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN };
}

function stats(ms: number[]): { min: number; median: number; p90: number; mean: number; sd: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, s.length - 1));
  return { min: s[0], median: at(0.5), p90: at(0.9), mean, sd };
}

async function main(): Promise<number> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sentinel-startup-'));
  try {
    const t0 = performance.now();
    const { bin, tarballBytes } = packInto(tmp);
    console.log(`startup: packed and unpacked in ${((performance.now() - t0) / 1000).toFixed(1)} s (tarball ${(tarballBytes / 1024).toFixed(0)} KiB); ${RUNS} rounds after ${WARMUP} warm-up rounds, the cases taking turns; load avg ${os.loadavg()[0].toFixed(2)}`);
    const key = 'bench-hmac-key';
    const evidenceRoot = path.join(tmp, 'evidence');
    mkdirSync(evidenceRoot);
    const evidence = await passingEvidence(evidenceRoot, key);
    const cases: Case[] = [
      { label: 'node -e 0 (floor)', args: ['-e', '0'], expectStatus: 0, target: false },
      { label: 'sentinel --version', args: [bin, '--version'], expectStatus: 0, target: false },
      { label: 'sentinel --help', args: [bin, '--help'], expectStatus: 0, target: true },
      { label: 'sentinel verdict DIR', args: [bin, 'verdict', evidence], env: { SENTINEL_MANIFEST_HMAC_KEY: key }, expectStatus: 0, target: true },
      { label: 'sentinel rules check FILE', args: [bin, 'rules', 'check', path.join(tmp, 'package', 'config', 'rules', 'spacetime-sync.rules.yaml')], expectStatus: 0, target: false },
    ];
    const envs = environments();
    const pad = Math.max(...cases.map((c) => c.label.length));
    const f = (n: number): string => (Number.isNaN(n) ? '-' : `${n.toFixed(1)} ms`).padStart(9);
    const figures: Array<() => void> = [];
    for (const env of envs) {
      // Cases take turns run by run, so a minute when the machine is busy weighs on all alike.
      const runs = cases.map(() => [] as Array<{ wallMs: number; cpuMs: number }>);
      for (let i = 0; i < WARMUP; i++) for (const c of cases) timeOnce(c, env, tmp);
      for (let i = 0; i < RUNS; i++) cases.forEach((c, j) => runs[j].push(timeOnce(c, env, tmp)));
      const results = cases.map((c, j) => ({ c, s: stats(runs[j].map((r) => r.wallMs)), cpu: stats(runs[j].map((r) => r.cpuMs)) }));
      const floor = results[0].s.median;
      console.log(`\n${env.label}:`);
      console.log(`${'command'.padEnd(pad)}  ${'min'.padStart(9)}  ${'median'.padStart(9)}  ${'p90'.padStart(9)}  ${'mean ± sd'.padStart(17)}  ${'above floor'.padStart(11)}  ${'CPU median'.padStart(10)}  target`);
      for (const { c, s, cpu } of results) {
        const verdict = c.target ? `${s.median < TARGET_MS ? 'PASS' : 'MISS'} (median < ${TARGET_MS} ms)` : '-';
        console.log(`${c.label.padEnd(pad)}  ${f(s.min)}  ${f(s.median)}  ${f(s.p90)}  ${`${s.mean.toFixed(1)} ± ${s.sd.toFixed(1)} ms`.padStart(17)}  ${`${(s.median - floor).toFixed(1)} ms`.padStart(11)}  ${f(cpu.median).padStart(10)}  ${verdict}`);
      }
      for (const { c, s } of results.filter((r) => r.c.target)) {
        figures.push(() => figure(`CLI start-up, ${c.label}, ${env.label}`, `median ${s.median.toFixed(0)} ms (${(s.median - floor).toFixed(0)} ms above node)`, `node -e 0: ${floor.toFixed(0)} ms`, `< ${TARGET_MS} ms`, s.median < TARGET_MS ? 'PASS' : 'MISS'));
      }
    }
    for (const print of figures) print();
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain(main);
