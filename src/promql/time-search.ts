/**
 * Searches in an ascending column of timestamps. Samples usually come at a steady interval, so
 * the search first guesses the index by interpolation and gallops from there: two or three reads
 * instead of a binary search's dozen, each of which is likely a cache miss when a query walks
 * thousands of series.
 */

/**
 * firstAtOrAfter returns the first index i in [lo, hi) with `t[i] >= ts` (`inclusive`) or
 * `t[i] > ts` (not inclusive), or hi when there is none. `t` must ascend over [lo, hi).
 */
export function firstAtOrAfter(t: Float64Array, lo: number, hi: number, ts: number, inclusive: boolean): number {
  // NaN compares false with everything: no timestamp is at or after it.
  if (lo >= hi || Number.isNaN(ts)) return hi;
  const first = t[lo];
  if (inclusive ? first >= ts : first > ts) return lo;
  const last = t[hi - 1];
  if (inclusive ? last < ts : last <= ts) return hi;
  // Now t[lo] is before ts and t[hi - 1] at or after it: the answer is in (lo, hi - 1].
  let guess = lo + Math.floor(((ts - first) / (last - first)) * (hi - 1 - lo));
  if (!(guess > lo)) guess = lo + 1;
  if (guess > hi - 1) guess = hi - 1;
  // Gallop to a bracket [a, b] with before(a) and !before(b), then bisect it.
  let a: number;
  let b: number;
  if (before(t, guess, ts, inclusive)) {
    a = guess;
    let step = 1;
    b = Math.min(hi - 1, a + step);
    while (before(t, b, ts, inclusive)) {
      a = b;
      step *= 2;
      b = Math.min(hi - 1, a + step);
    }
  } else {
    b = guess;
    let step = 1;
    a = Math.max(lo, b - step);
    while (!before(t, a, ts, inclusive)) {
      b = a;
      step *= 2;
      a = Math.max(lo, b - step);
    }
  }
  while (b - a > 1) {
    const mid = (a + b) >>> 1;
    if (before(t, mid, ts, inclusive)) a = mid;
    else b = mid;
  }
  return b;
}

/** before tells whether t[i] comes before the searched position. */
function before(t: Float64Array, i: number, ts: number, inclusive: boolean): boolean {
  return inclusive ? t[i] < ts : t[i] <= ts;
}
