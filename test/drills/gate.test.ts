import { describe, expect, it } from 'vitest';
import { createEvidenceDir, finishEvidence } from '../../src/drills/evidence.js';
import { evaluateGate } from '../../src/drills/gate.js';
import { queryAlertsSource } from '../../src/drills/critical-alerts.js';
import type { FiringAlertsSource } from '../../src/drills/critical-alerts.js';
import type { ScenarioResult } from '../../src/drills/outcomes.js';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const NOW = Date.UTC(2026, 10, 25, 18, 0, 0);
const HOUR = 3600_000;

async function evidence(root: string, drill: string, status: ScenarioResult['status'], finishedAtMs: number): Promise<void> {
  const dir = createEvidenceDir(root, finishedAtMs - 60_000);
  const scenario: ScenarioResult = { scenario: drill, status, duration_seconds: 60, started_at: new Date(finishedAtMs - 60_000).toISOString(), faults: [], faults_removed: true, conditions: [], stages: [], reasons: status === 'passed' ? [] : ['x failed'] };
  await finishEvidence({ dir, run: { run_id: `r-${drill}`, drills: [drill], environment: 'staging', started_at: scenario.started_at, finished_at: new Date(finishedAtMs).toISOString(), status: 'completed', deviated: false, sentinel_version: 't' }, scenarios: [scenario], facts: [] });
}

/** store holds an hour of 15 s probe samples: fast deliveries, no failed runs (or some). */
function store(options: { slowDeliveries?: boolean; failedRatio?: number; firingCritical?: boolean } = {}): MemoryStore {
  const s = new MemoryStore();
  const app = s.appender();
  const buckets = [0.05, 0.1, 0.25, 0.5, 0.6, 1, 2.5, 5, Infinity];
  let ok = 0;
  let failed = 0;
  const counts = new Array<number>(buckets.length).fill(0);
  const failEvery = options.failedRatio ? Math.round(1 / options.failedRatio) : 0;
  for (let t = NOW - 2 * HOUR, i = 0; t <= NOW; t += 15_000, i++) {
    const latency = options.slowDeliveries ? 0.9 : 0.08;
    buckets.forEach((le, i) => {
      if (latency <= le) counts[i] += 1;
      app.append({ __name__: 'sentinel_delivery_latency_seconds_bucket', le: le === Infinity ? '+Inf' : String(le) }, t, counts[i]);
    });
    if (failEvery > 0 && i % failEvery === 0) failed += 1;
    else ok += 1;
    app.append({ __name__: 'sentinel_probe_runs_total', probe: 'delivery', result: 'ok' }, t, ok);
    app.append({ __name__: 'sentinel_probe_runs_total', probe: 'delivery', result: 'timeout' }, t, failed);
    if (options.firingCritical) app.append({ __name__: 'ALERTS', alertname: 'SpacetimeReplayLagHigh', alertstate: 'firing', severity: 'critical' }, t, 1);
  }
  app.commit();
  return s;
}

async function gate(root: string, s: MemoryStore, required = ['partition', 'restart'], alerts?: FiringAlertsSource) {
  const engine = createEngine();
  const query = (e: string, t: number) => engine.instantQuery(s, e, t);
  return evaluateGate({ requiredDrills: required, maxEvidenceAgeMs: 24 * HOUR, soakWindowMs: HOUR, deliveryP95MaxSeconds: 0.6, errorBudgetRatioMax: 0.02, evidenceRoot: root, query, alerts: alerts ?? queryAlertsSource(query), nowMs: NOW });
}

const root = tempDirs('sentinel-gate-');

describe('promotion gate', () => {
  it('allows with fresh allow evidence for every required drill, no critical alert and SLOs met', async () => {
    const r = root();
    await evidence(r, 'partition', 'passed', NOW - HOUR);
    await evidence(r, 'restart', 'passed', NOW - 2 * HOUR);
    const report = await gate(r, store());
    expect(report.decision.reasons).toEqual([]);
    expect(report.decision.decision).toBe('allow');
  });

  it('blocks when the newest evidence of a drill is block, even if an older run allowed', async () => {
    const r = root();
    await evidence(r, 'partition', 'passed', NOW - 3 * HOUR);
    await evidence(r, 'partition', 'failed', NOW - HOUR);
    await evidence(r, 'restart', 'passed', NOW - HOUR);
    const report = await gate(r, store());
    expect(report.decision.decision).toBe('block');
    expect(report.decision.reasons.join('\n')).toContain('drill partition: failed');
  });

  it('blocks on missing or stale evidence', async () => {
    const r = root();
    await evidence(r, 'partition', 'passed', NOW - 30 * HOUR);
    const report = await gate(r, store());
    expect(report.checks.find((c) => c.check === 'drill partition')?.detail).toContain('older than 1d');
    expect(report.checks.find((c) => c.check === 'drill restart')?.detail).toContain('no evidence');
    expect(report.decision.decision).toBe('block');
  });

  it('blocks on a firing critical alert, a slow delivery p95, or a spent error budget', async () => {
    const r = root();
    await evidence(r, 'partition', 'passed', NOW - HOUR);
    await evidence(r, 'restart', 'passed', NOW - HOUR);
    expect((await gate(r, store({ firingCritical: true }))).checks.find((c) => c.check === 'no firing critical alert')?.status).toBe('failed');
    const slow = await gate(r, store({ slowDeliveries: true }));
    expect(slow.checks.find((c) => c.check === 'delivery p95 within budget')).toMatchObject({ status: 'failed' });
    const budget = await gate(r, store({ failedRatio: 0.2 }));
    expect(budget.checks.find((c) => c.check === 'error-budget ratio')?.status).toBe('failed');
    expect(budget.decision.decision).toBe('block');
  });

  it('fails closed when the alerts cannot be read: an error, never "none firing"', async () => {
    const r = root();
    await evidence(r, 'partition', 'passed', NOW - HOUR);
    await evidence(r, 'restart', 'passed', NOW - HOUR);
    const report = await gate(r, store(), undefined, { description: 'the sentinel daemon at http://127.0.0.1:1/api/v1/alerts', firingAlerts: () => Promise.reject(new Error('no answer (ECONNREFUSED)')) });
    expect(report.checks.find((c) => c.check === 'no firing critical alert')).toMatchObject({ status: 'error' });
    expect(report.checks.find((c) => c.check === 'no firing critical alert')?.detail).toContain('ECONNREFUSED');
    expect(report.decision.decision).toBe('block');
  });

  it('never allows without SLO data: no samples is inconclusive', async () => {
    const r = root();
    await evidence(r, 'partition', 'passed', NOW - HOUR);
    await evidence(r, 'restart', 'passed', NOW - HOUR);
    const report = await gate(r, new MemoryStore());
    expect(report.checks.find((c) => c.check === 'delivery p95 within budget')?.status).toBe('inconclusive');
    expect(report.decision.decision).toBe('block');
  });
});
