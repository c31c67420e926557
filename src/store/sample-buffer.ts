/**
 * SampleBuffer holds one series' samples in parallel typed arrays (8 + 8 + 1 bytes a sample),
 * because 26 h × hundreds of series as JS objects would cost several times the memory.
 */
import type { Sample } from './types.js';

const FLAG_STALE = 1;

/** SampleBuffer is an append-only, time-ordered sample array with a movable start (retention). */
export class SampleBuffer {
  private ts: Float64Array;
  private vs: Float64Array;
  private flags: Uint8Array;
  private head = 0;
  private tail = 0;

  constructor(initialCapacity = 16) {
    this.ts = new Float64Array(initialCapacity);
    this.vs = new Float64Array(initialCapacity);
    this.flags = new Uint8Array(initialCapacity);
  }

  /** length is the number of retained samples. */
  get length(): number {
    return this.tail - this.head;
  }

  /** lastT is the newest timestamp, or -Infinity when empty. */
  get lastT(): number {
    return this.tail > this.head ? this.ts[this.tail - 1] : -Infinity;
  }

  /** firstT is the oldest retained timestamp, or +Infinity when empty. */
  get firstT(): number {
    return this.tail > this.head ? this.ts[this.head] : Infinity;
  }

  /** last returns the newest sample, or undefined. */
  last(): Sample | undefined {
    return this.tail > this.head ? this.at(this.tail - 1) : undefined;
  }

  /** push appends a sample; the caller has checked that `t` is newer than `lastT`. */
  push(t: number, v: number, isStale: boolean): void {
    if (this.tail === this.ts.length) this.grow();
    this.ts[this.tail] = t;
    this.vs[this.tail] = isStale ? NaN : v;
    this.flags[this.tail] = isStale ? FLAG_STALE : 0;
    this.tail++;
  }

  /** dropBefore forgets samples with `t < cutoffMs`; returns how many were dropped. */
  dropBefore(cutoffMs: number): number {
    const idx = this.lowerBound(cutoffMs);
    const dropped = idx - this.head;
    this.head = idx;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    }
    return dropped;
  }

  /** range returns the samples with startMs <= t <= endMs, ascending. */
  range(startMs: number, endMs: number): Sample[] {
    const lo = this.lowerBound(startMs);
    const hi = this.upperBound(endMs);
    const out: Sample[] = new Array<Sample>(Math.max(0, hi - lo));
    for (let i = lo; i < hi; i++) out[i - lo] = this.at(i);
    return out;
  }

  /** hasSampleIn tells whether any sample lies in [startMs, endMs] without materializing it. */
  hasSampleIn(startMs: number, endMs: number): boolean {
    return this.upperBound(endMs) > this.lowerBound(startMs);
  }

  /** forEach visits every retained sample in order (persistence snapshots, tests). */
  forEach(fn: (t: number, v: number, isStale: boolean) => void): void {
    for (let i = this.head; i < this.tail; i++) fn(this.ts[i], this.vs[i], this.flags[i] === FLAG_STALE);
  }

  private at(i: number): Sample {
    return this.flags[i] === FLAG_STALE ? { t: this.ts[i], v: NaN, stale: true } : { t: this.ts[i], v: this.vs[i] };
  }

  /** lowerBound is the first index with ts >= t. */
  private lowerBound(t: number): number {
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** upperBound is the first index with ts > t. */
  private upperBound(t: number): number {
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private grow(): void {
    const live = this.tail - this.head;
    // Reclaim the retention-dropped prefix before deciding whether more room is needed.
    const capacity = live * 2 > this.ts.length ? this.ts.length * 2 : this.ts.length;
    const ts = new Float64Array(Math.max(16, capacity));
    const vs = new Float64Array(ts.length);
    const flags = new Uint8Array(ts.length);
    ts.set(this.ts.subarray(this.head, this.tail));
    vs.set(this.vs.subarray(this.head, this.tail));
    flags.set(this.flags.subarray(this.head, this.tail));
    this.ts = ts;
    this.vs = vs;
    this.flags = flags;
    this.head = 0;
    this.tail = live;
  }
}
