/**
 * probes: the probe contract and framework (scheduler, runner, instruments). Probe
 * implementations live in `./probes/` and are exported here as they land.
 */
export type { ReasonClass, ProbeLabels, ProbeSample, ProbeResult, ProbeContext, Probe, ProbeCounter, ProbeHistogram, ProbeInstruments } from './types.js';
export { ReasonClasses } from './types.js';
export { reasonFromError, resultReason } from './reason-class.js';
export { RegistryInstruments } from './registry-instruments.js';
