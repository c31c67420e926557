/**
 * YamlFile: one parsed YAML file that remembers where every node came from, so that errors name
 * `FILE:LINE:COL`. Two ways to read it: by key path (`positionOf`, for files validated as plain
 * values against a schema) or node by node into typed values, the way Go's yaml.v3
 * `KnownFields(true)` decoding into Prometheus' structs behaves (`fields`, `string`, `int`, ...:
 * unknown keys, wrong kinds and duplicate keys become `issues`, each with its line and column).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Pair, YAMLMap } from 'yaml';

/** YamlPos is a 1-based line and column, as yaml.v3 reports them. */
export interface YamlPos {
  readonly line: number;
  readonly col: number;
}

/** YamlIssue is one problem found while reading a YAML file. */
export interface YamlIssue {
  readonly pos: YamlPos | undefined;
  readonly message: string;
}

/** YamlPath is a key path into a document (`['probes', 'delivery', 'timeout']`, `['alerting', 'alertmanagers', 0]`). */
export type YamlPath = readonly (string | number)[];

export interface YamlFileOptions {
  /**
   * Whether a repeated key is a syntax error (the default). Without, the last one wins in `doc`
   * and the typed readers report it in yaml.v3's words (`mapping key "x" already defined`).
   */
  readonly uniqueKeys?: boolean;
}

export class YamlFile {
  readonly doc: Document.Parsed;
  /** The top node, or null when the file is empty or has syntax errors. */
  readonly root: Node | null;
  /** Syntax errors, in the order of the text; their messages name no position. */
  readonly syntaxErrors: YamlIssue[] = [];
  /** What the typed readers found wrong, in yaml.v3's words; syntax errors first (`yaml: ...`). */
  readonly issues: YamlIssue[] = [];
  private readonly lines = new LineCounter();

  /** `file` is how messages name the file. */
  constructor(
    readonly file: string,
    text: string,
    options: YamlFileOptions = {},
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: options.uniqueKeys ?? true, merge: false, prettyErrors: false });
    for (const e of this.doc.errors) {
      const p = this.lines.linePos(e.pos[0]);
      const issue = { pos: { line: p.line, col: p.col }, message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '') };
      this.syntaxErrors.push(issue);
      this.issues.push({ ...issue, message: `yaml: ${issue.message}` });
    }
    this.root = this.doc.errors.length > 0 ? null : (this.doc.contents as Node | null);
  }

  /**
   * positionOf returns where `path` is written: the value for `at: 'value'` (wrong types, bad
   * values), the key for `at: 'key'` (unknown keys). A path that does not exist in the file
   * (a missing key) falls back to its nearest existing ancestor, then to 1:1.
   */
  positionOf(path: YamlPath, at: 'key' | 'value' = 'value'): YamlPos {
    for (let n = path.length; n >= 0; n--) {
      const found = this.locate(path.slice(0, n));
      if (!found) continue;
      const preferKey = at === 'key' || n < path.length;
      const pos = (preferKey ? this.start(found.keyNode) : undefined) ?? this.start(found.valueNode) ?? this.start(found.keyNode);
      if (pos) return pos;
    }
    return { line: 1, col: 1 };
  }

  /** locate finds the node at `path`, and the mapping key naming it when the last step was a key. */
  private locate(path: YamlPath): { keyNode?: Node; valueNode: Node | null } | undefined {
    let node: unknown = this.doc.contents;
    let keyNode: Node | undefined;
    for (const step of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
        if (!pair) return undefined;
        keyNode = pair.key as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof step === 'number') {
        const item = node.items[step];
        if (item === undefined) return undefined;
        keyNode = undefined;
        node = item;
      } else {
        return undefined;
      }
    }
    return { keyNode, valueNode: (node as Node | null | undefined) ?? null };
  }

  /** start is where a node's text begins. */
  private start(node: Node | null | undefined): YamlPos | undefined {
    if (!node?.range) return undefined;
    const p = this.lines.linePos(node.range[0]);
    return { line: p.line, col: p.col };
  }

  /** pos is the position of a node (the first key of a mapping, like yaml.v3). */
  pos(node: Node | null | undefined): YamlPos | undefined {
    if (!node?.range) return undefined;
    let offset = node.range[0];
    if (isMap(node) && node.items.length > 0) {
      const k = node.items[0].key as Node | null;
      if (k?.range) offset = k.range[0];
    }
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  issue(node: Node | null | undefined, message: string): void {
    this.issues.push({ pos: this.pos(node), message });
  }

  /**
   * fields reads a mapping whose keys must be among `known` (Go type `typeName` for the error).
   * Returns key → pair, or undefined if the node is not a mapping (null counts as empty).
   */
  fields(node: Node | null | undefined, typeName: string, known: readonly string[]): Map<string, Pair<Node, Node | null>> | undefined {
    const out = new Map<string, Pair<Node, Node | null>>();
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return out;
    if (!isMap(node)) {
      this.issue(node, `cannot unmarshal ${describe(node)} into ${typeName}`);
      return undefined;
    }
    for (const pair of (node as YAMLMap<Node, Node | null>).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) {
        this.issue(pair.key, `cannot unmarshal non-scalar key into ${typeName}`);
        continue;
      }
      if (out.has(key)) {
        this.issue(pair.key, `mapping key "${key}" already defined at line ${this.pos(out.get(key)?.key)?.line ?? 0}`);
        continue;
      }
      if (!known.includes(key)) {
        this.issue(pair.key, `field ${key} not found in type ${typeName}`);
        continue;
      }
      out.set(key, pair);
    }
    return out;
  }

  /** string reads a scalar as Go decodes it into a string field (its source text). */
  string(node: Node | null | undefined): string | undefined {
    if (node === null || node === undefined) return undefined;
    if (isScalar(node)) {
      if (node.value === null) return '';
      return typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
    }
    this.issue(node, `cannot unmarshal ${describe(node)} into string`);
    return undefined;
  }

  /** int reads an integer scalar. */
  int(node: Node | null | undefined): number | undefined {
    if (node === null || node === undefined) return undefined;
    if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value)) return node.value;
    if (isScalar(node) && node.value === null) return 0;
    this.issue(node, `cannot unmarshal ${describe(node)} into int`);
    return undefined;
  }

  /** float reads a number scalar (`.inf`, `.nan`, `1e3`, `0x10` resolve as numbers; quoted text does not, as in yaml.v3). */
  float(node: Node | null | undefined): number | undefined {
    if (node === null || node === undefined) return undefined;
    if (isScalar(node) && typeof node.value === 'number') return node.value;
    this.issue(node, `cannot unmarshal ${describe(node)} into float64`);
    return undefined;
  }

  /** stringMap reads a `map[string]string`, keeping each key's node for positions. */
  stringMap(node: Node | null | undefined): Array<{ key: string; value: string; keyNode: Node; valueNode: Node | null }> | undefined {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isMap(node)) {
      this.issue(node, `cannot unmarshal ${describe(node)} into map[string]string`);
      return undefined;
    }
    const out: Array<{ key: string; value: string; keyNode: Node; valueNode: Node | null }> = [];
    const seen = new Map<string, number>();
    for (const pair of (node as YAMLMap<Node, Node | null>).items) {
      const key = this.string(pair.key);
      if (key === undefined) continue;
      if (seen.has(key)) {
        this.issue(pair.key, `mapping key "${key}" already defined at line ${seen.get(key) ?? 0}`);
        continue;
      }
      seen.set(key, this.pos(pair.key)?.line ?? 0);
      const value = pair.value === null ? '' : this.string(pair.value);
      if (value === undefined) continue;
      out.push({ key, value, keyNode: pair.key, valueNode: pair.value });
    }
    return out;
  }

  /**
   * list reads a `[]T` of structs: each element a mapping of `known` keys (Go type `typeName`),
   * turned into a value by `read` before the next element is looked at; an element that is not a
   * mapping is reported and left out.
   */
  list<T>(node: Node | null | undefined, typeName: string, known: readonly string[], read: (fields: Map<string, Pair<Node, Node | null>>) => T): T[] {
    const out: T[] = [];
    for (const item of this.seq(node, `[]${typeName}`) ?? []) {
      const fields = this.fields(item, typeName, known);
      if (fields) out.push(read(fields));
    }
    return out;
  }

  /** seq reads a sequence (null counts as empty). */
  seq(node: Node | null | undefined, typeName: string): Array<Node | null> | undefined {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) {
      this.issue(node, `cannot unmarshal ${describe(node)} into ${typeName}`);
      return undefined;
    }
    return node.items as Array<Node | null>;
  }
}

function describe(node: Node): string {
  if (isMap(node)) return '!!map';
  if (isSeq(node)) return '!!seq';
  if (isScalar(node)) {
    const v = node.value;
    const kind = typeof v === 'number' ? (Number.isInteger(v) ? '!!int' : '!!float') : typeof v === 'boolean' ? '!!bool' : '!!str';
    return `${kind} \`${String(node.source ?? v)}\``;
  }
  return 'node';
}

/** formatPath prints a path the way messages show it: `alerting.alertmanagers[0].url`. */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else out += out === '' ? step : `.${step}`;
  }
  return out === '' ? '(top level)' : out;
}
