/**
 * The one way the suites and benches run a RuleManager over a store of their own: the rules of
 * one file, evaluated by the sentinel's own PromQL engine over that store, each expression checked
 * as the daemon checks it.
 */
import { Registry } from 'prom-client';
import { checkPromqlExpr, RuleManager } from '../../src/alerts/index.js';
import type { RuleManagerOptions } from '../../src/alerts/index.js';
import { createEngine } from '../../src/promql/index.js';

type Defaulted = 'checkExpr' | 'defaultIntervalMs' | 'registry';

/** StoreRuleManagerOptions are RuleManagerOptions with `rulesFile` for the files and the query; the rest defaulted. */
export type StoreRuleManagerOptions = Omit<RuleManagerOptions, 'resolveFiles' | 'query' | Defaulted> &
  Partial<Pick<RuleManagerOptions, Defaulted>> & {
    readonly rulesFile: string;
  };

/** storeRuleManager makes the manager (defaults: a one-minute interval, a fresh registry, the daemon's expression check). */
export function storeRuleManager(options: StoreRuleManagerOptions): RuleManager {
  const engine = createEngine();
  const { rulesFile, store, ...rest } = options;
  return new RuleManager({
    resolveFiles: () => [rulesFile],
    store,
    query: (expr, t, signal) => engine.instantQuery(store, expr, t, signal),
    checkExpr: checkPromqlExpr,
    defaultIntervalMs: 60_000,
    registry: new Registry(),
    ...rest,
  });
}
