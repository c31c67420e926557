/**
 * Condition evaluation for drills. A condition is a PromQL query compared with a threshold; the
 * comparison itself runs in the PromQL engine (`(query) op bool threshold`), so drills judge
 * exactly as rules and the gate do. A query with no data is `inconclusive`, never a pass.
 */
import type { QueryResult } from '../promql/index.js';
import type { Labels } from '../store/index.js';
import type { ConditionSpec, ExpectSpec } from './drill-file.js';
import type { ConditionStatus } from './outcomes.js';

/** QueryFn runs an instant query at `tMs` (the engine over the store). */
export type QueryFn = (expr: string, tMs: number) => QueryResult;

/**
 * ConditionQueryFn is where conditions are judged: the engine over the store (a `QueryFn`), or a
 * query source that answers later (an external Prometheus), whose failure is an `error`.
 */
export type ConditionQueryFn = (expr: string, tMs: number) => QueryResult | Promise<QueryResult>;

/** Measurement is one evaluation of one condition. */
export interface Measurement {
  readonly status: ConditionStatus;
  /** observed is the failing (or else first) series' value; null without data. */
  readonly observed: number | null;
  readonly sampleCount: number;
  readonly detail?: string;
}

function values(result: QueryResult): Array<{ labels: Labels; v: number }> {
  const value = result.value;
  if (value.type === 'vector') return value.samples.map((s) => ({ labels: s.labels, v: s.v }));
  if (value.type === 'scalar') return [{ labels: {}, v: value.v }];
  return [];
}

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).filter(([k]) => k !== '__name__').sort());
}

/** measure evaluates one condition at `tMs`; errors become `error` measurements, never throws. */
export async function measure(query: ConditionQueryFn, condition: ConditionSpec, expr: string, tMs: number): Promise<Measurement> {
  try {
    const observedValues = values(await query(expr, tMs));
    if (observedValues.length === 0) return { status: 'inconclusive', observed: null, sampleCount: 0, detail: 'no data' };
    const verdicts = values(await query(`(${expr}) ${condition.op} bool ${formatThreshold(condition.threshold)}`, tMs));
    const failing = new Set(verdicts.filter((v) => v.v !== 1).map((v) => key(v.labels)));
    const worst = observedValues.find((o) => failing.has(key(o.labels))) ?? observedValues[0];
    return { status: failing.size === 0 ? 'passed' : 'failed', observed: worst.v, sampleCount: observedValues.length };
  } catch (err) {
    return { status: 'error', observed: null, sampleCount: 0, detail: (err as Error).message };
  }
}

function formatThreshold(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * judgeExpect turns an expectation's measurements into one status, as an Argo analysis does:
 * failed when failures exceed `failureLimit`; inconclusive/error when consecutive non-answers
 * exceed `consecutiveErrorLimit` or nothing was ever measured; passed otherwise.
 */
export function judgeExpect(spec: ExpectSpec, measurements: readonly Measurement[]): ConditionStatus {
  const failures = measurements.filter((m) => m.status === 'failed').length;
  if (failures > spec.failureLimit) return 'failed';
  let run = 0;
  let worstRun = 0;
  let sawError = false;
  for (const m of measurements) {
    if (m.status === 'inconclusive' || m.status === 'error') {
      run += 1;
      sawError ||= m.status === 'error';
      worstRun = Math.max(worstRun, run);
    } else {
      run = 0;
    }
  }
  const answered = measurements.filter((m) => m.status === 'passed' || m.status === 'failed').length;
  if (answered === 0 || worstRun > spec.consecutiveErrorLimit) return sawError ? 'error' : 'inconclusive';
  return 'passed';
}
