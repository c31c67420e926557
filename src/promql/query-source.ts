/**
 * QuerySource: where the sentinel's rules, drill conditions and gate get their query answers.
 * The default is the embedded engine over the sample store (`engineQuerySource`); the other is an
 * external Prometheus HTTP API (`PrometheusHttpSource`), for a team that keeps its data there.
 * An answer a source cannot give is a rejected promise with one sentence saying why, never an
 * empty result: the callers turn it into an error (a rule's health, a drill's `error`
 * measurement, a gate check that blocks).
 */
import type { Engine } from './engine.js';
import type { Queryable } from './queryable.js';
import type { QueryResult } from './types.js';

/** QuerySource answers instant and range queries. */
export interface QuerySource {
  /** description names the source in messages, e.g. "the embedded store" or "Prometheus at http://...". */
  readonly description: string;
  /** instantQuery evaluates `expr` at `tMs`. */
  instantQuery(expr: string, tMs: number, signal?: AbortSignal): Promise<QueryResult>;
  /** rangeQuery evaluates `expr` at every `stepMs` from `startMs` to `endMs` inclusive. */
  rangeQuery(expr: string, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<QueryResult>;
}

/** engineQuerySource is the embedded engine over `q` as a QuerySource (answers at once). */
export function engineQuerySource(engine: Engine, q: Queryable, description = 'the embedded store'): QuerySource {
  return {
    description,
    instantQuery: (expr, tMs, signal) => {
      try {
        return Promise.resolve(engine.instantQuery(q, expr, tMs, signal));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    rangeQuery: (expr, startMs, endMs, stepMs, signal) => {
      try {
        return Promise.resolve(engine.rangeQuery(q, expr, startMs, endMs, stepMs, signal));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
  };
}
