/**
 * createConfiguredEngine: the one PromQL engine configuration of a sentinel (lookback, query
 * timeout, default subquery step from `rules:`), so rules, the HTTP API, drills and the gate judge
 * every query with the same options.
 */
import type { Config } from '../config/index.js';
import { createEngine } from '../promql/index.js';
import type { Engine } from '../promql/index.js';

/** createConfiguredEngine builds the engine `config` describes. */
export function createConfiguredEngine(config: Config): Engine {
  return createEngine({ lookbackDeltaMs: config.rules.lookbackDeltaMs, timeoutMs: config.rules.queryTimeoutMs, defaultSubqueryStepMs: config.rules.evaluationIntervalMs });
}
