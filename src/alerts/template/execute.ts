/**
 * The executor of parsed templates, with Go text/template's semantics for the subset Prometheus
 * uses: `missingkey=zero` map lookups, lazy `and`/`or`, typed comparisons, and errors that read
 * like Go's (`template: NAME:1:80: executing "NAME" at <humanize "x">: error calling humanize: ...`).
 */
import type { ArgNode, CommandNode, ParsedTemplate, PipeNode, TemplateNode } from './parse.js';
import { GoInt, GoMap, GoStruct, goTypeName, printValue, truth } from './values.js';
import type { TemplateValue } from './values.js';

/** TemplateExecError is a failure while executing a template (a function error, a bad field). */
export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

/** ParamKind is how an argument is converted before a function sees it. */
export type ParamKind = 'any' | 'string' | 'float' | 'bool' | 'int';

/**
 * TemplateFunction is one callable template function. It throws `Error` for Go's
 * `(T, error)` failures; the executor wraps it as `error calling NAME: ...`.
 */
export interface TemplateFunction {
  readonly params: readonly ParamKind[];
  /** variadic: the last param kind repeats. */
  readonly variadic?: boolean;
  call(args: readonly TemplateValue[]): TemplateValue;
}

/** FunctionTable maps function names to implementations. */
export type FunctionTable = ReadonlyMap<string, TemplateFunction>;

/** MAX_TEMPLATE_DEPTH bounds `{{template}}` recursion (Go allows 100000; the JS stack does not). */
const MAX_TEMPLATE_DEPTH = 1000;

class Break {}
class Continue {}

interface Frame {
  readonly name: string;
  value: TemplateValue;
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  const line = 1 + (before.match(/\n/g)?.length ?? 0);
  const col = nl < 0 ? pos : pos - nl - 1;
  return `${line}:${col}`;
}

/** argString is Go's parse.Node String() for an operand. */
function argString(a: ArgNode): string {
  switch (a.kind) {
    case 'field':
      return `.${a.idents.join('.')}`;
    case 'variable':
      return [a.name, ...a.idents].join('.');
    case 'dot':
      return '.';
    case 'identifier':
      return a.name;
    case 'string':
      return a.quoted;
    case 'number':
      return a.text;
    case 'bool':
      return a.value ? 'true' : 'false';
    case 'nil':
      return 'nil';
    case 'pipe':
      return `(${pipeString(a.pipe)})${a.idents.map((i) => `.${i}`).join('')}`;
  }
}

function cmdString(c: CommandNode): string {
  return c.args.map(argString).join(' ');
}

function pipeString(p: PipeNode): string {
  const decl = p.decls.length > 0 ? `${p.decls.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(cmdString).join(' | ');
}

class State {
  private vars: Frame[];
  private depth = 0;
  out = '';

  constructor(
    private readonly tmpl: ParsedTemplate,
    private readonly funcs: FunctionTable,
    data: TemplateValue,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  fail(pos: number, context: string, msg: string): never {
    throw new TemplateExecError(`template: ${this.tmpl.name}:${lineCol(this.tmpl.text, pos)}: executing "${this.tmpl.name}" at <${context}>: ${msg}`);
  }

  walkList(list: readonly TemplateNode[], dot: TemplateValue): void {
    for (const n of list) this.walk(n, dot);
  }

  private walk(n: TemplateNode, dot: TemplateValue): void {
    switch (n.kind) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = this.evalPipeline(dot, n.pipe);
        // Go's template printer shows a nil (invalid) value as "<no value>"; fmt would say "<nil>".
        if (n.pipe.decls.length === 0) this.out += v === null ? '<no value>' : printValue(v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, n.pipe);
        if (truth(v)) this.walkList(n.list, n.kind === 'with' ? v : dot);
        else if (n.elseList) this.walkList(n.elseList, dot);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.walkRange(n, dot);
        return;
      case 'template': {
        const body = this.tmpl.defines.get(n.name);
        const context = `{{template ${JSON.stringify(n.name)}${n.pipe ? ` ${pipeString(n.pipe)}` : ''}}}`;
        if (!body) this.fail(n.pos, context, `template "${n.name}" not defined`);
        const value = n.pipe ? this.evalPipeline(dot, n.pipe) : null;
        if (this.depth >= MAX_TEMPLATE_DEPTH) this.fail(n.pos, context, `exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
        this.depth++;
        // The called template gets a fresh variable scope: only `$`, bound to its dot.
        const saved = this.vars;
        this.vars = [{ name: '$', value }];
        try {
          this.walkList(body, value);
        } finally {
          this.vars = saved;
          this.depth--;
        }
        return;
      }
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
    }
  }

  private walkRange(n: Extract<TemplateNode, { kind: 'range' }>, dot: TemplateValue): void {
    const mark = this.vars.length;
    // The range pipeline's declarations name the key/element, not the pipeline's value.
    const v = this.evalPipeline(dot, { ...n.pipe, decls: [] });
    const items: Array<[TemplateValue, TemplateValue]> = [];
    if (Array.isArray(v)) {
      (v as readonly TemplateValue[]).forEach((e, i) => items.push([new GoInt(i), e]));
    } else if (v instanceof GoMap) {
      for (const k of [...v.entries.keys()].sort()) items.push([k, v.entries.get(k) ?? null]);
    } else if (v !== null) {
      this.fail(n.pos, `range ${pipeString(n.pipe)}`, `range can't iterate over ${printValue(v)}`);
    }
    if (items.length === 0) {
      if (n.elseList) this.walkList(n.elseList, dot);
      this.vars.length = mark;
      return;
    }
    for (const [key, elem] of items) {
      const inner = this.vars.length;
      if (n.pipe.decls.length === 1) this.vars.push({ name: n.pipe.decls[0], value: elem });
      if (n.pipe.decls.length === 2) {
        this.vars.push({ name: n.pipe.decls[0], value: key });
        this.vars.push({ name: n.pipe.decls[1], value: elem });
      }
      try {
        this.walkList(n.list, elem);
      } catch (err) {
        if (err instanceof Break) {
          this.vars.length = inner;
          break;
        }
        if (!(err instanceof Continue)) throw err;
      }
      this.vars.length = inner;
    }
    this.vars.length = mark;
  }

  private lookupVar(name: string): Frame {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i];
    throw new TemplateExecError(`undefined variable: ${name}`);
  }

  evalPipeline(dot: TemplateValue, pipe: PipeNode): TemplateValue {
    let value: TemplateValue | undefined;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const result = value ?? null;
    if (pipe.decls.length > 0) {
      if (pipe.isAssign) this.lookupVar(pipe.decls[0]).value = result;
      else this.vars.push({ name: pipe.decls[0], value: result });
    }
    return result;
  }

  private evalCommand(dot: TemplateValue, cmd: CommandNode, final: TemplateValue | undefined): TemplateValue {
    const first = cmd.args[0];
    if (first.kind === 'identifier') return this.evalFunction(dot, first.name, cmd, final);
    const notFunc = (): void => {
      if (cmd.args.length > 1 || final !== undefined) this.fail(cmd.pos, cmdString(cmd), `can't give argument to non-function ${argString(first)}`);
    };
    notFunc();
    return this.evalArg(dot, first, cmd);
  }

  private evalArg(dot: TemplateValue, a: ArgNode, cmd: CommandNode): TemplateValue {
    switch (a.kind) {
      case 'field':
        return this.evalFields(dot, a.idents, a.pos, argString(a));
      case 'variable':
        return this.evalFields(this.lookupVar(a.name).value, a.idents, a.pos, argString(a));
      case 'dot':
        return dot;
      case 'string':
        return a.text;
      case 'number':
        return a.isInt ? new GoInt(a.value) : a.value;
      case 'bool':
        return a.value;
      case 'nil':
        return this.fail(a.pos, cmdString(cmd), 'nil is not a command');
      case 'pipe': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, a.pipe);
        this.vars.length = mark;
        return this.evalFields(v, a.idents, a.pos, argString(a));
      }
      case 'identifier':
        return this.evalFunction(dot, a.name, { pos: a.pos, args: [a] }, undefined);
    }
  }

  private evalFields(v: TemplateValue, idents: readonly string[], pos: number, context: string): TemplateValue {
    let cur = v;
    for (const id of idents) {
      if (cur instanceof GoMap) {
        cur = cur.entries.has(id) ? (cur.entries.get(id) ?? null) : cur.elemZero;
      } else if (cur instanceof GoStruct && Object.hasOwn(cur.fields, id)) {
        cur = cur.fields[id];
      } else if (cur === null) {
        this.fail(pos, context, `nil pointer evaluating interface {}.${id}`);
      } else {
        this.fail(pos, context, `can't evaluate field ${id} in type ${goTypeName(cur)}`);
      }
    }
    return cur;
  }

  private evalFunction(dot: TemplateValue, name: string, cmd: CommandNode, final: TemplateValue | undefined): TemplateValue {
    const argNodes = cmd.args.slice(1);
    const context = cmdString(cmd);
    // and/or evaluate lazily and return the deciding operand (Go 1.18+).
    if (name === 'and' || name === 'or') {
      const n = argNodes.length + (final === undefined ? 0 : 1);
      if (n < 1) this.fail(cmd.pos, context, `wrong number of args for ${name}: want at least 1 got 0`);
      let last: TemplateValue = null;
      for (let i = 0; i < n; i++) {
        last = i < argNodes.length ? this.evalArg(dot, argNodes[i], cmd) : (final ?? null);
        if (name === 'and' ? !truth(last) : truth(last)) return last;
      }
      return last;
    }
    const fn = this.funcs.get(name);
    if (!fn) return this.fail(cmd.pos, context, `"${name}" is not a defined function`);
    const raw: Array<{ value: TemplateValue; node?: ArgNode }> = argNodes.map((a) => ({ value: this.evalArg(dot, a, cmd), node: a }));
    if (final !== undefined) raw.push({ value: final });
    const want = fn.params.length;
    if (fn.variadic ? raw.length < want - 1 : raw.length !== want) {
      this.fail(cmd.pos, context, `wrong number of args for ${name}: want ${fn.variadic ? 'at least ' + (want - 1) : want} got ${raw.length}`);
    }
    const args = raw.map((r, i) => {
      const kind = fn.params[Math.min(i, want - 1)];
      return this.convert(r.value, kind, r.node, cmd);
    });
    try {
      return fn.call(args);
    } catch (err) {
      if (err instanceof TemplateExecError) throw err;
      return this.fail(cmd.pos, context, `error calling ${name}: ${(err as Error).message}`);
    }
  }

  private convert(v: TemplateValue, kind: ParamKind, node: ArgNode | undefined, cmd: CommandNode): TemplateValue {
    const isConst = node?.kind === 'number' || node?.kind === 'string' || node?.kind === 'bool';
    switch (kind) {
      case 'any':
        return v;
      case 'string':
        if (typeof v === 'string') return v;
        break;
      case 'float':
        if (typeof v === 'number') return v;
        if (v instanceof GoInt && node?.kind === 'number') return v.value;
        break;
      case 'int':
        if (v instanceof GoInt) return v;
        break;
      case 'bool':
        if (typeof v === 'boolean') return v;
        break;
    }
    if (isConst && node) {
      const expected = kind === 'float' ? 'float64' : kind;
      return this.fail(node.pos, argString(node), `expected ${expected}; found ${argString(node)}`);
    }
    const expected = kind === 'float' ? 'float64' : kind;
    return this.fail(cmd.pos, cmdString(cmd), `wrong type for value; expected ${expected}; got ${goTypeName(v)}`);
  }
}

/** executeTemplate runs a parsed template over `data` and returns the text it writes. */
export function executeTemplate(tmpl: ParsedTemplate, data: TemplateValue, funcs: FunctionTable): string {
  const st = new State(tmpl, funcs, data);
  st.walkList(tmpl.root, data);
  return st.out;
}
