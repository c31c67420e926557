/**
 * test-file: promtool's unit-test file format (2.42 `unitTestFile`), read strictly: unknown keys
 * (`alert_rule_tests`, `exp_sample`) are errors, as with yaml.UnmarshalStrict.
 */
import type { Node } from 'yaml';
import type { Labels } from '../../store/index.js';
import { parseDurationMs } from '../../time/index.js';
import { YamlFile } from '../../yaml/index.js';

/** InputSeries is one `input_series` entry. */
export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

/** ExpectedAlert is one `exp_alerts` entry. */
export interface ExpectedAlert {
  readonly expLabels: Labels;
  readonly expAnnotations: Labels;
}

/** AlertTestCase is one `alert_rule_test` entry. */
export interface AlertTestCase {
  readonly evalTimeMs: number;
  readonly alertname: string;
  readonly expAlerts: readonly ExpectedAlert[];
}

/** ExpectedSample is one `exp_samples` entry (labels still in metric notation). */
export interface ExpectedSample {
  readonly labels: string;
  readonly value: number;
}

/** PromqlTestCase is one `promql_expr_test` entry. */
export interface PromqlTestCase {
  readonly expr: string;
  readonly evalTimeMs: number;
  readonly expSamples: readonly ExpectedSample[];
}

/** TestGroup is one entry of `tests`. */
export interface TestGroup {
  readonly intervalMs: number;
  readonly inputSeries: readonly InputSeries[];
  readonly alertRuleTests: readonly AlertTestCase[];
  readonly promqlExprTests: readonly PromqlTestCase[];
  readonly externalLabels: Labels;
  readonly externalURL: string;
  readonly name: string;
}

/** UnitTestFile is a whole promtool unit-test file. */
export interface UnitTestFile {
  readonly ruleFiles: readonly string[];
  readonly evaluationIntervalMs: number;
  readonly groupEvalOrder: readonly string[];
  readonly tests: readonly TestGroup[];
}

function duration(y: YamlFile, node: Node | null | undefined): number {
  if (node === null || node === undefined) return 0;
  const text = y.string(node);
  if (text === undefined) return 0;
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    y.issue(node, `not a valid duration string: ${JSON.stringify(text)}`);
    return 0;
  }
  return ms;
}

function stringList(y: YamlFile, node: Node | null | undefined): string[] {
  return (y.seq(node, '[]string') ?? []).map((n) => y.string(n) ?? '');
}

function labelMap(y: YamlFile, node: Node | null | undefined): Labels {
  return Object.fromEntries((y.stringMap(node) ?? []).map((e) => [e.key, e.value]));
}

/** parseUnitTestFile reads a unit-test file; `errors` are `FILE:LINE:COL: ...` lines. */
export function parseUnitTestFile(text: string, path: string): { file: UnitTestFile; errors: string[] } {
  const y = new YamlFile(path, text, { uniqueKeys: false });
  const top = y.fields(y.root, 'main.unitTestFile', ['rule_files', 'evaluation_interval', 'group_eval_order', 'tests']);
  const tests = y.list(top?.get('tests')?.value, 'main.testGroup', ['interval', 'input_series', 'alert_rule_test', 'promql_expr_test', 'external_labels', 'external_url', 'name'], (t): TestGroup => {
    const inputSeries = y.list(t.get('input_series')?.value, 'main.series', ['series', 'values'], (s): InputSeries => ({
      series: y.string(s.get('series')?.value) ?? '',
      values: y.string(s.get('values')?.value) ?? '',
    }));
    const alertRuleTests = y.list(t.get('alert_rule_test')?.value, 'main.alertTestCase', ['eval_time', 'alertname', 'exp_alerts'], (a): AlertTestCase => {
      const expAlerts = y.list(a.get('exp_alerts')?.value, 'main.alert', ['exp_labels', 'exp_annotations'], (e): ExpectedAlert => ({
        expLabels: labelMap(y, e.get('exp_labels')?.value),
        expAnnotations: labelMap(y, e.get('exp_annotations')?.value),
      }));
      return { evalTimeMs: duration(y, a.get('eval_time')?.value), alertname: y.string(a.get('alertname')?.value) ?? '', expAlerts };
    });
    const promqlExprTests = y.list(t.get('promql_expr_test')?.value, 'main.promqlTestCase', ['expr', 'eval_time', 'exp_samples'], (p): PromqlTestCase => {
      const expSamples = y.list(p.get('exp_samples')?.value, 'main.sample', ['labels', 'value'], (s): ExpectedSample => ({
        labels: y.string(s.get('labels')?.value) ?? '',
        value: y.float(s.get('value')?.value) ?? 0,
      }));
      return { expr: y.string(p.get('expr')?.value) ?? '', evalTimeMs: duration(y, p.get('eval_time')?.value), expSamples };
    });
    return {
      intervalMs: duration(y, t.get('interval')?.value),
      inputSeries,
      alertRuleTests,
      promqlExprTests,
      externalLabels: labelMap(y, t.get('external_labels')?.value),
      externalURL: y.string(t.get('external_url')?.value) ?? '',
      name: y.string(t.get('name')?.value) ?? '',
    };
  });
  const file: UnitTestFile = {
    ruleFiles: stringList(y, top?.get('rule_files')?.value),
    evaluationIntervalMs: duration(y, top?.get('evaluation_interval')?.value),
    groupEvalOrder: stringList(y, top?.get('group_eval_order')?.value),
    tests,
  };
  const errors = [...y.issues].sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0)).map((i) => `${path}:${i.pos ? `${i.pos.line}:${i.pos.col}` : '0:0'}: ${i.message}`);
  return { file, errors };
}
