/**
 * MemoryStore: the in-memory sample store. The persistent store keeps one of these as its read
 * side and writes what it accepted to disk; tests and `rules test` use it alone.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { compareStrings, labelsKey, normalizeLabels } from './labels-key.js';
import { compileMatcher, RegexCache } from '../promql/label-matcher.js';
import type { LabelPredicate } from '../promql/label-matcher.js';
import { SampleBuffer } from './sample-buffer.js';
import { createStoreMetrics } from './store-metrics.js';
import type { RefusalReason, StoreMetrics } from './store-metrics.js';
import type { AppendResult, Appender, LabelMatcher, Labels, SeriesColumns, LatestReader, LatestSample, SampleStore, SeriesData } from './types.js';

/** DEFAULT_RETENTION_MS is 26 h: a day of history plus the trailing-hour baselines around it. */
export const DEFAULT_RETENTION_MS = 26 * 3600_000;
/** DEFAULT_MAX_SERIES bounds memory when a probe explodes its label cardinality. */
export const DEFAULT_MAX_SERIES = 100_000;
/** SERIES_LIMIT_LOG_INTERVAL_MS spaces the "series limit reached" log lines (sample time). */
const SERIES_LIMIT_LOG_INTERVAL_MS = 60_000;

/** MemoryStoreOptions configure a MemoryStore; every field has a default. */
export interface MemoryStoreOptions {
  /** retentionMs is how much history `applyRetention(nowMs)` keeps (default 26 h). */
  readonly retentionMs?: number;
  /** maxSeries caps the number of series; samples of new series past it are refused. */
  readonly maxSeries?: number;
  readonly logger?: Logger;
  /** registry receives `sentinel_store_*` metrics; none are registered without it. */
  readonly registry?: Registry;
  /**
   * selectOrder is the order `select`/`selectColumns` return series in, the order in which
   * aggregations add them up: `labels` (default) or `creation`, the order Prometheus' head block
   * hands series to its engine (series references grow with creation), which `rules test` needs
   * so float sums round like promtool's. Every other listing is sorted by labels.
   */
  readonly selectOrder?: 'labels' | 'creation';
  /**
   * sharedBuffers keeps samples in SharedArrayBuffers, so `replicate` can hand them to a query
   * thread that reads them in place (the daemon's HTTP query API). Costs nothing in memory.
   */
  readonly sharedBuffers?: boolean;
}

/**
 * ReplicaSink hears which series changed for a replica in another thread: created, moved to new
 * memory, or removed. It gets only the id (cheap enough to call on every change); what the
 * series is now comes from `MemoryStore.replicaEvent(id)` when the replica is sent the change.
 */
export interface ReplicaSink {
  /** existing lists the series held when replication starts. */
  existing(ids: readonly number[]): void;
  changed(id: number): void;
}

/**
 * ReplicaEvent is what a replica needs to follow one series: its labels and shared memory (the
 * samples are read in place; which slots hold samples comes from `MemoryStore.extents()`), or
 * that it is gone.
 */
export type ReplicaEvent =
  | { readonly kind: 'series'; readonly id: number; readonly labels: Labels; readonly memory: SharedArrayBuffer; readonly capacity: number }
  | { readonly kind: 'removed'; readonly id: number };

/** SeriesEntry is one stored series. */
interface SeriesEntry {
  readonly id: number;
  readonly key: string;
  readonly labels: Labels;
  /** samples are the series' buffer; a replica swaps it when the writer's samples move. */
  samples: SampleBuffer;
  /** removed is set when retention forgets the series (an identity-cached lookup must not use it). */
  removed: boolean;
}

/** SortedIds caches one posting list's entries in label order, valid for one index generation. */
interface SortedIds {
  readonly generation: number;
  readonly entries: readonly SeriesEntry[];
}

/**
 * PendingBatch is the appended, not yet committed samples in append order, as columns (a loader
 * appends millions, so no object per sample): sample i is (labels[i], t[i], v[i], stale[i]).
 */
export interface PendingBatch {
  readonly labels: Labels[];
  readonly t: number[];
  readonly v: number[];
  readonly stale: boolean[];
}

/**
 * batchAppender collects samples and hands them to `commit` once; `guard` refuses appends (a
 * closed store). The stores differ only in what committing a batch does.
 */
export function batchAppender(owner: string, commit: (pending: PendingBatch) => AppendResult, guard?: () => void): Appender {
  const pending: PendingBatch = { labels: [], t: [], v: [], stale: [] };
  let done = false;
  const check = (): void => {
    if (done) throw new Error(`${owner}: appender used after commit()`);
    guard?.();
  };
  const add = (labels: Labels, t: number, v: number, stale: boolean): void => {
    pending.labels.push(labels);
    pending.t.push(t);
    pending.v.push(v);
    pending.stale.push(stale);
  };
  return {
    append: (labels, t, v) => {
      check();
      add(labels, t, v, false);
    },
    appendStale: (labels, t) => {
      check();
      add(labels, t, NaN, true);
    },
    commit: () => {
      check();
      done = true;
      return commit(pending);
    },
  };
}

/** AcceptedSample is a committed sample, reported to the persistence layer. */
export interface AcceptedSample {
  readonly seriesId: number;
  readonly t: number;
  readonly v: number;
  readonly isStale: boolean;
}

/** CommitOutcome is what `commitBatch` stored, for the persistence layer. */
export interface CommitOutcome {
  readonly result: AppendResult;
  readonly accepted: readonly AcceptedSample[];
  /** newSeries are the series this batch created, with their ids. */
  readonly newSeries: ReadonlyArray<{ readonly id: number; readonly labels: Labels }>;
}

/**
 * MemoryStore is an in-memory `SampleStore`: per-series typed arrays searched by time, an
 * inverted index label → value → series ids for matchers, refusal (never reordering) of
 * out-of-order samples, a series cap, and retention by a time passed in.
 */
export class MemoryStore implements SampleStore, LatestReader {
  private readonly byKey = new Map<string, SeriesEntry>();
  private readonly byId = new Map<number, SeriesEntry>();
  /** postings is the inverted index: label name → value → series ids. */
  private readonly postings = new Map<string, Map<string, Set<number>>>();
  private readonly regexes = new RegexCache();
  /**
   * byFrozenLabels finds the entry of a frozen label set by identity, so a caller appending the
   * same frozen object again and again (the rules-test loader) does not pay for its key each time.
   */
  private readonly byFrozenLabels = new WeakMap<Labels, SeriesEntry>();
  /** capacityHints are sample counts announced by `expectSamples`, by series key, until the series is created. */
  private readonly capacityHints = new Map<string, number>();
  /** generation changes whenever a series is created or removed; it invalidates the caches below. */
  private generation = 0;
  private allSorted: SortedIds | undefined;
  private readonly postingsSorted = new WeakMap<Set<number>, SortedIds>();
  /**
   * selections remembers, per matcher list (a parsed selector keeps its list, so rules pass the
   * same array every evaluation), which series it selected, until a series comes or goes.
   */
  private readonly selections = new WeakMap<readonly LabelMatcher[], { generation: number; order: 'labels' | 'creation'; entries: readonly SeriesEntry[] }>();
  private nextId = 1;
  private readonly retentionMs: number;
  private readonly maxSeries: number;
  private readonly selectOrder: 'labels' | 'creation';
  private readonly sharedBuffers: boolean;
  private readonly sinks = new Set<ReplicaSink>();
  private readonly logger: Logger | undefined;
  private readonly metrics: StoreMetrics | undefined;
  private lastLimitLogMs = -Infinity;
  private refusedSinceLog = 0;

  constructor(options: MemoryStoreOptions = {}) {
    const { retentionMs = DEFAULT_RETENTION_MS, maxSeries = DEFAULT_MAX_SERIES } = options;
    if (!(retentionMs > 0)) throw new RangeError(`MemoryStore: retentionMs must be > 0, got ${retentionMs}`);
    if (!(maxSeries > 0)) throw new RangeError(`MemoryStore: maxSeries must be > 0, got ${maxSeries}`);
    this.retentionMs = retentionMs;
    this.maxSeries = maxSeries;
    this.selectOrder = options.selectOrder ?? 'labels';
    this.sharedBuffers = options.sharedBuffers ?? false;
    this.logger = options.logger;
    this.metrics = createStoreMetrics(options.registry);
    this.metrics?.series.set(0);
  }

  /** seriesCount is the number of series held. */
  get seriesCount(): number {
    return this.byKey.size;
  }

  appender(): Appender {
    return batchAppender('MemoryStore', (pending) => this.commitBatch(pending, false).result);
  }

  /**
   * commitBatch stores a batch in order: a sample at or before its series' newest timestamp is
   * refused (an identical repeat of the newest sample is ignored, as Prometheus does), a sample
   * of a new series past `maxSeries` is refused. Used by the appender and the persistent store,
   * which asks for the accepted samples (`reportAccepted`) to write them to disk.
   */
  commitBatch(batch: PendingBatch, reportAccepted = true): CommitOutcome {
    let appended = 0;
    let outOfOrder = 0;
    let refusedSeriesLimit = 0;
    const accepted: AcceptedSample[] = [];
    const newSeries: Array<{ id: number; labels: Labels }> = [];
    const refusals = new Map<RefusalReason, number>();
    const refuse = (reason: RefusalReason): void => {
      refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
    };
    // A loader appends several samples of one series in a row: the previous lookup usually holds.
    let lastLabels: Labels | undefined;
    let lastEntry: SeriesEntry | undefined;
    for (let i = 0; i < batch.t.length; i++) {
      const labels = batch.labels[i];
      const v = batch.v[i];
      const isStale = batch.stale[i];
      if (!Number.isFinite(batch.t[i])) {
        outOfOrder++;
        refuse('out_of_order');
        continue;
      }
      const t = Math.round(batch.t[i]);
      let entry = labels === lastLabels ? lastEntry : this.byFrozenLabels.get(labels);
      if (entry === undefined || entry.removed) {
        const key = labelsKey(labels);
        entry = this.byKey.get(key);
        if (!entry) {
          if (this.byKey.size >= this.maxSeries) {
            refusedSeriesLimit++;
            refuse('series_limit');
            this.noteSeriesLimit(key, t);
            continue;
          }
          entry = this.createSeries(key, normalizeLabels(labels));
          newSeries.push({ id: entry.id, labels: entry.labels });
        }
        if (Object.isFrozen(labels)) this.byFrozenLabels.set(labels, entry);
      }
      lastLabels = labels;
      lastEntry = entry;
      const lastT = entry.samples.lastT;
      if (t < lastT) {
        outOfOrder++;
        refuse('out_of_order');
        continue;
      }
      if (t === lastT) {
        const last = entry.samples.last();
        const same = last !== undefined && (isStale ? last.stale === true : last.stale !== true && Object.is(last.v, v));
        if (!same) {
          outOfOrder++;
          refuse('duplicate_timestamp');
        }
        continue;
      }
      entry.samples.push(t, v, isStale);
      if (reportAccepted) accepted.push({ seriesId: entry.id, t, v, isStale });
      appended++;
    }
    if (this.metrics) {
      this.metrics.appended.inc(appended);
      for (const [reason, n] of refusals) this.metrics.refused.inc({ reason }, n);
      this.metrics.series.set(this.byKey.size);
    }
    return { result: { appended, outOfOrder, refusedSeriesLimit }, accepted, newSeries };
  }

  /**
   * expectSamples announces how many samples a series not yet stored will receive (a loader that
   * knows its input), so its buffer is allocated once at that size when its first sample comes,
   * instead of growing step by step. It changes nothing else: the series still appears then.
   */
  expectSamples(labels: Labels, samples: number): void {
    const key = labelsKey(labels);
    if (!this.byKey.has(key) && samples > 0) this.capacityHints.set(key, samples);
  }

  /**
   * loadSeries restores a series with a known id (persistence load); samples must come through
   * `loadSample` in ascending time. The series cap does not apply to history already on disk.
   */
  loadSeries(id: number, labels: Labels): void {
    const key = labelsKey(labels);
    if (this.byKey.has(key)) return;
    this.createSeries(key, normalizeLabels(labels), id);
    this.metrics?.series.set(this.byKey.size);
  }

  /** loadSample restores one sample of a loaded series; out-of-order ones are skipped. */
  loadSample(id: number, t: number, v: number, isStale: boolean): boolean {
    const entry = this.byId.get(id);
    if (!entry || t <= entry.samples.lastT) return false;
    entry.samples.push(t, v, isStale);
    return true;
  }

  select(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesData[] {
    const out: SeriesData[] = [];
    for (const entry of this.matching(matchers, this.selectOrder)) {
      const samples = entry.samples.range(startMs, endMs);
      if (samples.length > 0) out.push({ labels: entry.labels, samples });
    }
    return out;
  }

  /** selectColumns is `select` for the engine: views of the stored columns, no object per sample. */
  selectColumns(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesColumns[] {
    const out: SeriesColumns[] = [];
    for (const entry of this.matching(matchers, this.selectOrder)) {
      const c = entry.samples.columns(entry.labels, startMs, endMs);
      if (c !== undefined) out.push(c);
    }
    return out;
  }

  latest(matchers: readonly LabelMatcher[]): LatestSample[] {
    const out: LatestSample[] = [];
    for (const entry of this.matching(matchers)) {
      const sample = entry.samples.last();
      if (sample) out.push({ labels: entry.labels, sample });
    }
    return out;
  }

  /** series lists the label sets of matching series with a sample in [startMs, endMs], sorted. */
  series(matchers: readonly LabelMatcher[], startMs: number, endMs: number): Labels[] {
    return this.matching(matchers)
      .filter((e) => e.samples.hasSampleIn(startMs, endMs))
      .map((e) => e.labels);
  }

  labelNames(matchers?: readonly LabelMatcher[]): string[] {
    if (!matchers || matchers.length === 0) return [...this.postings.keys()].sort(compareStrings);
    const names = new Set<string>();
    for (const e of this.matching(matchers)) for (const n of Object.keys(e.labels)) names.add(n);
    return [...names].sort(compareStrings);
  }

  labelValues(name: string, matchers?: readonly LabelMatcher[]): string[] {
    if (!matchers || matchers.length === 0) return [...(this.postings.get(name)?.keys() ?? [])].sort(compareStrings);
    const values = new Set<string>();
    for (const e of this.matching(matchers)) {
      const v = e.labels[name];
      if (v !== undefined) values.add(v);
    }
    return [...values].sort(compareStrings);
  }

  /**
   * applyRetention drops samples older than `nowMs - retentionMs` and forgets series left empty;
   * returns the dropped sample count and the ids of forgotten series (for persistence).
   */
  applyRetention(nowMs: number): void {
    this.retain(nowMs);
  }

  /** retain is `applyRetention` reporting what it removed, for the persistent store. */
  retain(nowMs: number): { cutoffMs: number; droppedSamples: number; trimmedSeries: number[]; removedSeries: number[] } {
    const cutoffMs = nowMs - this.retentionMs;
    let droppedSamples = 0;
    const trimmedSeries: number[] = [];
    const removedSeries: number[] = [];
    for (const entry of [...this.byId.values()]) {
      if (entry.samples.firstT >= cutoffMs) continue;
      droppedSamples += entry.samples.dropBefore(cutoffMs);
      trimmedSeries.push(entry.id);
      if (entry.samples.length === 0) {
        this.removeSeries(entry);
        removedSeries.push(entry.id);
      }
    }
    this.metrics?.series.set(this.byKey.size);
    return { cutoffMs, droppedSamples, trimmedSeries, removedSeries };
  }

  /** forEachSeries visits every series with its samples (snapshots, benchmarks). */
  forEachSeries(fn: (id: number, labels: Labels, samples: SampleBuffer) => void): void {
    for (const e of this.byId.values()) fn(e.id, e.labels, e.samples);
  }

  async close(): Promise<void> {
    this.sinks.clear();
  }

  /**
   * replicate feeds `sink` every series now held and, from then on, every series created, moved
   * or removed; the returned function stops it. The store must have `sharedBuffers`.
   */
  replicate(sink: ReplicaSink): () => void {
    if (!this.sharedBuffers) throw new Error('MemoryStore.replicate needs sharedBuffers: true');
    sink.existing(Array.from(this.byId.keys()));
    this.sinks.add(sink);
    return () => {
      this.sinks.delete(sink);
    };
  }

  /**
   * extents lists, per series, which slots of its memory hold samples now: `[id, head, tail,
   * staleCount]` repeated. A replica reading at this moment reads exactly these slots; they are
   * never written again, so what it reads stays what was there.
   */
  extents(): Int32Array {
    const out = new Int32Array(this.byId.size * 4);
    let i = 0;
    for (const e of this.byId.values()) {
      out[i] = e.id;
      e.samples.writeExtent(out, i + 1);
      i += 4;
    }
    return out;
  }

  /**
   * adoptSeries holds a series whose samples another store writes (a replica): `samples` reads
   * that store's memory. Nothing may be appended to it here.
   */
  adoptSeries(id: number, labels: Labels, samples: SampleBuffer): void {
    const old = this.byId.get(id);
    if (old !== undefined) {
      // The same series moved to new memory.
      old.samples = samples;
      return;
    }
    const normalized = normalizeLabels(labels);
    this.createSeries(labelsKey(normalized), normalized, id, samples);
  }

  /** seriesSamples is the buffer of a series by id (a replica sets its extent). */
  seriesSamples(id: number): SampleBuffer | undefined {
    return this.byId.get(id)?.samples;
  }

  /** dropSeries forgets a series by id (a replica follows a removal). */
  dropSeries(id: number): void {
    const e = this.byId.get(id);
    if (e !== undefined) this.removeSeries(e);
  }

  /** replicaEvent describes series `id` as it is now, for a replica (see ReplicaSink). */
  replicaEvent(id: number): ReplicaEvent {
    const e = this.byId.get(id);
    const shared = e?.samples.shareable();
    return e !== undefined && shared !== undefined ? { kind: 'series', id, labels: e.labels, memory: shared.memory, capacity: shared.capacity } : { kind: 'removed', id };
  }

  private createSeries(key: string, labels: Labels, id = this.nextId, adopted?: SampleBuffer): SeriesEntry {
    this.nextId = Math.max(this.nextId, id + 1);
    const capacity = this.capacityHints.get(key);
    if (capacity !== undefined) this.capacityHints.delete(key);
    const samples = adopted ?? new SampleBuffer(capacity, this.sharedBuffers);
    const entry: SeriesEntry = { id, key, labels, samples, removed: false };
    if (this.sharedBuffers) {
      samples.onMove = () => {
        for (const sink of this.sinks) sink.changed(id);
      };
      for (const sink of this.sinks) sink.changed(id);
    }
    this.byKey.set(key, entry);
    this.byId.set(id, entry);
    for (const [name, value] of Object.entries(labels)) {
      let values = this.postings.get(name);
      if (!values) this.postings.set(name, (values = new Map()));
      let ids = values.get(value);
      if (!ids) values.set(value, (ids = new Set()));
      ids.add(id);
    }
    this.generation++;
    return entry;
  }

  private removeSeries(entry: SeriesEntry): void {
    entry.removed = true;
    for (const sink of this.sinks) sink.changed(entry.id);
    this.byKey.delete(entry.key);
    this.byId.delete(entry.id);
    for (const [name, value] of Object.entries(entry.labels)) {
      const values = this.postings.get(name);
      const ids = values?.get(value);
      if (!values || !ids) continue;
      ids.delete(entry.id);
      if (ids.size === 0) values.delete(value);
      if (values.size === 0) this.postings.delete(name);
    }
    this.generation++;
  }

  /**
   * matching returns the series satisfying every matcher, sorted by label key, or in creation
   * order when `order` says so.
   */
  private matching(matchers: readonly LabelMatcher[], order: 'labels' | 'creation' = 'labels'): readonly SeriesEntry[] {
    const cached = this.selections.get(matchers);
    if (cached !== undefined && cached.generation === this.generation && cached.order === order) return cached.entries;
    const entries = this.match(matchers, order);
    this.selections.set(matchers, { generation: this.generation, order, entries });
    return entries;
  }

  private match(matchers: readonly LabelMatcher[], order: 'labels' | 'creation'): readonly SeriesEntry[] {
    const predicates: LabelPredicate[] = matchers.map((m) => compileMatcher(m, this.regexes));
    // Equality matchers on a non-empty value narrow the candidates through the inverted index.
    let candidates: Set<number> | undefined;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const ids = this.postings.get(m.name)?.get(m.value);
      if (!ids) return [];
      if (!candidates || ids.size < candidates.size) candidates = ids;
    }
    const test = (e: SeriesEntry): boolean => {
      for (const p of predicates) if (!p(e.labels)) return false;
      return true;
    };
    if (candidates && order === 'creation') {
      // Ids grow with creation and each posting set holds them in insertion order.
      const out: SeriesEntry[] = [];
      for (const id of candidates) {
        const e = this.byId.get(id);
        if (e && test(e)) out.push(e);
      }
      return out;
    }
    const pool = candidates ? this.sortedPostings(candidates) : order === 'creation' ? [...this.byId.values()] : this.sortedAll();
    return predicates.length === 0 ? pool : pool.filter(test);
  }

  /** sortedPostings is a posting set's entries in label order, cached until a series comes or goes. */
  private sortedPostings(ids: Set<number>): readonly SeriesEntry[] {
    const cached = this.postingsSorted.get(ids);
    if (cached !== undefined && cached.generation === this.generation) return cached.entries;
    const entries: SeriesEntry[] = [];
    for (const id of ids) {
      const e = this.byId.get(id);
      if (e) entries.push(e);
    }
    entries.sort((a, b) => compareStrings(a.key, b.key));
    this.postingsSorted.set(ids, { generation: this.generation, entries });
    return entries;
  }

  private sortedAll(): readonly SeriesEntry[] {
    if (this.allSorted === undefined || this.allSorted.generation !== this.generation) {
      this.allSorted = { generation: this.generation, entries: [...this.byKey.values()].sort((a, b) => compareStrings(a.key, b.key)) };
    }
    return this.allSorted.entries;
  }

  private noteSeriesLimit(key: string, t: number): void {
    this.refusedSinceLog++;
    if (t - this.lastLimitLogMs < SERIES_LIMIT_LOG_INTERVAL_MS && t >= this.lastLimitLogMs) return;
    this.logger?.warn(
      { maxSeries: this.maxSeries, refusedSamples: this.refusedSinceLog, example: key.split('\u0000').join(' ').trim() },
      `sample store refused new series: the limit of ${this.maxSeries} series is reached; raise storage.max_series or reduce label cardinality`,
    );
    this.lastLimitLogMs = t;
    this.refusedSinceLog = 0;
  }
}
