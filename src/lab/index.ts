/**
 * lab: the embedded reference sync system (SpacetimeDB-compatible host, runtime and control
 * services, traffic, knobs, admin API). Only cli.ts, src/commands/ and tests import it.
 */
export type { Lab, LabOptions, LabPorts, LabState, LabTrafficOptions, LabUrls, PendingKnobChange, RebootstrapFaultRecord, ResumeFaultRecord, StreamState } from './lab.js';
export { startLab, DEFAULT_LAB_PORTS, DEFAULT_DATABASE_NAME } from './lab.js';
export type { LabSecrets, SecretName } from './lab-secrets.js';
export { SECRET_FILE_NAMES, SECRET_KNOB_NAMES } from './lab-secrets.js';
export type { LabKnobs, PublishFailureKind, RebootstrapFault, ResumeFault, RuntimeFieldSet, RuntimeRoutingKnob } from './knobs.js';
export { KNOB_NAMES, MAX_AFTER_MS, PublishFailureKinds, RebootstrapFaults, ResumeFaults, RuntimeFieldSets, defaultKnobs } from './knobs.js';
export type { ClientState, SimulatedClientOptions } from './traffic.js';
export { SENTINEL_CANARY_PREFIX } from './traffic.js';
export { METRICS_PATH } from './runtime-service.js';
export { V1_JSON } from './spacetimedb/spacetime-server.js';
export { signJwt, verifyJwt, decodeJwtUnverified } from './jwt.js';
