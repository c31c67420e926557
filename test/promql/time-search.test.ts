import { describe, expect, it } from 'vitest';
import { firstAtOrAfter } from '../../src/promql/time-search.js';

/** linear is the obvious answer the interpolating search must agree with. */
function linear(t: Float64Array, lo: number, hi: number, ts: number, inclusive: boolean): number {
  for (let i = lo; i < hi; i++) if (inclusive ? t[i] >= ts : t[i] > ts) return i;
  return hi;
}

/** rng is a small deterministic generator (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('firstAtOrAfter', () => {
  it('finds what a linear scan finds, on steady, gappy and tiny columns and any sub-range', () => {
    const random = rng(42);
    const wrong: string[] = [];
    for (let trial = 0; trial < 3000; trial++) {
      const n = Math.floor(random() * 40);
      const t = new Float64Array(n);
      let x = Math.round(random() * 100 - 50);
      for (let i = 0; i < n; i++) {
        x += random() < 0.2 ? Math.round(random() * 1000) + 1 : 15;
        t[i] = x;
      }
      const lo = Math.floor(random() * (n + 1));
      const hi = lo + Math.floor(random() * (n - lo + 1));
      const probes = [-Infinity, Infinity, NaN, ...t, ...t.map((v) => v + 1), ...t.map((v) => v - 1)];
      for (const ts of probes) {
        for (const inclusive of [true, false]) {
          if (firstAtOrAfter(t, lo, hi, ts, inclusive) !== linear(t, lo, hi, ts, inclusive)) wrong.push(`${Array.from(t)} [${lo}, ${hi}) ${ts} ${inclusive}`);
        }
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
