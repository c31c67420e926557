/**
 * nextCronRunMs: when a node-cron expression fires next, for `/api/v1/status`. Day matching is
 * delegated to node-cron itself (its day-of-month/day-of-week rules), so the answer agrees with
 * the schedulers; the rest walks the expanded field lists instead of every second.
 */
import cron from 'node-cron';

/** MAX_DAYS bounds the search: any valid expression fires within about four years (Feb 29). */
const MAX_DAYS = 4 * 366 + 1;

/** nextCronRunMs returns the first firing strictly after `afterMs` (local time), or null if none is found. */
export function nextCronRunMs(expression: string, afterMs: number): number | null {
  if (!cron.validate(expression)) return null;
  const fields = cron.parse(expression);
  const seconds = [...fields.second].sort((a, b) => a - b);
  const minutes = [...fields.minute].sort((a, b) => a - b);
  const hours = [...fields.hour].sort((a, b) => a - b);
  const months = new Set(fields.month);
  const task = cron.createTask(expression, () => undefined);
  try {
    const start = new Date(afterMs);
    for (let d = 0; d < MAX_DAYS; d++) {
      const day = new Date(start.getFullYear(), start.getMonth(), start.getDate() + d);
      if (!months.has(day.getMonth() + 1)) continue;
      const probe = new Date(day.getFullYear(), day.getMonth(), day.getDate(), hours[0], minutes[0], seconds[0]);
      if (!task.match(probe)) continue;
      for (const h of hours) {
        for (const m of minutes) {
          for (const s of seconds) {
            const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m, s).getTime();
            if (t > afterMs) return t;
          }
        }
      }
    }
    return null;
  } finally {
    void task.destroy();
  }
}
