/**
 * rule-file: the Prometheus rule-group file format (`groups[].name|interval|limit|rules`), read
 * and validated like promtool 2.42's `rulefmt`: strict fields, duplicate group names, both or
 * neither of alert/record, durations, label and metric names, recording-rule-only restrictions,
 * expressions that do not parse and templates that do not parse. Every error is
 * `FILE:LINE:COL: ...` and all of them are collected.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Node } from 'yaml';
import { RuleFileError } from '../errors.js';
import type { Labels } from '../store/index.js';
import { parseDurationMs } from '../time/index.js';
import { checkTemplate } from './template/index.js';
import { YamlFile } from '../yaml/index.js';
import type { YamlPos } from '../yaml/index.js';

/** AlertingRuleDefinition is one `alert:` rule as written in a rule file. */
export interface AlertingRuleDefinition {
  readonly kind: 'alerting';
  readonly name: string;
  readonly expr: string;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly labels: Labels;
  readonly annotations: Labels;
  /** line is the 1-based line of the rule in its file. */
  readonly line: number;
}

/** RecordingRuleDefinition is one `record:` rule as written in a rule file. */
export interface RecordingRuleDefinition {
  readonly kind: 'recording';
  readonly name: string;
  readonly expr: string;
  readonly labels: Labels;
  readonly line: number;
}

/** RuleDefinition is either kind of rule. */
export type RuleDefinition = AlertingRuleDefinition | RecordingRuleDefinition;

/** RuleGroupDefinition is one group of a rule file. */
export interface RuleGroupDefinition {
  /** file is the path the group was loaded from (part of the group's identity, with `name`). */
  readonly file: string;
  readonly name: string;
  /** intervalMs is the group's own `interval`, or undefined for "the global default". */
  readonly intervalMs: number | undefined;
  /** limit bounds alerts/series per rule; 0 means no limit. */
  readonly limit: number;
  readonly rules: readonly RuleDefinition[];
  readonly line: number;
}

/** RuleFileDefinition is a whole rule file. */
export interface RuleFileDefinition {
  readonly path: string;
  readonly groups: readonly RuleGroupDefinition[];
}

/** ExprChecker returns an error message if `expr` is not valid PromQL, else undefined. */
export type ExprChecker = (expr: string) => string | undefined;

/** ParseRuleFileOptions tune validation. */
export interface ParseRuleFileOptions {
  /** checkExpr validates expressions (the PromQL parser); without it expressions are not checked. */
  readonly checkExpr?: ExprChecker;
}

/** ParsedRuleFile is the outcome of reading one rule file: what was understood and every error. */
export interface ParsedRuleFile {
  readonly file: RuleFileDefinition;
  readonly errors: readonly string[];
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** isValidLabelName is Prometheus' model.LabelName.IsValid. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}

/** isValidMetricName is Prometheus' model.IsValidMetricName. */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

function at(path: string, pos: YamlPos | undefined): string {
  return pos ? `${path}:${pos.line}:${pos.col}` : `${path}:0:0`;
}

/** parseRuleFile reads and validates the text of one rule file. */
export function parseRuleFile(text: string, path: string, options: ParseRuleFileOptions = {}): ParsedRuleFile {
  // yaml.v3 lets a repeated key through to the decoder, which names it: so do the typed readers.
  const y = new YamlFile(path, text, { uniqueKeys: false });
  const errors: string[] = [];
  const groups: RuleGroupDefinition[] = [];
  const top = y.fields(y.root, 'rulefmt.RuleGroups', ['groups']);
  const groupNodes = top ? y.seq(top.get('groups')?.value, '[]rulefmt.RuleGroup') : undefined;
  const seen = new Set<string>();
  for (const gNode of groupNodes ?? []) {
    const gPos = y.pos(gNode);
    const g = y.fields(gNode, 'rulefmt.RuleGroup', ['name', 'interval', 'limit', 'rules']);
    if (!g) continue;
    const name = y.string(g.get('name')?.value) ?? '';
    if (name === '') errors.push(`${at(path, gPos)}: Groupname must not be empty`);
    if (seen.has(name)) errors.push(`${at(path, gPos)}: groupname: "${name}" is repeated in the same file`);
    seen.add(name);
    const intervalMs = duration(y, g.get('interval')?.value);
    const limit = y.int(g.get('limit')?.value) ?? 0;
    const rules: RuleDefinition[] = [];
    const ruleNodes = y.seq(g.get('rules')?.value, '[]rulefmt.RuleNode') ?? [];
    ruleNodes.forEach((rNode, i) => {
      const rule = parseRule(y, rNode, path, name, i + 1, errors, options);
      if (rule) rules.push(rule);
    });
    groups.push({ file: path, name, intervalMs, limit, rules, line: gPos?.line ?? 0 });
  }
  for (const issue of y.issues) errors.unshift(`${at(path, issue.pos)}: ${issue.message}`);
  return { file: { path, groups }, errors: sortIssues(errors) };
}

/** sortIssues orders `FILE:LINE:COL:` messages by position, keeping the order within a line. */
function sortIssues(errors: string[]): string[] {
  const key = (e: string): [number, number] => {
    const m = /:(\d+):(\d+): /.exec(e);
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  };
  return errors
    .map((e, i) => ({ e, i, k: key(e) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.i - b.i)
    .map((x) => x.e);
}

function duration(y: YamlFile, node: Node | null | undefined): number | undefined {
  if (node === null || node === undefined) return undefined;
  const text = y.string(node);
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    y.issue(node, `not a valid duration string: ${JSON.stringify(text)}`);
    return undefined;
  }
  return ms;
}

const RULE_FIELDS = ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'];

function parseRule(
  y: YamlFile,
  node: Node | null,
  path: string,
  group: string,
  index: number,
  errors: string[],
  options: ParseRuleFileOptions,
): RuleDefinition | undefined {
  const f = y.fields(node, 'rulefmt.RuleNode', RULE_FIELDS);
  if (!f) return undefined;
  const recordNode = f.get('record')?.value ?? null;
  const alertNode = f.get('alert')?.value ?? null;
  const exprNode = f.get('expr')?.value ?? null;
  const record = y.string(recordNode) ?? '';
  const alert = y.string(alertNode) ?? '';
  const expr = y.string(exprNode) ?? '';
  const forNode = f.get('for')?.value;
  const keepNode = f.get('keep_firing_for')?.value;
  const forMs = duration(y, forNode) ?? 0;
  const keepFiringForMs = duration(y, keepNode) ?? 0;
  const labelEntries = y.stringMap(f.get('labels')?.value) ?? [];
  const annotationEntries = y.stringMap(f.get('annotations')?.value) ?? [];
  const ruleName = alert !== '' ? alert : record;
  const prefix = `group "${group}", rule ${index}, "${ruleName}"`;
  const fail = (pos: YamlPos | undefined, msg: string): void => {
    errors.push(`${at(path, pos ?? y.pos(node))}: ${prefix}: ${msg}`);
  };

  if (record !== '' && alert !== '') fail(y.pos(recordNode), "only one of 'record' and 'alert' must be set");
  if (record === '' && alert === '') fail(y.pos(recordNode ?? alertNode ?? node), "one of 'record' or 'alert' must be set");
  if (expr === '') {
    fail(y.pos(exprNode ?? node), "field 'expr' must be set in rule");
  } else if (options.checkExpr) {
    const err = options.checkExpr(expr);
    if (err !== undefined) fail(y.pos(exprNode), `could not parse expression: ${err}`);
  }
  if (record !== '') {
    if (annotationEntries.length > 0) fail(y.pos(recordNode), "invalid field 'annotations' in recording rule");
    if (forMs !== 0) fail(y.pos(recordNode), "invalid field 'for' in recording rule");
    if (keepFiringForMs !== 0) fail(y.pos(recordNode), "invalid field 'keep_firing_for' in recording rule");
    if (!isValidMetricName(record)) fail(y.pos(recordNode), `invalid recording rule name: ${record}`);
  }
  for (const l of [...labelEntries].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    if (!isValidLabelName(l.key) || l.key === '__name__') fail(y.pos(l.keyNode), `invalid label name: ${l.key}`);
  }
  for (const a of [...annotationEntries].sort((p, q) => (p.key < q.key ? -1 : 1))) {
    if (!isValidLabelName(a.key)) fail(y.pos(a.keyNode), `invalid annotation name: ${a.key}`);
  }
  // Templates are only parsed for alerting rules (rulefmt's testTemplateParsing).
  if (alert !== '') {
    for (const l of labelEntries) {
      const err = checkTemplate(`__alert_${alert}`, l.value);
      if (err) fail(y.pos(l.valueNode ?? l.keyNode), `label "${l.key}": ${err}`);
    }
    for (const a of annotationEntries) {
      const err = checkTemplate(`__alert_${alert}`, a.value);
      if (err) fail(y.pos(a.valueNode ?? a.keyNode), `annotation "${a.key}": ${err}`);
    }
  }
  const labels = Object.fromEntries(labelEntries.map((l) => [l.key, l.value]));
  const line = y.pos(node)?.line ?? 0;
  if (alert !== '' && record === '') {
    return {
      kind: 'alerting', name: alert, expr, forMs, keepFiringForMs, labels,
      annotations: Object.fromEntries(annotationEntries.map((a) => [a.key, a.value])), line,
    };
  }
  if (record !== '' && alert === '') return { kind: 'recording', name: record, expr, labels, line };
  return undefined;
}

/** ruleCount is the number of rules in a parsed file (what `rules check` reports). */
export function ruleCount(file: RuleFileDefinition): number {
  return file.groups.reduce((n, g) => n + g.rules.length, 0);
}

/**
 * readRuleFile reads and validates one rule file from disk. A file that cannot be read yields
 * one error naming it.
 */
export async function readRuleFile(path: string, options: ParseRuleFileOptions & { cwd?: string } = {}): Promise<ParsedRuleFile> {
  let text: string;
  try {
    text = await readFile(options.cwd !== undefined ? resolve(options.cwd, path) : path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file; check the path' : (err as Error).message;
    return { file: { path, groups: [] }, errors: [`${path}: cannot read rule file: ${reason}`] };
  }
  return parseRuleFile(text, path, options);
}

/**
 * loadRuleFiles reads and validates every file; it throws one `RuleFileError` listing every
 * problem of every file, so a reload either gets all groups or keeps the old ones.
 */
export async function loadRuleFiles(paths: readonly string[], options: ParseRuleFileOptions = {}): Promise<RuleFileDefinition[]> {
  const files: RuleFileDefinition[] = [];
  const issues: string[] = [];
  for (const p of paths) {
    const parsed = await readRuleFile(p, options);
    files.push(parsed.file);
    issues.push(...parsed.errors);
  }
  if (issues.length > 0) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    throw new RuleFileError(`invalid rule file: ${first}${more}; fix the rule file and reload`, issues);
  }
  return files;
}
