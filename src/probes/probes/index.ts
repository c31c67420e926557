/**
 * probes/probes: the probe implementations, one file per probe, each implementing `Probe`
 * (`../types.ts`). `PROBE_FACTORIES` maps the configured probe names to them.
 */
export { RuntimeMetricsProbe, runtimeMetricName, RUNTIME_METRIC_PREFIX } from './runtime-metrics.js';
export type { RuntimeMetricsProbeOptions } from './runtime-metrics.js';
export { ReplayLagProbe, DEFAULT_ACTIVITY_WINDOW_MS } from './replay-lag.js';
export type { ReplayLagProbeOptions } from './replay-lag.js';
export { DeliveryProbe, DEFAULT_CANARY_STREAM, DELIVERY_LATENCY_BUCKETS } from './delivery.js';
export type { DeliveryProbeOptions } from './delivery.js';
export { ResumeProbe, RESUME_OUTCOMES, DEFAULT_RESUME_STREAM, DEFAULT_RESUME_CLIENT_ID, DEFAULT_REPLAY_BUDGET_EVENTS } from './resume.js';
export type { ResumeProbeOptions, ResumeOutcome } from './resume.js';
export { classifyReplay, checkSnapshot, compareOrdering } from './resume-classify.js';
export type { ReplayVerdict, SeqHash } from './resume-classify.js';
export { ConnectionsProbe } from './connections.js';
export type { ConnectionsProbeOptions } from './connections.js';
export { TokenProbe, classifyMintError, DEFAULT_MINTS_PER_RUN, MintOutcomes } from './token.js';
export type { TokenProbeOptions, MintOutcome } from './token.js';
export { checkGrant, verifySignature, defaultTopics, scopeForTopic, normalizeUnique, rfc3339Ms, DEFAULT_CLOCK_SKEW_SECONDS } from './token-contract.js';
export type { GrantExpectations, CheckedGrant, SignatureCheck } from './token-contract.js';
export { CutoverStateProbe, EXPECTED_TRANSPORT } from './cutover-state.js';
export type { CutoverStateProbeOptions } from './cutover-state.js';
export { RetiredRoutesProbe, DEFAULT_RETIRED_ROUTES, parseRouteSpec } from './retired-routes.js';
export type { RetiredRoutesProbeOptions, RetiredRoute } from './retired-routes.js';
export { PreflightProbe, PREFLIGHT_ENVS, variableName } from './preflight.js';
export { HealthProbe, HEALTH_SERVICES, judgeHealthz, judgeReadyz } from './health.js';
export type { HealthProbeOptions, HealthService } from './health.js';
export type { PreflightProbeOptions, PreflightEnv } from './preflight.js';
export { ConnectionChurnLock } from './churn-lock.js';
export { CanaryWrites, CANARY_NAMESPACE, DEFAULT_DAILY_EVENT_BUDGET } from './canary-writes.js';
export type { CanaryWritesOptions, DisabledReason, Permit } from './canary-writes.js';
export { createSpacetimeTarget } from './spacetime-target.js';
export type { SpacetimeTarget, SpacetimeTargetOptions } from './spacetime-target.js';
