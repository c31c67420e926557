/**
 * promql: the PromQL engine (Prometheus 2.42 semantics) over a `Queryable`, and the QuerySource
 * the rules, drills and gate ask: that engine over the store, or an external Prometheus HTTP API.
 */
import type { LabelMatcher } from './queryable.js';
import type { Expr } from './ast.js';

export type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  MatrixSelector,
  NumberLiteral,
  ParenExpr,
  StringLiteral,
  SubqueryExpr,
  UnaryExpr,
  ValueType,
  VectorMatching,
  VectorSelector,
} from './ast.js';
export { exprToString } from './ast.js';
export { exprValueType } from './check.js';
export { parseExpr } from './parse.js';
export type { Engine } from './engine.js';
export { createEngine } from './engine.js';
export type { ApiQueryData, ApiSamplePair } from './format.js';
export { apiQueryResponse, formatApiValue, formatLabels, formatQueryValue, toApiQueryData } from './format.js';
export type { QuerySource } from './query-source.js';
export { engineQuerySource } from './query-source.js';
export type { HttpCredential, PrometheusHttpSourceOptions } from './prometheus-http-source.js';
export { fromApiQueryData, parseApiValue, PrometheusHttpSource } from './prometheus-http-source.js';
export type { EngineOptions, InstantSample, MatrixSeries, Point, QueryResult, QuerySignal, QueryValue } from './types.js';
export type { Labels, LabelMatcher, MatchType, Queryable, SeriesColumns } from './queryable.js';
export { MatchTypes } from './queryable.js';
export type { LabelPredicate } from './label-matcher.js';
export { compileMatcher, RegexCache } from './label-matcher.js';

/** SelectorInfo is one selector of an expression: its metric name (if any) and all matchers. */
export interface SelectorInfo {
  readonly metricName?: string;
  readonly matchers: LabelMatcher[];
}

/** collectSelectors lists every vector selector in `e` (range selectors included), in source order. */
export function collectSelectors(e: Expr): SelectorInfo[] {
  const out: SelectorInfo[] = [];
  const visit = (n: Expr): void => {
    switch (n.kind) {
      case 'vectorSelector':
        out.push(n.name !== undefined ? { metricName: n.name, matchers: [...n.matchers] } : { matchers: [...n.matchers] });
        return;
      case 'matrixSelector':
        visit(n.selector);
        return;
      case 'subquery':
      case 'paren':
      case 'unary':
        visit(n.expr);
        return;
      case 'binary':
        visit(n.lhs);
        visit(n.rhs);
        return;
      case 'aggregate':
        if (n.param !== undefined) visit(n.param);
        visit(n.expr);
        return;
      case 'call':
        n.args.forEach(visit);
        return;
      case 'number':
      case 'string':
        return;
      default: {
        const never: never = n;
        return never;
      }
    }
  };
  visit(e);
  return out;
}
