/**
 * What the engine reads, and the types it reads them in: a series is a label set (metric name
 * included), a sample is (timestamp ms, float64). The sample store implements `Queryable`; so
 * does any other source the engine is pointed at (test doubles, arrays of fixtures).
 */

/** Labels is a label set including `__name__`. Treat it as immutable. */
export type Labels = Readonly<Record<string, string>>;

/** MatchTypes are PromQL's label matcher operators. */
export const MatchTypes = ['=', '!=', '=~', '!~'] as const;
export type MatchType = (typeof MatchTypes)[number];

/** LabelMatcher selects series by one label; regexes are fully anchored (RE2 semantics). */
export interface LabelMatcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
}

/**
 * SeriesColumns is one series' samples in a time range as parallel columns, ascending by time:
 * for each index i in [start, end), `t[i]` is a timestamp in ms and `v[i]` its value. Prometheus'
 * stale marker (a special NaN, which JavaScript engines do not keep apart from other NaNs) is
 * `stale[i] === 1` (`v[i]` is NaN there); `stale` may be absent when the range holds none. The
 * arrays may be the store's own buffers (hence the index range rather than a copy): read them
 * during the query, never write or keep them.
 */
export interface SeriesColumns {
  readonly labels: Labels;
  readonly t: Float64Array;
  readonly v: Float64Array;
  readonly stale?: Uint8Array;
  readonly start: number;
  readonly end: number;
}

/**
 * Queryable is everything the PromQL engine needs from storage. `selectColumns` returns every
 * series matching all matchers, with its samples in the closed interval [startMs, endMs] (stale
 * markers included; the engine decides what they mean). Series with no sample in range may be
 * omitted. The order of the series is the order in which aggregations add them up.
 */
export interface Queryable {
  selectColumns(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesColumns[];
}
