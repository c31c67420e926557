/**
 * Drill verdicts on a healthy lab and under sabotage: the false-block and false-allow figures.
 *
 *  (a) Every shipped drill (config/drills/staging.yaml, its shipped durations, config/lab.yaml's
 *      probe settings) run `--runs` times (default 20) against a fresh, healthy lab, in-process as
 *      `sentinel drill run` runs it: each block is a false block (goal 0).
 *  (b) Each drill `--daemon-runs` times (default 2) the way the daemon runs it (buildDaemon: cron
 *      probes and the rule manager beside the drill): again every block is a false block.
 *  (c) The sabotage matrix (test/drills/sabotage: the suite's cells plus the bench's extra ones,
 *      timing compressed, claims unchanged), each cell `--matrix-runs` times (default 1): drill x
 *      case -> decision. A sabotage that is allowed is a false allow (target 0).
 *
 * Labs run `--concurrency` at a time (default 2). It takes long (about an hour at the defaults on
 * two cores): run it alone, e.g. `nice npx tsx bench/drills/healthy-runs.bench.ts`.
 *
 * Run: npx tsx bench/drills/healthy-runs.bench.ts [--runs 20] [--daemon-runs 2] [--matrix-runs 1]
 *      [--concurrency 2] [--drills a,b] [--skip-healthy] [--skip-matrix]
 */
import { cpus, loadavg } from 'node:os';
import { loadDrillFiles } from '../../src/drills/index.js';
import { FAST, MATRIX, MATRIX_EXTRA, runDaemonDrill, runMatrixCase, SHIPPED_DRILLS } from '../../test/drills/sabotage/matrix-harness.js';
import type { MatrixCase } from '../../test/drills/sabotage/matrix-harness.js';
import { numberArg } from '../bench-cli.js';

/** num reads a whole-number option (0 allowed: skips that part). */
const num = (name: string, fallback: number): number => numberArg(name, fallback, { integer: true, zero: true });

const RUNS = num('runs', 20);
const DAEMON_RUNS = num('daemon-runs', 2);
const MATRIX_RUNS = num('matrix-runs', 1);
const CONCURRENCY = Math.max(1, num('concurrency', 2));
const only = process.argv.indexOf('--drills') >= 0 ? process.argv[process.argv.indexOf('--drills') + 1].split(',') : undefined;
const DRILLS = loadDrillFiles([SHIPPED_DRILLS])
  .map((d) => d.name)
  .filter((d) => !only || only.includes(d));

/** pool runs the jobs `CONCURRENCY` at a time, in order of submission. */
async function pool<T>(jobs: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

interface Outcome {
  readonly drill: string;
  readonly label: string;
  readonly decision: string;
  readonly status: string;
  readonly seconds: number;
  readonly reason: string;
}

function line(o: Outcome): void {
  console.log(`  ${o.drill.padEnd(24)} ${o.label.padEnd(58)} ${o.decision.padEnd(5)} ${o.status.padEnd(12)} ${o.seconds.toFixed(1).padStart(6)}s${o.reason ? `  ${o.reason.slice(0, 160)}` : ''}`);
}

async function healthy(): Promise<{ falseBlocks: Map<string, number>; runs: Map<string, number> }> {
  const falseBlocks = new Map<string, number>();
  const runs = new Map<string, number>();
  const jobs: Array<() => Promise<Outcome>> = [];
  for (const drill of DRILLS) {
    for (let i = 0; i < RUNS; i++) {
      jobs.push(async () => {
        const r = await runMatrixCase({ drill, timing: null }).catch((err: unknown) => ({ error: err as Error }));
        const o: Outcome =
          'error' in r
            ? { drill, label: `standalone #${i + 1}`, decision: 'error', status: 'error', seconds: 0, reason: r.error.message }
            : { drill, label: `standalone #${i + 1}`, decision: r.result.decision.decision, status: r.result.scenario.status, seconds: r.seconds, reason: r.result.scenario.reasons.join(' | ') };
        line(o);
        return o;
      });
    }
    for (let i = 0; i < DAEMON_RUNS; i++) {
      jobs.push(async () => {
        const r = await runDaemonDrill(drill, null).catch((err: unknown) => ({ error: err as Error }));
        const o: Outcome =
          'error' in r || r.result === undefined
            ? { drill, label: `daemon #${i + 1}`, decision: 'error', status: 'error', seconds: 0, reason: 'error' in r ? r.error.message : 'the daemon could not run the drill' }
            : { drill, label: `daemon #${i + 1}`, decision: r.result.decision.decision, status: r.result.scenario.status, seconds: r.seconds, reason: r.result.scenario.reasons.join(' | ') };
        line(o);
        return o;
      });
    }
  }
  console.log(`(a)+(b) healthy lab, shipped timing: ${RUNS} standalone + ${DAEMON_RUNS} daemon runs per drill, ${CONCURRENCY} at a time`);
  for (const o of await pool(jobs)) {
    runs.set(o.drill, (runs.get(o.drill) ?? 0) + 1);
    if (o.decision !== 'allow') falseBlocks.set(o.drill, (falseBlocks.get(o.drill) ?? 0) + 1);
  }
  return { falseBlocks, runs };
}

async function matrix(): Promise<{ falseAllows: number; cells: Array<{ drill: string; name: string; decisions: string[]; expected: string }> }> {
  const cells: Array<{ drill: string; name: string; cell: MatrixCase }> = [];
  for (const drill of DRILLS) for (const cell of [...(MATRIX[drill] ?? []), ...(MATRIX_EXTRA[drill] ?? [])]) cells.push({ drill, name: cell.sabotage?.name ?? 'healthy', cell });
  console.log(`(c) sabotage matrix: ${cells.length} cells x ${MATRIX_RUNS}, timing compressed (stage ${FAST.stageMs} ms, recovery ${FAST.recoveryMs} ms)`);
  const jobs = cells.flatMap(({ drill, name, cell }) =>
    Array.from({ length: MATRIX_RUNS }, () => async () => {
      const r = await runMatrixCase({ drill, ...(cell.sabotage ? { sabotage: cell.sabotage } : {}) }).catch((err: unknown) => ({ error: err as Error }));
      const o: Outcome =
        'error' in r
          ? { drill, label: name, decision: 'error', status: 'error', seconds: 0, reason: r.error.message }
          : { drill, label: name, decision: r.result.decision.decision, status: r.result.scenario.status, seconds: r.seconds, reason: r.injectionErrors.length ? `injection failed: ${r.injectionErrors.join('; ')}` : r.result.scenario.reasons.join(' | ') };
      line(o);
      return { drill, name, expected: cell.statuses.includes('passed') ? 'allow' : 'block', decision: `${o.decision} (${o.status})`, allowed: o.decision === 'allow' };
    }),
  );
  const results = await pool(jobs);
  const out = new Map<string, { drill: string; name: string; decisions: string[]; expected: string }>();
  let falseAllows = 0;
  for (const r of results) {
    const key = `${r.drill}\u0000${r.name}`;
    const entry = out.get(key) ?? { drill: r.drill, name: r.name, decisions: [], expected: r.expected };
    entry.decisions.push(r.decision);
    out.set(key, entry);
    if (r.expected === 'block' && r.allowed) falseAllows += 1;
  }
  return { falseAllows, cells: [...out.values()] };
}

async function main(): Promise<void> {
  console.log(`machine: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const startedMs = Date.now();
  let failed = false;
  if (!process.argv.includes('--skip-healthy')) {
    const { falseBlocks, runs } = await healthy();
    console.log('\nfalse blocks on a healthy lab (goal 0):');
    for (const drill of DRILLS) {
      const n = falseBlocks.get(drill) ?? 0;
      console.log(`  ${drill.padEnd(24)} ${n} of ${runs.get(drill) ?? 0} runs  ${n === 0 ? 'PASS' : 'MISS'}`);
    }
  }
  if (!process.argv.includes('--skip-matrix')) {
    const { falseAllows, cells } = await matrix();
    console.log('\nsabotage matrix (drill x case -> decision):');
    for (const c of cells) console.log(`  ${c.drill.padEnd(24)} ${c.name.padEnd(78)} -> ${c.decisions.join(', ')}  (expected ${c.expected})`);
    console.log(`false allows (target 0): ${falseAllows}  ${falseAllows === 0 ? 'PASS' : 'MISS'}`);
    failed = falseAllows > 0;
  }
  console.log(`total ${((Date.now() - startedMs) / 60_000).toFixed(1)} min`);
  process.exitCode = failed ? 1 : 0;
}

await main();
