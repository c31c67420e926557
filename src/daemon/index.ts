/**
 * daemon: what `sentinel run` needs beyond HTTP to run as one process: the Component shape and
 * the order components start and stop in, when a cron schedule fires next (for the status page),
 * which settings a running daemon cannot change, the reload bookkeeping Prometheus exposes, the
 * data directory's write check, the log lines a rotated secret file earns, and the V8 flags the
 * daemon's process sets for itself.
 */
export { readinessOf } from './component.js';
export type { Component, ComponentReadiness, ReadinessCheck, ReadinessReport } from './component.js';
export { startComponents, stopComponents, STOP_GRACE_MS } from './component-lifecycle.js';
export type { StopReport } from './component-lifecycle.js';
export { RESTART_ONLY_KEYS, restartOnlyChanges, pinRestartOnly } from './restart-only.js';
export { ReloadStatus } from './reload-status.js';
export type { ReloadAttempt } from './reload-status.js';
export { WriteCheck } from './write-check.js';
export type { WriteCheckOptions } from './write-check.js';
export { logSecretFileChanges } from './secret-log.js';
export { appliedV8Flags, applyV8Flags, daemonV8Flags, DEFAULT_DAEMON_V8_FLAGS } from './v8-flags.js';
export type { V8FlagsChoice } from './v8-flags.js';
