export type { Clock } from './clock.js';
export { SystemClock, ManualClock } from './clock.js';
export { parseDurationMs, formatDurationMs } from './duration.js';
