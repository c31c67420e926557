/**
 * rollout: the operators' rollout procedures (staging canary, production phased rollout, cutover
 * announcement), supervised cohort by cohort, with their artifacts; and the SLO snapshot the
 * daemon serves for them.
 */
export { sloSnapshotDocument, sloQueries, measureSlo, judgeSlo, readSloValues } from './slo-snapshot.js';
export type { SloValues, SloThresholds, SloSnapshotDocument, SloJudgement } from './slo-snapshot.js';
export { ROLLOUT_KINDS, ROLLOUT_FLAGS, parseRolloutOptions, parseCohorts, publicOptions } from './rollout-options.js';
export type { RolloutKind, RolloutOptions, RolloutFlags } from './rollout-options.js';
export { RoutingClient, RUNTIME_ROUTING_STATUS_PATH, RUNTIME_ROUTING_EVALUATE_PATH, RUNTIME_ROUTING_OVERRIDE_PATH } from './routing-client.js';
export type { RoutingStatus, StatusRead, RoutingCall, RoutingClientOptions } from './routing-client.js';
export { RolloutJournal, readRolloutJournal, pendingForce, JOURNAL_FILE } from './rollout-journal.js';
export type { RolloutJournalEntry, ForceAction, PendingForce } from './rollout-journal.js';
export { StepStatuses, cohortIndexOf } from './rollout-records.js';
export type { StepStatus, GateLine, CohortLine, SloLine, SoakLine, EffectLine, RolloutRecord } from './rollout-records.js';
export { ARTIFACT_FILES, envPlanFile, envPlanText, cohortEnv, decideRollout, renderRolloutSummary, writeRolloutArtifacts, firstBlock } from './rollout-artifacts.js';
export type { RolloutContext, RolloutCounts, RolloutDecision } from './rollout-artifacts.js';
export type {
  GateResult,
  RolloutGate,
  ProbeRound,
  SoakWatch,
  SnapshotSource,
  SloUrlFetch,
  SloUrlSource,
  Confirmation,
  Confirmations,
  ApplyResult,
  CohortApplier,
  RollbackDrill,
  RollbackDrillResult,
  SoakTick,
  WaitTick,
  RolloutEvents,
  RolloutSettings,
  RolloutRunnerDeps,
} from './rollout-deps.js';
export { RolloutRunner, evaluateBody } from './rollout-runner.js';
export type { RolloutResult, RunInput } from './rollout-runner.js';
export { rolloutProgress, soakLine } from './rollout-progress.js';
export type { RolloutProgressOutput } from './rollout-progress.js';
export { ServiceSnapshots } from './service-snapshots.js';
export type { ServiceSnapshotsOptions } from './service-snapshots.js';
export { HttpSloUrlSource } from './slo-url-source.js';
export { FileConfirmations, recordConfirmation, CONFIRMATIONS_FILE } from './confirmations-file.js';
export { CommandApplier } from './apply-command.js';
export { provisionGate, replayResumeGate, chaosGate, syncSecurityGate } from './rollout-gates.js';
export type { GateProbes, GateProbeRun, DrillSuite, SuiteRun, SuiteScenarioResult, CallerAuthRunner } from './rollout-gates.js';
export { runCallerAuthChecks, CALLER_AUTH_CLIENT_ID, SUBSCRIBE_QUERY } from './sync-security-checks.js';
export type { CallerAuthOptions, CallerAuthReport, CallerCheck, CallerCheckOutcome } from './sync-security-checks.js';
export { RoutingRollbackDrill, ROLLBACK_THREAD_ID, applyForcer, overrideForcer } from './rollback-drill.js';
export type { RoutingRollbackDrillOptions, RollbackEvidenceWriter, DriverForcer, ForceOutcome } from './rollback-drill.js';
export { announceCutover, renderCutoverSummary, CUTOVER_FILES } from './cutover-announcement.js';
export type { CutoverInput, CutoverResult } from './cutover-announcement.js';
export { RolloutService } from './rollout-service.js';
export type { RolloutStatus, RolloutServiceOptions } from './rollout-service.js';
