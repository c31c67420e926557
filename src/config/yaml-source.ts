/**
 * YamlSource: a parsed YAML file that remembers where every node came from, so validation
 * errors can name `FILE:LINE:COL`.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import { ConfigError } from '../errors.js';

/** ConfigPath is a key path into a document (`['probes', 'delivery', 'timeout']`, `['alerting', 'alertmanagers', 0]`). */
export type ConfigPath = readonly (string | number)[];

/** SourcePos is a 1-based line and column. */
export interface SourcePos {
  readonly line: number;
  readonly col: number;
}

/** YamlSource is one parsed file: its name (as given by the user), its document and its line table. */
export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/** parseYamlSource parses YAML text; syntax errors become a ConfigError with one line each. */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  if (doc.errors.length > 0) {
    // Only the first syntax error: the parser's later ones are mostly knock-on noise.
    const issues = doc.errors.slice(0, 1).map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      const what = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return `${file}:${pos.line}:${pos.col}: YAML syntax error: ${what}`;
    });
    throw new ConfigError(issues.join('\n'), issues);
  }
  return { file, doc, lineCounter };
}

/**
 * readYamlSource reads and parses a YAML file; an unreadable file is a ConfigError naming it.
 * `displayName` is how messages name the file (default: `path` as given).
 */
export function readYamlSource(path: string, displayName: string = path): YamlSource {
  const file = displayName;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read file (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    const line = `${file}: ${reason}; pass an existing file with --config`;
    throw new ConfigError(line, [line], { cause: err });
  }
  return parseYamlSource(file, text);
}

interface Located {
  /** keyNode is the mapping key naming the node, when the last step was a mapping key. */
  readonly keyNode?: Node;
  readonly valueNode?: Node | null;
}

function locate(source: YamlSource, path: ConfigPath): Located | undefined {
  let node: unknown = source.doc.contents;
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

function nodePos(source: YamlSource, node: Node | null | undefined): SourcePos | undefined {
  const range = node?.range;
  if (!range) return undefined;
  return source.lineCounter.linePos(range[0]);
}

/**
 * positionOf returns where `path` is written: the value for `at: 'value'` (wrong types, bad
 * values), the key for `at: 'key'` (unknown keys). A path that does not exist in the file
 * (a missing key) falls back to its nearest existing ancestor, then to 1:1.
 */
export function positionOf(source: YamlSource, path: ConfigPath, at: 'key' | 'value' = 'value'): SourcePos {
  for (let n = path.length; n >= 0; n--) {
    const found = locate(source, path.slice(0, n));
    if (!found) continue;
    const exact = n === path.length;
    const preferKey = at === 'key' || !exact;
    const pos = (preferKey ? nodePos(source, found.keyNode) : undefined) ?? nodePos(source, found.valueNode ?? undefined) ?? nodePos(source, found.keyNode);
    if (pos) return pos;
  }
  return { line: 1, col: 1 };
}

/** formatPath prints a path the way messages show it: `alerting.alertmanagers[0].url`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else out += out === '' ? step : `.${step}`;
  }
  return out === '' ? '(top level)' : out;
}
