/**
 * parseExpr: PromQL text → typed AST, through the Prometheus project's own lezer grammar
 * (`@prometheus-io/lezer-promql`). One converter walks the lezer tree; `checkExpr` (check.ts)
 * then type-checks like Prometheus' parser does. The grammar is newer than Prometheus 2.42 and
 * error-tolerant, so this module also rejects what 2.42 would reject (duration arithmetic,
 * quoted label names, `fill`, `smoothed`, `limitk`, ...) naming the construct and its position.
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import type { LRParser, Stack } from '@lezer/lr';
import { RE2JS } from 're2js';
import { PromqlParseError } from '../errors.js';
import type { SourcePosition } from '../errors.js';
import type { LabelMatcher, MatchType } from './queryable.js';
import { parseDurationMs } from '../time/index.js';
import { parseGoFloat, parseGoInt } from '../go-strconv/index.js';
import type { Parsed } from '../go-strconv/index.js';
import { AggregateOps, makeNode } from './ast.js';
import type { AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Expr, MatrixSelector, NumberLiteral, SubqueryExpr, VectorMatching, VectorSelector } from './ast.js';
import { checkExpr } from './check.js';
import { FUNCTIONS, UNSUPPORTED_FUNCTIONS } from './functions-meta.js';

class ConvertError extends Error {
  constructor(
    message: string,
    readonly pos: SourcePosition,
  ) {
    super(message);
  }
}

function fail(node: SyntaxNode | SourcePosition, message: string): never {
  const pos = 'start' in node ? node : { start: node.from, end: node.to };
  throw new ConvertError(message, pos);
}

function posOf(node: SyntaxNode): SourcePosition {
  return { start: node.from, end: node.to };
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c);
  return out;
}

/**
 * parsePromqlNumber reads a number literal as Prometheus 2.42's parser does (`promql/parser/parse.go`
 * number): strconv.ParseInt(s, 0, 64) for integers in Go's syntax (`0x1F`, octal `017`), else
 * strconv.ParseFloat(s, 64), whose error the parser reports. A sign is the unary operator there,
 * applied to the parsed literal, so `-nan` is NaN although ParseFloat rejects it.
 */
export function parsePromqlNumber(text: string): Parsed<number> {
  const neg = text.startsWith('-');
  const literal = neg || text.startsWith('+') ? text.slice(1) : text;
  const int = parseGoInt(literal);
  const parsed = int.error === undefined ? { value: Number(int.value) } : parseGoFloat(literal);
  return neg ? { ...parsed, value: -parsed.value } : parsed;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** unquoteString resolves a PromQL string literal with Go escapes (as Prometheus' strutil.Unquote). */
export function unquoteString(raw: string): string | undefined {
  if (raw.length < 2) return undefined;
  const quote = raw[0];
  if (raw[raw.length - 1] !== quote) return undefined;
  const body = raw.slice(1, -1);
  if (quote === '`') return body.includes('`') ? undefined : body;
  if (quote !== '"' && quote !== "'") return undefined;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === quote || ch === '\n') return undefined;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    i++;
    if (i >= body.length) return undefined;
    const e = body[i];
    if (e in ESCAPES) {
      out += ESCAPES[e];
    } else if (e === "'" || e === '"') {
      if (e !== quote) return undefined;
      out += e;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const cp = Number.parseInt(hex, 16);
      if (e === 'x') {
        // A \x escape is one byte; Prometheus label values are UTF-8 so only ASCII bytes are meaningful here.
        out += String.fromCharCode(cp);
      } else {
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
        out += String.fromCodePoint(cp);
      }
      i += n;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      const v = Number.parseInt(oct, 8);
      if (v > 255) return undefined;
      out += String.fromCharCode(v);
      i += 2;
    } else {
      return undefined;
    }
  }
  return out;
}

const MATCH_OPS: Record<string, MatchType> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

const BINARY_OPS: Record<string, BinaryOp> = {
  Pow: '^',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Atan2: 'atan2',
  Add: '+',
  Sub: '-',
  Eql: '==',
  Gte: '>=',
  Gtr: '>',
  Lte: '<=',
  Lss: '<',
  Neq: '!=',
  And: 'and',
  Unless: 'unless',
  Or: 'or',
};

/** PRECEDENCE is Prometheus' operator precedence (higher binds tighter); `^` is right-associative. */
const PRECEDENCE: Record<BinaryOp, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<=': 3,
  '<': 3,
  '>=': 3,
  '>': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  atan2: 5,
  '^': 6,
};
/** UNARY_PRECEDENCE: in Prometheus' grammar a unary sign binds like `*` (so `-a ^ b` is `-(a ^ b)`). */
const UNARY_PRECEDENCE = 5;
/** POSTFIX_NODES are lezer nodes whose operand throughUnary may have rewritten. */
const POSTFIX_NODES = new Set(['OffsetExpr', 'StepInvariantExpr', 'MatrixSelector', 'SubqueryExpr']);

/** bindsTighter says whether `op` on the right of an operator of precedence `prec` takes its operand. */
function bindsTighter(op: BinaryOp, prec: number): boolean {
  const p = PRECEDENCE[op];
  return p > prec || (p === prec && op === '^');
}

class Converter {
  constructor(private readonly text: string) {}

  private src(node: SyntaxNode): string {
    return this.text.slice(node.from, node.to);
  }

  expr(node: SyntaxNode): Expr {
    switch (node.name) {
      case 'NumberDurationLiteral':
        return this.number(node);
      case 'StringLiteral':
        return makeNode({ kind: 'string', value: this.string(node), pos: posOf(node) });
      case 'VectorSelector':
        return this.vectorSelector(node);
      case 'MatrixSelector':
        return this.matrixSelector(node);
      case 'SubqueryExpr':
        return this.subquery(node);
      case 'OffsetExpr':
        return this.offset(node);
      case 'StepInvariantExpr':
        return this.at(node);
      case 'ParenExpr': {
        const inner = this.onlyExpr(node);
        return makeNode({ kind: 'paren', expr: inner, pos: posOf(node) });
      }
      case 'UnaryExpr':
        return this.unary(node);
      case 'BinaryExpr':
        return this.binary(node);
      case 'AggregateExpr':
        return this.aggregate(node);
      case 'FunctionCall':
        return this.call(node);
      case 'AnchoredExpr':
        return fail(node, 'the "anchored" modifier is not supported (it is newer than Prometheus 2.42)');
      case 'SmoothedExpr':
        return fail(node, 'the "smoothed" modifier is not supported (it is newer than Prometheus 2.42)');
      default:
        return fail(node, `unexpected ${node.name} "${this.src(node)}"`);
    }
  }

  private onlyExpr(node: SyntaxNode): Expr {
    const inner = children(node).find((c) => c.type.isError === false && c.name !== '(' && c.name !== ')');
    if (inner === undefined) return fail(node, 'empty expression');
    return this.expr(inner);
  }

  private number(node: SyntaxNode): NumberLiteral {
    const text = this.src(node).replace(/\s+/g, '');
    if (text.includes('_')) fail(node, `bad number "${text}": digit separators are not supported`);
    const { value, error } = parsePromqlNumber(text);
    if (error !== undefined) {
      if (parseDurationMs(text.replace(/^[+-]/, '')) !== undefined) {
        fail(node, `unexpected duration "${text}": a duration is only allowed in a range, subquery or offset`);
      }
      fail(node, `error parsing number: ${error.message}`);
    }
    return makeNode({ kind: 'number', value, pos: posOf(node) });
  }

  private string(node: SyntaxNode): string {
    const raw = this.src(node);
    const v = unquoteString(raw);
    if (v === undefined) fail(node, `invalid string literal ${raw}: unterminated or bad escape sequence`);
    return v;
  }

  private duration(node: SyntaxNode, what: string): number {
    // DurationExpr / OffsetDurationExpr: 2.42 knows only one plain duration here.
    const kids = children(node);
    if (kids.length !== 1 || kids[0].name !== 'NumberDurationLiteralInDurationContext') {
      fail(node, `duration expressions ("${this.src(node)}") are not supported in ${what}; write a plain duration such as 5m`);
    }
    const text = this.src(kids[0]);
    const ms = parseDurationMs(text);
    if (ms === undefined) fail(kids[0], `bad duration "${text}" in ${what}: use units ms, s, m, h, d, w, y, largest first (e.g. 1h30m)`);
    return ms;
  }

  private labelMatcher(node: SyntaxNode): LabelMatcher {
    if (node.name === 'QuotedLabelMatcher' || node.name === 'QuotedLabelName') {
      return fail(node, 'quoted label names are not supported (UTF-8 names are newer than Prometheus 2.42)');
    }
    const kids = children(node);
    const nameNode = kids.find((k) => k.name === 'LabelName');
    const opNode = kids.find((k) => k.name === 'MatchOp');
    const valueNode = kids.find((k) => k.name === 'StringLiteral');
    if (nameNode === undefined || opNode === undefined || valueNode === undefined) return fail(node, `bad label matcher "${this.src(node)}"`);
    const opName = opNode.firstChild?.name ?? '';
    const type = MATCH_OPS[opName];
    if (type === undefined) return fail(opNode, `bad match operator "${this.src(opNode)}"`);
    const value = this.string(valueNode);
    if (type === '=~' || type === '!~') {
      try {
        RE2JS.compile(`^(?:${value})$`);
      } catch (err) {
        fail(valueNode, `invalid regular expression ${JSON.stringify(value)}: ${(err as Error).message}`);
      }
    }
    return { name: this.src(nameNode), type, value };
  }

  private vectorSelector(node: SyntaxNode): VectorSelector {
    const ident = node.getChild('Identifier');
    const lm = node.getChild('LabelMatchers');
    const matchers: LabelMatcher[] = [];
    if (lm !== null) {
      for (const c of children(lm)) {
        if (c.name === '{' || c.name === '}' || c.name === ',') continue;
        matchers.push(this.labelMatcher(c));
      }
    }
    let name: string | undefined;
    if (ident !== null) {
      name = this.src(ident);
      for (const m of matchers) {
        if (m.name === '__name__') fail(node, `metric name must not be set twice: "${name}" or "${m.value}"`);
      }
      matchers.push({ name: '__name__', type: '=', value: name });
    }
    return makeNode({ kind: 'vectorSelector', name, matchers, offsetMs: 0, at: undefined, pos: posOf(node) });
  }

  private matrixSelector(node: SyntaxNode): Expr {
    const kids = children(node);
    const durNode = node.getChild('DurationExpr');
    if (durNode === null) return fail(node, 'missing range duration');
    return this.throughUnary(this.expr(kids[0]), node, (inner) => this.rangeOf(inner, node, durNode));
  }

  /**
   * throughUnary applies a postfix construct (range, subquery, offset, @) to the innermost
   * right-hand operand. lezer's grammar gives these no precedence, so it reads `-foo[5m]` as
   * `(-foo)[5m]` and `a - b offset 5m` as `(a - b) offset 5m`; in Prometheus they bind tighter
   * than any operator: `-(foo[5m])`, `a - (b offset 5m)`. Parenthesised operands are `paren`
   * nodes and are left alone.
   */
  private throughUnary(inner: Expr, node: SyntaxNode, apply: (e: Expr) => Expr): Expr {
    const pos = { start: inner.pos.start, end: node.to };
    if (inner.kind === 'unary') return makeNode({ ...inner, expr: this.throughUnary(inner.expr, node, apply), pos });
    if (inner.kind === 'binary') return makeNode({ ...inner, rhs: this.throughUnary(inner.rhs, node, apply), pos });
    return apply(inner);
  }

  private rangeOf(inner: Expr, node: SyntaxNode, durNode: SyntaxNode): MatrixSelector {
    if (inner.kind !== 'vectorSelector') fail(inner.pos, 'ranges only allowed for vector selectors');
    if (inner.offsetMs !== 0) fail(inner.pos, 'no offset modifiers allowed before range');
    if (inner.at !== undefined) fail(inner.pos, 'no @ modifiers allowed before range');
    const rangeMs = this.duration(durNode, 'a range selector');
    return makeNode({ kind: 'matrixSelector', selector: inner, rangeMs, pos: { start: inner.pos.start, end: node.to } });
  }

  private subquery(node: SyntaxNode): Expr {
    const kids = children(node);
    const durs = node.getChildren('DurationExpr');
    if (durs.length === 0) return fail(node, 'missing subquery range');
    const rangeMs = this.duration(durs[0], 'a subquery range');
    const stepMs = durs.length > 1 ? this.duration(durs[1], 'a subquery step') : 0;
    return this.throughUnary(this.expr(kids[0]), node, (inner): SubqueryExpr =>
      makeNode({ kind: 'subquery', expr: inner, rangeMs, stepMs, offsetMs: 0, at: undefined, pos: { start: inner.pos.start, end: node.to } }),
    );
  }

  private offset(node: SyntaxNode): Expr {
    const kids = children(node);
    const inner = this.expr(kids[0]);
    const durNode = node.getChild('OffsetDurationExpr');
    if (durNode === null) return fail(node, 'missing offset duration');
    let sign = 1;
    let d: SyntaxNode = durNode;
    for (;;) {
      const op = d.getChild('UnaryOp');
      const nested = d.getChild('OffsetDurationExpr');
      if (op === null || nested === null) break;
      if (this.src(op) === '-') sign = -sign;
      d = nested;
    }
    const offsetMs = sign * this.duration(d, 'an offset');
    return this.throughUnary(inner, node, (e) => this.withOffset(e, node, offsetMs));
  }

  private withOffset(inner: Expr, node: SyntaxNode, offsetMs: number): Expr {
    const pos = { start: inner.pos.start, end: node.to };
    switch (inner.kind) {
      case 'vectorSelector':
        if (inner.offsetMs !== 0) fail(node, 'offset may not be set multiple times');
        return makeNode({ ...inner, offsetMs, pos });
      case 'matrixSelector':
        if (inner.selector.offsetMs !== 0) fail(node, 'offset may not be set multiple times');
        return makeNode({ ...inner, selector: makeNode({ ...inner.selector, offsetMs }), pos });
      case 'subquery':
        if (inner.offsetMs !== 0) fail(node, 'offset may not be set multiple times');
        return makeNode({ ...inner, offsetMs, pos });
      default:
        return fail(node, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    }
  }

  private at(node: SyntaxNode): Expr {
    const kids = children(node);
    const inner = this.expr(kids[0]);
    let at: AtModifier;
    const pre = node.getChild('AtModifierPreprocessors');
    const num = node.getChild('NumberDurationLiteral');
    if (pre !== null) {
      at = pre.firstChild?.name === 'AtStart' ? { kind: 'start' } : { kind: 'end' };
    } else if (num !== null) {
      const seconds = this.number(num).value;
      if (!Number.isFinite(seconds) || Math.abs(seconds) >= 9.2e15) fail(num, `timestamp out of bounds for @ modifier: ${seconds}`);
      at = { kind: 'timestamp', ms: goRound(seconds * 1000) };
    } else {
      return fail(node, 'missing @ timestamp');
    }
    return this.throughUnary(inner, node, (e) => this.withAt(e, node, at));
  }

  private withAt(inner: Expr, node: SyntaxNode, at: AtModifier): Expr {
    const pos = { start: inner.pos.start, end: node.to };
    switch (inner.kind) {
      case 'vectorSelector':
        if (inner.at !== undefined) fail(node, '@ <timestamp> may not be set multiple times');
        return makeNode({ ...inner, at, pos });
      case 'matrixSelector':
        if (inner.selector.at !== undefined) fail(node, '@ <timestamp> may not be set multiple times');
        return makeNode({ ...inner, selector: makeNode({ ...inner.selector, at }), pos });
      case 'subquery':
        if (inner.at !== undefined) fail(node, '@ <timestamp> may not be set multiple times');
        return makeNode({ ...inner, at, pos });
      default:
        return fail(node, '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    }
  }

  private unary(node: SyntaxNode): Expr {
    const opNode = node.getChild('UnaryOp');
    const kids = children(node).filter((c) => c.name !== 'UnaryOp');
    const inner = this.expr(kids[0]);
    const op = opNode !== null && this.src(opNode) === '-' ? '-' : '+';
    const pos = posOf(node);
    if (inner.kind === 'number') return makeNode({ kind: 'number', value: op === '-' ? -inner.value : inner.value, pos });
    return makeNode({ kind: 'unary', op, expr: inner, pos });
  }

  private binary(node: SyntaxNode): Expr {
    const kids = children(node);
    const lhsNode = kids[0];
    const rhsNode = kids[kids.length - 1];
    const opNode = kids.find((k) => k.name in BINARY_OPS && k !== lhsNode && k !== rhsNode);
    if (opNode === undefined) {
      const odd = kids.find((k) => k.name === 'TrimUpper' || k.name === 'TrimLower');
      return fail(odd ?? node, odd !== undefined ? `operator "${this.src(odd)}" is not supported` : 'bad binary expression');
    }
    const op = BINARY_OPS[opNode.name];
    if (node.getChild('FillModifier') !== null) fail(node.getChild('FillModifier') as SyntaxNode, 'fill modifiers are not supported (they are newer than Prometheus 2.42)');
    const returnBool = node.getChild('BoolModifier') !== null;
    let matching: VectorMatching | undefined;
    const mm = node.getChild('MatchingModifierClause');
    if (mm !== null) {
      const on = mm.getChild('On') !== null;
      const groups = mm.getChildren('GroupingLabels');
      const labels = groups.length > 0 ? this.groupingLabels(groups[0]) : [];
      let card: VectorMatching['card'] = 'one-to-one';
      let include: string[] = [];
      if (mm.getChild('GroupLeft') !== null) card = 'many-to-one';
      if (mm.getChild('GroupRight') !== null) card = 'one-to-many';
      if (card !== 'one-to-one' && groups.length > 1) include = this.groupingLabels(groups[1]);
      matching = { card, on, labels, include };
    }
    let lhs = this.expr(lhsNode);
    const rhs = this.expr(rhsNode);
    const pos = posOf(node);
    // lezer folds a sign into a number literal, but in Prometheus unary minus binds looser than
    // `^`: -2 ^ 2 is -(2 ^ 2).
    const lhsText = this.src(lhsNode);
    if (op === '^' && lhs.kind === 'number' && lhsNode.name === 'NumberDurationLiteral' && /^[+-]/.test(lhsText)) {
      const neg = lhsText.startsWith('-');
      lhs = makeNode({ kind: 'number', value: neg ? -lhs.value : lhs.value, pos: { start: lhsNode.from + 1, end: lhsNode.to } });
      const pow: BinaryExpr = makeNode({ kind: 'binary', op, lhs, rhs, returnBool, matching, pos: { start: lhsNode.from + 1, end: node.to } });
      return makeNode({ kind: 'unary', op: neg ? '-' : '+', expr: pow, pos });
    }
    // lezer reads `a + b offset 1m * c` as `((a + b) offset 1m) * c`; throughUnary moved the
    // offset onto `b`, and here `* c` must move down onto it too: `a + ((b offset 1m) * c)`.
    if (POSTFIX_NODES.has(lhsNode.name)) return this.reassociate(lhs, op, rhs, returnBool, matching, node.to);
    return makeNode({ kind: 'binary', op, lhs, rhs, returnBool, matching, pos });
  }

  private reassociate(lhs: Expr, op: BinaryOp, rhs: Expr, returnBool: boolean, matching: VectorMatching | undefined, end: number): Expr {
    const pos = { start: lhs.pos.start, end };
    if (lhs.kind === 'binary' && bindsTighter(op, PRECEDENCE[lhs.op])) {
      return makeNode({ ...lhs, rhs: this.reassociate(lhs.rhs, op, rhs, returnBool, matching, end), pos });
    }
    if (lhs.kind === 'unary' && bindsTighter(op, UNARY_PRECEDENCE)) {
      return makeNode({ ...lhs, expr: this.reassociate(lhs.expr, op, rhs, returnBool, matching, end), pos });
    }
    return makeNode({ kind: 'binary', op, lhs, rhs, returnBool, matching, pos });
  }

  private groupingLabels(node: SyntaxNode): string[] {
    const out: string[] = [];
    for (const c of children(node)) {
      if (c.name === 'LabelName') out.push(this.src(c));
      else if (c.name === 'QuotedLabelName') fail(c, 'quoted label names are not supported (UTF-8 names are newer than Prometheus 2.42)');
    }
    return out;
  }

  private args(body: SyntaxNode | null): Expr[] {
    if (body === null) return [];
    return children(body)
      .filter((c) => c.name !== '(' && c.name !== ')' && c.name !== ',')
      .map((c) => this.expr(c));
  }

  private aggregate(node: SyntaxNode): AggregateExpr {
    const opNode = node.getChild('AggregateOp');
    const opName = opNode !== null ? this.src(opNode).toLowerCase() : '';
    if (!(AggregateOps as readonly string[]).includes(opName)) {
      return fail(opNode ?? node, `aggregation "${opName}" is not supported (it is newer than Prometheus 2.42)`);
    }
    const op = opName as AggregateOp;
    const mod = node.getChild('AggregateModifier');
    let grouping: string[] = [];
    let without = false;
    if (mod !== null) {
      without = mod.getChild('Without') !== null;
      const gl = mod.getChild('GroupingLabels');
      if (gl !== null) grouping = this.groupingLabels(gl);
    }
    const args = this.args(node.getChild('FunctionCallBody'));
    const hasParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values';
    const want = hasParam ? 2 : 1;
    if (args.length !== want) fail(node, `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`);
    return makeNode({
      kind: 'aggregate',
      op,
      expr: hasParam ? args[1] : args[0],
      param: hasParam ? args[0] : undefined,
      grouping,
      without,
      pos: posOf(node),
    });
  }

  private call(node: SyntaxNode): Call {
    const id = node.getChild('FunctionIdentifier');
    const name = id !== null ? this.src(id) : '';
    const unsupported = UNSUPPORTED_FUNCTIONS.get(name);
    if (unsupported !== undefined) fail(id ?? node, unsupported);
    if (!FUNCTIONS.has(name)) fail(id ?? node, `function "${name}" is not supported (it is not part of Prometheus 2.42's PromQL or of this engine)`);
    const args = this.args(node.getChild('FunctionCallBody'));
    return makeNode({ kind: 'call', func: name, args, pos: posOf(node) });
  }
}

/** goRound rounds half away from zero, as Go's math.Round. */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function syntaxErrors(text: string, top: SyntaxNode): Array<{ message: string; pos: SourcePosition }> {
  const out: Array<{ message: string; pos: SourcePosition }> = [];
  const visit = (node: SyntaxNode): void => {
    if (!node.type.isError) {
      for (let c = node.firstChild; c !== null; c = c.nextSibling) visit(c);
      return;
    }
    // An error node's children are the tokens it swallowed: report the node once.
    const prev = node.prevSibling;
    const snippet = text.slice(node.from, node.to);
    if (snippet.startsWith('(') && prev !== null && prev.name === 'Identifier') {
      const fname = text.slice(prev.from, prev.to);
      out.push({
        message: UNSUPPORTED_FUNCTIONS.get(fname) ?? `unknown function with name "${fname}"`,
        pos: { start: prev.from, end: prev.to },
      });
    } else {
      out.push(lexerOrUnexpected(text, node.from));
    }
  };
  visit(top);
  // An unknown function name derails the rest of the parse; its follow-on errors are noise.
  const fnErrors = out.filter((e) => e.message.includes('function'));
  // Prometheus' parser stops at its first error and reports only that one.
  return (fnErrors.length > 0 ? fnErrors : out).slice(0, 1);
}

const TOKEN_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'start', 'end']);
const TOKEN_AGGREGATORS = new Set(['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'count_values', 'quantile']);
const TOKEN_WORD_OPERATORS = new Set(['and', 'or', 'unless', 'atan2']);

/** goQuoteItem is Go's %q of a token's text, shortened like Item.String() (`%.10q...`). */
function goQuoteItem(v: string): string {
  const q = (x: string): string => JSON.stringify(x);
  return [...v].length > 10 ? `${q([...v].slice(0, 10).join(''))}...` : q(v);
}

/**
 * describeToken names the token at `at` the way Prometheus' parser does in "unexpected ..."
 * (Item.desc()): `<op:*>`, `<by>`, `<aggr:sum>`, `identifier "x"`, `number "5"`, `"("`, or
 * "end of input".
 */
function describeToken(text: string, at: number, inBraces = false): string {
  let i = at;
  while (i < text.length && /\s/.test(text[i])) i++;
  if (i >= text.length) return 'end of input';
  const rest = text.slice(i);
  let m: RegExpExecArray | null;
  if ((m = /^(==|!=|<=|>=|=~|!~|[-+*/%^<>=])/.exec(rest))) return m[1] === '=' && (inBraces || rest[1] !== '=') ? '"="' : `<op:${m[1]}>`;
  if (rest[0] === '@') return '"<Item 57385>" <op:@>';
  if ((m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest))) {
    const w = m[0];
    const lw = w.toLowerCase();
    if (TOKEN_WORD_OPERATORS.has(lw)) return `<op:${w}>`;
    if (TOKEN_KEYWORDS.has(lw)) return `<${w}>`;
    if (TOKEN_AGGREGATORS.has(lw)) return `<aggr:${w}>`;
    if (lw === 'inf' || lw === 'nan') return `number ${goQuoteItem(w)}`;
    return `${w.includes(':') ? 'metric identifier' : 'identifier'} ${goQuoteItem(w)}`;
  }
  if ((m = /^\d+(?:ms|s|m|h|d|w|y)(?:\d+(?:ms|s|m|h|d|w|y))*(?![\w.])/.exec(rest))) return `duration ${goQuoteItem(m[0])}`;
  if ((m = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(rest))) return `number ${goQuoteItem(m[0])}`;
  if ((m = /^("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/.exec(rest))) return `string ${goQuoteItem(m[0])}`;
  return goQuoteItem(rest[0]);
}

/**
 * Tok is one token of the small scanner behind Prometheus-style syntax error wording. lezer
 * finds where an expression goes wrong; the scanner only words it. Prometheus names the token
 * at fault in its own lexer's item types (`<op:*>`, `<aggr:sum>`, `identifier "x"`, `duration
 * "5m"`; `promql/parser/lex.go` `ItemType.desc`) with the yacc rule it was in ("in label
 * matching, expected string"), and its lexer fails on unbalanced brackets before any parsing.
 * The lezer tree cannot give that: its tokenizer is contextual (a word is tokenized only as the
 * parser state asks), and error recovery folds the tokens around a mistake into untyped error
 * nodes (`⚠ "0.5,"`), so the kind of the token at fault and of those before it is not in the
 * tree. Only well-formed input reaches the converter, which reads the tree alone.
 */
interface Tok {
  readonly kind: 'word' | 'op' | 'num' | 'dur' | 'str' | 'punct';
  readonly text: string;
  readonly from: number;
}

function scanTokens(text: string, end: number): Tok[] | { unmatched: number } {
  const out: Tok[] = [];
  let depth = 0;
  let i = 0;
  while (i < end) {
    const rest = text.slice(i);
    const c = text[i];
    let m: RegExpExecArray | null;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if ((m = /^("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?)/.exec(rest))) {
      out.push({ kind: 'str', text: m[0], from: i });
      i += m[0].length;
    } else if ((m = /^\d+(?:ms|s|m|h|d|w|y)(?:\d+(?:ms|s|m|h|d|w|y))*(?![\w.])/.exec(rest))) {
      out.push({ kind: 'dur', text: m[0], from: i });
      i += m[0].length;
    } else if ((m = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(rest))) {
      out.push({ kind: 'num', text: m[0], from: i });
      i += m[0].length;
    } else if ((m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest))) {
      out.push({ kind: 'word', text: m[0], from: i });
      i += m[0].length;
    } else if ((m = /^(==|!=|<=|>=|=~|!~|[-+*/%^<>=@])/.exec(rest))) {
      out.push({ kind: 'op', text: m[0], from: i });
      i += m[0].length;
    } else {
      if (c === '(') depth++;
      if (c === ')' && --depth < 0) return { unmatched: i };
      out.push({ kind: 'punct', text: c, from: i });
      i++;
    }
  }
  return out;
}

/**
 * syntaxContext adds the grammar context Prometheus' yacc parser names in the common cases
 * (label matching, grouping options, offset, @, aggregation), from the tokens before the error.
 */
function syntaxContext(toks: readonly Tok[], next: string): string {
  const last = toks[toks.length - 1];
  const prev = toks[toks.length - 2];
  const isWord = (t: Tok | undefined, words: readonly string[]): boolean => t !== undefined && t.kind === 'word' && words.includes(t.text.toLowerCase());
  let brace = -1;
  let paren = -1;
  for (let k = toks.length - 1, depth = 0; k >= 0; k--) {
    const t = toks[k];
    if (t.kind !== 'punct') continue;
    if (t.text === '}' ) break;
    if (t.text === '{' && depth === 0) {
      brace = k;
      break;
    }
    if (t.text === ')') depth++;
    if (t.text === '(') {
      if (depth === 0 && paren < 0) paren = k;
      depth--;
    }
  }
  if (brace >= 0) {
    if (last.kind === 'punct' && (last.text === '{' || last.text === ',')) return ' in label matching, expected identifier or "}"';
    if (last.kind === 'word') return ' in label matching, expected label matching operator';
    if (last.kind === 'op') return ' in label matching, expected string';
    if (last.kind === 'str') return ' in label matching, expected "," or "}"';
    return ' in label matching';
  }
  if (isWord(last, ['offset'])) return ' in offset, expected duration';
  if (last.kind === 'op' && last.text === '@') return ' in @, expected timestamp';
  const grouping = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'];
  if (isWord(last, grouping) && next !== '"("') return ' in grouping opts, expected "("';
  if (paren >= 0 && isWord(toks[paren - 1], grouping)) {
    if (last.kind === 'punct' && (last.text === '(' || last.text === ',')) return ' in grouping opts, expected label';
    if (last.kind === 'word') return ' in grouping opts, expected "," or ")"';
  }
  if (last.kind === 'punct' && last.text === ')' && prev !== undefined) {
    // `sum by (job) x`: after an aggregation's grouping clause only its "(" may follow.
    let k = toks.length - 1;
    for (let depth = 0; k >= 0; k--) {
      if (toks[k].text === ')') depth++;
      if (toks[k].text === '(' && --depth === 0) break;
    }
    if (isWord(toks[k - 1], ['by', 'without']) && toks[k - 2] !== undefined && TOKEN_AGGREGATORS.has(toks[k - 2].text.toLowerCase())) return ' in aggregation';
  }
  return '';
}

/**
 * lexerOrUnexpected words a syntax error at `at` as Prometheus would: its lexer reports
 * unbalanced brackets first (an unmatched `)` where it appears, an unclosed one at the end),
 * otherwise the parser says "unexpected <token>" with the grammar context where known.
 */
function lexerOrUnexpected(text: string, at: number): { message: string; pos: SourcePosition } {
  let start = at;
  while (start < text.length && /\s/.test(text[start])) start++;
  const scanned = scanTokens(text, start);
  if (!Array.isArray(scanned)) return { message: "unexpected right parenthesis ')'", pos: { start: scanned.unmatched + 1, end: scanned.unmatched + 1 } };
  const toks = scanned;
  let depth = 0;
  let bracket = false;
  let brace = false;
  for (const t of toks) {
    if (t.kind !== 'punct') continue;
    if (t.text === '{') brace = true;
    else if (t.text === '}') brace = false;
    else if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (t.text === '[') bracket = true;
    else if (t.text === ']') bracket = false;
  }
  const pos = { start, end: start };
  if (start >= text.length) {
    if (brace) return { message: 'unexpected end of input inside braces', pos };
    if (depth > 0) return { message: 'unclosed left parenthesis', pos };
    if (bracket) return { message: 'unclosed left bracket', pos };
    return { message: `unexpected end of input${toks.length > 0 ? syntaxContext(toks, '') : ''}`, pos };
  }
  if (text[start] === ')' && depth === 0) return { message: "unexpected right parenthesis ')'", pos: { start: start + 1, end: start + 1 } };
  const desc = describeToken(text, start, brace);
  return { message: `unexpected ${desc}${toks.length > 0 ? syntaxContext(toks, desc) : ''}`, pos };
}

/** Specializer is lezer's hook that turns an `Identifier` into a keyword or function-name token. */
type Specializer = (value: string, stack: Stack) => number;

/**
 * PROMQL_2_42 is the Prometheus project's grammar taught the one function name Prometheus 2.42
 * has and the grammar no longer knows: `holt_winters`, renamed `double_exponential_smoothing`
 * (Prometheus 3.0, `promql/parser/functions.go`). Without it lezer's error recovery shreds the
 * call (`holt_winters(x[5m], 0.5, 0.5)` becomes a matrix selector named `holt_winters` and
 * error nodes), so the name has to be known while tokenizing; no later pass over the tree can
 * recover the call. The grammar's function names are an inline `@extend` table compiled into the
 * parser, and `LRParser.configure` can only replace its external specializers, so the
 * contextual-keyword one (`extendIdentifier`, which the package does not export and is found
 * here as the grammar's one external extending specializer) is wrapped to answer the token of
 * `double_exponential_smoothing` for `holt_winters`, in every context where the table would.
 * The converter reads every name from the source, so the call is `holt_winters`.
 */
const PROMQL_2_42 = ((): LRParser => {
  const specs = (parser as unknown as { specializerSpecs: ReadonlyArray<{ external?: Specializer; extend?: boolean; get: (value: string, stack: Stack) => number }> }).specializerSpecs;
  const extend = specs.find((s) => s.external !== undefined && s.extend === true)?.external;
  const table = specs.find((s) => s.external === undefined);
  const token = table?.get('double_exponential_smoothing', undefined as unknown as Stack) ?? -1;
  // A grammar without these is a new layout: fail at load, not with a wrong parse later.
  if (extend === undefined || token < 0) throw new Error('@prometheus-io/lezer-promql: cannot find the function-name specializers to add holt_winters');
  return parser.configure({ specializers: [{ from: extend, to: (value, stack) => (value === 'holt_winters' ? token >> 1 : extend(value, stack)) }] });
})();

function describe(errs: ReadonlyArray<{ message: string; pos: SourcePosition }>): string {
  return errs.map((e) => `at char ${e.pos.start + 1}: ${e.message}`).join('; ');
}

/**
 * parseExpr parses and type-checks a PromQL expression. Throws `PromqlParseError` (with the first
 * problem's `pos`) listing every syntax error, or the unsupported construct and where it is.
 */
export function parseExpr(text: string): Expr {
  if (text.trim() === '') throw new PromqlParseError('PromQL parse error: no expression found in input', { start: 0, end: 0 });
  const tree = PROMQL_2_42.parse(text);
  const top = tree.topNode;
  const errs = syntaxErrors(text, top);
  if (errs.length > 0) throw new PromqlParseError(`PromQL parse error ${describe(errs)}`, errs[0].pos);
  const kids = children(top);
  if (kids.length !== 1) {
    const extra = kids[1] ?? top;
    throw new PromqlParseError(`PromQL parse error at char ${extra.from + 1}: unexpected "${text.slice(extra.from, extra.to)}"`, posOf(extra));
  }
  let expr: Expr;
  try {
    expr = new Converter(text).expr(kids[0]);
  } catch (err) {
    if (err instanceof ConvertError) throw new PromqlParseError(`PromQL parse error at char ${err.pos.start + 1}: ${err.message}`, err.pos);
    throw err;
  }
  const checked = checkExpr(expr);
  if (checked.errors.length > 0) {
    // An operator's range starts after the left operand; Prometheus (opRange) skips the
    // whitespace before the operator, so the column points at the operator itself.
    const errors = checked.errors.map((e) => {
      let start = e.pos.start;
      while (start < e.pos.end && /\s/.test(text[start] ?? '')) start++;
      return { ...e, pos: { ...e.pos, start } };
    });
    // Like Prometheus' ParseErrors, report the first problem only.
    throw new PromqlParseError(`PromQL parse error ${describe(errors.slice(0, 1))}`, errors[0].pos);
  }
  return checked.expr;
}
