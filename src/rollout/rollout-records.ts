/**
 * The records of a rollout: one per finished step, in the order they happened. The journal holds
 * them; every artifact (gate-results.jsonl, cohort-results.jsonl, slo-results.jsonl,
 * soak-results.jsonl, SUMMARY.md) is a projection of them, so a resumed rollout rewrites its
 * artifacts from the journal instead of appending to half-written files.
 *
 * The `line` objects carry the operators' fields first, exactly as their scripts print them
 * (OpenAgents `scripts/spacetime/run-staging-canary-rollout.sh:140-213`,
 * `run-production-phased-rollout.sh:188-348` at 9b2b978949), then the sentinel's own.
 */

/** StepStatuses are the statuses of a line, as the scripts write them. */
export const StepStatuses = ['passed', 'failed', 'skipped'] as const;
/** StepStatus is one of StepStatuses. */
export type StepStatus = (typeof StepStatuses)[number];

/** GateLine is one line of gate-results.jsonl. */
export interface GateLine {
  readonly gate: string;
  readonly status: StepStatus;
  readonly duration_seconds?: number;
  readonly log_file?: string;
  readonly reason?: string;
  readonly command?: string;
  readonly [extra: string]: unknown;
}

/** CohortLine is one line of cohort-results.jsonl; `http_status` is a string, as the script prints it. */
export interface CohortLine {
  readonly cohort_percent: number;
  readonly status: StepStatus;
  readonly http_status?: string;
  readonly duration_seconds?: number;
  readonly response_file?: string;
  readonly reason?: string;
  readonly [extra: string]: unknown;
}

/** SloLine is one line of slo-results.jsonl. */
export interface SloLine {
  readonly label: string;
  readonly status: StepStatus;
  readonly reason?: string;
  readonly duration_seconds?: number;
  readonly p95_latency_ms?: number;
  readonly error_budget_ratio?: number;
  readonly snapshot_file?: string;
  readonly [extra: string]: unknown;
}

/** SoakLine is one line of soak-results.jsonl (the sentinel's own: the scripts never wait). */
export interface SoakLine {
  readonly cohort_percent: number;
  readonly status: 'passed' | 'failed';
  readonly soak_seconds: number;
  readonly watched_seconds: number;
  readonly reason?: string;
  readonly probe_runs: number;
  readonly alert_checks: number;
  readonly slo_checks: number;
  readonly [extra: string]: unknown;
}

/** EffectLine says how a cohort came into effect (or did not). */
export interface EffectLine {
  readonly cohort_percent: number;
  readonly status: 'in_effect' | 'confirmed' | 'not_in_effect';
  /** via is `status` (runtime-routing status showed it) or `operator` (confirmed by hand). */
  readonly via?: 'status' | 'operator';
  readonly waited_seconds: number;
  readonly observed?: { readonly canary_user_percent: number; readonly canary_autopilot_percent: number };
  readonly reason?: string;
  readonly [extra: string]: unknown;
}

/**
 * RolloutRecord is one finished step. Cohort steps carry `cohortIndex`, the cohort's position in
 * the list (a list may repeat a percentage, as the scripts allow).
 */
export type RolloutRecord =
  | { readonly kind: 'gate'; readonly line: GateLine; readonly detail: string }
  | { readonly kind: 'snapshot'; readonly label: string; readonly file?: string; readonly error?: string; readonly cohortIndex?: number }
  | { readonly kind: 'slo'; readonly line: SloLine; readonly detail: string; readonly cohortIndex?: number }
  | { readonly kind: 'apply'; readonly cohortIndex: number; readonly status: 'passed' | 'failed'; readonly durationSeconds: number; readonly logFile: string; readonly detail: string }
  | { readonly kind: 'effect'; readonly cohortIndex: number; readonly line: EffectLine; readonly detail: string }
  | { readonly kind: 'probe'; readonly cohortIndex: number; readonly line: CohortLine; readonly detail: string }
  | { readonly kind: 'soak'; readonly cohortIndex: number; readonly line: SoakLine; readonly detail: string }
  | { readonly kind: 'cohort_done'; readonly cohortIndex: number }
  | { readonly kind: 'rollback'; readonly line: GateLine; readonly detail: string }
  | { readonly kind: 'block'; readonly step: string; readonly reason: string; readonly cohortIndex?: number };

/** cohortIndexOf is the position (0-based) in the cohort list of the cohort a record belongs to, if any. */
export function cohortIndexOf(r: RolloutRecord): number | undefined {
  return 'cohortIndex' in r ? r.cohortIndex : undefined;
}
