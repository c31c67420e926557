/**
 * GET /api/v1/drills against evidence histories of 10, 1 000 and 10 000 runs: the daemon's
 * evidence index (what the route reads) beside a fresh directory scan plus re-verification per
 * request (what the route did before the index), median of 30 requests after 3 warm-ups.
 * Target: the index's median at 10 000 runs within 2x of its median at 10 runs.
 *
 *   npx tsx bench/drills/evidence-index.bench.ts [--sizes 10,1000,10000]
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EvidenceIndex, evidenceDirName, latestEvidence, parseDrillSource, readVerdict } from '../../src/drills/index.js';
import type { DrillScheduler, RunRecord } from '../../src/drills/index.js';
import { parseYamlSource } from '../../src/config/index.js';
import { registerDrillsApi } from '../../src/server/index.js';
import { figure } from '../figure.js';
import { routeServer } from '../../test/helpers/route-server.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10,1000,10000' } } });
const sizes = values.sizes.split(',').map(Number);
const DRILLS = parseDrillSource(
  parseYamlSource(
    'bench.yaml',
    `drills:
  - name: a
    description: bench
    environments: [dev]
    steady_state: [{ name: x, query: vector(1), op: '>=', threshold: 1 }]
    stages: [{ name: s, duration: 1s }]
`,
  ),
);

function writeHistory(root: string, runs: number): void {
  const now = Date.now();
  for (let i = 0; i < runs; i++) {
    const startMs = now - (runs - i) * 60_000;
    const dir = join(root, evidenceDirName(startMs));
    mkdirSync(dir);
    const run: RunRecord = { run_id: `r${i}`, drills: ['a'], environment: 'dev', started_at: new Date(startMs).toISOString(), finished_at: new Date(startMs + 30_000).toISOString(), status: 'completed', deviated: false, sentinel_version: 'bench' };
    writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
    writeFileSync(join(dir, 'results.jsonl'), '');
    writeFileSync(join(dir, 'SUMMARY.md'), '# bench\n');
  }
  // Older than the index's racy window, as any history is once the daemon runs.
  const past = new Date(now - 60_000);
  utimesSync(root, past, past);
}

async function medianMs(url: string): Promise<number> {
  for (let i = 0; i < 3; i++) await (await fetch(url)).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await (await fetch(url)).arrayBuffer();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const scheduler = { status: () => ({ lastResults: {}, skipped: {} }) } as unknown as DrillScheduler;
const results: Array<{ runs: number; indexMs: number; scanMs: number }> = [];
for (const runs of sizes) {
  const root = mkdtempSync(join(tmpdir(), 'sentinel-evidence-bench-'));
  try {
    writeHistory(root, runs);
    const server = routeServer();
    registerDrillsApi(server, { scheduler, drills: DRILLS, evidenceRoot: root, evidence: new EvidenceIndex(root) });
    // The route as it was: a directory scan and a full verification per request.
    server.route('GET', '/bench/scan', async () => {
      const latest = latestEvidence(root, 'a');
      const verdict = latest ? await readVerdict(latest.dir) : null;
      return { body: { latest: latest?.dir, verdict: verdict?.kind } };
    });
    await server.start();
    const url = server.address()?.url ?? '';
    const indexMs = await medianMs(`${url}/api/v1/drills`);
    const scanMs = await medianMs(`${url}/bench/scan`);
    results.push({ runs, indexMs, scanMs });
    console.log(`${String(runs).padStart(6)} runs: index ${indexMs.toFixed(2)} ms, scan ${scanMs.toFixed(2)} ms (median of 30)`);
    await server.stop(Date.now() + 2000);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
const first = results[0];
const last = results[results.length - 1];
const ratio = last.indexMs / first.indexMs;
console.log(`index: ${last.runs} runs vs ${first.runs} runs: ${ratio.toFixed(2)}x (target <= 2x) ${ratio <= 2 ? 'PASS' : 'MISS'}`);
console.log(`scan:  ${last.runs} runs vs ${first.runs} runs: ${(last.scanMs / first.scanMs).toFixed(2)}x (for comparison)`);
figure(`drills API, ${last.runs} vs ${first.runs} runs`, `${ratio.toFixed(2)}x (${last.indexMs.toFixed(1)} ms)`, `directory scan ${(last.scanMs / first.scanMs).toFixed(2)}x (${last.scanMs.toFixed(1)} ms)`, '<= 2x', ratio <= 2 ? 'PASS' : 'MISS');
