/**
 * What the engine reads, and the types it reads them in: a series is a label set (metric name
 * included), a sample is (timestamp ms, float64). The sample store implements `Queryable`; so
 * does any other source the engine is pointed at (test doubles, an array of fixtures).
 */

/** Labels is a label set including `__name__`. Treat it as immutable. */
export type Labels = Readonly<Record<string, string>>;

/**
 * Sample is one point of a series. A stale marker (Prometheus' special NaN) is represented
 * explicitly with `stale: true` and `v: NaN`, because JavaScript engines do not keep NaN payloads.
 */
export interface Sample {
  readonly t: number;
  readonly v: number;
  readonly stale?: true;
}

/** MatchTypes are PromQL's label matcher operators. */
export const MatchTypes = ['=', '!=', '=~', '!~'] as const;
export type MatchType = (typeof MatchTypes)[number];

/** LabelMatcher selects series by one label; regexes are fully anchored (RE2 semantics). */
export interface LabelMatcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
}

/** SeriesData is one series with its samples in [startMs, endMs], ascending by `t`. */
export interface SeriesData {
  readonly labels: Labels;
  readonly samples: readonly Sample[];
}

/**
 * Queryable is everything the PromQL engine needs from storage. `select` returns every series
 * matching all matchers, with its samples in the closed interval [startMs, endMs] (stale markers
 * included; the engine decides what they mean). Series with no sample in range may be omitted.
 */
export interface Queryable {
  select(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesData[];
}
