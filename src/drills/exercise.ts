/**
 * Exercise: which probe runs a condition's answer stands on. A query over a counter, such as
 * `increase(sentinel_resume_total{outcome="gap"}[$window])`, reads 0 whether resumes ran without a
 * gap or never ran at all, so "no bad outcome counted" is evidence only when the probe feeding it
 * really completed runs in the span where the property applies (a resume after the partition was
 * lifted, not just the timed-out attempts during it). The drill file can state the requirement
 * (`exercised:`); otherwise it is inferred from the query: an equality `probe="..."` matcher, or a
 * metric only one probe writes.
 */
import { collectSelectors, parseExpr } from '../promql/index.js';
import type { ReasonClass } from '../probes/index.js';

/** ExercisePhases: where runs count: during the fault (`stage`), after its removal (`recovery`), or either (`span`). */
export const ExercisePhases = ['stage', 'recovery', 'span'] as const;
export type ExercisePhase = (typeof ExercisePhases)[number];

/** ExerciseRequirement asks for at least `runs` answered runs of `probe` in `phase`. */
export interface ExerciseRequirement {
  readonly probe: string;
  readonly runs: number;
  readonly phase: ExercisePhase;
}

/**
 * ANSWERED_REASONS are the run results that looked at the property: success, or a finding about
 * the watched system. A timeout, an unreachable target, an HTTP or protocol failure or a probe
 * error ended the run before it could tell anything, so it exercised nothing.
 */
export const ANSWERED_REASONS: readonly ReasonClass[] = ['ok', 'contract_violation', 'gap', 'duplicate', 'reorder', 'stale', 'leak', 'not_streaming'];

/**
 * METRIC_PROBES maps the metrics only one probe writes to that probe (the probe files under
 * `src/probes/probes/` name them). Shared metrics (`sentinel_probe_success`,
 * `sentinel_ws_reconnects_total`, ...) need a `probe` matcher instead.
 */
const METRIC_PROBES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^sentinel_resume_/, 'resume'],
  [/^sentinel_ordering_divergence_total$/, 'resume'],
  [/^sentinel_delivery_/, 'delivery'],
  [/^sentinel_(active_connections|handshake_success|handshake_settle_seconds|connection_zombie_rows)$/, 'connections'],
  [/^sentinel_token_/, 'token'],
  [/^sentinel_(replay_lag_events|replay_lag_max_events|checkpoint_age_seconds|stream_head_seq)$/, 'replay_lag'],
  [/^sentinel_cutover_/, 'cutover_state'],
  [/^sentinel_retired_route_ok$/, 'retired_routes'],
  [/^sentinel_preflight_/, 'preflight'],
  [/^sentinel_runtime_/, 'runtime_metrics'],
];

/** probeOfMetric names the probe that alone writes `metric`, if any. */
export function probeOfMetric(metric: string): string | undefined {
  for (const [re, probe] of METRIC_PROBES) if (re.test(metric)) return probe;
  return undefined;
}

/**
 * feedingProbes lists the probes whose runs feed `query` (variables already substituted or
 * harmless): every equality `probe` matcher, else the probe owning each metric. A selector that
 * names neither leaves its source unknown (`complete: false`).
 */
export function feedingProbes(query: string): { readonly probes: readonly string[]; readonly complete: boolean } {
  const probes = new Set<string>();
  let complete = true;
  for (const sel of collectSelectors(parseExpr(query))) {
    const matcher = sel.matchers.find((m) => m.name === 'probe' && m.type === '=');
    const metric = sel.metricName ?? sel.matchers.find((m) => m.name === '__name__' && m.type === '=')?.value;
    const probe = matcher?.value ?? (metric === undefined ? undefined : probeOfMetric(metric));
    if (probe === undefined) complete = false;
    else probes.add(probe);
  }
  return { probes: [...probes].sort(), complete };
}

/** ProbeRunRecord is one probe run a drill saw (or cut off), as the evidence records it. */
export interface ProbeRunRecord {
  readonly probe: string;
  /** phase is the `stage` label of the run: preflight, a stage, `<stage>-recovery` or after. */
  readonly phase: string;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly ok: boolean;
  readonly reason: string;
  /** cutOff is true when the drill aborted the run at the end of its phase (no result recorded). */
  readonly cutOff: boolean;
}

/**
 * isMeasured tells whether a run left a measurement: it finished by itself (not cut off) and did
 * not decline to run. A probe that declines (`disabled`: read-only mode, no canary budget) reports
 * success without looking at anything, so its run stands for no state of the system.
 */
export function isMeasured(run: ProbeRunRecord): boolean {
  // `error: ...` is a run the probe framework itself could not start or record: no sample was written.
  return !run.cutOff && run.reason !== 'disabled' && !run.reason.startsWith('error: ');
}

/** isAnswered tells whether a run looked at the property (see ANSWERED_REASONS). */
export function isAnswered(run: ProbeRunRecord): boolean {
  return !run.cutOff && (ANSWERED_REASONS as readonly string[]).includes(run.reason);
}

/** ExerciseWindow is when a stage's phases ran: the fault from `stageStartMs`, recovery from `removedAtMs`. */
export interface ExerciseWindow {
  readonly stageStartMs: number;
  readonly removedAtMs: number;
  readonly endMs: number;
}

/** answeredRuns counts the runs that satisfy `req` within `w`. */
export function answeredRuns(req: ExerciseRequirement, runs: readonly ProbeRunRecord[], w: ExerciseWindow): number {
  const [from, to] = req.phase === 'stage' ? [w.stageStartMs, w.removedAtMs] : req.phase === 'recovery' ? [w.removedAtMs, w.endMs] : [w.stageStartMs, w.endMs];
  return runs.filter((r) => r.probe === req.probe && isAnswered(r) && r.startedAtMs >= from && r.endedAtMs <= to).length;
}
