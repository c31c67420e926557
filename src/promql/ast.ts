/**
 * The typed PromQL syntax tree: a discriminated union on `kind`, built only by `parseExpr`
 * (parse.ts) from the lezer-promql tree. Every node carries its source `pos` and prints itself
 * with `toString()` exactly as Prometheus 2.42's `String()` does, so printing and re-parsing
 * round-trips.
 */
import type { SourcePosition } from '../errors.js';
import type { LabelMatcher } from './queryable.js';
import { formatDurationMs } from '../time/index.js';
import { formatGoFloat, quoteGoString } from '../go-strconv/index.js';

/** ValueType is the type of a PromQL expression, as Prometheus' `parser.ValueType`. */
export type ValueType = 'vector' | 'scalar' | 'matrix' | 'string';

/** BinaryOps lists PromQL's binary operators. */
export const BinaryOps = ['+', '-', '*', '/', '%', '^', 'atan2', '==', '!=', '>', '<', '>=', '<=', 'and', 'or', 'unless'] as const;
/** BinaryOp is one of BinaryOps. */
export type BinaryOp = (typeof BinaryOps)[number];

/** AggregateOps lists the aggregation operators the engine supports (2.42's set). */
export const AggregateOps = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values'] as const;
/** AggregateOp is one of AggregateOps. */
export type AggregateOp = (typeof AggregateOps)[number];

/** AtModifier pins a selector or subquery: an absolute time in ms, or the query's start/end. */
export type AtModifier = { readonly kind: 'timestamp'; readonly ms: number } | { readonly kind: 'start' } | { readonly kind: 'end' };

interface NodeBase {
  readonly pos: SourcePosition;
  /** toString prints the node the way Prometheus 2.42 does. */
  toString(): string;
}

/** NumberLiteral is a float literal (`1`, `1e3`, `0x1f`, `Inf`, `NaN`). */
export interface NumberLiteral extends NodeBase {
  readonly kind: 'number';
  readonly value: number;
}

/** StringLiteral is a string literal with Go escapes already resolved. */
export interface StringLiteral extends NodeBase {
  readonly kind: 'string';
  readonly value: string;
}

/** VectorSelector selects series; a metric name is stored as a trailing `__name__=` matcher. */
export interface VectorSelector extends NodeBase {
  readonly kind: 'vectorSelector';
  readonly name: string | undefined;
  readonly matchers: readonly LabelMatcher[];
  /** offsetMs shifts the evaluation time back (negative shifts forward). */
  readonly offsetMs: number;
  readonly at: AtModifier | undefined;
}

/** MatrixSelector is `selector[range]`; offset and @ live on the inner selector. */
export interface MatrixSelector extends NodeBase {
  readonly kind: 'matrixSelector';
  readonly selector: VectorSelector;
  readonly rangeMs: number;
}

/** SubqueryExpr is `expr[range:step]`; `stepMs` 0 means the engine's default step. */
export interface SubqueryExpr extends NodeBase {
  readonly kind: 'subquery';
  readonly expr: Expr;
  readonly rangeMs: number;
  readonly stepMs: number;
  readonly offsetMs: number;
  readonly at: AtModifier | undefined;
}

/** ParenExpr is a parenthesised expression, kept so printing round-trips. */
export interface ParenExpr extends NodeBase {
  readonly kind: 'paren';
  readonly expr: Expr;
}

/** UnaryExpr is `-expr` or `+expr` on a non-literal. */
export interface UnaryExpr extends NodeBase {
  readonly kind: 'unary';
  readonly op: '-' | '+';
  readonly expr: Expr;
}

/** VectorMatching is how a binary operation between two vectors pairs elements. */
export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** on is true for `on(...)`, false for `ignoring(...)` or no clause. */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** include are the extra labels of `group_left(...)`/`group_right(...)`. */
  readonly include: readonly string[];
}

/** BinaryExpr is `lhs op [bool] [on|ignoring(...) [group_x(...)]] rhs`. */
export interface BinaryExpr extends NodeBase {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  /** matching is set when both sides are instant vectors (after type checking). */
  readonly matching: VectorMatching | undefined;
}

/** AggregateExpr is `op [by|without (labels)] ([param,] expr)`. */
export interface AggregateExpr extends NodeBase {
  readonly kind: 'aggregate';
  readonly op: AggregateOp;
  readonly expr: Expr;
  readonly param: Expr | undefined;
  readonly grouping: readonly string[];
  readonly without: boolean;
}

/** Call is a function call; `func` is the function name. */
export interface Call extends NodeBase {
  readonly kind: 'call';
  readonly func: string;
  readonly args: readonly Expr[];
}

/** Expr is any PromQL expression node. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call;

type WithoutToString<T> = T extends unknown ? Omit<T, 'toString'> : never;

const NODE_PROTO = {
  toString(this: Expr): string {
    return exprToString(this);
  },
};

/** makeNode gives a plain node object the shared `toString()`; only the parser builds nodes. */
export function makeNode<T extends Expr>(fields: WithoutToString<T>): T {
  return Object.assign(Object.create(NODE_PROTO) as object, fields) as unknown as T;
}

function atToString(at: AtModifier | undefined): string {
  if (at === undefined) return '';
  switch (at.kind) {
    case 'start':
      return ' @ start()';
    case 'end':
      return ' @ end()';
    case 'timestamp':
      return ` @ ${(at.ms / 1000).toFixed(3)}`;
  }
}

function offsetToString(offsetMs: number): string {
  if (offsetMs > 0) return ` offset ${formatDurationMs(offsetMs)}`;
  if (offsetMs < 0) return ` offset -${formatDurationMs(-offsetMs)}`;
  return '';
}

/** matcherToString prints one matcher as Prometheus' `labels.Matcher.String()`. */
export function matcherToString(m: LabelMatcher): string {
  return `${m.name}${m.type}${quoteGoString(m.value)}`;
}

function selectorBody(vs: VectorSelector): string {
  const parts: string[] = [];
  for (const m of vs.matchers) {
    // Only the name matcher that the metric name itself produced is left out.
    if (m.name === '__name__' && m.type === '=' && m.value === vs.name) continue;
    parts.push(matcherToString(m));
  }
  const name = vs.name ?? '';
  if (parts.length === 0) return name;
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}{${parts.join(',')}}`;
}

/** exprToString prints an expression so that `parseExpr(exprToString(e))` gives `e` back. */
export function exprToString(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return formatGoFloat(e.value);
    case 'string':
      return quoteGoString(e.value);
    case 'vectorSelector':
      return `${selectorBody(e)}${atToString(e.at)}${offsetToString(e.offsetMs)}`;
    case 'matrixSelector':
      return `${selectorBody(e.selector)}[${formatDurationMs(e.rangeMs)}]${atToString(e.selector.at)}${offsetToString(e.selector.offsetMs)}`;
    case 'subquery': {
      const step = e.stepMs > 0 ? formatDurationMs(e.stepMs) : '';
      return `${exprToString(e.expr)}[${formatDurationMs(e.rangeMs)}:${step}]${atToString(e.at)}${offsetToString(e.offsetMs)}`;
    }
    case 'paren':
      return `(${exprToString(e.expr)})`;
    case 'unary':
      return `${e.op}${exprToString(e.expr)}`;
    case 'binary': {
      let matching = '';
      const vm = e.matching;
      if (vm !== undefined && (vm.labels.length > 0 || vm.on)) {
        matching = ` ${vm.on ? 'on' : 'ignoring'} (${vm.labels.join(', ')})`;
        if (vm.card === 'many-to-one' || vm.card === 'one-to-many') {
          matching += ` group_${vm.card === 'many-to-one' ? 'left' : 'right'} (${vm.include.join(', ')})`;
        }
      }
      return `${exprToString(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''}${matching} ${exprToString(e.rhs)}`;
    }
    case 'aggregate': {
      let s: string = e.op;
      if (e.without) s += ` without (${e.grouping.join(', ')}) `;
      else if (e.grouping.length > 0) s += ` by (${e.grouping.join(', ')}) `;
      s += '(';
      if (e.param !== undefined) s += `${exprToString(e.param)}, `;
      return `${s}${exprToString(e.expr)})`;
    }
    case 'call':
      return `${e.func}(${e.args.map(exprToString).join(', ')})`;
    default: {
      const never: never = e;
      throw new Error(`unknown node ${String(never)}`);
    }
  }
}

/** unwrapParens strips any number of enclosing parentheses. */
export function unwrapParens(e: Expr): Expr {
  let cur = e;
  while (cur.kind === 'paren') cur = cur.expr;
  return cur;
}
