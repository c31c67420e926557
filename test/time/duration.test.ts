import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDurationMs } from '../../src/time/index.js';

describe('parseDurationMs', () => {
  it.each([
    ['15s', 15_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['100ms', 100],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['0', 0],
    ['0s', 0],
  ])('parses %s', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', '5', 'm5', '5M', '1.5h', '-5m', '30m1h', '5m5m', ' 5m'])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});

describe('formatDurationMs', () => {
  it.each([
    [0, '0s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [604_800_000, '1w'],
    [691_200_000, '8d'],
    [1500, '1s500ms'],
  ])('formats %d as %s', (ms, text) => expect(formatDurationMs(ms)).toBe(text));
});
