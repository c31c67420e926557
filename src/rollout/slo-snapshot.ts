/**
 * The SLO snapshot the operators' production rollout reads (`--slo-snapshot-url`, fetched with
 * `curl -fsS` and read with `jq -r '.p95_latency_ms // .sync.p95_latency_ms'` and
 * `'.error_budget_ratio // .sync.error_budget_ratio'`, OpenAgents
 * `scripts/spacetime/run-production-phased-rollout.sh:263-320` at 9b2b978949). No OpenAgents
 * component serves it; the sentinel does, from its own measurements, with the same two queries
 * the promotion gate judges (`sloConditions`):
 *
 * - `p95_latency_ms`: the 95th percentile of the delivery probe's canary send-to-receipt time
 *   (`sentinel_delivery_latency_seconds`) over the window, in milliseconds;
 * - `error_budget_ratio`: failed probe runs divided by all probe runs over the window
 *   (`sentinel_probe_runs_total`, any `result` other than `ok` counts as failed).
 *
 * A value without data is `null` (never 0): the operators' script then reports
 * `missing_metrics_fields` and fails, as the rollout does.
 */
import { sloConditions } from '../drills/index.js';
import type { QueryFn } from '../drills/index.js';
import { formatDurationMs } from '../time/index.js';

/** SloValues are the two numbers a snapshot carries; null means no data. */
export interface SloValues {
  readonly p95LatencyMs: number | null;
  readonly errorBudgetRatio: number | null;
}

/** SloThresholds are the rollout's limits (the scripts' `--max-p95-latency-ms`, `--max-error-budget-ratio`). */
export interface SloThresholds {
  readonly maxP95LatencyMs: number;
  readonly maxErrorBudgetRatio: number;
}

/** SloSnapshotDocument is the served JSON body. */
export interface SloSnapshotDocument {
  readonly p95_latency_ms: number | null;
  readonly error_budget_ratio: number | null;
  readonly sync: { readonly p95_latency_ms: number | null; readonly error_budget_ratio: number | null };
  readonly window: string;
  readonly window_seconds: number;
  readonly generated_at: string;
  readonly source: 'spacetime-sentinel';
  /** definitions are the PromQL expressions behind each value, so a reader can recompute them. */
  readonly definitions: { readonly p95_latency_ms: string; readonly error_budget_ratio: string };
  /** problems say why a value is null (no data, a query error). */
  readonly problems: readonly string[];
}

/** sloQueries are the snapshot's two PromQL expressions over `windowMs` (whole seconds, at least 1s). */
export function sloQueries(windowMs: number): { readonly p95Seconds: string; readonly errorBudgetRatio: string } {
  const [p95, ratio] = sloConditions({ soakWindowMs: Math.max(1000, Math.ceil(windowMs / 1000) * 1000), deliveryP95MaxSeconds: 0, errorBudgetRatioMax: 0 });
  return { p95Seconds: p95.query, errorBudgetRatio: ratio.query };
}

function scalarOf(query: QueryFn, expr: string, tMs: number): { value: number | null; problem?: string } {
  try {
    const v = query(expr, tMs).value;
    const samples = v.type === 'vector' ? v.samples.map((s) => s.v) : v.type === 'scalar' ? [v.v] : [];
    const finite = samples.filter((x) => Number.isFinite(x));
    if (finite.length === 0) return { value: null, problem: 'no data' };
    return { value: Math.max(...finite) };
  } catch (err) {
    return { value: null, problem: `query failed: ${(err as Error).message}` };
  }
}

/** measureSlo evaluates the two values at `tMs` over the window ending there. */
export function measureSlo(query: QueryFn, tMs: number, windowMs: number): SloValues & { readonly problems: readonly string[] } {
  const q = sloQueries(windowMs);
  const p95 = scalarOf(query, q.p95Seconds, tMs);
  const ratio = scalarOf(query, q.errorBudgetRatio, tMs);
  const problems: string[] = [];
  if (p95.problem) problems.push(`p95_latency_ms: ${p95.problem === 'no data' ? `no delivery latency measured in the last ${formatDurationMs(windowMs)}` : p95.problem}`);
  if (ratio.problem) problems.push(`error_budget_ratio: ${ratio.problem === 'no data' ? `no probe run in the last ${formatDurationMs(windowMs)}` : ratio.problem}`);
  return {
    // Rounded so jq and awk read them as plain decimals (no exponent for tiny ratios).
    p95LatencyMs: p95.value === null ? null : Math.round(p95.value * 1000 * 10) / 10,
    errorBudgetRatio: ratio.value === null ? null : Math.round(ratio.value * 1e6) / 1e6,
    problems,
  };
}

/** sloSnapshotDocument builds the served body at `tMs`. */
export function sloSnapshotDocument(query: QueryFn, tMs: number, windowMs: number): SloSnapshotDocument {
  const m = measureSlo(query, tMs, windowMs);
  const q = sloQueries(windowMs);
  return {
    p95_latency_ms: m.p95LatencyMs,
    error_budget_ratio: m.errorBudgetRatio,
    sync: { p95_latency_ms: m.p95LatencyMs, error_budget_ratio: m.errorBudgetRatio },
    window: formatDurationMs(windowMs),
    window_seconds: windowMs / 1000,
    generated_at: new Date(tMs).toISOString(),
    source: 'spacetime-sentinel',
    definitions: { p95_latency_ms: `1000 * ${q.p95Seconds}`, error_budget_ratio: q.errorBudgetRatio },
    problems: m.problems,
  };
}

/** SloJudgement is a snapshot compared with the thresholds. */
export interface SloJudgement {
  readonly status: 'passed' | 'failed';
  /** reason is the scripts' vocabulary when a value is missing (`missing_metrics_fields`). */
  readonly reason?: 'missing_metrics_fields';
  /** breaches name each value over its threshold, e.g. `p95 812ms > 600ms`. */
  readonly breaches: readonly string[];
}

/** judgeSlo passes only when both values are present and within their thresholds (`<=`, as the script's awk). */
export function judgeSlo(values: SloValues, thresholds: SloThresholds): SloJudgement {
  if (values.p95LatencyMs === null || values.errorBudgetRatio === null) return { status: 'failed', reason: 'missing_metrics_fields', breaches: [] };
  const breaches: string[] = [];
  if (!(values.p95LatencyMs <= thresholds.maxP95LatencyMs)) breaches.push(`p95 ${values.p95LatencyMs}ms > ${thresholds.maxP95LatencyMs}ms`);
  if (!(values.errorBudgetRatio <= thresholds.maxErrorBudgetRatio)) breaches.push(`error budget ratio ${values.errorBudgetRatio} > ${thresholds.maxErrorBudgetRatio}`);
  return { status: breaches.length === 0 ? 'passed' : 'failed', breaches };
}

function pick(doc: unknown, key: 'p95_latency_ms' | 'error_budget_ratio'): number | null {
  // jq's `//` takes the right side when the left is null or false.
  const obj = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
  const sync = obj.sync !== null && typeof obj.sync === 'object' ? (obj.sync as Record<string, unknown>) : {};
  const raw = obj[key] === null || obj[key] === false || obj[key] === undefined ? sync[key] : obj[key];
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  if (typeof raw === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw.trim())) return Number(raw);
  return null;
}

/** readSloValues reads a snapshot body as the operators' script does (top-level field, else under `sync`). */
export function readSloValues(doc: unknown): SloValues {
  return { p95LatencyMs: pick(doc, 'p95_latency_ms'), errorBudgetRatio: pick(doc, 'error_budget_ratio') };
}
