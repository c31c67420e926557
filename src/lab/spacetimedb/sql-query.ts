/**
 * sql-query: the two SQL subsets of SpacetimeDB 2.0.1 (2.0.1 `crates/sql-parser`, `crates/expr`), parsed into a small AST,
 * checked against the module's tables with SpacetimeDB's error texts, then either compiled to
 * SQLite (`/sql`) or to a row predicate (subscriptions and one-off queries).
 */
import type { ColumnDef, ColumnType, Row, SqlValue, TableDef } from './schema.js';
import { findTable } from './schema.js';

/** SqlRejection is a query SpacetimeDB refuses; `message` is the text its HTTP 400 body carries. */
export class SqlRejection extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlRejection';
  }
}

type Token =
  | { kind: 'ident'; text: string; quoted: boolean }
  | { kind: 'string'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'hex'; text: string }
  | { kind: 'param'; text: string }
  | { kind: 'punct'; text: string };

const PUNCT = ['<>', '!=', '<=', '>=', '=', '<', '>', '*', ',', '.', '(', ')', ';', '+', '-', '/'];

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i += 1;
      continue;
    }
    if (c === "'") {
      let text = '';
      i += 1;
      for (;;) {
        if (i >= sql.length) throw new SqlRejection('sql parser error: Unterminated string literal');
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        text += sql[i];
        i += 1;
      }
      out.push({ kind: 'string', text });
      continue;
    }
    if ((c === 'X' || c === 'x') && sql[i + 1] === "'") {
      const end = sql.indexOf("'", i + 2);
      if (end < 0) throw new SqlRejection('sql parser error: Unterminated hex literal');
      out.push({ kind: 'hex', text: sql.slice(i + 2, end).toLowerCase() });
      i = end + 1;
      continue;
    }
    if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      if (end < 0) throw new SqlRejection('sql parser error: Unterminated quoted identifier');
      out.push({ kind: 'ident', text: sql.slice(i + 1, end), quoted: true });
      i = end + 1;
      continue;
    }
    const hex = /^0x[0-9a-fA-F]+/.exec(sql.slice(i));
    if (hex) {
      out.push({ kind: 'hex', text: hex[0].slice(2).toLowerCase() });
      i += hex[0].length;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i));
    if (num) {
      out.push({ kind: 'number', text: num[0] });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i));
    if (ident) {
      out.push({ kind: 'ident', text: ident[0], quoted: false });
      i += ident[0].length;
      continue;
    }
    if (c === ':') {
      const param = /^:[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i));
      if (param) {
        out.push({ kind: 'param', text: param[0].slice(1) });
        i += param[0].length;
        continue;
      }
    }
    const p = PUNCT.find((x) => sql.startsWith(x, i));
    if (!p) throw new SqlRejection(`sql parser error: Unexpected character '${c}'`);
    out.push({ kind: 'punct', text: p });
    i += p.length;
  }
  return out;
}

/** ColRef is `column` or `qualifier.column`. */
export interface ColRef {
  readonly kind: 'col';
  readonly qualifier?: string;
  readonly column: string;
}

/** Literal is a SQL literal as written. */
export type Literal =
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'num'; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'hex'; readonly value: string }
  | { readonly kind: 'sender' };

/** Operand is either side of a comparison. */
export type Operand = ColRef | Literal;

/** CompareOp is a comparison operator. */
export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** Predicate is a WHERE clause. */
export type Predicate =
  | { readonly kind: 'and' | 'or'; readonly left: Predicate; readonly right: Predicate }
  | { readonly kind: 'cmp'; readonly op: CompareOp; readonly left: Operand; readonly right: Operand };

type Projection =
  | { kind: 'star'; qualifier?: string }
  | { kind: 'count'; alias?: string }
  | { kind: 'cols'; cols: Array<{ ref: ColRef; alias?: string }> };

interface Relation {
  table: string;
  alias: string;
}

/** SelectAst is a parsed SELECT statement. */
interface SelectAst {
  projection: Projection;
  from: Relation;
  joins: Array<{ rel: Relation; on: Predicate }>;
  where?: Predicate;
  limit?: number;
}

const RESERVED = new Set([
  'select', 'from', 'where', 'and', 'or', 'as', 'join', 'inner', 'on', 'limit', 'order', 'by', 'group', 'having',
  'offset', 'union', 'left', 'right', 'outer', 'cross', 'full',
]);

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'ident' && !t.quoted && t.text.toLowerCase() === word;
  }

  isPunct(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === text;
  }

  describe(t: Token | undefined): string {
    return t === undefined ? 'EOF' : t.kind === 'string' ? `'${t.text}'` : t.text;
  }

  fail(expected: string): never {
    throw new SqlRejection(`sql parser error: Expected: ${expected}, found: ${this.describe(this.peek())}`);
  }

  expectKeyword(word: string): void {
    if (!this.isKeyword(word)) this.fail(word.toUpperCase());
    this.pos += 1;
  }

  expectPunct(text: string): void {
    if (!this.isPunct(text)) this.fail(text);
    this.pos += 1;
  }

  identifier(): string {
    const t = this.peek();
    if (t?.kind !== 'ident' || (!t.quoted && RESERVED.has(t.text.toLowerCase()))) this.fail('identifier');
    this.pos += 1;
    return t.text;
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  parseSelect(): SelectAst {
    this.expectKeyword('select');
    if (this.isKeyword('distinct')) throw new SqlRejection('Unsupported: DISTINCT');
    const projection = this.parseProjection();
    this.expectKeyword('from');
    const from = this.parseRelation();
    const joins: SelectAst['joins'] = [];
    for (;;) {
      if (this.isPunct(',')) throw new SqlRejection('Unsupported: implicit joins; use JOIN ... ON');
      if (this.isKeyword('inner') && this.isKeyword('join', 1)) this.pos += 1;
      else if (['left', 'right', 'full', 'cross', 'outer'].some((w) => this.isKeyword(w))) throw new SqlRejection('Unsupported: non-inner joins');
      if (!this.isKeyword('join')) break;
      this.pos += 1;
      const rel = this.parseRelation();
      this.expectKeyword('on');
      joins.push({ rel, on: this.parsePredicate() });
    }
    let where: Predicate | undefined;
    if (this.isKeyword('where')) {
      this.pos += 1;
      where = this.parsePredicate();
    }
    if (this.isKeyword('group')) throw new SqlRejection('Unsupported: GROUP BY');
    if (this.isKeyword('having')) throw new SqlRejection('Unsupported: HAVING');
    if (this.isKeyword('order')) throw new SqlRejection('Unsupported: ORDER BY');
    let limit: number | undefined;
    if (this.isKeyword('limit')) {
      this.pos += 1;
      const t = this.peek();
      if (t?.kind !== 'number' || !/^\d+$/.test(t.text)) this.fail('a non-negative integer after LIMIT');
      limit = Number(t.text);
      this.pos += 1;
    }
    if (this.isKeyword('offset')) throw new SqlRejection('Unsupported: OFFSET');
    if (this.isKeyword('union')) throw new SqlRejection('Unsupported: UNION');
    if (!this.atEnd()) this.fail('end of statement');
    return { projection, from, joins, where, limit };
  }

  parseProjection(): Projection {
    if (this.isPunct('*')) {
      this.pos += 1;
      return { kind: 'star' };
    }
    if (this.peek()?.kind === 'ident' && this.peek(1)?.kind === 'punct' && (this.peek(1) as Token).text === '.' && this.peek(2)?.kind === 'punct' && (this.peek(2) as Token).text === '*') {
      const qualifier = this.identifier();
      this.pos += 2;
      return { kind: 'star', qualifier };
    }
    if (this.isKeyword('count') && this.peek(1)?.kind === 'punct' && (this.peek(1) as Token).text === '(') {
      this.pos += 2;
      if (this.isKeyword('distinct')) throw new SqlRejection('Unsupported: COUNT(DISTINCT ...)');
      if (!this.isPunct('*')) throw new SqlRejection('Unsupported: COUNT of an expression; use COUNT(*)');
      this.pos += 1;
      this.expectPunct(')');
      let alias: string | undefined;
      if (this.isKeyword('as')) {
        this.pos += 1;
        alias = this.identifier();
      } else if (this.peek()?.kind === 'ident' && !this.isKeyword('from')) {
        alias = this.identifier();
      }
      if (this.isPunct(',')) throw new SqlRejection('Unsupported: COUNT(*) mixed with other columns');
      return { kind: 'count', alias };
    }
    const cols: Array<{ ref: ColRef; alias?: string }> = [];
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'ident' && this.peek(1)?.kind === 'punct' && (this.peek(1) as Token).text === '(') {
        throw new SqlRejection(`Unsupported: function ${t.text.toUpperCase()}(...)`);
      }
      const ref = this.parseColRef();
      let alias: string | undefined;
      if (this.isKeyword('as')) {
        this.pos += 1;
        alias = this.identifier();
      }
      cols.push({ ref, alias });
      if (!this.isPunct(',')) break;
      this.pos += 1;
      if (this.isKeyword('count')) throw new SqlRejection('Unsupported: COUNT(*) mixed with other columns');
    }
    return { kind: 'cols', cols };
  }

  parseColRef(): ColRef {
    const first = this.identifier();
    if (this.isPunct('.')) {
      this.pos += 1;
      return { kind: 'col', qualifier: first, column: this.identifier() };
    }
    return { kind: 'col', column: first };
  }

  parseRelation(): Relation {
    if (this.isPunct('*')) throw new SqlRejection('Unsupported: SELECT ... FROM *');
    if (this.isPunct('(')) throw new SqlRejection('Unsupported: subqueries');
    const table = this.identifier();
    let alias = table;
    if (this.isKeyword('as')) {
      this.pos += 1;
      alias = this.identifier();
    } else if (this.peek()?.kind === 'ident' && !RESERVED.has((this.peek() as { text: string }).text.toLowerCase())) {
      alias = this.identifier();
    }
    return { table, alias };
  }

  parsePredicate(): Predicate {
    return this.leftAssociative('or', () => this.parseConjunction());
  }

  parseConjunction(): Predicate {
    return this.leftAssociative('and', () => this.parseAtom());
  }

  /** leftAssociative parses `operand (op operand)*` into a left-leaning tree of `op` nodes. */
  private leftAssociative(op: 'or' | 'and', operand: () => Predicate): Predicate {
    let left = operand();
    while (this.isKeyword(op)) {
      this.pos += 1;
      left = { kind: op, left, right: operand() };
    }
    return left;
  }

  parseAtom(): Predicate {
    if (this.isKeyword('not')) throw new SqlRejection('Unsupported: NOT');
    if (this.isPunct('(')) {
      this.pos += 1;
      const inner = this.parsePredicate();
      this.expectPunct(')');
      return inner;
    }
    const left = this.parseOperand();
    if (this.isKeyword('is')) throw new SqlRejection('Unsupported: IS NULL');
    if (this.isKeyword('in')) throw new SqlRejection('Unsupported: IN');
    if (this.isKeyword('like')) throw new SqlRejection('Unsupported: LIKE');
    if (this.isKeyword('between')) throw new SqlRejection('Unsupported: BETWEEN');
    if (this.isKeyword('not')) throw new SqlRejection('Unsupported: NOT');
    const t = this.peek();
    if (t?.kind === 'punct' && ['+', '-', '*', '/'].includes(t.text)) throw new SqlRejection('Unsupported: arithmetic expressions');
    if (t?.kind !== 'punct' || !['=', '<>', '!=', '<', '<=', '>', '>='].includes(t.text)) this.fail('a comparison operator');
    this.pos += 1;
    const op = (t.text === '!=' ? '<>' : t.text) as CompareOp;
    const right = this.parseOperand();
    const next = this.peek();
    if (next?.kind === 'punct' && ['+', '-', '*', '/'].includes(next.text)) throw new SqlRejection('Unsupported: arithmetic expressions');
    return { kind: 'cmp', op, left, right };
  }

  parseOperand(): Operand {
    const t = this.peek();
    if (t === undefined) this.fail('an expression');
    if (t.kind === 'string') {
      this.pos += 1;
      return { kind: 'str', value: t.text };
    }
    if (t.kind === 'hex') {
      this.pos += 1;
      return { kind: 'hex', value: t.text };
    }
    if (t.kind === 'param') {
      if (t.text !== 'sender') throw new SqlRejection(`\`:${t.text}\` is not a valid parameter; only :sender is`);
      this.pos += 1;
      return { kind: 'sender' };
    }
    if (t.kind === 'punct' && (t.text === '-' || t.text === '+')) {
      const n = this.peek(1);
      if (n?.kind !== 'number') this.fail('a number');
      this.pos += 2;
      return { kind: 'num', text: t.text === '-' ? `-${n.text}` : n.text };
    }
    if (t.kind === 'number') {
      this.pos += 1;
      return { kind: 'num', text: t.text };
    }
    if (t.kind === 'ident' && !t.quoted) {
      const lower = t.text.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        this.pos += 1;
        return { kind: 'bool', value: lower === 'true' };
      }
      if (lower === 'null') throw new SqlRejection('Unsupported: NULL');
      if (this.peek(1)?.kind === 'punct' && (this.peek(1) as Token).text === '(') throw new SqlRejection(`Unsupported: function ${t.text.toUpperCase()}(...)`);
    }
    return this.parseColRef();
  }
}

/** singleStatement tokenizes and refuses more than one statement, as 2.0.1 does. */
function singleStatement(sql: string): Token[] {
  const tokens = tokenize(sql);
  while (tokens.length > 0 && tokens[tokens.length - 1]?.kind === 'punct' && tokens[tokens.length - 1]?.text === ';') tokens.pop();
  if (tokens.some((t) => t.kind === 'punct' && t.text === ';')) throw new SqlRejection('Multiple SQL statements are not supported');
  if (tokens.length === 0) throw new SqlRejection('sql parser error: Expected: an SQL statement, found: EOF');
  return tokens;
}

function firstWord(tokens: Token[]): string {
  const t = tokens[0];
  return t?.kind === 'ident' ? t.text.toLowerCase() : '';
}

interface Scope {
  readonly rels: Array<{ alias: string; table: TableDef }>;
}

function resolveTable(name: string): TableDef {
  const table = findTable(name);
  if (!table) throw new SqlRejection(`no such table: \`${name}\`. If the table exists, it may be marked private.`);
  return table;
}

function resolveColumn(scope: Scope, ref: ColRef): { alias: string; table: TableDef; column: ColumnDef } {
  if (ref.qualifier !== undefined) {
    const rel = scope.rels.find((r) => r.alias === ref.qualifier);
    if (!rel) throw new SqlRejection(`\`${ref.qualifier}\` is not in scope`);
    const column = rel.table.columns.find((c) => c.name === ref.column);
    if (!column) throw new SqlRejection(`\`${rel.alias}\` does not have a field \`${ref.column}\``);
    return { alias: rel.alias, table: rel.table, column };
  }
  if (scope.rels.length > 1) throw new SqlRejection(`\`${ref.column}\` is not in scope; qualify it with a table name`);
  const rel = scope.rels[0] as { alias: string; table: TableDef };
  const column = rel.table.columns.find((c) => c.name === ref.column);
  if (!column) throw new SqlRejection(`\`${rel.alias}\` does not have a field \`${ref.column}\``);
  return { alias: rel.alias, table: rel.table, column };
}

function typeName(type: ColumnType): string {
  switch (type) {
    case 'OptionString':
      return 'Option<String>';
    case 'OptionU64':
      return 'Option<U64>';
    default:
      return type;
  }
}

function literalText(lit: Literal): string {
  switch (lit.kind) {
    case 'str':
      return lit.value;
    case 'num':
      return lit.text;
    case 'bool':
      return String(lit.value);
    case 'hex':
      return `0x${lit.value}`;
    case 'sender':
      return ':sender';
  }
}

/** literalValue converts a literal to the SQLite value stored for a column of `type`. */
function literalValue(lit: Literal, type: ColumnType, senderHex: string): SqlValue {
  const bad = (): never => {
    throw new SqlRejection(`\`${literalText(lit)}\` cannot be parsed as type \`${typeName(type)}\``);
  };
  switch (type) {
    case 'Identity':
      if (lit.kind === 'sender') return senderHex;
      if (lit.kind === 'hex' && lit.value.length <= 64) return lit.value.padStart(64, '0');
      if (lit.kind === 'str' && /^(0x)?[0-9a-fA-F]{1,64}$/.test(lit.value)) return lit.value.replace(/^0x/, '').toLowerCase().padStart(64, '0');
      return bad();
    case 'String':
    case 'OptionString':
      if (lit.kind === 'str') return lit.value;
      return bad();
    case 'U64':
    case 'OptionU64':
      if (lit.kind === 'num' && /^\d+$/.test(lit.text)) {
        const big = BigInt(lit.text);
        if (big > 18446744073709551615n) return bad();
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      return bad();
    case 'Bool':
      if (lit.kind === 'bool') return lit.value ? 1 : 0;
      return bad();
  }
}

/** A checked comparison: the SQLite form and the row-level evaluator share it. */
type CheckedOperand = { kind: 'col'; alias: string; column: ColumnDef } | { kind: 'value'; value: SqlValue };

type CheckedPredicate =
  | { kind: 'and' | 'or'; left: CheckedPredicate; right: CheckedPredicate }
  | { kind: 'cmp'; op: CompareOp; left: CheckedOperand; right: CheckedOperand };

function checkPredicate(p: Predicate, scope: Scope, senderHex: string): CheckedPredicate {
  if (p.kind !== 'cmp') return { kind: p.kind, left: checkPredicate(p.left, scope, senderHex), right: checkPredicate(p.right, scope, senderHex) };
  const left = p.left.kind === 'col' ? resolveColumn(scope, p.left) : undefined;
  const right = p.right.kind === 'col' ? resolveColumn(scope, p.right) : undefined;
  if (left && right) {
    if (left.column.type !== right.column.type) {
      throw new SqlRejection(`(expected) ${typeName(left.column.type)} != ${typeName(right.column.type)} (inferred)`);
    }
    return { kind: 'cmp', op: p.op, left: { kind: 'col', alias: left.alias, column: left.column }, right: { kind: 'col', alias: right.alias, column: right.column } };
  }
  if (left && p.right.kind !== 'col') {
    return { kind: 'cmp', op: p.op, left: { kind: 'col', alias: left.alias, column: left.column }, right: { kind: 'value', value: literalValue(p.right, left.column.type, senderHex) } };
  }
  if (right && p.left.kind !== 'col') {
    return { kind: 'cmp', op: p.op, left: { kind: 'value', value: literalValue(p.left, right.column.type, senderHex) }, right: { kind: 'col', alias: right.alias, column: right.column } };
  }
  throw new SqlRejection('Cannot resolve type for literal expression');
}

function sqliteOperand(o: CheckedOperand, params: SqlValue[]): string {
  if (o.kind === 'col') return `"${o.alias}"."${o.column.name}"`;
  params.push(o.value);
  return '?';
}

function sqlitePredicate(p: CheckedPredicate, params: SqlValue[]): string {
  if (p.kind !== 'cmp') return `(${sqlitePredicate(p.left, params)} ${p.kind.toUpperCase()} ${sqlitePredicate(p.right, params)})`;
  return `(${sqliteOperand(p.left, params)} ${p.op} ${sqliteOperand(p.right, params)})`;
}

/** OutputColumn is one column of a /sql answer: its name, type and the SQLite expression behind it. */
export interface OutputColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/** CompiledSql is a checked `/sql` SELECT ready for SQLite. */
export interface CompiledSql {
  readonly sqlite: string;
  readonly params: readonly SqlValue[];
  readonly columns: readonly OutputColumn[];
}

/**
 * compileSql checks one `/sql` statement against the module and compiles it for SQLite, or
 * throws SqlRejection with SpacetimeDB's text. DML is refused: the lab's database owner identity
 * is never handed to any client.
 */
export function compileSql(sql: string, callerHex: string): CompiledSql {
  const tokens = singleStatement(sql);
  const word = firstWord(tokens);
  if (word === 'insert' || word === 'update' || word === 'delete') {
    throw new SqlRejection(`Caller ${callerHex} is not authorized to run SQL DML statements`);
  }
  if (word === 'set' || word === 'show') throw new SqlRejection(`Caller ${callerHex} is not authorized to run SQL DML statements`);
  if (word !== 'select') new Parser(tokens).fail('SELECT, INSERT, UPDATE, DELETE, SET or SHOW');
  const ast = new Parser(tokens).parseSelect();
  const scope: Scope = { rels: [{ alias: ast.from.alias, table: resolveTable(ast.from.table) }] };
  for (const j of ast.joins) {
    if (scope.rels.some((r) => r.alias === j.rel.alias)) throw new SqlRejection(`Duplicate name \`${j.rel.alias}\``);
    scope.rels.push({ alias: j.rel.alias, table: resolveTable(j.rel.table) });
  }
  const params: SqlValue[] = [];
  const selectParts: string[] = [];
  const columns: OutputColumn[] = [];
  const proj = ast.projection;
  if (proj.kind === 'count') {
    if (proj.alias === undefined) throw new SqlRejection('Aggregate expressions must have column aliases');
    selectParts.push('COUNT(*) AS "c0"');
    columns.push({ name: proj.alias, type: 'U64' });
  } else if (proj.kind === 'star') {
    const rel = proj.qualifier === undefined ? scope.rels[0] : scope.rels.find((r) => r.alias === proj.qualifier);
    if (!rel) throw new SqlRejection(`\`${proj.qualifier ?? ''}\` is not in scope`);
    if (proj.qualifier === undefined && scope.rels.length > 1) throw new SqlRejection('Unsupported: SELECT * with joins; use t.*');
    for (const c of rel.table.columns) {
      selectParts.push(`"${rel.alias}"."${c.name}" AS "c${columns.length}"`);
      columns.push({ name: c.name, type: c.type });
    }
  } else {
    for (const { ref, alias } of proj.cols) {
      const r = resolveColumn(scope, ref);
      selectParts.push(`"${r.alias}"."${r.column.name}" AS "c${columns.length}"`);
      columns.push({ name: alias ?? r.column.name, type: r.column.type });
    }
  }
  let from = `"${scope.rels[0]?.table.name}" AS "${ast.from.alias}"`;
  for (const j of ast.joins) {
    const on = checkPredicate(j.on, scope, callerHex);
    from += ` JOIN "${resolveTable(j.rel.table).name}" AS "${j.rel.alias}" ON ${sqlitePredicate(on, params)}`;
  }
  let text = `SELECT ${selectParts.join(', ')} FROM ${from}`;
  if (ast.where) text += ` WHERE ${sqlitePredicate(checkPredicate(ast.where, scope, callerHex), params)}`;
  if (ast.limit !== undefined) text += ` LIMIT ${ast.limit}`;
  return { sqlite: text, params, columns };
}

/** SubscriptionQuery is a checked subscription: whole rows of one table filtered by a predicate. */
export interface SubscriptionQuery {
  readonly sql: string;
  readonly table: TableDef;
  readonly matches: (row: Row) => boolean;
  /** resumeAfterSeq is N when the query reads `sync_event` with `seq > N` (N > 0): a resume. */
  readonly resumeAfterSeq: number | undefined;
  /**
   * rebootstrapStream is the stream id when the query reads one stream's whole `sync_event`
   * history (`stream_id = 'x'`, optionally with a seq bound that admits seq 1): the fresh
   * snapshot a client takes after resetting a stale cursor. A query with any other filter (a
   * `committed_at_unix_ms` bound, `seq > N`) is not one.
   */
  readonly rebootstrapStream: string | undefined;
  /** equality is a top-level `column = literal` conjunct, used to narrow the initial scan. */
  readonly equality: { readonly column: string; readonly value: SqlValue } | undefined;
}

function equalityOf(p: CheckedPredicate | undefined): { column: string; value: SqlValue } | undefined {
  if (!p) return undefined;
  if (p.kind === 'and') return equalityOf(p.left) ?? equalityOf(p.right);
  if (p.kind !== 'cmp' || p.op !== '=') return undefined;
  if (p.left.kind === 'col' && p.right.kind === 'value') return { column: p.left.column.name, value: p.right.value };
  if (p.right.kind === 'col' && p.left.kind === 'value') return { column: p.right.column.name, value: p.left.value };
  return undefined;
}

function compareValues(a: SqlValue, b: SqlValue, op: CompareOp): boolean {
  if (a === null || b === null) return false;
  let cmp: number;
  if (typeof a === 'string' || typeof b === 'string') {
    const sa = String(a);
    const sb = String(b);
    cmp = sa < sb ? -1 : sa > sb ? 1 : 0;
  } else {
    const na = BigInt(a);
    const nb = BigInt(b);
    cmp = na < nb ? -1 : na > nb ? 1 : 0;
  }
  switch (op) {
    case '=':
      return cmp === 0;
    case '<>':
      return cmp !== 0;
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
  }
}

function evaluate(p: CheckedPredicate, row: Row): boolean {
  switch (p.kind) {
    case 'and':
      return evaluate(p.left, row) && evaluate(p.right, row);
    case 'or':
      return evaluate(p.left, row) || evaluate(p.right, row);
    case 'cmp': {
      const value = (o: CheckedOperand): SqlValue => (o.kind === 'value' ? o.value : (row[o.column.name] ?? null));
      return compareValues(value(p.left), value(p.right), p.op);
    }
  }
}

function resumeSeq(p: CheckedPredicate | undefined): number | undefined {
  if (!p) return undefined;
  if (p.kind === 'and') return resumeSeq(p.left) ?? resumeSeq(p.right);
  if (p.kind !== 'cmp') return undefined;
  if (p.left.kind === 'col' && p.left.column.name === 'seq' && p.right.kind === 'value' && (p.op === '>' || p.op === '>=')) {
    const n = Number(p.right.value) - (p.op === '>=' ? 1 : 0);
    return n > 0 ? n : undefined;
  }
  return undefined;
}

function conjuncts(p: CheckedPredicate): CheckedPredicate[] {
  return p.kind === 'and' ? [...conjuncts(p.left), ...conjuncts(p.right)] : [p];
}

function rebootstrapOf(p: CheckedPredicate | undefined): string | undefined {
  if (!p) return undefined;
  let stream: string | undefined;
  const flipped: Record<CompareOp, CompareOp> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
  for (const c of conjuncts(p)) {
    if (c.kind !== 'cmp') return undefined;
    const side = c.left.kind === 'col' && c.right.kind === 'value'
      ? { column: c.left.column.name, value: c.right.value, op: c.op }
      : c.right.kind === 'col' && c.left.kind === 'value'
        ? { column: c.right.column.name, value: c.left.value, op: flipped[c.op] }
        : undefined;
    if (!side) return undefined;
    const { column, value, op } = side;
    if (column === 'stream_id' && op === '=' && typeof value === 'string' && stream === undefined) {
      stream = value;
      continue;
    }
    // `seq > 0` / `seq >= 1` (or weaker) still asks for the whole history.
    if (column === 'seq' && ((op === '>' && Number(value) <= 0) || (op === '>=' && Number(value) <= 1))) continue;
    return undefined;
  }
  return stream;
}

/**
 * compileSubscription checks a subscription / one-off query (`SELECT * | t.* FROM t [WHERE …]`)
 * and returns its row predicate, or throws SqlRejection with SpacetimeDB's text.
 */
export function compileSubscription(sql: string, callerHex: string): SubscriptionQuery {
  const tokens = singleStatement(sql);
  const word = firstWord(tokens);
  if (word !== 'select') throw new SqlRejection('Unsupported: Non-SELECT queries');
  const ast = new Parser(tokens).parseSelect();
  if (ast.limit !== undefined) throw new SqlRejection('Unsupported: LIMIT');
  if (ast.projection.kind !== 'star') throw new SqlRejection('Column projections are not supported in subscriptions');
  if (ast.joins.length > 0) throw new SqlRejection('Unsupported: JOIN in the lab\'s subscription compiler');
  const table = resolveTable(ast.from.table);
  const scope: Scope = { rels: [{ alias: ast.from.alias, table }] };
  if (ast.projection.qualifier !== undefined && ast.projection.qualifier !== ast.from.alias) {
    throw new SqlRejection(`\`${ast.projection.qualifier}\` is not in scope`);
  }
  const checked = ast.where ? checkPredicate(ast.where, scope, callerHex) : undefined;
  return {
    sql,
    table,
    matches: checked ? (row) => evaluate(checked, row) : () => true,
    resumeAfterSeq: table.name === 'sync_event' ? resumeSeq(checked) : undefined,
    rebootstrapStream: table.name === 'sync_event' ? rebootstrapOf(checked) : undefined,
    equality: equalityOf(checked),
  };
}
