/**
 * Values a PromQL evaluation produces, in the shapes of Prometheus' `promql.Value`.
 */
import type { Labels } from './queryable.js';

/** InstantSample is one element of an instant vector. `t` is the evaluation time in ms. */
export interface InstantSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

/** Point is one (t ms, v) pair of a matrix series. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

/** MatrixSeries is one series of a range-query result or a range-vector value. */
export interface MatrixSeries {
  readonly labels: Labels;
  readonly points: readonly Point[];
}

/** QueryValue is a query's result: an instant vector, a scalar, a matrix or a string. */
export type QueryValue =
  | { readonly type: 'vector'; readonly samples: readonly InstantSample[] }
  | { readonly type: 'scalar'; readonly t: number; readonly v: number }
  | { readonly type: 'matrix'; readonly series: readonly MatrixSeries[] }
  | { readonly type: 'string'; readonly t: number; readonly v: string };

/** QueryResult is a value plus warnings; warnings are never errors. */
export interface QueryResult {
  readonly value: QueryValue;
  readonly warnings: readonly string[];
}

/**
 * QuerySignal is what the engine reads of a query's abort signal: an AbortSignal, or anything
 * else that can say it was aborted (a flag shared with another thread).
 */
export type QuerySignal = Pick<AbortSignal, 'aborted'>;

/** EngineOptions tune one engine. All durations in ms. */
export interface EngineOptions {
  /** lookbackDeltaMs is how far back an instant selector looks for a sample (default 5m). */
  readonly lookbackDeltaMs?: number;
  /**
   * maxSamples bounds the samples a query holds at its peak, counted as Prometheus does
   * (default 50,000,000, Prometheus' `--query.max-samples`; promtool's unit tests use 10000).
   */
  readonly maxSamples?: number;
  /** timeoutMs bounds one query's wall time (default 2m). */
  readonly timeoutMs?: number;
  /** defaultSubqueryStepMs is the step of a subquery with no step (the evaluation interval, default 1m). */
  readonly defaultSubqueryStepMs?: number;
}
