/**
 * createConfiguredEngine: the one PromQL engine configuration of a sentinel (lookback, query
 * timeout, default subquery step from `rules:`), so rules, the HTTP API, drills and the gate judge
 * every query with the same options.
 */
import type { Config } from '../config/index.js';
import { createEngine } from '../promql/index.js';
import type { Engine, EngineOptions } from '../promql/index.js';

/** createConfiguredEngine builds the engine `config` describes. */
export function createConfiguredEngine(config: Config): Engine {
  return createEngine({ lookbackDeltaMs: config.rules.lookbackDeltaMs, timeoutMs: config.rules.queryTimeoutMs, defaultSubqueryStepMs: config.rules.evaluationIntervalMs });
}

/**
 * apiQueryEngineOptions are the engine options of `/api/v1/query(_range)` under `config`: the same
 * lookback and subquery step, bounded by `server.query_timeout` and `server.query_max_samples`.
 */
export function apiQueryEngineOptions(config: Config): EngineOptions & { readonly timeoutMs: number } {
  return {
    lookbackDeltaMs: config.rules.lookbackDeltaMs,
    defaultSubqueryStepMs: config.rules.evaluationIntervalMs,
    timeoutMs: config.server.queryTimeoutMs,
    maxSamples: config.server.queryMaxSamples,
  };
}
