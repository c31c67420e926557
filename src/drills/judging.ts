/**
 * Judging an expectation over the whole span where its property can be observed: the stage, its
 * recovery window and the end of the drill. The rules, in order:
 *
 * 1. failed: more failed measurements than `failure_limit`, or a failed measurement at the end of
 *    the span (that one looks back over everything since the drill's baseline, so a bad outcome
 *    counted anywhere shows there, whatever succeeded later);
 * 2. error / inconclusive: the stage's measurements had more consecutive non-answers than
 *    `consecutive_error_limit` (or none answered), the property was never measured after the
 *    faults were removed, or the probes it stands on did not answer in the phase the drill file
 *    (or its default) names: a pass without them would be vacuous;
 * 3. passed otherwise.
 */
import { judgeExpect } from './conditions.js';
import type { Measurement } from './conditions.js';
import type { ExpectSpec } from './drill-file.js';
import { answeredRuns } from './exercise.js';
import type { ExerciseWindow, ProbeRunRecord } from './exercise.js';
import type { ConditionResult, ConditionStatus, ExerciseRecord, MeasurementRecord } from './outcomes.js';

/** TimedMeasurement is one measurement with its time and phase. */
export interface TimedMeasurement extends Measurement {
  readonly atMs: number;
  readonly phase: MeasurementRecord['phase'];
}

/** ExpectationJudgement is an expectation's status with the sentence explaining it. */
export interface ExpectationJudgement {
  readonly status: ConditionStatus;
  readonly detail: string;
  readonly exercised: readonly ExerciseRecord[];
}

const RANK: Readonly<Record<ConditionStatus, number>> = { passed: 0, inconclusive: 1, error: 2, failed: 3 };

function worst(a: ConditionStatus, b: ConditionStatus): ConditionStatus {
  return RANK[b] > RANK[a] ? b : a;
}

function isAnswer(m: Measurement): boolean {
  return m.status === 'passed' || m.status === 'failed';
}

/** judgeExpectation applies the rules above to one expectation of one stage. */
export function judgeExpectation(spec: ExpectSpec, measurements: readonly TimedMeasurement[], runs: readonly ProbeRunRecord[], window: ExerciseWindow): ExpectationJudgement {
  const notes: string[] = [];
  let status: ConditionStatus = 'passed';

  const failed = measurements.filter((m) => m.status === 'failed');
  const finalFailed = measurements.some((m) => m.phase === 'final' && m.status === 'failed');
  if (failed.length > spec.failureLimit || finalFailed) {
    status = 'failed';
    notes.push(finalFailed ? 'a bad outcome was counted in the span (the end-of-span measurement failed)' : `${failed.length} failed measurements (failure_limit ${spec.failureLimit})`);
  }

  const stage = measurements.filter((m) => m.phase === 'stage');
  const stageVerdict = judgeExpect(spec, stage);
  if (stageVerdict === 'inconclusive' || stageVerdict === 'error') {
    status = worst(status, stageVerdict);
    notes.push(`while the faults were in effect: ${stage.filter(isAnswer).length} of ${stage.length} measurements answered (consecutive_error_limit ${spec.consecutiveErrorLimit})`);
  }
  const after = measurements.filter((m) => m.phase !== 'stage');
  if (!after.some(isAnswer)) {
    status = worst(status, after.some((m) => m.status === 'error') ? 'error' : 'inconclusive');
    notes.push('never measured after the faults were removed');
  }

  const exercised: ExerciseRecord[] = spec.exercised.map((req) => ({ probe: req.probe, phase: req.phase, required: req.runs, answered: answeredRuns(req, runs, window) }));
  const unmet = exercised.filter((e) => e.answered < e.required);
  if (unmet.length > 0) {
    status = worst(status, 'inconclusive');
    notes.push(`not exercised: ${unmet.map((e) => `${e.answered} of ${e.required} answered ${e.probe} runs ${PHASE_WORDS[e.phase] ?? e.phase}`).join('; ')}`);
  }

  const summary = `${measurements.filter((m) => m.status === 'passed').length}/${measurements.length} measurements passed (${countByPhase(measurements)})`;
  const exerciseText = exercised.length === 0 ? 'no probe run required' : exercised.map((e) => `${e.answered} answered ${e.probe} runs ${PHASE_WORDS[e.phase] ?? e.phase} (needed ${e.required})`).join(', ');
  return { status, detail: [summary, exerciseText, ...notes].join('; '), exercised };
}

const PHASE_WORDS: Readonly<Record<string, string>> = {
  stage: 'while the faults were in effect',
  recovery: 'after the faults were removed',
  span: 'in the stage or its recovery',
};

function countByPhase(ms: readonly TimedMeasurement[]): string {
  const n = (phase: TimedMeasurement['phase']): number => ms.filter((m) => m.phase === phase).length;
  return `${n('stage')} during the faults, ${n('recovery')} in recovery, ${n('final')} at the end`;
}

/** expectationResult is the results.jsonl line of a judged expectation. */
export function expectationResult(spec: ExpectSpec, stage: string, measurements: readonly TimedMeasurement[], judgement: ExpectationJudgement, window: string): ConditionResult {
  const shown = [...measurements].reverse().find((m) => m.status === 'failed') ?? [...measurements].reverse().find(isAnswer) ?? measurements[measurements.length - 1];
  return {
    name: spec.name,
    kind: 'expect',
    stage,
    query: spec.query,
    op: spec.op,
    threshold: spec.threshold,
    observed: shown?.observed ?? null,
    window,
    sampleCount: measurements.reduce((n, m) => n + m.sampleCount, 0),
    status: judgement.status,
    detail: judgement.detail,
    measurements: measurements.map((m) => ({ at_ms: m.atMs, phase: m.phase, status: m.status, observed: m.observed })),
    exercised: judgement.exercised,
  };
}
