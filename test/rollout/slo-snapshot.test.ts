/**
 * The served SLO snapshot: values computed from the sentinel's own samples with the gate's
 * queries, null without data, and read by the operators' own production rollout script (a
 * byte-identical copy in test/fixtures/vendor/openagents/scripts/) exactly as it reads a snapshot URL.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/promql/index.js';
import { judgeSlo, measureSlo, readSloValues, sloSnapshotDocument } from '../../src/rollout/index.js';
import { registerSloSnapshotRoute } from '../../src/server/index.js';
import type { HttpServer } from '../../src/server/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { routeServer } from '../helpers/route-server.js';

const SCRIPT = join(import.meta.dirname, '..', 'fixtures', 'vendor', 'openagents', 'scripts', 'run-production-phased-rollout.sh');
const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.5, 2.5, 5, 10];

/**
 * seed writes five minutes of a delivery latency histogram whose deliveries all took between
 * 100 and 200 ms (p95 interpolates to 195 ms), and probe runs of which one in ten failed.
 */
function seed(store: MemoryStore, opts: { latencyLe?: number; failedShare?: number } = {}): void {
  const le = opts.latencyLe ?? 0.2;
  const failed = Math.round(100 * (opts.failedShare ?? 0.1));
  for (const [i, t] of [T0, T0 + 60_000, T0 + 120_000, T0 + 180_000, T0 + 240_000, T0 + 300_000].entries()) {
    const app = store.appender();
    const delivered = 1000 + i * 20;
    for (const b of BUCKETS) app.append({ __name__: 'sentinel_delivery_latency_seconds_bucket', le: String(b) }, t, b >= le ? delivered : 0);
    app.append({ __name__: 'sentinel_delivery_latency_seconds_bucket', le: '+Inf' }, t, delivered);
    app.append({ __name__: 'sentinel_probe_runs_total', probe: 'delivery', result: 'ok' }, t, 10_000 + (i * (100 - failed)) / 5);
    app.append({ __name__: 'sentinel_probe_runs_total', probe: 'delivery', result: 'timeout' }, t, 1000 + (i * failed) / 5);
    app.commit();
  }
}

function queryOver(store: MemoryStore) {
  const engine = createEngine({ lookbackDeltaMs: 300_000 });
  return (expr: string, tMs: number) => engine.instantQuery(store, expr, tMs);
}

describe('the SLO snapshot values', () => {
  it('are the delivery p95 in ms and failed over all probe runs, over the window', () => {
    const store = new MemoryStore();
    seed(store);
    const m = measureSlo(queryOver(store), T0 + 300_000, 300_000);
    expect(m.p95LatencyMs).toBe(195);
    expect(m.errorBudgetRatio).toBeCloseTo(0.1, 6);
    expect(m.problems).toEqual([]);
    expect(judgeSlo(m, { maxP95LatencyMs: 600, maxErrorBudgetRatio: 0.02 })).toEqual({ status: 'failed', breaches: ['error budget ratio 0.1 > 0.02'] });
    expect(judgeSlo(m, { maxP95LatencyMs: 195, maxErrorBudgetRatio: 0.1 }).status).toBe('passed');
  });

  it('count no failed run as a ratio of 0, not as missing', () => {
    const store = new MemoryStore();
    const app = store.appender();
    for (const t of [T0, T0 + 60_000]) app.append({ __name__: 'sentinel_probe_runs_total', probe: 'delivery', result: 'ok' }, t, t === T0 ? 10 : 20);
    app.commit();
    expect(measureSlo(queryOver(store), T0 + 60_000, 120_000).errorBudgetRatio).toBe(0);
  });

  it('are null with the reason when nothing was measured, never 0', () => {
    const doc = sloSnapshotDocument(queryOver(new MemoryStore()), T0, 600_000);
    expect(doc.p95_latency_ms).toBeNull();
    expect(doc.error_budget_ratio).toBeNull();
    expect(doc.sync).toEqual({ p95_latency_ms: null, error_budget_ratio: null });
    expect(doc.problems).toEqual(['p95_latency_ms: no delivery latency measured in the last 10m', 'error_budget_ratio: no probe run in the last 10m']);
    expect(judgeSlo(readSloValues(doc), { maxP95LatencyMs: 600, maxErrorBudgetRatio: 0.02 })).toEqual({ status: 'failed', reason: 'missing_metrics_fields', breaches: [] });
  });

  it('are read as the script reads them: top level first, else under sync', () => {
    expect(readSloValues({ p95_latency_ms: 10, error_budget_ratio: 0, sync: { p95_latency_ms: 99 } })).toEqual({ p95LatencyMs: 10, errorBudgetRatio: 0 });
    expect(readSloValues({ p95_latency_ms: null, sync: { p95_latency_ms: 99, error_budget_ratio: '0.5' } })).toEqual({ p95LatencyMs: 99, errorBudgetRatio: 0.5 });
    expect(readSloValues({ p95_latency_ms: 'fast' })).toEqual({ p95LatencyMs: null, errorBudgetRatio: null });
    expect(readSloValues('[]')).toEqual({ p95LatencyMs: null, errorBudgetRatio: null });
  });
});

describe('GET /api/v1/slo/snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-slo-'));
  const store = new MemoryStore();
  const empty = new MemoryStore();
  const clock = new ManualClock(T0 + 300_000);
  const servers: HttpServer[] = [];
  let url = '';
  let emptyUrl = '';

  async function serve(s: MemoryStore): Promise<string> {
    const server = routeServer();
    registerSloSnapshotRoute(server, { query: queryOver(s), clock, windowMs: 300_000 });
    await server.start();
    servers.push(server);
    return `${server.address()?.url}/api/v1/slo/snapshot`;
  }

  beforeAll(async () => {
    seed(store, { failedShare: 0.01 });
    url = await serve(store);
    emptyUrl = await serve(empty);
  });
  afterAll(async () => {
    for (const s of servers) await s.stop(Date.now() + 2000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the values without auth, and refuses a bad window in one sentence', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ p95_latency_ms: 195, error_budget_ratio: 0.01, sync: { p95_latency_ms: 195, error_budget_ratio: 0.01 }, window: '5m', window_seconds: 300, source: 'spacetime-sentinel', problems: [] });
    const bad = await fetch(`${url}?window=soon`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('window="soon" is not a duration between 1s and 7d (like 10m or 1h)');
  });

  /** runScript runs the script asynchronously: the snapshot server answers from this process. */
  async function runScript(snapshotUrl: string, extra: string[], out: string): Promise<{ status: number | null; lines: Array<Record<string, unknown>>; summary: string }> {
    const status = await new Promise<number | null>((resolve) => {
      const child = execFile('bash', [SCRIPT, '--output-dir', out, '--cohorts', '5', '--skip-gates', '--skip-rollback-drill', '--slo-snapshot-url', snapshotUrl, ...extra], { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
      child.on('exit', (code) => resolve(code));
    });
    const lines = readFileSync(join(out, 'slo-results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    return { status, lines, summary: readFileSync(join(out, 'SUMMARY.md'), 'utf8') };
  }

  it("passes the operators' own script within the thresholds and fails it beyond them", async () => {
    const ok = await runScript(url, [], join(dir, 'ok'));
    expect(ok.lines.map((l) => [l.label, l.status, l.p95_latency_ms, l.error_budget_ratio])).toEqual([
      ['baseline', 'passed', 195, 0.01],
      ['cohort_5', 'passed', 195, 0.01],
      ['post_rollback_drill', 'passed', 195, 0.01],
    ]);
    expect(ok.summary).toContain('- Decision: allow');
    expect(ok.status).toBe(0);

    const strict = await runScript(url, ['--max-p95-latency-ms', '150'], join(dir, 'strict'));
    expect(strict.lines.every((l) => l.status === 'failed')).toBe(true);
    expect(strict.summary).toContain('- SLO failures: 3');
    expect(strict.status).toBe(1);
  });

  it("fails the operators' script with missing_metrics_fields when the sentinel has no data", async () => {
    const none = await runScript(emptyUrl, [], join(dir, 'none'));
    expect(none.lines.map((l) => [l.label, l.status, l.reason])).toEqual([
      ['baseline', 'failed', 'missing_metrics_fields'],
      ['cohort_5', 'failed', 'missing_metrics_fields'],
      ['post_rollback_drill', 'failed', 'missing_metrics_fields'],
    ]);
    expect(none.status).toBe(1);
  });
});
