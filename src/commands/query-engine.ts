/**
 * createConfiguredEngine: the one PromQL engine configuration of a sentinel (lookback, query
 * timeout, default subquery step from `rules:`), so rules, the HTTP API, drills and the gate judge
 * every query with the same options. createConfiguredQuerySource: the external Prometheus that
 * `query_source:` names, when it names one, for the rules, the drill conditions and the gate.
 */
import type { Config } from '../config/index.js';
import { createEngine, PrometheusHttpSource } from '../promql/index.js';
import type { Engine, EngineOptions, QuerySource } from '../promql/index.js';
import { sentinelVersion } from '../version.js';

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

/** createConfiguredQuerySource is the external query source of `config`, undefined for the embedded store. */
export function createConfiguredQuerySource(config: Config): QuerySource | undefined {
  const q = config.querySource;
  if (!q) return undefined;
  return new PrometheusHttpSource({
    url: q.url,
    timeoutMs: q.timeoutMs,
    userAgent: `spacetime-sentinel/${sentinelVersion()}`,
    ...(q.bearerToken ? { bearerToken: q.bearerToken } : {}),
    ...(q.basicAuth ? { basicAuth: q.basicAuth } : {}),
  });
}
