import { describe, expect, it } from 'vitest';
import { nextCronRunMs } from '../../src/daemon/index.js';

// Local-time arithmetic: build the expectations with the same local Date constructor.
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => new Date(y, mo - 1, d, h, mi, s).getTime();

describe('nextCronRunMs', () => {
  const base = at(2026, 1, 1, 10, 0, 7); // a Thursday

  it.each([
    ['*/15 * * * * *', at(2026, 1, 1, 10, 0, 15)],
    ['0 * * * * *', at(2026, 1, 1, 10, 1, 0)],
    ['*/5 * * * *', at(2026, 1, 1, 10, 5, 0)],
    ['0 3 * * *', at(2026, 1, 2, 3, 0, 0)],
    ['0 0 * * 1', at(2026, 1, 5, 0, 0, 0)],
    ['0 0 29 2 *', at(2028, 2, 29, 0, 0, 0)],
  ])('%s fires next at the expected time', (expression, expected) => {
    expect(nextCronRunMs(expression, base)).toBe(expected);
  });

  it('is strictly after the given time', () => {
    expect(nextCronRunMs('*/15 * * * * *', at(2026, 1, 1, 10, 0, 15))).toBe(at(2026, 1, 1, 10, 0, 30));
  });

  it('returns null for an invalid expression', () => {
    expect(nextCronRunMs('not cron', base)).toBeNull();
  });
});
