/**
 * prefetchedQuery: rules evaluated through a query source that answers asynchronously (an
 * external Prometheus) while a group evaluates synchronously, rule after rule. Before the group
 * runs, every rule's expression is asked of the source at the evaluation time; the group then
 * reads those answers. This is what evaluating them one by one would give: the rules' own output
 * goes to the sentinel's store, never to the source, so a later rule could not see an earlier
 * one's output through the source in either order.
 *
 * A template's `query` function (an alert annotation asking another expression) is not known
 * in advance and cannot be asked of the source from inside the template: it fails with a
 * sentence saying so, and the annotation shows the template error, as Prometheus shows any
 * failing template.
 */
import type { QueryResult } from '../promql/index.js';
import type { QueryFn, Rule } from './rule.js';

/** SourceQueryFn asks a query source for an instant query at `tMs`. */
export type SourceQueryFn = (expr: string, tMs: number, signal?: AbortSignal) => Promise<QueryResult>;

/** prefetchedQuery asks `source` for each rule's expression at `evalTimeMs` and answers from those. */
export async function prefetchedQuery(source: SourceQueryFn, rules: readonly Pick<Rule, 'expr'>[], evalTimeMs: number, signal?: AbortSignal): Promise<QueryFn> {
  const exprs = [...new Set(rules.map((r) => r.expr))];
  const answers = new Map<string, QueryResult | Error>();
  await Promise.all(
    exprs.map(async (expr) => {
      try {
        answers.set(expr, await source(expr, evalTimeMs, signal));
      } catch (err) {
        answers.set(expr, err instanceof Error ? err : new Error(String(err)));
      }
    }),
  );
  return (expr, tMs) => {
    const answer = tMs === evalTimeMs ? answers.get(expr) : undefined;
    if (answer === undefined) throw new Error(`${JSON.stringify(expr)} is not a rule expression of this group: with an external query source, templates cannot run queries of their own`);
    if (answer instanceof Error) throw answer;
    return answer;
  };
}
