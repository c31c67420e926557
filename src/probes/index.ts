/**
 * probes: the probe contract and framework (scheduler, runner, recorder, instruments). Probe
 * implementations live in `./probes/`.
 */
export type { ReasonClass, ProbeLabels, ProbeSample, ProbeResult, ProbeContext, Probe, ProbeCounter, ProbeHistogram, ProbeInstruments } from './types.js';
export { ReasonClasses } from './types.js';
export { reasonFromError, resultReason } from './reason-class.js';
export { RegistryInstruments } from './registry-instruments.js';
export { runProbe, DEFAULT_RETRY_ON } from './probe-runner.js';
export type { ProbeRunPolicy, ProbeRunOutcome, ProbeRunnerDeps } from './probe-runner.js';
export { RunRecorder } from './run-recorder.js';
export type { RunLabels, SampleSink, InstrumentSnapshot, RunRecorderOptions } from './run-recorder.js';
export { ProbeScheduler } from './scheduler.js';
export type { ScheduledProbe, ProbeRunReport, ProbeSchedulerOptions } from './scheduler.js';
export { buildProbes, createProbeTargets, DEFAULT_PROBE_FACTORIES } from './build-probes.js';
export type { ProbeFactory, ProbeFactories, ProbeFactoryContext, ProbeTargets, BuildProbesDeps } from './build-probes.js';
