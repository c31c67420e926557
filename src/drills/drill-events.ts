/**
 * DrillEventHandler: observers of a drill run (progress view, metrics, tests that sabotage the
 * lab at the exact moment a drill claims to check). Every callback is optional and synchronous;
 * an observer that throws is logged and ignored, never allowed to change the run.
 */
import type { ConditionResult, FaultRecord, ScenarioStatus } from './outcomes.js';
import type { DrillSpec, StageSpec } from './drill-file.js';
import type { ProbeRunRecord } from './exercise.js';
import type { DrillRunResult } from './drill-runner.js';

/** DrillEventHandler observes a run; `atMs` values are on the runner's clock. */
export interface DrillEventHandler {
  runStarted?(drill: DrillSpec, runId: string, dir: string): void;
  /** preflightPassed: the safety checks and the steady state allow the first stage to start. */
  preflightPassed?(drill: DrillSpec, atMs: number): void;
  stageStarted?(stage: StageSpec, index: number): void;
  faultsAdded?(stage: StageSpec, faults: readonly FaultRecord[]): void;
  /** faultsRemoved: the stage's faults are gone from the fault proxy (or could not be removed). */
  faultsRemoved?(stage: StageSpec, faults: readonly FaultRecord[], atMs: number): void;
  /** recoveryStarted: the recovery window opens; its first probe round starts now. */
  recoveryStarted?(stage: StageSpec, atMs: number): void;
  /** recovered: the steady state returned (it must still hold for the stage's recovery_hold). */
  recovered?(stage: StageSpec, atMs: number): void;
  /** probeRunFinished: a run the drill started ended (or was cut off). */
  probeRunFinished?(stage: StageSpec | undefined, run: ProbeRunRecord): void;
  /** measured: a condition was judged (`stage` is undefined in the preflight and after the last stage). */
  measured?(stage: StageSpec | undefined, condition: ConditionResult): void;
  stageFinished?(stage: StageSpec, status: ScenarioStatus, reason?: string): void;
  runFinished?(result: DrillRunResult): void;
}
