/**
 * drills: staged chaos drills through Toxiproxy, their evidence, the verdict and the gate.
 */
export type { FaultDriver, ProxySpec, ProxyState, ToxicSpec, ToxicType, ToxicStream } from './fault-driver.js';
export { ToxicTypes, ToxicStreams } from './fault-driver.js';
export { ToxiproxyFaultDriver } from './toxiproxy-fault-driver.js';
export type { ToxiproxyFaultDriverOptions } from './toxiproxy-fault-driver.js';
export type { CompareOp, ConditionSpec, DrillSpec, ExpectSpec, FaultSpec, StageSpec, DrillFileOptions } from './drill-file.js';
export { loadDrillFiles, parseDrillSource, CompareOps } from './drill-file.js';
export type { QueryFn, Measurement } from './conditions.js';
export { measure, judgeExpect } from './conditions.js';
export { DrillRunner } from './drill-runner.js';
export type { DrillLabels, DrillProbes, DrillRunnerOptions, DrillRunResult, DrillEventHandler, EvidenceSources, ReportInput, StageWindow } from './drill-runner.js';
export { TargetEvidenceSources } from './target-sources.js';
export type { TargetEvidenceSourcesOptions } from './target-sources.js';
export { renderReport, DEFAULT_PANELS } from './report.js';
export type { ReportPanel } from './report.js';
export { reconcileFaults } from './reconcile.js';
export type { ReconcileMode, ReconcileReport, ReconcileOptions } from './reconcile.js';
export { protectionSentence, readVerdict } from './verdict.js';
export type { VerdictReport, RunRecord } from './verdict.js';
export { decide, ScenarioStatuses, RunStatuses, ConditionStatuses } from './outcomes.js';
export type { Decision, DecisionReport, ScenarioResult, ScenarioStatus, RunStatus, ConditionResult, ConditionStatus, FaultRecord } from './outcomes.js';
export { listEvidence, latestEvidence } from './evidence-index.js';
export { verifyManifest, MANIFEST_FILE } from './manifest.js';
export type { ManifestCheck, ManifestProtection, ManifestAlgorithm } from './manifest.js';
export { evidenceDirName } from './evidence.js';
export type { EvidenceEntry } from './evidence-index.js';
export { evaluateGate, writeGateEvidence, sloConditions } from './gate.js';
export type { GateOptions, GateCheck, GateReport } from './gate.js';
export { readLiveLock } from './drill-lock.js';
export { DrillScheduler } from './drill-scheduler.js';
export type { DrillSchedulerOptions, DrillStatus } from './drill-scheduler.js';
export { progressReporter } from './progress.js';
export { drillMetrics } from './drill-metrics.js';
export type { ProgressOutput } from './progress.js';
export type { LockOwner } from './drill-lock.js';
