/**
 * The sample store's interfaces. The sample model (a series is a metric name plus labels, a
 * sample is (timestamp ms, float64)) and the `Queryable` the store implements are the PromQL
 * engine's (promql/queryable.ts): probes write samples; rules, drill conditions, `sentinel query`
 * and the gate read them through the engine, which sees the store only as a `Queryable`.
 */
import type { LabelMatcher, Labels, Queryable } from '../promql/queryable.js';

export type { LabelMatcher, Labels, MatchType, SeriesColumns } from '../promql/queryable.js';

/**
 * Sample is one point of a series. A stale marker (Prometheus' special NaN) is represented
 * explicitly with `stale: true` and `v: NaN`, because JavaScript engines do not keep NaN payloads.
 */
export interface Sample {
  readonly t: number;
  readonly v: number;
  readonly stale?: true;
}

/** SeriesData is one series with its samples in [startMs, endMs], ascending by `t`. */
export interface SeriesData {
  readonly labels: Labels;
  readonly samples: readonly Sample[];
}

/** LatestSample is the newest stored sample of one series (a stale marker included). */
export interface LatestSample {
  readonly labels: Labels;
  readonly sample: Sample;
}

/**
 * LatestReader reads the newest sample of each series, for the /metrics exposition: one sample a
 * series, without copying any history.
 */
export interface LatestReader {
  /** latest returns, for every series matching all matchers, its newest sample, sorted by labels. */
  latest(matchers: readonly LabelMatcher[]): LatestSample[];
}

/** LabelIndex answers the metadata queries of the Prometheus HTTP API. */
export interface LabelIndex {
  labelNames(matchers?: readonly LabelMatcher[]): string[];
  labelValues(name: string, matchers?: readonly LabelMatcher[]): string[];
}

/** AppendResult counts what one `commit()` stored and refused. */
export interface AppendResult {
  readonly appended: number;
  readonly outOfOrder: number;
  readonly refusedSeriesLimit: number;
}

/**
 * Appender collects samples and stores them atomically on `commit()`. Samples older than the
 * newest stored sample of their series are refused and counted, never reordered.
 */
export interface Appender {
  append(labels: Labels, t: number, v: number): void;
  /** appendStale writes a Prometheus staleness marker for a series that disappeared. */
  appendStale(labels: Labels, t: number): void;
  commit(): AppendResult;
}

/** SampleStore owns the samples: fast in-memory reads, persistence, retention. */
export interface SampleStore extends Queryable, LabelIndex {
  appender(): Appender;
  /**
   * select returns every series matching all matchers with its samples in [startMs, endMs] as
   * objects (stale markers included), for callers that read a few series; the engine reads the
   * same through `selectColumns` without an object per sample.
   */
  select(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesData[];
  /**
   * series lists the label sets of series matching all matchers with at least one sample in
   * [startMs, endMs], sorted by label key (the HTTP API's `/api/v1/series`; callers union
   * several `match[]` sets themselves).
   */
  series(matchers: readonly LabelMatcher[], startMs: number, endMs: number): Labels[];
  /** applyRetention drops samples older than `nowMs - retentionMs`; time is passed in. */
  applyRetention(nowMs: number): void;
  close(): Promise<void>;
}
