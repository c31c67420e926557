/**
 * CronSchedule: when a cron expression fires, in local time, computed with Date arithmetic.
 *
 * The grammar is node-cron's: `parse` and `validate` from node-cron 4 read the expression
 * (5 fields, or 6 with seconds first; ranges, steps, lists, month and day names, `?`, and the
 * day tokens `L`, `nW`, `LW`, `L-n`, `n#k`, `nL`), so an expression means what node-cron
 * documents. The matching is done here because node-cron's matcher formats every candidate
 * time through `Intl.DateTimeFormat` (`LocalizedTime` in its `dist/_shared.js`), whose first
 * use maps ICU's locale and time-zone tables into the process: about 8 MB of resident memory
 * for a daemon that only ever asks about local time.
 *
 * The day rules are node-cron 4.6's `matchesDayOfMonth` and `matchesDayOfWeek`: a day fires
 * when its day-of-month field AND its day-of-week field match (unlike Vixie cron's OR).
 */
import cron from 'node-cron';

/** MAX_DAYS bounds a search: any valid expression fires within about four years (Feb 29). */
const MAX_DAYS = 4 * 366 + 1;

const NEAREST_WEEKDAY = /^(\d{1,2}|L)W$/;
const LAST_DAY_OFFSET = /^L-(\d{1,2})$/;
const NTH_WEEKDAY = /^([0-7])#([1-5])$/;
const LAST_WEEKDAY = /^([0-7])L$/i;

type DayToken = number | string;

/** daysIn is the number of days of `month` (1-12) in `year`. */
function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** weekdayOf is 0 (Sunday) to 6 for a calendar date. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** nearestWeekday is the weekday closest to `target` within its month (`nW`), or -1 when the month has no such day. */
function nearestWeekday(year: number, month: number, target: number): number {
  const last = daysIn(year, month);
  if (target < 1 || target > last) return -1;
  const weekday = weekdayOf(year, month, target);
  if (weekday === 6) return target === 1 ? target + 2 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(field: readonly DayToken[], year: number, month: number, day: number): boolean {
  const last = daysIn(year, month);
  for (const value of field) {
    if (value === day || (value === 'L' && day === last)) return true;
    if (typeof value !== 'string') continue;
    const weekday = NEAREST_WEEKDAY.exec(value);
    if (weekday && nearestWeekday(year, month, weekday[1] === 'L' ? last : Number(weekday[1])) === day) return true;
    const offset = LAST_DAY_OFFSET.exec(value);
    if (offset && last - Number(offset[1]) === day) return true; // days start at 1, so an offset past the month's start never matches
  }
  return false;
}

function matchesDayOfWeek(field: readonly DayToken[], year: number, month: number, day: number): boolean {
  const weekday = weekdayOf(year, month, day);
  for (const value of field) {
    if (value === weekday) return true;
    if (typeof value !== 'string') continue;
    const nth = NTH_WEEKDAY.exec(value);
    if (nth) {
      if (Number(nth[1]) % 7 === weekday && Math.floor((day - 1) / 7) + 1 === Number(nth[2])) return true;
      continue;
    }
    const lastOf = LAST_WEEKDAY.exec(value);
    if (lastOf && Number(lastOf[1]) % 7 === weekday && day + 7 > daysIn(year, month)) return true;
  }
  return false;
}

const ascending = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

/** CronSchedule is a parsed expression; `nextAfter` walks its expanded fields, a day at a time. */
export class CronSchedule {
  private constructor(
    readonly expression: string,
    private readonly seconds: readonly number[],
    private readonly minutes: readonly number[],
    private readonly hours: readonly number[],
    private readonly months: ReadonlySet<number>,
    private readonly daysOfMonth: readonly DayToken[],
    private readonly daysOfWeek: readonly DayToken[],
  ) {}

  /** parse reads a node-cron expression; undefined when node-cron rejects it. */
  static parse(expression: string): CronSchedule | undefined {
    if (!cron.validate(expression)) return undefined;
    const f = cron.parse(expression);
    return new CronSchedule(expression, ascending(f.second), ascending(f.minute), ascending(f.hour), new Set(f.month), f.dayOfMonth, f.dayOfWeek);
  }

  /** firesOn says whether the schedule fires on a calendar date (`month` 1-12). */
  firesOn(year: number, month: number, day: number): boolean {
    return this.months.has(month) && matchesDayOfMonth(this.daysOfMonth, year, month, day) && matchesDayOfWeek(this.daysOfWeek, year, month, day);
  }

  /** nextAfter is the first firing strictly after `afterMs` (epoch ms; local time), or null if none is within four years. */
  nextAfter(afterMs: number): number | null {
    const start = new Date(afterMs);
    for (let d = 0; d < MAX_DAYS; d++) {
      const day = new Date(start.getFullYear(), start.getMonth(), start.getDate() + d);
      const [y, m, dd] = [day.getFullYear(), day.getMonth(), day.getDate()];
      if (!this.firesOn(y, m + 1, dd)) continue;
      // On the first day, the hours, minutes and seconds already past are skipped rather than tried.
      const [fromHour, fromMinute, fromSecond] = d === 0 ? [start.getHours(), start.getMinutes(), start.getSeconds()] : [0, 0, 0];
      for (const h of this.hours) {
        if (h < fromHour) continue;
        for (const mi of this.minutes) {
          if (h === fromHour && mi < fromMinute) continue;
          for (const s of this.seconds) {
            if (h === fromHour && mi === fromMinute && s < fromSecond) continue;
            const t = new Date(y, m, dd, h, mi, s);
            // A wall-clock time a DST change skips normalizes into another hour; it is not a firing of this one.
            if (t.getHours() !== h || t.getDate() !== dd) continue;
            if (t.getTime() > afterMs) return t.getTime();
          }
        }
      }
    }
    return null;
  }
}
