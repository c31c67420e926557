/**
 * The external query source against Debian's real `prometheus`: the same samples are in the
 * sentinel's store and, through remote_write, in Prometheus; then the shipped drills' conditions,
 * the gate's SLO checks and the shipped rules are judged through both sources at a healthy time,
 * during a breach and after the data ends, and must decide the same (status and observed value of
 * every condition and check, the alerts every rule raises). And an external source that cannot
 * answer is an error everywhere (drill conditions `error`, the gate blocks, rules fail), never a
 * pass; a Prometheus without the data answers "no data", never the store's answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPromqlExpr, loadRuleFiles, prefetchedQuery, RuleGroup } from '../../src/alerts/index.js';
import type { QueryFn as RuleQueryFn } from '../../src/alerts/index.js';
import { REPO_ROOT } from '../../src/commands/lab-environment.js';
import { resolveFileGlobs } from '../../src/config/index.js';
import { evaluateGate, loadDrillFiles, measure, substituteQueryVariables } from '../../src/drills/index.js';
import type { ConditionQueryFn, ConditionSpec, GateReport } from '../../src/drills/index.js';
import { createEngine, engineQuerySource, PrometheusHttpSource } from '../../src/promql/index.js';
import type { QuerySource } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { freePort, startPrometheus } from '../helpers/prometheus-process.js';
import { startReceiverWriter, startRemoteWriteReceiver } from '../helpers/remote-write-receiver.js';
import type { PrometheusProcess } from '../helpers/prometheus-process.js';

const STEP_MS = 15_000;
const DRILL = 'd';
const STAGE = 's';

let dir: string;
let prom: PrometheusProcess;
const store = new MemoryStore();
const engine = createEngine();
let embedded: QuerySource;
let external: QuerySource;
/** The data: healthy from startMs, a breach from breachMs, nothing after endMs. */
let startMs: number;
let breachMs: number;
let endMs: number;

/** sample writes one probe round's worth of the series the shipped drills and gate read. */
function round(app: { append(l: Record<string, string>, t: number, v: number): void }, t: number, i: number, bad: boolean): void {
  const runs = i + 1;
  const failed = bad ? Math.floor((t - breachMs) / STEP_MS) + 1 : 0;
  for (const probe of ['delivery', 'connections', 'resume', 'token']) {
    for (const labels of [{ probe }, { probe, drill: DRILL, stage: STAGE }] as Array<Record<string, string>>) {
      app.append({ __name__: 'sentinel_probe_success', ...labels }, t, bad ? 0 : 1);
      app.append({ __name__: 'sentinel_probe_duration_seconds', ...labels }, t, bad ? 9.5 : 0.2 + (i % 5) / 100);
    }
    app.append({ __name__: 'sentinel_probe_runs_total', probe, result: 'ok' }, t, runs - failed);
    app.append({ __name__: 'sentinel_probe_runs_total', probe, result: 'timeout' }, t, failed);
  }
  app.append({ __name__: 'sentinel_token_issue_duration_seconds', drill: DRILL, stage: STAGE }, t, bad ? 4 : 0.05);
  app.append({ __name__: 'sentinel_token_contract_ok' }, t, bad ? 0 : 1);
  app.append({ __name__: 'sentinel_ordering_divergence_total' }, t, failed);
  app.append({ __name__: 'sentinel_token_issue_failures_total' }, t, failed * 2);
  for (const outcome of ['ok', 'gap']) app.append({ __name__: 'sentinel_resume_total', outcome }, t, outcome === 'ok' ? runs : failed);
  // Delivery latency: 0.1 s per run when healthy, 3 s per run in the breach (cumulative buckets).
  const slow = failed;
  const fast = runs - failed;
  for (const [le, count] of [['0.25', fast], ['1', fast], ['2.5', fast], ['5', runs], ['+Inf', runs]] as const) {
    app.append({ __name__: 'sentinel_delivery_latency_seconds_bucket', le }, t, count);
  }
  app.append({ __name__: 'sentinel_delivery_latency_seconds_count' }, t, runs);
  app.append({ __name__: 'sentinel_delivery_latency_seconds_sum' }, t, fast * 0.1 + slow * 3);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-query-source-'));
  prom = await startRemoteWriteReceiver(join(dir, 'prometheus'));
  embedded = engineQuerySource(engine, store);
  external = new PrometheusHttpSource({ url: prom.url, timeoutMs: 10_000 });
  // 28 minutes of probe rounds every 15 s, ending 12 minutes ago: 14 healthy, 14 in breach.
  endMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - 12 * 60_000;
  startMs = endMs - 28 * 60_000;
  breachMs = startMs + 14 * 60_000;
  const clock = new ManualClock(startMs);
  const { writer, sink, metric, drain } = await startReceiverWriter(prom, {
    name: 'differential',
    queue: { capacity: 1_000_000, maxSamplesPerSend: 2000, batchSendDeadlineMs: 5000, minBackoffMs: 30, maxBackoffMs: 1000 },
    store,
    clock,
  });
  for (let i = 0, t = startMs; t < endMs; i++, t += STEP_MS) {
    const app = sink.appender();
    round(app, t, i, t >= breachMs);
    app.commit();
  }
  await drain();
  if ((await metric('sentinel_remote_storage_samples_failed_total')) > 0) throw new Error('Prometheus refused samples');
  await writer.stop(clock.nowMs() + 1000);
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const asQuery = (source: QuerySource): ConditionQueryFn => (expr, tMs) => source.instantQuery(expr, tMs);

/** shippedConditions are every condition of the shipped drill files, with their variables filled in. */
function shippedConditions(): ConditionSpec[] {
  const drills = loadDrillFiles(resolveFileGlobs([join(REPO_ROOT, 'config', 'drills', '*.yaml')]));
  const out: ConditionSpec[] = [];
  for (const d of drills) {
    const all = [...d.steadyState, ...d.stages.flatMap((s) => [...(s.verifyFault ? [s.verifyFault] : []), ...s.abortWhen, ...s.expect])];
    for (const c of all) out.push({ ...c, name: `${d.name}: ${c.name}`, query: substituteQueryVariables(c.query, { window: '2m', drill: DRILL, stage: STAGE, run: 'r' }) });
  }
  return out;
}

function gate(query: ConditionQueryFn, nowMs: number): Promise<GateReport> {
  return evaluateGate({
    requiredDrills: [],
    maxEvidenceAgeMs: 3_600_000,
    soakWindowMs: 5 * 60_000,
    deliveryP95MaxSeconds: 1,
    errorBudgetRatioMax: 0.05,
    evidenceRoot: join(dir, 'evidence'),
    query,
    alerts: { description: 'none', firingAlerts: () => Promise.resolve([]) },
    nowMs,
  });
}

/** rounded keeps 9 significant digits: the engines may add a sum up in another order. */
function rounded(v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : Number.isFinite(v) ? Number(v.toPrecision(9)) : v;
}

describe('external query source (a real Prometheus that received the same samples)', () => {
  const times = (): Array<[string, number]> => [
    ['healthy', breachMs - 60_000],
    ['breach', endMs - STEP_MS],
    ['after the data', endMs + 10 * 60_000],
  ];

  it('the shipped drills decide every condition the same through the store and through Prometheus', async () => {
    const conditions = shippedConditions();
    expect(conditions.length).toBeGreaterThan(10);
    const statuses = new Set<string>();
    for (const [when, t] of times()) {
      for (const c of conditions) {
        const [ours, theirs] = await Promise.all([measure(asQuery(embedded), c, c.query, t), measure(asQuery(external), c, c.query, t)]);
        expect({ when, condition: c.name, status: theirs.status, observed: rounded(theirs.observed) }).toEqual({ when, condition: c.name, status: ours.status, observed: rounded(ours.observed) });
        statuses.add(ours.status);
      }
    }
    // The comparison covers passes, failures and no data, not only one kind.
    expect([...statuses].sort()).toEqual(['failed', 'inconclusive', 'passed']);
  }, 60_000);

  it('the gate decides the same through both: each SLO check passes when healthy, fails in the breach, is inconclusive without data', async () => {
    const slo = (r: GateReport) => r.checks.filter((c) => c.check !== 'required drills').map((c) => ({ check: c.check, status: c.status, observed: rounded(c.observed) }));
    const seen: string[] = [];
    for (const [when, t] of times()) {
      const [ours, theirs] = await Promise.all([gate(asQuery(embedded), t), gate(asQuery(external), t)]);
      expect({ when, checks: slo(theirs), decision: theirs.decision.decision }).toEqual({ when, checks: slo(ours), decision: ours.decision.decision });
      seen.push(`${when}: ${slo(ours).map((c) => c.status).join(',')}`);
    }
    expect(seen).toEqual(['healthy: passed,passed,passed', 'breach: passed,failed,failed', 'after the data: passed,inconclusive,inconclusive']);
  }, 60_000);

  it('the shipped rules raise the same alerts through both sources', async () => {
    const files = await loadRuleFiles(resolveFileGlobs([join(REPO_ROOT, 'config', 'rules', '*.rules.yaml')]), { checkExpr: checkPromqlExpr });
    const defs = files.flatMap((f) => f.groups);
    expect(defs.length).toBeGreaterThan(0);
    const alertsVia = async (source: QuerySource, t: number): Promise<string[]> => {
      const out = new MemoryStore();
      const embeddedQuery: RuleQueryFn = (expr, tMs, signal) => engine.instantQuery(store, expr, tMs, signal);
      const alerts: string[] = [];
      for (const def of defs) {
        const group = RuleGroup.fromDefinition(def, { query: embeddedQuery, appendable: out, defaultIntervalMs: 15_000, restored: true });
        const query = source === embedded ? embeddedQuery : await prefetchedQuery((e, tMs, s) => source.instantQuery(e, tMs, s), group.rules, t);
        const result = group.eval(t, undefined, query);
        expect(result.failures.map((f) => f.error.message)).toEqual([]);
        for (const rule of group.alertingRules()) rule.forEachAlert((a) => alerts.push(`${rule.name} ${JSON.stringify(a.labels)} ${a.state}`));
      }
      return alerts.sort();
    };
    let total = 0;
    for (const [, t] of times()) {
      const ours = await alertsVia(embedded, t);
      expect(await alertsVia(external, t)).toEqual(ours);
      total += ours.length;
    }
    expect(total, 'the breach raises alerts').toBeGreaterThan(0);
  }, 60_000);

  it('fails closed: an unreachable source is an error for every condition, blocks the gate and fails every rule', async () => {
    const closed = new PrometheusHttpSource({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
    const t = breachMs - 60_000;
    for (const c of shippedConditions().slice(0, 5)) {
      const m = await measure(asQuery(closed), c, c.query, t);
      expect(m.status).toBe('error');
      expect(m.detail).toMatch(/query source http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: cannot reach it \(ECONNREFUSED\); check query_source\.url/);
    }
    const report = await gate(asQuery(closed), t);
    expect(report.decision.decision).toBe('block');
    expect(report.checks.filter((c) => c.check !== 'required drills' && c.check !== 'no firing critical alert').map((c) => c.status)).toEqual(['error', 'error']);
    const files = await loadRuleFiles(resolveFileGlobs([join(REPO_ROOT, 'config', 'rules', '*.rules.yaml')]), { checkExpr: checkPromqlExpr });
    const def = files[0].groups[0];
    const group = RuleGroup.fromDefinition(def, { query: (expr, tMs) => engine.instantQuery(store, expr, tMs), appendable: new MemoryStore(), defaultIntervalMs: 15_000, restored: true });
    const result = group.eval(t, undefined, await prefetchedQuery((e, tMs) => closed.instantQuery(e, tMs), group.rules, t));
    expect(result.failures).toHaveLength(group.rules.length);
    expect(group.rules.every((r) => r.health === 'err')).toBe(true);
  }, 60_000);

  it("a Prometheus without the data answers no data, never the store's answer", async () => {
    const empty = await startPrometheus({ dir: join(dir, 'empty'), config: { global: { scrape_interval: '15s' }, scrape_configs: [] } });
    try {
      const source = new PrometheusHttpSource({ url: empty.url, timeoutMs: 10_000 });
      const report = await gate(asQuery(source), breachMs - 60_000);
      expect(report.checks.filter((c) => c.check === 'delivery p95 within budget' || c.check === 'error-budget ratio').map((c) => c.status)).toEqual(['inconclusive', 'inconclusive']);
      expect(report.decision.decision).toBe('block');
    } finally {
      await empty.stop();
    }
  }, 60_000);

  it('names the server and what to do when it answers an error or something else', async () => {
    await expect(external.instantQuery('sum(', breachMs)).rejects.toThrow(/query source http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: HTTP 400: bad_data: .*parse error/);
    const notProm = new PrometheusHttpSource({ url: `${prom.url}/graph`, timeoutMs: 5000 });
    await expect(notProm.instantQuery('up', breachMs)).rejects.toThrow(/query source .*\/graph\/api\/v1\/query: HTTP 404, not a Prometheus API answer .*is query_source\.url the server's base URL\?/);
  });
});
