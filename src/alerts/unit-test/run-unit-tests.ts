/**
 * run-unit-tests: `promtool test rules` (2.42) re-implemented. For each test group: load the
 * input series lazily, evaluate every rule group at every `evaluation_interval` step from 0 to
 * the largest `eval_time` (group `interval` ignored), compare firing alerts at each
 * `alert_rule_test` time against the last step at or before it, then run the
 * `promql_expr_test` cases; every mismatch is reported in promtool's words.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { goFilepathGlob } from '../../config/resolve-file-globs.js';
import { formatFloatGo, quoteGoString } from '../../go-strconv/index.js';
import { createEngine } from '../../promql/index.js';
import type { Expr } from '../../promql/index.js';
import { parseExpr } from '../../promql/index.js';
import { MemoryStore } from '../../store/memory-store.js';
import type { Labels } from '../../store/index.js';
import { formatDurationMs } from '../../time/index.js';
import { AlertingRule } from '../alerting-rule.js';
import { checkPromqlExpr, promqlErrorText } from '../expr-check.js';
import { readRuleFile } from '../rule-file.js';
import type { RuleFileDefinition } from '../rule-file.js';
import { RuleGroup } from '../rule-group.js';
import type { QueryFn } from '../rule.js';
import { vectorOf } from '../rule.js';
import { formatGoDuration } from './go-duration.js';
import { appendTill, parseInputSeries, samplesOf } from './input-series.js';
import type { ParsedInputSeries } from './input-series.js';
import { NotationError, parseMetricNotation } from './series-notation.js';
import { parseUnitTestFile } from './test-file.js';
import type { TestGroup, UnitTestFile } from './test-file.js';

/** promtool's engine settings for unit tests. */
const MAX_SAMPLES = 10_000;
const QUERY_TIMEOUT_MS = 100_000;
const DEFAULT_EVAL_INTERVAL_MS = 60_000;
/** Retention far beyond any test, so nothing a test loaded is ever dropped. */
const TEST_RETENTION_MS = 100 * 365 * 24 * 3600_000;

/** UnitTestFileResult is the outcome of one unit-test file. */
export interface UnitTestFileResult {
  readonly file: string;
  /** warnings are printed before the result (`  WARNING: no file match pattern ...`). */
  readonly warnings: readonly string[];
  /** errors are promtool-style failure texts; empty means SUCCESS. */
  readonly errors: readonly string[];
}

/** sortedEntries orders a label set by name (Prometheus' labels.Labels order). */
function sortedEntries(l: Labels): Array<[string, string]> {
  return Object.entries(l).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** formatLabelSet prints labels like Go's labels.Labels String(): `{a="b", c="d"}`. */
function formatLabelSet(l: Labels): string {
  return `{${sortedEntries(l).map(([k, v]) => `${k}=${quoteGoString(v)}`).join(', ')}}`;
}

/** compareLabels is Prometheus' labels.Compare. */
function compareLabels(a: Labels, b: Labels): number {
  const ea = sortedEntries(a);
  const eb = sortedEntries(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    if (ea[i][0] !== eb[i][0]) return ea[i][0] < eb[i][0] ? -1 : 1;
    if (ea[i][1] !== eb[i][1]) return ea[i][1] < eb[i][1] ? -1 : 1;
  }
  return ea.length - eb.length;
}

function labelsEqual(a: Labels, b: Labels): boolean {
  return compareLabels(a, b) === 0;
}

/** indentLines indents every line but the first (promtool's helper). */
function indentLines(lines: string, indent: string): string {
  return lines.split('\n').join(`\n${indent}`);
}

interface LabelsAndAnnotations {
  readonly labels: Labels;
  readonly annotations: Labels;
}

function alertListString(list: readonly LabelsAndAnnotations[]): string {
  if (list.length === 0) return '[]';
  const one = (a: LabelsAndAnnotations): string => `Labels:${formatLabelSet(a.labels)}\nAnnotations:${formatLabelSet(a.annotations)}`;
  let s = `[\n0:${indentLines(`\n${one(list[0])}`, '  ')}`;
  list.slice(1).forEach((a, i) => {
    s += `,\n${i + 1}:${indentLines(`\n${one(a)}`, '  ')}`;
  });
  return `${s}\n]`;
}

function sortAlerts(list: LabelsAndAnnotations[]): LabelsAndAnnotations[] {
  return list.sort((a, b) => compareLabels(a.labels, b.labels) || compareLabels(a.annotations, b.annotations));
}

interface ParsedSample {
  readonly labels: Labels;
  readonly value: number;
}

function samplesString(list: readonly ParsedSample[]): string {
  if (list.length === 0) return 'nil';
  return list.map((s) => `${formatLabelSet(s.labels)} ${formatFloatGo(s.value, 'E', -1)}`).join(', ');
}

/** resolveRuleFiles makes `rule_files` relative to the test file and expands globs. */
function resolveRuleFiles(testFile: string, patterns: readonly string[], cwd: string, warnings: string[]): string[] {
  const base = dirname(testFile);
  const out: string[] = [];
  for (const p of patterns) {
    const rel = isAbsolute(p) ? p : join(base, p);
    // Reported paths stay relative to the working directory, as promtool prints them.
    const matches = goFilepathGlob(resolve(cwd, rel)).map((m) => (isAbsolute(rel) ? m : relative(cwd, m)));
    if (matches.length === 0) warnings.push(`  WARNING: no file match pattern ${p}`);
    out.push(...matches);
  }
  return out;
}

/** runUnitTestFile runs one promtool unit-test file. */
export async function runUnitTestFile(path: string, options: { cwd?: string } = {}): Promise<UnitTestFileResult> {
  const cwd = options.cwd ?? process.cwd();
  const warnings: string[] = [];
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file; check the path' : (err as Error).message;
    return { file: path, warnings, errors: [`${path}: cannot read test file: ${reason}`] };
  }
  const parsed = parseUnitTestFile(text, path);
  if (parsed.errors.length > 0) return { file: path, warnings, errors: parsed.errors };
  const file = parsed.file;
  const ruleFiles = resolveRuleFiles(path, file.ruleFiles, cwd, warnings);
  const seenOrder = new Set<string>();
  for (const gn of file.groupEvalOrder) {
    if (seenOrder.has(gn)) return { file: path, warnings, errors: [`group name repeated in evaluation order: ${gn}`] };
    seenOrder.add(gn);
  }
  const errors: string[] = [];
  let loaded: RuleFileDefinition[] | undefined;
  const loadRules = async (): Promise<RuleFileDefinition[] | string[]> => {
    if (loaded) return loaded;
    const defs: RuleFileDefinition[] = [];
    const problems: string[] = [];
    for (const rf of ruleFiles) {
      const r = await readRuleFile(rf, { checkExpr: checkPromqlExpr, cwd });
      defs.push(r.file);
      problems.push(...r.errors);
    }
    if (problems.length > 0) return problems;
    loaded = defs;
    return defs;
  };
  for (const tg of file.tests) {
    errors.push(...(await runTestGroup(tg, file, loadRules)));
  }
  return { file: path, warnings, errors };
}

function maxEvalTime(tg: TestGroup): number {
  let max = 0;
  for (const a of tg.alertRuleTests) max = Math.max(max, a.evalTimeMs);
  for (const p of tg.promqlExprTests) max = Math.max(max, p.evalTimeMs);
  return max;
}

async function runTestGroup(
  tg: TestGroup,
  file: UnitTestFile,
  loadRules: () => Promise<RuleFileDefinition[] | string[]>,
): Promise<string[]> {
  const evalIntervalMs = file.evaluationIntervalMs || DEFAULT_EVAL_INTERVAL_MS;
  // 1. Input series (a notation error fails the whole test group, as the loader does).
  let series: ParsedInputSeries[];
  try {
    series = parseInputSeries(tg.inputSeries);
  } catch (err) {
    if (err instanceof NotationError) return [err.message];
    throw err;
  }
  for (const a of tg.alertRuleTests) {
    if (a.alertname === '') {
      const groupLog = tg.name !== '' ? ` (in TestGroup ${tg.name})` : '';
      return [`an item under alert_rule_test misses required attribute alertname at eval_time ${formatDurationMs(a.evalTimeMs)}${groupLog}`];
    }
  }
  // 2. Rules.
  const defs = await loadRules();
  if (defs.length > 0 && typeof defs[0] === 'string') return defs as string[];
  // Series come back in creation order, as from promtool's storage: float aggregations over
  // series that start at different times then add up (and round) in promtool's order.
  const store = new MemoryStore({ retentionMs: TEST_RETENTION_MS, selectOrder: 'creation' });
  for (const s of series) store.expectSamples(s.labels, samplesOf(s));
  const engine = createEngine({ maxSamples: MAX_SAMPLES, timeoutMs: QUERY_TIMEOUT_MS, defaultSubqueryStepMs: evalIntervalMs });
  const parsedExprs = new Map<string, Expr>();
  const query: QueryFn = (expr, t, signal) => {
    let e = parsedExprs.get(expr);
    if (!e) {
      e = parseExpr(expr);
      parsedExprs.set(expr, e);
    }
    return engine.instantQuery(store, e, t, signal);
  };
  const order = new Map(file.groupEvalOrder.map((g, i) => [g, i]));
  const groups = (defs as RuleFileDefinition[])
    .flatMap((f) => f.groups)
    .map((g) => RuleGroup.fromDefinition(g, { query, appendable: store, defaultIntervalMs: tg.intervalMs || evalIntervalMs, externalLabels: tg.externalLabels, externalURL: tg.externalURL, restored: true }))
    .map((g, i) => ({ g, i }))
    .sort((a, b) => (order.get(a.g.name) ?? 0) - (order.get(b.g.name) ?? 0) || a.i - b.i)
    .map((x) => x.g);

  // 3. Alert expectations by eval time.
  const alertEvalTimes = [...new Set(tg.alertRuleTests.map((a) => a.evalTimeMs))].sort((a, b) => a - b);
  const errs: string[] = [];
  const maxt = maxEvalTime(tg);
  let curr = 0;
  for (let ts = 0; ts <= maxt; ts += evalIntervalMs) {
    appendTill(store.appender(), series, tg.intervalMs, ts);
    const evalErrs: string[] = [];
    for (const g of groups) {
      g.eval(ts);
      for (const r of g.rules) {
        if (r.lastError) evalErrs.push(`    rule: ${r.name}, time: ${formatGoDuration(ts)}, err: ${r.lastError.message}`);
      }
    }
    errs.push(...evalErrs);
    if (evalErrs.length > 0) return errs;
    while (curr < alertEvalTimes.length && ts <= alertEvalTimes[curr] && alertEvalTimes[curr] < ts + evalIntervalMs) {
      const t = alertEvalTimes[curr];
      const cases = tg.alertRuleTests.filter((a) => a.evalTimeMs === t);
      const names = new Set(cases.map((c) => c.alertname));
      const got = new Map<string, LabelsAndAnnotations[]>();
      for (const g of groups) {
        for (const r of g.rules) {
          if (!(r instanceof AlertingRule) || !names.has(r.name)) continue;
          const firing = r.activeAlerts().filter((a) => a.state === 'firing').map((a) => ({ labels: a.labels, annotations: a.annotations }));
          got.set(r.name, [...(got.get(r.name) ?? []), ...firing]);
        }
      }
      for (const c of cases) {
        const gotAlerts = sortAlerts([...(got.get(c.alertname) ?? [])]);
        const expAlerts = sortAlerts(c.expAlerts.map((a) => ({ labels: { ...a.expLabels, alertname: c.alertname }, annotations: a.expAnnotations })));
        const same = gotAlerts.length === expAlerts.length && gotAlerts.every((g, i) => labelsEqual(g.labels, expAlerts[i].labels) && labelsEqual(g.annotations, expAlerts[i].annotations));
        if (!same) {
          const testName = tg.name !== '' ? `    name: ${tg.name},\n` : '';
          const expString = indentLines(alertListString(expAlerts), '            ');
          const gotString = indentLines(alertListString(gotAlerts), '            ');
          errs.push(`${testName}    alertname: ${c.alertname}, time: ${formatDurationMs(c.evalTimeMs)}, \n        exp:${expString}, \n        got:${gotString}`);
        }
      }
      curr++;
    }
  }

  // 4. PromQL expectations, over everything loaded and recorded so far.
  outer: for (const tc of tg.promqlExprTests) {
    const when = formatDurationMs(tc.evalTimeMs);
    let gotSamples: ParsedSample[];
    try {
      let e: Expr;
      try {
        e = parseExpr(tc.expr);
      } catch (err) {
        throw new Error(promqlErrorText(tc.expr, err), { cause: err });
      }
      gotSamples = vectorOf(engine.instantQuery(store, e, tc.evalTimeMs), tc.evalTimeMs).map((s) => ({ labels: s.labels, value: s.v }));
    } catch (err) {
      errs.push(`    expr: ${quoteGoString(tc.expr)}, time: ${when}, err: ${(err as Error).message}`);
      continue;
    }
    const expSamples: ParsedSample[] = [];
    for (const s of tc.expSamples) {
      try {
        expSamples.push({ labels: parseMetricNotation(s.labels), value: s.value });
      } catch (err) {
        errs.push(`    expr: ${quoteGoString(tc.expr)}, time: ${when}, err: labels ${quoteGoString(s.labels)}: ${(err as Error).message}`);
        continue outer;
      }
    }
    expSamples.sort((a, b) => compareLabels(a.labels, b.labels));
    gotSamples.sort((a, b) => compareLabels(a.labels, b.labels));
    // Exact float equality, as reflect.DeepEqual compares float64 (NaN never matches).
    const same = expSamples.length === gotSamples.length && expSamples.every((s, i) => labelsEqual(s.labels, gotSamples[i].labels) && s.value === gotSamples[i].value);
    if (!same) {
      errs.push(`    expr: ${quoteGoString(tc.expr)}, time: ${when},\n        exp: ${samplesString(expSamples)}\n        got: ${samplesString(gotSamples)}`);
    }
  }
  return errs;
}

/** RulesTestOutput is where `rules test` writes (stdout and stderr, as promtool splits them). */
export interface RulesTestOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** runRulesTests runs every file, prints promtool's report and returns true when all passed. */
export async function runRulesTests(files: readonly string[], out: RulesTestOutput, options: { cwd?: string } = {}): Promise<boolean> {
  let failed = false;
  for (const f of files) {
    out.stdout.write(`Unit Testing:  ${f}\n`);
    const res = await runUnitTestFile(f, options);
    for (const w of res.warnings) out.stderr.write(`${w}\n`);
    if (res.errors.length > 0) {
      out.stderr.write('  FAILED:\n');
      for (const e of res.errors) {
        out.stderr.write(`${e}\n`);
        out.stdout.write('\n');
      }
      failed = true;
    } else {
      out.stdout.write('  SUCCESS\n');
    }
    out.stdout.write('\n');
  }
  return !failed;
}
