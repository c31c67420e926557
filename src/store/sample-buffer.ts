/**
 * SampleBuffer holds one series' samples in parallel typed arrays (8 + 8 + 1 bytes a sample),
 * because 26 h × hundreds of series as JS objects would cost several times the memory. The three
 * columns share one ArrayBuffer: one allocation per growth instead of three. A shared buffer
 * (SharedArrayBuffer) lets a query thread read the samples where they are.
 */
import { firstAtOrAfter } from '../promql/time-search.js';
import type { Labels, Sample, SeriesColumns } from './types.js';

const FLAG_STALE = 1;
/** BYTES_PER_SAMPLE is a timestamp and a value (float64 each) and a flag byte. */
const BYTES_PER_SAMPLE = 17;
const MIN_CAPACITY = 16;


/**
 * SampleBuffer is an append-only, time-ordered sample array with a movable start (retention).
 * A slot, once written, is never written again: growing and compacting copy into new arrays, so
 * the columns `columns` hands out stay valid while the buffer moves on.
 */
export class SampleBuffer {
  private ts!: Float64Array;
  private vs!: Float64Array;
  private flags!: Uint8Array;
  private head = 0;
  private tail = 0;
  /** staleCount is the number of retained stale markers. */
  private staleCount = 0;
  private memory!: ArrayBufferLike;
  /** onMove is called after the samples moved to new memory (growth, compaction). */
  onMove: (() => void) | undefined;

  /** `shared` puts the samples in SharedArrayBuffers, readable from other threads. */
  constructor(
    initialCapacity = MIN_CAPACITY,
    private readonly shared = false,
  ) {
    this.allocate(Math.max(1, initialCapacity));
  }

  /**
   * over reads samples another thread writes: `memory` as `SampleBuffer.shareable()` described
   * it, holding nothing until `setExtent` says which slots to read. It must never be pushed to.
   */
  static over(memory: ArrayBufferLike, capacity: number): SampleBuffer {
    const b = new SampleBuffer(1);
    b.view(memory, capacity);
    return b;
  }

  /** shareable is the shared memory and capacity of the columns, for `SampleBuffer.over` elsewhere. */
  shareable(): { readonly memory: SharedArrayBuffer; readonly capacity: number } | undefined {
    return this.memory instanceof SharedArrayBuffer ? { memory: this.memory, capacity: this.ts.length } : undefined;
  }

  /** writeExtent puts the retained slot range and its stale markers at `out[at..at+2]`, for `setExtent` elsewhere. */
  writeExtent(out: Int32Array, at: number): void {
    out[at] = this.head;
    out[at + 1] = this.tail;
    out[at + 2] = this.staleCount;
  }

  /** setExtent says which slots hold retained samples (a reader of another thread's buffer). */
  setExtent(head: number, tail: number, staleCount: number): void {
    this.head = head;
    this.tail = tail;
    this.staleCount = staleCount;
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
    if (isStale) this.staleCount++;
    this.tail++;
  }

  /** dropBefore forgets samples with `t < cutoffMs`; returns how many were dropped. */
  dropBefore(cutoffMs: number): number {
    const idx = this.lowerBound(cutoffMs);
    const dropped = idx - this.head;
    if (this.staleCount > 0) for (let i = this.head; i < idx; i++) this.staleCount -= this.flags[i];
    this.head = idx;
    return dropped;
  }

  /**
   * columns returns the buffer's columns with the index range of the samples with
   * startMs <= t <= endMs, as the series `labels`, or undefined when there are none. No copy:
   * the caller must not write them. The stale flags come along only if the buffer holds any.
   */
  columns(labels: Labels, startMs: number, endMs: number): SeriesColumns | undefined {
    const start = this.lowerBound(startMs);
    const end = this.upperBound(endMs);
    if (end <= start) return undefined;
    return { labels, t: this.ts, v: this.vs, stale: this.staleCount > 0 ? this.flags : undefined, start, end };
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
    return firstAtOrAfter(this.ts, this.head, this.tail, t, true);
  }

  /** upperBound is the first index with ts > t. */
  private upperBound(t: number): number {
    return firstAtOrAfter(this.ts, this.head, this.tail, t, false);
  }

  /** allocate points the columns at new memory for `capacity` samples. */
  private allocate(capacity: number): void {
    this.view(this.shared ? new SharedArrayBuffer(capacity * BYTES_PER_SAMPLE) : new ArrayBuffer(capacity * BYTES_PER_SAMPLE), capacity);
  }

  private view(memory: ArrayBufferLike, capacity: number): void {
    this.memory = memory;
    this.ts = new Float64Array(memory, 0, capacity);
    this.vs = new Float64Array(memory, capacity * 8, capacity);
    this.flags = new Uint8Array(memory, capacity * 16, capacity);
  }

  private grow(): void {
    const live = this.tail - this.head;
    // Reclaim the retention-dropped prefix before deciding whether more room is needed.
    const capacity = live * 2 > this.ts.length ? this.ts.length * 2 : this.ts.length;
    const { ts, vs, flags } = this;
    this.allocate(Math.max(MIN_CAPACITY, capacity));
    this.ts.set(ts.subarray(this.head, this.tail));
    this.vs.set(vs.subarray(this.head, this.tail));
    this.flags.set(flags.subarray(this.head, this.tail));
    this.head = 0;
    this.tail = live;
    this.onMove?.();
  }
}
