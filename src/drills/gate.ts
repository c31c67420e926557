/**
 * The promotion gate: allow only when, for each required drill, the newest evidence verifies as
 * allow and is younger than the allowed age, no critical alert fires (read with the same
 * fail-closed check as the drills: an alert source that cannot answer is an error, never "none"),
 * and the SLO conditions hold over the soak window (delivery p95, error-budget ratio). Every check is evaluated by the
 * PromQL engine over the sentinel's samples or by `readVerdict` over the evidence; the result is
 * written as gate-results.jsonl and SUMMARY.md in the drills' style.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDurationMs } from '../time/index.js';
import { measure } from './conditions.js';
import type { ConditionQueryFn } from './conditions.js';
import { checkCriticalAlerts, CRITICAL_ALERTS_QUERY } from './critical-alerts.js';
import type { FiringAlertsSource } from './critical-alerts.js';
import type { ConditionSpec } from './drill-file.js';
import { latestEvidence } from './evidence-index.js';
import type { DecisionReport } from './outcomes.js';
import { renderSummary } from './summary.js';
import { readVerdict } from './verdict.js';

/** GateOptions are the thresholds and inputs of one gate evaluation. */
export interface GateOptions {
  readonly requiredDrills: readonly string[];
  readonly maxEvidenceAgeMs: number;
  readonly soakWindowMs: number;
  readonly deliveryP95MaxSeconds: number;
  readonly errorBudgetRatioMax: number;
  readonly evidenceRoot: string;
  readonly hmacKey?: string;
  /**
   * query evaluates the SLO conditions: the engine over the sentinel's samples, or the external
   * query source (an answer it cannot give is an `error` check, so the gate blocks).
   */
  readonly query: ConditionQueryFn;
  /** alerts is where firing critical alerts are read. */
  readonly alerts: FiringAlertsSource;
  readonly nowMs: number;
}

/** GateCheck is one line of gate-results.jsonl. */
export interface GateCheck {
  readonly check: string;
  readonly status: 'passed' | 'failed' | 'inconclusive' | 'error';
  readonly detail: string;
  readonly observed?: number | null;
  readonly threshold?: number;
  readonly evidence?: string;
}

/** GateReport is the gate's answer. */
export interface GateReport {
  readonly checks: readonly GateCheck[];
  readonly decision: DecisionReport;
}

/** sloConditions are the SLO checks over the soak window, as PromQL conditions. */
export function sloConditions(options: Pick<GateOptions, 'soakWindowMs' | 'deliveryP95MaxSeconds' | 'errorBudgetRatioMax'>): ConditionSpec[] {
  const w = formatDurationMs(options.soakWindowMs);
  return [
    {
      name: 'delivery p95 within budget',
      query: `histogram_quantile(0.95, sum by (le) (rate(sentinel_delivery_latency_seconds_bucket[${w}])))`,
      op: '<=',
      threshold: options.deliveryP95MaxSeconds,
    },
    {
      // The error budget spent: failed probe runs over all probe runs in the soak window. No failed
      // series at all is 0 failures (`or vector(0)`), not "no data"; no run at all stays no data.
      name: 'error-budget ratio',
      query: `(sum(increase(sentinel_probe_runs_total{result!="ok"}[${w}])) or vector(0)) / sum(increase(sentinel_probe_runs_total[${w}]))`,
      op: '<=',
      threshold: options.errorBudgetRatioMax,
    },
  ];
}

/** evaluateGate runs every check; it never throws for missing data (that is a failed check). */
export async function evaluateGate(options: GateOptions): Promise<GateReport> {
  const checks: GateCheck[] = [];
  if (options.requiredDrills.length === 0) checks.push({ check: 'required drills', status: 'failed', detail: 'no required drills configured (drills.gate.required_drills): the gate cannot allow without evidence' });
  for (const drill of options.requiredDrills) {
    const entry = latestEvidence(options.evidenceRoot, drill);
    if (!entry) {
      checks.push({ check: `drill ${drill}`, status: 'failed', detail: `no evidence under ${options.evidenceRoot}; run: sentinel drill run ${drill}` });
      continue;
    }
    const ageMs = options.nowMs - Date.parse(entry.run.finished_at);
    const verdict = await readVerdict(entry.dir, { hmacKey: options.hmacKey });
    if (verdict.kind === 'invalid') {
      checks.push({ check: `drill ${drill}`, status: 'error', detail: `newest evidence is invalid: ${verdict.problems.join('; ')}`, evidence: entry.dir });
    } else if (verdict.report.decision !== 'allow') {
      checks.push({ check: `drill ${drill}`, status: 'failed', detail: `newest evidence says block: ${verdict.report.reasons.join('; ')}`, evidence: entry.dir });
    } else if (!(ageMs <= options.maxEvidenceAgeMs)) {
      checks.push({ check: `drill ${drill}`, status: 'failed', detail: `newest allow is ${formatDurationMs(Math.max(0, Math.round(ageMs / 1000) * 1000))} old, older than ${formatDurationMs(options.maxEvidenceAgeMs)}; rerun it`, evidence: entry.dir });
    } else {
      checks.push({ check: `drill ${drill}`, status: 'passed', detail: `allow, ${formatDurationMs(Math.max(0, Math.round(ageMs / 1000) * 1000))} old`, evidence: entry.dir });
    }
  }
  const alerts = await checkCriticalAlerts(options.alerts, options.nowMs, AbortSignal.timeout(30_000));
  if (alerts.status === 'error') checks.push({ check: 'no firing critical alert', status: 'error', detail: alerts.reason });
  else {
    const firing = alerts.status === 'firing' ? alerts.alerts : [];
    checks.push({ check: 'no firing critical alert', status: firing.length === 0 ? 'passed' : 'failed', detail: `${firing.length === 0 ? 'none firing' : `firing: ${firing.join(', ')}`} (${CRITICAL_ALERTS_QUERY} from ${alerts.source})`, observed: firing.length, threshold: 0 });
  }
  for (const slo of sloConditions(options)) {
    const m = await measure(options.query, slo, slo.query, options.nowMs);
    checks.push({
      check: slo.name,
      status: m.status,
      detail: `${slo.query} ${slo.op} ${slo.threshold}${m.status === 'inconclusive' ? ': no data in the soak window' : m.detail ? `: ${m.detail}` : ''}`,
      observed: m.observed,
      threshold: slo.threshold,
    });
  }
  const reasons = checks.filter((c) => c.status !== 'passed').map((c) => `${c.check}: ${c.status} (${c.detail})`);
  return { checks, decision: { decision: reasons.length === 0 ? 'allow' : 'block', failures: reasons.length, reasons } };
}

/** writeGateEvidence writes gate-results.jsonl and SUMMARY.md into `dir`. */
export function writeGateEvidence(dir: string, report: GateReport, nowMs: number, facts: ReadonlyArray<readonly [string, string]>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gate-results.jsonl'), report.checks.map((c) => JSON.stringify(c)).join('\n') + '\n');
  writeFileSync(
    join(dir, 'SUMMARY.md'),
    renderSummary({
      title: 'Spacetime sync promotion gate',
      timestamp: new Date(nowMs).toISOString(),
      facts,
      rows: report.checks.map((c) => ({ scenario: c.check, status: c.status, durationSeconds: 0, checked: c.detail })),
      decision: report.decision,
    }),
  );
}
