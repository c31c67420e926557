/**
 * The fixed vocabularies of drill results, and the one rule that turns scenario outcomes into a
 * promotion decision. Every writer and reader of evidence (runner, SUMMARY.md, `sentinel verdict`,
 * `sentinel gate`) uses `decide`, so the decision cannot drift between them.
 */

/** ScenarioStatuses are the outcomes of a stage or a whole drill (one scenario = one drill). */
export const ScenarioStatuses = ['passed', 'failed', 'inconclusive', 'error', 'aborted'] as const;
export type ScenarioStatus = (typeof ScenarioStatuses)[number];

/** RunStatuses end a drill run, as in Chaos Toolkit; anything but `completed` is never allow. */
export const RunStatuses = ['completed', 'failed', 'aborted', 'interrupted'] as const;
export type RunStatus = (typeof RunStatuses)[number];

/** ConditionStatuses judge one condition; `inconclusive` means no data, never a pass. */
export const ConditionStatuses = ['passed', 'failed', 'inconclusive', 'error'] as const;
export type ConditionStatus = (typeof ConditionStatuses)[number];

/** ConditionResult is one checked condition, as recorded in results.jsonl. */
export interface ConditionResult {
  readonly name: string;
  /** kind says where the condition came from: steady state, abort check, expectation, recovery, fault check, a preflight safety check (alerts, service health). */
  readonly kind: 'steady_state_before' | 'steady_state_after' | 'abort_when' | 'expect' | 'recovery' | 'fault_in_effect' | 'alerts' | 'health';
  readonly stage?: string;
  readonly query: string;
  readonly op?: string;
  readonly threshold?: number;
  /** observed is the last value measured (the worst series), or null when there was no data. */
  readonly observed: number | null;
  readonly window?: string;
  readonly sampleCount: number;
  readonly status: ConditionStatus;
  readonly detail?: string;
  /** measurements are an expectation's individual measurements, with when and in which phase each was taken. */
  readonly measurements?: readonly MeasurementRecord[];
  /** exercised are the probe runs the answer stands on: required and seen. */
  readonly exercised?: readonly ExerciseRecord[];
}

/** MeasurementRecord is one measurement of an expectation. */
export interface MeasurementRecord {
  readonly at_ms: number;
  /** phase: while the faults were in effect, during recovery, or at the end over the whole span. */
  readonly phase: 'stage' | 'recovery' | 'final';
  readonly status: ConditionStatus;
  readonly observed: number | null;
}

/** ExerciseRecord is one exercise requirement and how many answered runs met it. */
export interface ExerciseRecord {
  readonly probe: string;
  readonly phase: string;
  readonly required: number;
  readonly answered: number;
}

/** FaultRecord is one fault a scenario injected and whether its removal was proven. */
export interface FaultRecord {
  readonly stage: string;
  readonly proxy: string;
  /** toxic is the toxic name, or absent for a proxy disabled (`down`). */
  readonly toxic?: string;
  readonly type: string;
  readonly stream?: string;
  readonly toxicity?: number;
  readonly attributes?: Readonly<Record<string, number>>;
  readonly addedAtMs?: number;
  readonly removedAtMs?: number;
  readonly removed: boolean;
}

/** ScenarioResult is one line of results.jsonl. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly status: ScenarioStatus;
  readonly duration_seconds: number;
  readonly started_at: string;
  readonly faults: readonly FaultRecord[];
  /** faults_removed is true only when every injected fault was removed and that was verified. */
  readonly faults_removed: boolean;
  readonly conditions: readonly ConditionResult[];
  readonly stages: ReadonlyArray<{ readonly name: string; readonly status: ScenarioStatus; readonly duration_seconds: number; readonly reason?: string }>;
  /** reasons explain every non-passed status in one line each. */
  readonly reasons: readonly string[];
  /** skipped_checks name safety checks the operator explicitly skipped (e.g. --skip-alert-check). */
  readonly skipped_checks?: readonly string[];
}

/** Decision is what the release manager reads. */
export type Decision = 'allow' | 'block';

/** DecisionReport is a decision with the reasons for a block. */
export interface DecisionReport {
  readonly decision: Decision;
  readonly failures: number;
  readonly reasons: readonly string[];
}

/**
 * decide derives the promotion decision. Allow only when the run completed, at least one scenario
 * ran, every scenario passed, and every scenario proved its faults were removed.
 */
export function decide(runStatus: RunStatus | undefined, scenarios: readonly ScenarioResult[]): DecisionReport {
  const reasons: string[] = [];
  if (runStatus !== 'completed') reasons.push(`run status is ${runStatus ?? 'missing'}, not completed`);
  if (scenarios.length === 0) reasons.push('no scenario ran');
  let failures = 0;
  for (const s of scenarios) {
    if (s.status !== 'passed') {
      failures += 1;
      reasons.push(`${s.scenario}: ${s.status}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`);
    } else if (!s.faults_removed) {
      failures += 1;
      reasons.push(`${s.scenario}: removal of its faults was not proven`);
    }
  }
  return { decision: reasons.length === 0 ? 'allow' : 'block', failures, reasons };
}
