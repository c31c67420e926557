/**
 * checkExpr: parse-time type checking, as Prometheus' parser `checkAST` does it, so the evaluator
 * can trust argument types. It also settles each vector-vector binary operation's matching
 * (set operators become many-to-many; scalar operands lose the matching clause).
 */
import type { SourcePosition } from '../errors.js';
import { makeNode } from './ast.js';
import type { BinaryOp, Expr, ValueType, VectorMatching } from './ast.js';
import { FUNCTIONS } from './functions-meta.js';
import { compileMatcher, RegexCache } from './label-matcher.js';

/** CheckIssue is one type error with its position. */
export interface CheckIssue {
  readonly message: string;
  readonly pos: SourcePosition;
}

/** regexes compiles the matchers' regexes checked here; parsing has already proved them valid. */
const regexes = new RegexCache();

const DOCUMENTED: Record<ValueType, string> = {
  vector: 'instant vector',
  matrix: 'range vector',
  scalar: 'scalar',
  string: 'string',
};

/** isComparisonOp tells the comparison operators (which filter unless `bool` is given). */
export function isComparisonOp(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

/** isSetOp tells `and`, `or`, `unless`. */
export function isSetOp(op: BinaryOp): boolean {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** exprValueType is the value type an expression evaluates to. */
export function exprValueType(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vectorSelector':
      return 'vector';
    case 'matrixSelector':
    case 'subquery':
      return 'matrix';
    case 'paren':
    case 'unary':
      return exprValueType(e.expr);
    case 'binary':
      return exprValueType(e.lhs) === 'scalar' && exprValueType(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'aggregate':
      return 'vector';
    case 'call':
      return FUNCTIONS.get(e.func)?.returnType ?? 'vector';
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** checkExpr type-checks the whole tree and returns it with matching settled, plus every issue found. */
export function checkExpr(root: Expr): { expr: Expr; errors: CheckIssue[] } {
  const errors: CheckIssue[] = [];
  const err = (pos: SourcePosition, message: string): void => {
    errors.push({ message, pos });
  };
  const expect = (e: Expr, want: ValueType, context: string): void => {
    const got = exprValueType(e);
    if (got !== want) err(e.pos, `expected type ${DOCUMENTED[want]} in ${context}, got ${DOCUMENTED[got]}`);
  };

  const visit = (e: Expr): Expr => {
    switch (e.kind) {
      case 'number':
      case 'string':
        return e;
      case 'vectorSelector': {
        // A selector must contain a matcher that does not match the empty string, so a typo
        // cannot select every series; a matcher that rejects '' (a missing label) is one.
        const nonEmpty = e.matchers.some((m) => !compileMatcher(m, regexes)({}));
        if (!nonEmpty) err(e.pos, 'vector selector must contain at least one non-empty matcher');
        return e;
      }
      case 'matrixSelector': {
        visit(e.selector);
        if (e.rangeMs <= 0) err(e.pos, 'range selector duration must be greater than 0');
        return e;
      }
      case 'subquery': {
        const inner = visit(e.expr);
        const t = exprValueType(inner);
        if (t !== 'vector') err(e.pos, `subquery is only allowed on instant vector, got ${DOCUMENTED[t]} instead`);
        if (e.rangeMs <= 0) err(e.pos, 'subquery range must be greater than 0');
        return makeNode({ ...e, expr: inner });
      }
      case 'paren':
        return makeNode({ ...e, expr: visit(e.expr) });
      case 'unary': {
        const inner = visit(e.expr);
        const t = exprValueType(inner);
        if (t !== 'scalar' && t !== 'vector') err(e.pos, `unary expression only allowed on expressions of type scalar or instant vector, got "${DOCUMENTED[t]}"`);
        return makeNode({ ...e, expr: inner });
      }
      case 'binary': {
        const lhs = visit(e.lhs);
        const rhs = visit(e.rhs);
        const lt = exprValueType(lhs);
        const rt = exprValueType(rhs);
        const opPos = { start: lhs.pos.end, end: rhs.pos.start };
        if (e.returnBool && !isComparisonOp(e.op)) err(opPos, 'bool modifier can only be used on comparison operators');
        if (isComparisonOp(e.op) && !e.returnBool && lt === 'scalar' && rt === 'scalar') err(opPos, 'comparisons between scalars must use BOOL modifier');
        let matching: VectorMatching | undefined = e.matching ?? { card: 'one-to-one', on: false, labels: [], include: [] };
        if (isSetOp(e.op) && matching.card === 'one-to-one') matching = { ...matching, card: 'many-to-many' };
        if (matching.on) {
          for (const l of matching.labels) {
            if (matching.include.includes(l)) err(opPos, `label "${l}" must not occur in ON and GROUP clause at once`);
          }
        }
        if (lt !== 'scalar' && lt !== 'vector') err(lhs.pos, 'binary expression must contain only scalar and instant vector types');
        if (rt !== 'scalar' && rt !== 'vector') err(rhs.pos, 'binary expression must contain only scalar and instant vector types');
        if (lt !== 'vector' || rt !== 'vector') {
          if (e.matching !== undefined && (e.matching.labels.length > 0 || e.matching.on)) err(e.pos, 'vector matching only allowed between instant vectors');
          matching = undefined;
        } else if (isSetOp(e.op)) {
          if (matching.card === 'one-to-many' || matching.card === 'many-to-one') err(e.pos, `no grouping allowed for "${e.op}" operation`);
        }
        if ((lt === 'scalar' || rt === 'scalar') && isSetOp(e.op)) err(e.pos, `set operator "${e.op}" not allowed in binary scalar expression`);
        return makeNode({ ...e, lhs, rhs, matching });
      }
      case 'aggregate': {
        const inner = visit(e.expr);
        const param = e.param === undefined ? undefined : visit(e.param);
        expect(inner, 'vector', 'aggregation expression');
        if (param !== undefined) {
          if (e.op === 'count_values') expect(param, 'string', 'aggregation parameter');
          else expect(param, 'scalar', 'aggregation parameter');
        }
        return makeNode({ ...e, expr: inner, param });
      }
      case 'call': {
        const meta = FUNCTIONS.get(e.func);
        const args = e.args.map(visit);
        if (meta === undefined) {
          err(e.pos, `unknown function "${e.func}"`);
          return makeNode({ ...e, args });
        }
        const nargs = meta.argTypes.length;
        if (meta.variadic === 0) {
          if (nargs !== args.length) err(e.pos, `expected ${nargs} argument(s) in call to "${e.func}", got ${args.length}`);
        } else {
          const min = nargs - 1;
          if (min > args.length) err(e.pos, `expected at least ${min} argument(s) in call to "${e.func}", got ${args.length}`);
          else if (meta.variadic > 0 && min + meta.variadic < args.length) {
            err(e.pos, `expected at most ${min + meta.variadic} argument(s) in call to "${e.func}", got ${args.length}`);
          }
        }
        for (let i = 0; i < args.length; i++) {
          let idx = i;
          if (i >= nargs) {
            if (meta.variadic === 0) break;
            idx = nargs - 1;
          }
          expect(args[i], meta.argTypes[idx], `call to function "${e.func}"`);
        }
        return makeNode({ ...e, args });
      }
      default: {
        const never: never = e;
        return never;
      }
    }
  };
  const expr = visit(root);
  return { expr, errors };
}

