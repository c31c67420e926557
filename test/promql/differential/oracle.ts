/**
 * oracle: turns generated cases into promtool unit-test files whose expectations are OUR answers
 * (engine results, template expansions), runs the real promtool on them and reports every place
 * it disagrees. NaN-valued results are kept: promtool then fails the case and prints what it got,
 * which is compared NaN-aware, so "NaN vs not NaN" is checked too. The same files are also run
 * through `sentinel rules test` in-process and its report is compared with promtool's text.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertingRule, RuleGroup, appendTill, parseInputSeries, promqlErrorText, parseRuleFile, runRulesTests, vectorOf } from '../../../src/alerts/index.js';
import type { QueryFn } from '../../../src/alerts/index.js';
import { formatFloatGo, quoteGoString } from '../../../src/go-strconv/index.js';
import { createEngine, parseExpr } from '../../../src/promql/index.js';
import type { Engine } from '../../../src/promql/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import type { Labels } from '../../../src/store/index.js';
import { parseDurationMs } from '../../../src/time/index.js';
import { durationText, exprText } from './generate.js';
import type { AlertGroup, GenAlertRule, GenSeries, PromqlCase, PromqlGroup } from './generate.js';

/** PROMTOOL is the real promtool the sentinel must agree with. */
export const PROMTOOL = '/usr/bin/promtool';
const MAX_SAMPLES = 10_000;
const RETENTION_MS = 100 * 365 * 24 * 3600_000;

/** Sample is one result element. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** Outcome is what one engine answered for one case. */
export type Outcome = { readonly ok: true; readonly samples: readonly Sample[] } | { readonly ok: false; readonly error: string };

/** DiscrepancyKind says how the two sides differ. */
/**
 * DiscrepancyKind says how the two sides differ; 'order' is a float result that depends on
 * promtool's (random) series creation order and so is not held against the engine.
 */
export type DiscrepancyKind = 'value' | 'error' | 'errtext' | 'runner' | 'alert' | 'promtool' | 'order';

/** Discrepancy is one disagreement with promtool. */
export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  readonly expr: string;
  readonly evalTimeMs: number;
  readonly ours: string;
  readonly promtool: string;
  /** group is the (single-case) test group that reproduces it, for minimising and printing. */
  readonly group?: PromqlGroup;
}

// ---------------------------------------------------------------------------------------------
// Go-compatible text

/** goQuote is Go's %q (the engine's strconv.Quote). */
export const goQuote = quoteGoString;

function sortedEntries(l: Labels): Array<[string, string]> {
  return Object.entries(l).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** labelsText prints labels like Go's labels.Labels String(). */
export function labelsText(l: Labels): string {
  return `{${sortedEntries(l).map(([k, v]) => `${k}=${goQuote(v)}`).join(', ')}}`;
}

/** yamlFloat prints a float so that promtool's YAML decoder reads back the exact value. */
function yamlFloat(v: number): string {
  if (Number.isNaN(v)) return '.nan';
  if (v === Infinity) return '.inf';
  if (v === -Infinity) return '-.inf';
  return formatFloatGo(v, 'E', -1);
}

function sampleListText(list: readonly Sample[]): string {
  if (list.length === 0) return '(empty)';
  return sortSamples(list).map((s) => `${labelsText(s.labels)} ${formatFloatGo(s.value, 'E', -1)}`).join(', ');
}

function compareLabels(a: Labels, b: Labels): number {
  const x = labelsText(a);
  const y = labelsText(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function sortSamples(list: readonly Sample[]): Sample[] {
  return [...list].sort((a, b) => compareLabels(a.labels, b.labels));
}

/** sameSamples compares two results as sets, NaN equal to NaN. */
export function sameSamples(a: readonly Sample[], b: readonly Sample[]): boolean {
  if (a.length !== b.length) return false;
  const x = sortSamples(a);
  const y = sortSamples(b);
  return x.every((s, i) => labelsText(s.labels) === labelsText(y[i].labels) && (Object.is(s.value, y[i].value) || s.value === y[i].value || (Number.isNaN(s.value) && Number.isNaN(y[i].value))));
}

// ---------------------------------------------------------------------------------------------
// Parsing promtool's report

function unquoteGo(text: string, start: number): { value: string; end: number } {
  let i = start + 1;
  let out = '';
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\') {
      const e = text[i + 1];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v', "'": "'" };
      if (e in simple) {
        out += simple[e];
        i += 2;
      } else if (e === 'x') {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
        i += 4;
      } else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        out += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + n), 16));
        i += 2 + n;
      } else {
        out += e;
        i += 2;
      }
    } else {
      out += text[i++];
    }
  }
  return { value: out, end: i + 1 };
}

/** parseSampleList reads promtool's `{a="b"} 1E+00, {} NaN` (or `nil`). */
export function parseSampleList(text: string): Sample[] {
  const t = text.trim();
  if (t === 'nil' || t === '') return [];
  const out: Sample[] = [];
  let i = 0;
  while (i < t.length) {
    if (t[i] !== '{') throw new Error(`cannot parse sample list at ${i}: ${t}`);
    i++;
    const labels: Record<string, string> = {};
    while (t[i] !== '}') {
      const eq = t.indexOf('=', i);
      const name = t.slice(i, eq);
      const q = unquoteGo(t, eq + 1);
      labels[name] = q.value;
      i = q.end;
      if (t.startsWith(', ', i)) i += 2;
    }
    i += 2; // "} "
    let end = t.indexOf(', {', i);
    if (end < 0) end = t.length;
    const raw = t.slice(i, end);
    const value = raw === 'NaN' ? NaN : raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    out.push({ labels, value });
    i = end + 2;
  }
  return out;
}

/** PromtoolFailure is one promql_expr_test failure block of promtool's report. */
interface PromtoolFailure {
  readonly quotedExpr: string;
  readonly evalTimeMs: number;
  readonly error?: string;
  readonly got?: Sample[];
  readonly text: string;
}

function parsePromqlFailures(stderr: string): PromtoolFailure[] {
  const lines = stderr.split('\n');
  const out: PromtoolFailure[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {4}expr: ("(?:[^"\\]|\\.)*"), time: (\S+?),(?: err: (.*))?$/.exec(lines[i]);
    if (m === null) continue;
    const evalTimeMs = parseDurationMs(m[2]) ?? -1;
    if (m[3] !== undefined) {
      out.push({ quotedExpr: m[1], evalTimeMs, error: m[3], text: lines[i] });
      continue;
    }
    const got = /^ {8}got: (.*)$/.exec(lines[i + 2] ?? '');
    out.push({ quotedExpr: m[1], evalTimeMs, got: got ? parseSampleList(got[1]) : undefined, text: lines.slice(i, i + 3).join('\n') });
    i += 2;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Our side

function newEngine(evalIntervalMs: number): Engine {
  return createEngine({ maxSamples: MAX_SAMPLES, timeoutMs: 100_000, defaultSubqueryStepMs: evalIntervalMs });
}

/** evaluateOurs answers every case of a group as promtool's runner would load and query. */
export function evaluateOurs(group: PromqlGroup, evalIntervalMs: number): Outcome[] {
  // The runner's view: series come back in creation order, as from promtool's storage.
  const store = new MemoryStore({ retentionMs: RETENTION_MS, selectOrder: 'creation' });
  const series = parseInputSeries(group.series);
  const maxt = Math.max(0, ...group.cases.map((c) => c.evalTimeMs));
  // promtool steps 0, E, 2E, ... <= maxt and loads samples up to each step.
  for (let ts = 0; ts <= maxt; ts += evalIntervalMs) appendTill(store.appender(), series, group.intervalMs, ts);
  const engine = newEngine(evalIntervalMs);
  return group.cases.map((c) => {
    const text = exprText(c.expr);
    let e;
    try {
      e = parseExpr(text);
    } catch (err) {
      // Worded as the runner words it (promtool's `LINE:COL: parse error: ...`).
      return { ok: false, error: promqlErrorText(text, err) };
    }
    try {
      const samples = vectorOf(engine.instantQuery(store, e, c.evalTimeMs), c.evalTimeMs).map((s) => ({ labels: s.labels, value: s.v }));
      return { ok: true, samples };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Files

function seriesYaml(series: readonly GenSeries[]): string[] {
  if (series.length === 0) return ['    input_series: []'];
  return ['    input_series:', ...series.flatMap((s) => [`      - series: '${s.series}'`, `        values: '${s.values}'`])];
}

function promqlGroupYaml(group: PromqlGroup, outcomes: readonly Outcome[]): string {
  const lines = [`  - interval: ${durationText(group.intervalMs)}`, ...seriesYaml(group.series), '    promql_expr_test:'];
  group.cases.forEach((c, i) => {
    const o = outcomes[i];
    lines.push(`      - expr: ${JSON.stringify(exprText(c.expr))}`, `        eval_time: ${durationText(c.evalTimeMs)}`);
    if (!o.ok || o.samples.length === 0) {
      lines.push('        exp_samples: []');
      return;
    }
    lines.push('        exp_samples:');
    for (const s of sortSamples(o.samples)) {
      const name = s.labels.__name__;
      const rest = Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== '__name__'));
      lines.push(`          - labels: ${JSON.stringify(`${name ?? ''}${labelsText(rest)}`)}`, `            value: ${yamlFloat(s.value)}`);
    }
  });
  return lines.join('\n');
}

function testFileYaml(evalIntervalMs: number, ruleFiles: readonly string[], groups: readonly string[]): string {
  return [`rule_files: ${JSON.stringify(ruleFiles)}`, `evaluation_interval: ${durationText(evalIntervalMs)}`, 'tests:', ...groups, ''].join('\n');
}

interface RunOutput {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runPromtool(dir: string, file: string): RunOutput {
  const r = spawnSync(PROMTOOL, ['test', 'rules', file], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function runSentinel(dir: string, file: string): Promise<RunOutput> {
  let stdout = '';
  let stderr = '';
  const ok = await runRulesTests([file], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } }, { cwd: dir });
  return { status: ok ? 0 : 1, stdout, stderr };
}

/** withTempDir runs `fn` in a fresh directory that is always removed. */
async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'promql-diff-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * normalizeError drops the two series named by a many-to-many error: which duplicate promtool
 * meets first depends on the order its loader created the series (Go map order).
 */
function normalizeError(text: string): string {
  return text.replace(/operation: \[.*\];many-to-many/, 'operation: […];many-to-many');
}

/** normalizeReport cuts each query error line down to the part both sides must word identically. */
function normalizeReport(text: string): string {
  return text.replace(/^( {4}expr: .*?, time: \S+?, err: ).*$/gm, '$1…');
}

/** RERUNS is how often a value disagreement is re-asked before it counts. */
const RERUNS = 12;

/**
 * settleOrderDependence re-runs promtool on the file when values disagree. promtool creates the
 * input series in Go map order, so float sums over several series (sum, avg, stddev, ...) may
 * round differently from run to run; ours adds in label order, one of the orders promtool may
 * pick. A case whose answer changes between runs, or matches ours in some run, is order
 * dependent: it becomes kind 'order' (reported, not a failure).
 */
async function settleOrderDependence(
  dir: string,
  file: string,
  list: Discrepancy[],
  flat: ReadonlyArray<{ c: PromqlCase; o: Outcome }>,
): Promise<void> {
  const pending = list.filter((d) => d.kind === 'value');
  if (pending.length === 0) return;
  const seen = new Map<Discrepancy, Set<string>>(pending.map((d) => [d, new Set([d.promtool])]));
  const matched = new Set<Discrepancy>();
  for (let run = 0; run < RERUNS && matched.size < pending.length; run++) {
    const failures = parsePromqlFailures(runPromtool(dir, file).stderr);
    const byKey = new Map(failures.map((f) => [`${f.quotedExpr}\u0000${f.evalTimeMs}`, f]));
    for (const d of pending) {
      const f = byKey.get(`${goQuote(d.expr)}\u0000${d.evalTimeMs}`);
      const x = flat.find((y) => exprText(y.c.expr) === d.expr && y.c.evalTimeMs === d.evalTimeMs);
      if (f === undefined || (f.got !== undefined && x?.o.ok === true && sameSamples(f.got, x.o.samples))) matched.add(d);
      else seen.get(d)?.add(f.got ? sampleListText(f.got) : f.text);
    }
  }
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    if (d.kind !== 'value') continue;
    if (matched.has(d) || (seen.get(d)?.size ?? 0) > 1) list[i] = { ...d, kind: 'order', promtool: [...(seen.get(d) ?? [])].join(' | ') };
  }
}

// ---------------------------------------------------------------------------------------------
// PromQL batches

/** CheckOptions tune a batch check. */
export interface CheckOptions {
  /** evalIntervalMs is the file's evaluation_interval (default 1m). */
  readonly evalIntervalMs?: number;
  /** compareRunner also runs `sentinel rules test` on the file and compares its report. */
  readonly compareRunner?: boolean;
  /** tamper alters our answers before they are written (the harness's own tests use it). */
  readonly tamper?: (o: Outcome) => Outcome;
}

/** BatchResult is the outcome of one generated file. */
export interface BatchResult {
  readonly cases: number;
  readonly nanCases: number;
  readonly errorCases: number;
  readonly emptyCases: number;
  readonly discrepancies: Discrepancy[];
}

/**
 * checkPromqlGroups writes the groups into one promtool file expecting our answers, runs promtool
 * (and optionally the sentinel's runner) and returns every disagreement. Cases repeating an
 * earlier (expr, eval_time) in the file are dropped, since promtool's report is keyed by them.
 */
export async function checkPromqlGroups(groupsIn: readonly PromqlGroup[], opts: CheckOptions = {}): Promise<BatchResult> {
  const evalIntervalMs = opts.evalIntervalMs ?? 60_000;
  const seen = new Set<string>();
  const groups = groupsIn
    .map((g) => ({
      ...g,
      cases: g.cases.filter((c) => {
        const key = `${exprText(c.expr)}\u0000${c.evalTimeMs}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      }),
    }))
    .filter((g) => g.cases.length > 0);
  const outcomes = groups.map((g) => evaluateOurs(g, evalIntervalMs).map((o) => (opts.tamper ? opts.tamper(o) : o)));
  const flat = groups.flatMap((g, gi) => g.cases.map((c, ci) => ({ g, c, o: outcomes[gi][ci] })));
  const result: BatchResult = {
    cases: flat.length,
    nanCases: flat.filter((x) => x.o.ok && x.o.samples.some((s) => Number.isNaN(s.value))).length,
    errorCases: flat.filter((x) => !x.o.ok).length,
    emptyCases: flat.filter((x) => x.o.ok && x.o.samples.length === 0).length,
    discrepancies: [],
  };
  if (flat.length === 0) return result;
  const yaml = testFileYaml(evalIntervalMs, [], groups.map((g, i) => promqlGroupYaml(g, outcomes[i])));
  return withTempDir(async (dir) => {
    writeFileSync(join(dir, 'diff.test.yml'), yaml);
    // DIFF_KEEP=path keeps a copy of the generated file for inspection.
    if (process.env.DIFF_KEEP !== undefined) writeFileSync(process.env.DIFF_KEEP, yaml);
    const pt = runPromtool(dir, 'diff.test.yml');
    const failures = parsePromqlFailures(pt.stderr);
    if (pt.status !== 0 && failures.length === 0) {
      result.discrepancies.push({ kind: 'promtool', expr: '', evalTimeMs: 0, ours: '(file)', promtool: `${pt.stdout}${pt.stderr}`.trim() });
      return result;
    }
    const byKey = new Map(failures.map((f) => [`${f.quotedExpr}\u0000${f.evalTimeMs}`, f]));
    for (const { g, c, o } of flat) {
      const expr = exprText(c.expr);
      const f = byKey.get(`${goQuote(expr)}\u0000${c.evalTimeMs}`);
      const single: PromqlGroup = { ...g, cases: [c] };
      const ours = o.ok ? sampleListText(o.samples) : `error: ${o.error}`;
      if (!o.ok) {
        if (f?.error === undefined) {
          const theirs = f?.got !== undefined ? sampleListText(f.got) : '(passed: empty result)';
          result.discrepancies.push({ kind: 'error', expr, evalTimeMs: c.evalTimeMs, ours, promtool: theirs, group: single });
        } else if (normalizeError(f.error) !== normalizeError(o.error)) {
          result.discrepancies.push({ kind: 'errtext', expr, evalTimeMs: c.evalTimeMs, ours: o.error, promtool: f.error, group: single });
        }
        continue;
      }
      if (f === undefined) continue; // promtool agreed exactly
      if (f.error !== undefined) {
        result.discrepancies.push({ kind: 'error', expr, evalTimeMs: c.evalTimeMs, ours, promtool: `error: ${f.error}`, group: single });
        continue;
      }
      if (f.got === undefined || !sameSamples(f.got, o.samples)) {
        result.discrepancies.push({ kind: 'value', expr, evalTimeMs: c.evalTimeMs, ours, promtool: f.got ? sampleListText(f.got) : f.text, group: single });
      }
    }
    await settleOrderDependence(dir, 'diff.test.yml', result.discrepancies, flat);
    // The runner's report is only comparable when the engines agreed on every case.
    if (opts.compareRunner === true && result.discrepancies.length === 0) {
      const ours = await runSentinel(dir, 'diff.test.yml');
      const a = normalizeReport(`${ours.stdout}\u0000${ours.stderr}`);
      const b = normalizeReport(`${pt.stdout}\u0000${pt.stderr}`);
      if (a !== b || ours.status !== pt.status) {
        const al = a.split('\n');
        const bl = b.split('\n');
        const i = al.findIndex((l, k) => l !== bl[k]);
        result.discrepancies.push({ kind: 'runner', expr: '', evalTimeMs: 0, ours: `exit ${ours.status}; first differing line ${i + 1}: ${al[i] ?? '(end)'}`, promtool: `exit ${pt.status}; ${bl[i] ?? '(end)'}` });
      }
    }
    return result;
  });
}

// ---------------------------------------------------------------------------------------------
// Alerts and templates

function ruleFileYaml(rules: readonly GenAlertRule[]): string {
  const lines = ['groups:', '  - name: generated', '    rules:', '      - record: job:temp:max', '        expr: max by (job) (temp)'];
  for (const r of rules) {
    lines.push(`      - alert: ${r.alert}`, `        expr: ${JSON.stringify(r.expr)}`, `        for: ${r.forText}`);
    if (r.keepFiringFor !== undefined) lines.push(`        keep_firing_for: ${r.keepFiringFor}`);
    lines.push('        labels:', ...Object.entries(r.labels).map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`));
    lines.push('        annotations:', ...Object.entries(r.annotations).map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`));
  }
  return `${lines.join('\n')}\n`;
}

interface FiringAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** evaluateAlertsOurs runs the rules over a group like `rules test` and lists firing alerts per time. */
function evaluateAlertsOurs(ruleText: string, group: AlertGroup, evalIntervalMs: number): Map<string, FiringAlert[]> | string {
  const parsed = parseRuleFile(ruleText, 'rules.yml');
  if (parsed.errors.length > 0) return parsed.errors.join('; ');
  const store = new MemoryStore({ retentionMs: RETENTION_MS, selectOrder: 'creation' });
  const series = parseInputSeries(group.series);
  const engine = newEngine(evalIntervalMs);
  const query: QueryFn = (expr, t, signal) => engine.instantQuery(store, parseExpr(expr), t, signal);
  const groups = parsed.file.groups.map((g) => RuleGroup.fromDefinition(g, { query, appendable: store, defaultIntervalMs: evalIntervalMs, externalLabels: {}, externalURL: '', restored: true }));
  const out = new Map<string, FiringAlert[]>();
  const maxt = Math.max(0, ...group.evalTimesMs);
  for (let ts = 0; ts <= maxt; ts += evalIntervalMs) {
    appendTill(store.appender(), series, group.intervalMs, ts);
    for (const g of groups) {
      g.eval(ts);
      for (const r of g.rules) if (r.lastError) return `rule ${r.name} at ${ts}: ${r.lastError.message}`;
    }
    for (const t of group.evalTimesMs) {
      if (!(ts <= t && t < ts + evalIntervalMs)) continue;
      for (const g of groups) {
        for (const r of g.rules) {
          if (!(r instanceof AlertingRule)) continue;
          const firing = r.activeAlerts().filter((a) => a.state === 'firing').map((a) => ({ labels: a.labels, annotations: a.annotations }));
          out.set(`${r.name}\u0000${t}`, firing);
        }
      }
    }
  }
  // The ALERTS series the rules wrote, read back as promtool's promql cases do (after all steps).
  for (const t of group.evalTimesMs) {
    for (const [i, q] of ALERT_SERIES_QUERIES.entries()) {
      const samples = vectorOf(engine.instantQuery(store, parseExpr(q), t), t).map((x) => ({ labels: x.labels, value: x.v }));
      out.set(`query${i}\u0000${t}`, samples.map((x) => ({ labels: x.labels, annotations: { value: String(x.value) } })));
    }
  }
  return out;
}

/** ALERT_SERIES_QUERIES check pending alerts and ActiveAt through the series rules write. */
const ALERT_SERIES_QUERIES = ['ALERTS', 'ALERTS_FOR_STATE', 'job:temp:max'] as const;

function alertGroupYaml(group: AlertGroup, rules: readonly GenAlertRule[], firing: Map<string, FiringAlert[]>): string {
  const lines = [`  - interval: ${durationText(group.intervalMs)}`, ...seriesYaml(group.series), '    promql_expr_test:'];
  for (const t of group.evalTimesMs) {
    for (const [i, q] of ALERT_SERIES_QUERIES.entries()) {
      const got = firing.get(`query${i}\u0000${t}`) ?? [];
      lines.push(`      - expr: ${q}`, `        eval_time: ${durationText(t)}`, got.length === 0 ? '        exp_samples: []' : '        exp_samples:');
      for (const x of got) {
        const { __name__: name, ...rest } = x.labels;
        lines.push(`          - labels: ${JSON.stringify(`${name ?? ''}${labelsText(rest)}`)}`, `            value: ${yamlFloat(Number(x.annotations.value))}`);
      }
    }
  }
  lines.push('    alert_rule_test:');
  for (const t of group.evalTimesMs) {
    for (const r of rules) {
      const alerts = firing.get(`${r.alert}\u0000${t}`) ?? [];
      lines.push(`      - eval_time: ${durationText(t)}`, `        alertname: ${r.alert}`);
      if (alerts.length === 0) {
        lines.push('        exp_alerts: []');
        continue;
      }
      lines.push('        exp_alerts:');
      for (const a of alerts) {
        const labels = Object.entries(a.labels).filter(([k]) => k !== 'alertname');
        lines.push('          - exp_labels:', ...labels.map(([k, v]) => `              ${k}: ${JSON.stringify(v)}`));
        if (labels.length === 0) lines[lines.length - 1] = '          - exp_labels: {}';
        const ann = Object.entries(a.annotations);
        lines.push(ann.length === 0 ? '            exp_annotations: {}' : '            exp_annotations:', ...ann.map(([k, v]) => `              ${k}: ${JSON.stringify(v)}`));
      }
    }
  }
  return lines.join('\n');
}

/** AlertBatchResult is the outcome of one generated rule file + test file. */
export interface AlertBatchResult {
  readonly checks: number;
  readonly skippedGroups: number;
  readonly discrepancies: Discrepancy[];
}

/**
 * checkAlertGroups writes one rule file and one test file whose exp_alerts are what our rule
 * evaluation and templates produce, and reports promtool's disagreements (its text shows exp =
 * ours and got = promtool's).
 */
export async function checkAlertGroups(rules: readonly GenAlertRule[], groupsIn: readonly AlertGroup[], opts: CheckOptions = {}): Promise<AlertBatchResult> {
  const evalIntervalMs = opts.evalIntervalMs ?? 60_000;
  const ruleText = ruleFileYaml(rules);
  const parts: string[] = [];
  let skipped = 0;
  let checks = 0;
  for (const g of groupsIn) {
    const firing = evaluateAlertsOurs(ruleText, g, evalIntervalMs);
    if (typeof firing === 'string') {
      skipped++;
      continue;
    }
    checks += g.evalTimesMs.length * rules.length;
    parts.push(alertGroupYaml(g, rules, firing));
  }
  const result: AlertBatchResult = { checks, skippedGroups: skipped, discrepancies: [] };
  if (parts.length === 0) return result;
  return withTempDir(async (dir) => {
    writeFileSync(join(dir, 'rules.yml'), ruleText);
    writeFileSync(join(dir, 'alerts.test.yml'), testFileYaml(evalIntervalMs, ['rules.yml'], parts));
    const pt = runPromtool(dir, 'alerts.test.yml');
    if (pt.status !== 0) {
      const blocks = pt.stderr.split(/\n(?= {4}(?:name|alertname|rule|expr): )/).filter((b) => /^ {4}(?:name|alertname|rule|expr): /m.test(b));
      if (blocks.length === 0) result.discrepancies.push({ kind: 'promtool', expr: '', evalTimeMs: 0, ours: '(file)', promtool: `${pt.stdout}${pt.stderr}`.trim() });
      for (const b of blocks) {
        // A promql case that failed only because both sides hold NaN is an agreement.
        const exp = /^ {8}exp: (.*)$/m.exec(b);
        const got = /^ {8}got: (.*)$/m.exec(b);
        if (/^ {4}expr: /.test(b) && exp !== null && got !== null && sameSamples(parseSampleList(exp[1]), parseSampleList(got[1]))) continue;
        const m = /alertname: (\S+), time: (\S+?),/.exec(b);
        const rule = rules.find((r) => r.alert === m?.[1]);
        result.discrepancies.push({
          kind: 'alert',
          expr: rule ? `${rule.expr} | ${JSON.stringify(rule.annotations)} | labels ${JSON.stringify(rule.labels)}` : '',
          evalTimeMs: m ? (parseDurationMs(m[2]) ?? -1) : 0,
          ours: '(exp in the promtool text)',
          promtool: b.trim(),
        });
      }
    }
    if (opts.compareRunner === true && result.discrepancies.length === 0) {
      const ours = await runSentinel(dir, 'alerts.test.yml');
      if (ours.stdout !== pt.stdout || ours.stderr !== pt.stderr) {
        result.discrepancies.push({ kind: 'runner', expr: '(alerts file)', evalTimeMs: 0, ours: `${ours.stdout}${ours.stderr}`.slice(0, 2000), promtool: `${pt.stdout}${pt.stderr}`.slice(0, 2000) });
      }
    }
    return result;
  });
}

/** formatGroup prints a reproducing group compactly: interval, series and the case. */
export function formatGroup(g: PromqlGroup): string {
  const lines = [`interval ${durationText(g.intervalMs)}`];
  for (const s of g.series) lines.push(`  ${s.series}  '${s.values}'`);
  for (const c of g.cases) lines.push(`  @${durationText(c.evalTimeMs)}: ${exprText(c.expr)}`);
  return lines.join('\n');
}
