export type { Clock } from './clock.js';
export { SystemClock, ManualClock } from './clock.js';
export { parseDurationMs, formatDurationMs } from './duration.js';
export { CronSchedule } from './cron-schedule.js';
export { cronTrigger, cronTriggerOn, MISSED_TOLERANCE_MS } from './cron-trigger.js';
export type { CronTrigger, CronTriggerHooks } from './cron-trigger.js';
