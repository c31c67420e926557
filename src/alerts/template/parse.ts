/**
 * The parser of the Go text/template subset that Prometheus alert templates use: text, actions,
 * pipelines, variables, fields, `if`/`else if`/`else`/`with`/`range`/`end`, comments and the
 * `{{-`/`-}}` trim markers. Errors read like Go's (`template: NAME:LINE: unclosed action`).
 */

/** TemplateParseError is a template that Go's text/template would refuse to parse. */
export class TemplateParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateParseError';
  }
}

/** ArgNode is one operand of a command. `pos` is a byte offset into the template text. */
export type ArgNode =
  | { readonly kind: 'field'; readonly pos: number; readonly idents: readonly string[] }
  | { readonly kind: 'variable'; readonly pos: number; readonly name: string; readonly idents: readonly string[] }
  | { readonly kind: 'dot'; readonly pos: number }
  | { readonly kind: 'identifier'; readonly pos: number; readonly name: string }
  | { readonly kind: 'string'; readonly pos: number; readonly text: string; readonly quoted: string }
  | { readonly kind: 'number'; readonly pos: number; readonly text: string; readonly isInt: boolean; readonly value: number }
  | { readonly kind: 'bool'; readonly pos: number; readonly value: boolean }
  | { readonly kind: 'nil'; readonly pos: number }
  | { readonly kind: 'pipe'; readonly pos: number; readonly pipe: PipeNode; readonly idents: readonly string[] };

/** CommandNode is one stage of a pipeline: an operand or a function call with arguments. */
export interface CommandNode {
  readonly pos: number;
  readonly args: readonly ArgNode[];
}

/** PipeNode is `[$x :=] cmd | cmd ...`. */
export interface PipeNode {
  readonly pos: number;
  readonly decls: readonly string[];
  readonly isAssign: boolean;
  readonly cmds: readonly CommandNode[];
}

/** TemplateNode is one node of a parsed template's list. */
export type TemplateNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'action'; readonly pos: number; readonly pipe: PipeNode }
  | { readonly kind: 'if' | 'with'; readonly pos: number; readonly pipe: PipeNode; readonly list: TemplateNode[]; readonly elseList: TemplateNode[] | undefined }
  | { readonly kind: 'range'; readonly pos: number; readonly pipe: PipeNode; readonly list: TemplateNode[]; readonly elseList: TemplateNode[] | undefined }
  | { readonly kind: 'break' | 'continue'; readonly pos: number }
  | { readonly kind: 'template'; readonly pos: number; readonly name: string; readonly pipe: PipeNode | undefined };

/** ParsedTemplate is a parsed template with the text it came from (for error positions). */
export interface ParsedTemplate {
  readonly name: string;
  readonly text: string;
  readonly root: readonly TemplateNode[];
  /** defines are the `{{define}}`/`{{block}}` templates, by name. */
  readonly defines: ReadonlyMap<string, readonly TemplateNode[]>;
}

type TokKind =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'identifier' | 'field' | 'variable' | 'dot' | 'string'
  | 'rawString' | 'char' | 'number' | 'bool' | 'nil' | 'leftParen' | 'rightParen' | 'pipe' | 'declare'
  | 'assign' | 'comma' | 'keyword' | 'eof' | 'comment';

interface Token {
  readonly kind: TokKind;
  readonly val: string;
  readonly pos: number;
  readonly line: number;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlnum(c: string): boolean {
  return /^[\p{L}\p{Nd}_]$/u.test(c);
}

/** lex splits a template into tokens the way Go's text/template lexer does. */
function lex(name: string, text: string): Token[] {
  const toks: Token[] = [];
  let pos = 0;
  let line = 1;
  const fail = (msg: string, atLine: number): never => {
    throw new TemplateParseError(`template: ${name}:${atLine}: ${msg}`);
  };
  while (pos < text.length) {
    let next = text.indexOf('{{', pos);
    if (next < 0) next = text.length;
    let textEnd = next;
    const trimLeft = next < text.length && text[next + 2] === '-' && isSpace(text[next + 3] ?? '');
    if (trimLeft) while (textEnd > pos && isSpace(text[textEnd - 1])) textEnd--;
    if (textEnd > pos) toks.push({ kind: 'text', val: text.slice(pos, textEnd), pos, line });
    line += countNewlines(text, pos, next);
    if (next >= text.length) break;
    pos = next + 2 + (trimLeft ? 2 : 0);
    const actionLine = line;
    // Comments must touch the delimiters: {{/* ... */}} or {{- /* ... */ -}}.
    if (text.startsWith('/*', pos)) {
      const end = text.indexOf('*/', pos + 2);
      if (end < 0) fail('unclosed comment', actionLine);
      line += countNewlines(text, pos, end);
      pos = end + 2;
      let trimRight = false;
      if (text.startsWith(' -}}', pos)) {
        trimRight = true;
        pos += 4;
      } else if (text.startsWith('}}', pos)) {
        pos += 2;
      } else {
        fail('comment ends before closing delimiter', actionLine);
      }
      if (trimRight) while (pos < text.length && isSpace(text[pos])) {
        if (text[pos] === '\n') line++;
        pos++;
      }
      continue;
    }
    toks.push({ kind: 'leftDelim', val: '{{', pos: next, line: actionLine });
    let parenDepth = 0;
    for (;;) {
      if (pos >= text.length) fail('unclosed action', actionLine);
      const c = text[pos];
      if (isSpace(c)) {
        const start = pos;
        while (pos < text.length && isSpace(text[pos])) {
          if (text[pos] === '\n') line++;
          pos++;
        }
        if (text.startsWith('-}}', pos)) {
          // ` -}}` is the right trim marker: it also eats the whitespace after the action.
          if (parenDepth > 0) fail('unclosed left paren', line);
          toks.push({ kind: 'rightDelim', val: '}}', pos, line });
          pos += 3;
          while (pos < text.length && isSpace(text[pos])) {
            if (text[pos] === '\n') line++;
            pos++;
          }
          break;
        }
        toks.push({ kind: 'space', val: text.slice(start, pos), pos: start, line });
        continue;
      }
      if (text.startsWith('}}', pos)) {
        if (parenDepth > 0) fail('unclosed left paren', line);
        toks.push({ kind: 'rightDelim', val: '}}', pos, line });
        pos += 2;
        break;
      }
      const start = pos;
      if (c === '"') {
        pos++;
        while (pos < text.length && text[pos] !== '"') {
          if (text[pos] === '\\') pos++;
          if (text[pos] === '\n' || pos >= text.length) fail('unterminated quoted string', line);
          pos++;
        }
        if (pos >= text.length) fail('unterminated quoted string', line);
        pos++;
        toks.push({ kind: 'string', val: text.slice(start, pos), pos: start, line });
      } else if (c === '`') {
        const end = text.indexOf('`', pos + 1);
        if (end < 0) fail('unterminated raw quoted string', line);
        line += countNewlines(text, pos, end);
        pos = end + 1;
        toks.push({ kind: 'rawString', val: text.slice(start, pos), pos: start, line });
      } else if (c === "'") {
        pos++;
        while (pos < text.length && text[pos] !== "'") {
          if (text[pos] === '\\') pos++;
          pos++;
        }
        if (pos >= text.length) fail('unterminated character constant', line);
        pos++;
        toks.push({ kind: 'char', val: text.slice(start, pos), pos: start, line });
      } else if (c === '$') {
        pos++;
        while (pos < text.length && isAlnum(text[pos])) pos++;
        toks.push({ kind: 'variable', val: text.slice(start, pos), pos: start, line });
      } else if (c === '.') {
        if (/[0-9]/.test(text[pos + 1] ?? '')) {
          pos = scanNumber(text, pos);
          toks.push({ kind: 'number', val: text.slice(start, pos), pos: start, line });
        } else {
          pos++;
          while (pos < text.length && isAlnum(text[pos])) pos++;
          toks.push({ kind: pos - start === 1 ? 'dot' : 'field', val: text.slice(start, pos), pos: start, line });
        }
      } else if (c === '+' || c === '-' || /[0-9]/.test(c)) {
        pos = scanNumber(text, pos);
        if (pos === start || (pos === start + 1 && (c === '+' || c === '-'))) fail(`bad number syntax: "${text.slice(start, start + 2)}"`, line);
        toks.push({ kind: 'number', val: text.slice(start, pos), pos: start, line });
      } else if (isAlnum(c)) {
        while (pos < text.length && isAlnum(text[pos])) pos++;
        const word = text.slice(start, pos);
        const kind: TokKind = KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier';
        toks.push({ kind, val: word, pos: start, line });
      } else if (c === '(') {
        parenDepth++;
        pos++;
        toks.push({ kind: 'leftParen', val: c, pos: start, line });
      } else if (c === ')') {
        parenDepth--;
        if (parenDepth < 0) fail('unexpected ")" in command', line);
        pos++;
        toks.push({ kind: 'rightParen', val: c, pos: start, line });
      } else if (c === '|') {
        pos++;
        toks.push({ kind: 'pipe', val: c, pos: start, line });
      } else if (c === ',') {
        pos++;
        toks.push({ kind: 'comma', val: c, pos: start, line });
      } else if (c === ':' && text[pos + 1] === '=') {
        pos += 2;
        toks.push({ kind: 'declare', val: ':=', pos: start, line });
      } else if (c === '=') {
        pos++;
        toks.push({ kind: 'assign', val: '=', pos: start, line });
      } else {
        const prev = [...toks].reverse().find((t) => t.kind !== 'space')?.kind;
        const afterOperand = prev === 'field' || prev === 'variable' || prev === 'dot' || prev === 'identifier' || prev === 'string' || prev === 'number' || prev === 'rightParen';
        fail(`unexpected ${JSON.stringify(c)} in ${afterOperand ? 'operand' : 'command'}`, line);
      }
    }
  }
  toks.push({ kind: 'eof', val: '', pos: text.length, line });
  return toks;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text[i] === '\n') n++;
  return n;
}

function scanNumber(text: string, start: number): number {
  let pos = start;
  if (text[pos] === '+' || text[pos] === '-') pos++;
  if (text[pos] === '0' && /[xX]/.test(text[pos + 1] ?? '')) {
    pos += 2;
    while (/[0-9a-fA-F_]/.test(text[pos] ?? '')) pos++;
    return pos;
  }
  while (/[0-9_]/.test(text[pos] ?? '')) pos++;
  if (text[pos] === '.') {
    pos++;
    while (/[0-9_]/.test(text[pos] ?? '')) pos++;
  }
  if (/[eE]/.test(text[pos] ?? '')) {
    pos++;
    if (text[pos] === '+' || text[pos] === '-') pos++;
    while (/[0-9_]/.test(text[pos] ?? '')) pos++;
  }
  return pos;
}

/** unquoteGo decodes a Go interpreted string literal (without validation beyond the basics). */
export function unquoteGo(quoted: string): string {
  if (quoted.startsWith('`')) return quoted.slice(1, -1);
  const body = quoted.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case "'": out += "'"; break;
      case 'x': out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; break;
      case 'u': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16)); i += 4; break;
      case 'U': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16)); i += 8; break;
      default:
        if (e >= '0' && e <= '7') {
          out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else {
          throw new TemplateParseError(`invalid syntax`);
        }
    }
  }
  return out;
}

/** TemplateParseOptions say which function names exist (Go checks them at parse time). */
export interface TemplateParseOptions {
  readonly functions: ReadonlySet<string>;
}

class Parser {
  private i = 0;
  private vars: string[][] = [['$']];
  readonly defines = new Map<string, TemplateNode[]>();

  constructor(
    private readonly name: string,
    private readonly toks: Token[],
    private readonly opts: TemplateParseOptions,
  ) {}

  private fail(msg: string, tok: Token = this.peek()): never {
    throw new TemplateParseError(`template: ${this.name}:${tok.line}: ${msg}`);
  }

  private peek(): Token {
    return this.toks[this.i];
  }

  private next(): Token {
    return this.toks[this.i++];
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.kind === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }

  parseRoot(): TemplateNode[] {
    const { list, end } = this.parseList(new Set());
    if (end !== undefined) this.fail(`unexpected ${end}`);
    return list;
  }

  /** parseList reads nodes until EOF or an `end`/`else` action, which it consumes and returns. */
  private parseList(stops: ReadonlySet<string>): { list: TemplateNode[]; end?: string; endTok?: Token } {
    const list: TemplateNode[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') {
        if (stops.size > 0) this.fail('unexpected EOF', t);
        return { list };
      }
      if (t.kind === 'text') {
        list.push({ kind: 'text', text: t.val });
        continue;
      }
      if (t.kind !== 'leftDelim') this.fail(`unexpected ${t.val}`, t);
      const k = this.peekNonSpace();
      if (k.kind === 'keyword') {
        this.nextNonSpace();
        switch (k.val) {
          case 'end':
            this.expectRight('end');
            if (!stops.has('end')) this.fail('unexpected {{end}}', k);
            return { list, end: 'end', endTok: k };
          case 'else':
            if (!stops.has('else')) this.fail('unexpected {{else}}', k);
            return { list, end: 'else', endTok: k };
          case 'if':
          case 'with':
          case 'range':
            list.push(this.parseControl(k.val, k));
            continue;
          case 'break':
          case 'continue':
            this.expectRight(k.val);
            list.push({ kind: k.val, pos: k.pos });
            continue;
          case 'define':
          case 'block':
          case 'template': {
            list.push(...this.parseTemplateAction(k.val, k));
            continue;
          }
          default:
            this.fail(`unexpected <${k.val}>`, k);
        }
      }
      const pipe = this.parsePipeline('command', k);
      list.push({ kind: 'action', pos: k.pos, pipe });
    }
  }

  /** parseTemplateAction handles `{{define "x"}}`, `{{template "x" [pipe]}}` and `{{block "x" pipe}}`. */
  private parseTemplateAction(kind: string, kw: Token): TemplateNode[] {
    const nameTok = this.nextNonSpace();
    if (nameTok.kind !== 'string' && nameTok.kind !== 'rawString') this.fail(`unexpected ${describe(nameTok)} in ${kind} clause`, nameTok);
    const name = unquoteGo(nameTok.val);
    let pipe: PipeNode | undefined;
    if (kind === 'define') {
      this.expectRight('define clause');
    } else if (this.peekNonSpace().kind === 'rightDelim') {
      if (kind === 'block') this.fail('missing value for block clause', kw);
      this.nextNonSpace();
    } else {
      pipe = this.parsePipeline(`${kind} clause`, kw);
    }
    if (kind === 'template') return [{ kind: 'template', pos: nameTok.pos, name, pipe }];
    // A defined template sees only `$` (its own dot), not the caller's variables.
    const saved = this.vars;
    this.vars = [['$']];
    const body = this.parseList(new Set(['end']));
    this.vars = saved;
    if (this.defines.has(name)) this.fail(`template: multiple definition of template "${name}"`, kw);
    this.defines.set(name, body.list);
    return kind === 'block' ? [{ kind: 'template', pos: nameTok.pos, name, pipe }] : [];
  }

  private expectRight(context: string): void {
    const t = this.nextNonSpace();
    if (t.kind !== 'rightDelim') this.fail(`unexpected ${describe(t)} in ${context}`, t);
  }

  private parseControl(kind: 'if' | 'with' | 'range', kw: Token): TemplateNode {
    this.vars.push([]);
    const pipe = this.parsePipeline(kind, kw);
    const body = this.parseList(new Set(['end', 'else']));
    let elseList: TemplateNode[] | undefined;
    if (body.end === 'else') {
      const after = this.peekNonSpace();
      if ((kind === 'if' || kind === 'with') && after.kind === 'keyword' && after.val === kind) {
        // `{{else if ...}}` is an `if` nested in the else branch sharing this `end`.
        this.nextNonSpace();
        const nested = this.parseControl(kind, after);
        elseList = [nested];
      } else {
        this.expectRight('else');
        const rest = this.parseList(new Set(['end', 'else']));
        if (rest.end === 'else') this.fail('expected end; found {{else}}', rest.endTok);
        elseList = rest.list;
      }
    }
    this.vars.pop();
    return { kind, pos: kw.pos, pipe, list: body.list, elseList };
  }

  private parsePipeline(context: string, startTok: Token): PipeNode {
    const decls: string[] = [];
    let isAssign = false;
    // Declarations: `$x :=`, `$x =`, `$k, $v :=` (range).
    const save = this.i;
    const v = this.nextNonSpace();
    if (v.kind === 'variable') {
      const op = this.nextNonSpace();
      if (op.kind === 'declare' || op.kind === 'assign') {
        decls.push(v.val);
        isAssign = op.kind === 'assign';
      } else if (op.kind === 'comma' && context === 'range') {
        const v2 = this.nextNonSpace();
        const op2 = this.nextNonSpace();
        if (v2.kind !== 'variable' || (op2.kind !== 'declare' && op2.kind !== 'assign')) this.fail('range can only initialize variables', v2);
        decls.push(v.val, v2.val);
        isAssign = op2.kind === 'assign';
      } else {
        this.i = save;
      }
    } else {
      this.i = save;
    }
    if (isAssign) {
      for (const d of decls) if (!this.isDeclared(d)) this.fail(`undefined variable "${d}"`, v);
    }
    const cmds: CommandNode[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.kind === 'rightDelim') {
        this.nextNonSpace();
        break;
      }
      if (t.kind === 'rightParen' && context === 'parenthesized') break;
      if (t.kind === 'eof') this.fail('unclosed action', t);
      cmds.push(this.parseCommand(context));
      const sep = this.peekNonSpace();
      if (sep.kind === 'pipe') {
        this.nextNonSpace();
        if (cmds[cmds.length - 1].args.length === 0) this.fail('missing command', sep);
        continue;
      }
    }
    if (cmds.length === 0) this.fail(`missing value for ${context}`, startTok);
    for (let j = 1; j < cmds.length; j++) {
      const first = cmds[j].args[0];
      if (first.kind === 'bool' || first.kind === 'dot' || first.kind === 'nil' || first.kind === 'number' || first.kind === 'string') {
        this.fail(`non executable command in pipeline stage ${j + 1}`, startTok);
      }
    }
    if (!isAssign) for (const d of decls) this.vars[this.vars.length - 1].push(d);
    return { pos: startTok.pos, decls, isAssign, cmds };
  }

  private isDeclared(name: string): boolean {
    return this.vars.some((scope) => scope.includes(name));
  }

  private parseCommand(context: string): CommandNode {
    const args: ArgNode[] = [];
    const first = this.peekNonSpace();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'space') {
        this.next();
        continue;
      }
      if (t.kind === 'rightDelim' || t.kind === 'pipe' || (t.kind === 'rightParen' && context === 'parenthesized')) break;
      if (t.kind === 'rightParen') this.fail(`unexpected right paren U+0029 ')'`, t);
      if (t.kind === 'eof') this.fail('unclosed action', t);
      const operand = this.parseOperand();
      args.push(operand);
      const after = this.peek();
      if (after.kind !== 'space' && after.kind !== 'rightDelim' && after.kind !== 'pipe' && after.kind !== 'rightParen') {
        this.fail(`unexpected ${describe(after)} in operand`, after);
      }
    }
    if (args.length === 0) this.fail('empty command', first);
    return { pos: first.pos, args };
  }

  private parseOperand(): ArgNode {
    const t = this.next();
    let node: ArgNode;
    switch (t.kind) {
      case 'field': {
        // Go positions a chained operand (`.A.B`, `$x.A`) at its first chained field.
        const chainPos = this.peek().kind === 'field' ? this.peek().pos : t.pos;
        node = { kind: 'field', pos: chainPos, idents: [...t.val.slice(1).split('.'), ...this.fieldChain()] };
        return node;
      }
      case 'variable': {
        if (!this.isDeclared(t.val)) this.fail(`undefined variable "${t.val}"`, t);
        const chainPos = this.peek().kind === 'field' ? this.peek().pos : t.pos;
        node = { kind: 'variable', pos: chainPos, name: t.val, idents: this.fieldChain() };
        return node;
      }
      case 'dot':
        return { kind: 'dot', pos: t.pos };
      case 'identifier':
        if (!this.opts.functions.has(t.val)) this.fail(`function "${t.val}" not defined`, t);
        return { kind: 'identifier', pos: t.pos, name: t.val };
      case 'string':
      case 'rawString': {
        let text: string;
        try {
          text = unquoteGo(t.val);
        } catch {
          this.fail(`invalid syntax`, t);
        }
        return { kind: 'string', pos: t.pos, text, quoted: t.val };
      }
      case 'char': {
        const ch = unquoteGo(`"${t.val.slice(1, -1)}"`);
        return { kind: 'number', pos: t.pos, text: t.val, isInt: true, value: ch.codePointAt(0) ?? 0 };
      }
      case 'number':
        return this.number(t);
      case 'bool':
        return { kind: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'nil':
        return { kind: 'nil', pos: t.pos };
      case 'leftParen': {
        const pipe = this.parsePipeline('parenthesized', t);
        const close = this.next();
        if (close.kind !== 'rightParen') this.fail('unclosed left paren', close);
        return { kind: 'pipe', pos: t.pos, pipe, idents: this.fieldChain() };
      }
      default:
        this.fail(`unexpected ${describe(t)} in operand`, t);
    }
  }

  private fieldChain(): string[] {
    const idents: string[] = [];
    while (this.peek().kind === 'field') idents.push(...this.next().val.slice(1).split('.'));
    return idents;
  }

  private number(t: Token): ArgNode {
    const clean = t.val.replace(/_/g, '');
    const isHex = /^[+-]?0[xX]/.test(clean);
    const value = isHex ? (clean.startsWith('-') ? -parseInt(clean.slice(3), 16) : parseInt(clean.replace(/^\+/, '').slice(2), 16)) : Number(clean);
    if (Number.isNaN(value)) this.fail(`bad number syntax: "${t.val}"`, t);
    // Go treats a constant as float only when it is written with '.', 'e' or 'E'.
    const isInt = isHex || !/[.eE]/.test(clean);
    return { kind: 'number', pos: t.pos, text: t.val, isInt: isInt && Number.isInteger(value), value };
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'EOF';
  if (t.kind === 'rightDelim') return '"}}"';
  return `<${t.val}>`;
}

/** parseTemplate parses template `text` named `name` (the name appears in error messages). */
export function parseTemplate(name: string, text: string, opts: TemplateParseOptions): ParsedTemplate {
  const toks = lex(name, text);
  const parser = new Parser(name, toks, opts);
  const root = parser.parseRoot();
  return { name, text, root, defines: parser.defines };
}
