import cron from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CronSchedule } from '../../src/time/index.js';

// Local-time arithmetic: build the expectations with the same local Date constructor.
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => new Date(y, mo - 1, d, h, mi, s).getTime();

const schedule = (expression: string): CronSchedule => {
  const parsed = CronSchedule.parse(expression);
  if (parsed === undefined) throw new Error(`test expression ${expression} did not parse`);
  return parsed;
};

describe('CronSchedule.nextAfter', () => {
  const base = at(2026, 1, 1, 10, 0, 7); // a Thursday

  it.each([
    ['*/15 * * * * *', at(2026, 1, 1, 10, 0, 15)],
    ['0 * * * * *', at(2026, 1, 1, 10, 1, 0)],
    ['*/5 * * * *', at(2026, 1, 1, 10, 5, 0)],
    ['0 3 * * *', at(2026, 1, 2, 3, 0, 0)],
    ['0 0 * * 1', at(2026, 1, 5, 0, 0, 0)],
    ['0 0 29 2 *', at(2028, 2, 29, 0, 0, 0)],
    ['0 12 L * *', at(2026, 1, 31, 12, 0, 0)],
    ['0 0 * * 5#2', at(2026, 1, 9, 0, 0, 0)],
    ['0 0 * * 5L', at(2026, 1, 30, 0, 0, 0)],
    ['0 0 LW * *', at(2026, 1, 30, 0, 0, 0)], // the 31st is a Saturday
    ['0 0 L-3 * *', at(2026, 1, 28, 0, 0, 0)],
    ['0 9 * * mon-fri', at(2026, 1, 2, 9, 0, 0)],
  ])('%s fires next at the expected time', (expression, expected) => {
    expect(schedule(expression).nextAfter(base)).toBe(expected);
  });

  it('is strictly after the given time', () => {
    expect(schedule('*/15 * * * * *').nextAfter(at(2026, 1, 1, 10, 0, 15))).toBe(at(2026, 1, 1, 10, 0, 30));
  });

  it('rolls over the end of an hour, a day and a year', () => {
    expect(schedule('*/20 * * * * *').nextAfter(at(2026, 12, 31, 23, 59, 45))).toBe(at(2027, 1, 1, 0, 0, 0));
    expect(schedule('30 10 * * * *').nextAfter(at(2026, 3, 1, 7, 10, 30))).toBe(at(2026, 3, 1, 8, 10, 30));
  });

  it('rejects what node-cron rejects: bad syntax and dates that never come', () => {
    expect(CronSchedule.parse('not cron')).toBeUndefined();
    expect(CronSchedule.parse('0 0 31 2 *')).toBeUndefined();
    expect(CronSchedule.parse('61 * * * * *')).toBeUndefined();
  });
});

describe('CronSchedule agrees with node-cron', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // The day tokens, ranges, steps and names node-cron reads; each compared firing by firing.
  const expressions = [
    '*/7 * * * * *',
    '0 */13 * * * *',
    '0 30 9 * * mon-fri',
    '0 0 L * *',
    '0 0 15W * *',
    '0 0 1W * *',
    '0 0 LW * *',
    '0 0 L-5 * *',
    '0 0 1,L * *',
    '0 0 * * 1#5',
    '0 0 * * 0#1,5L',
    '0 0 * * 7L',
    '0 0 13 * 5',
    '0 0 1-10/3 jan,jul *',
    '0 0 29 2 *',
    '15 4 8-14 * 2',
  ];
  const bases = [at(2026, 1, 1, 0, 0, 0), at(2026, 6, 30, 23, 59, 59), at(2027, 2, 27, 12, 34, 56)];

  it.each(expressions)('%s: the next 12 firings from three starting points match node-cron getNextRuns', (expression) => {
    const ours = schedule(expression);
    for (const base of bases) {
      vi.useFakeTimers({ now: base, toFake: ['Date'] });
      const theirs = cron.createTask(expression, () => undefined).getNextRuns(12).map((d) => d.getTime());
      vi.useRealTimers();
      const mine: number[] = [];
      let from = base;
      for (let i = 0; i < 12; i++) {
        const next = ours.nextAfter(from);
        if (next === null) break;
        mine.push(next);
        from = next;
      }
      expect(mine.map((t) => new Date(t).toString())).toEqual(theirs.map((t) => new Date(t).toString()));
    }
  });

  it.each(expressions)('%s: every day of 2026-2029 fires or not as node-cron matches it', (expression) => {
    const ours = schedule(expression);
    const task = cron.createTask(expression, () => undefined);
    const fields = cron.parse(expression);
    const [h, mi, s] = [Math.min(...fields.hour), Math.min(...fields.minute), Math.min(...fields.second)];
    const disagreements: string[] = [];
    for (let day = new Date(2026, 0, 1); day.getFullYear() < 2030; day = new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1)) {
      const theirs = task.match(new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, mi, s));
      if (ours.firesOn(day.getFullYear(), day.getMonth() + 1, day.getDate()) !== theirs) disagreements.push(day.toDateString());
    }
    expect(disagreements).toEqual([]);
  });
});
