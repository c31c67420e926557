import { describe, expect, it } from 'vitest';
import { expandSeriesValues, NotationError, parseMetricNotation, parseSeriesValues, parseUnitTestFile, SeriesValueKind } from '../../../src/alerts/index.js';

const vals = (text: string): Array<number | string> => {
  const sv = parseSeriesValues(text);
  const steps = expandSeriesValues(sv);
  expect(steps).toHaveLength(sv.length);
  return steps.map((s) => (s.kind === SeriesValueKind.value ? s.v : s.kind === SeriesValueKind.stale ? 'stale' : 'omitted'));
};

describe('parseSeriesValues', () => {
  it('expands promtool notation', () => {
    expect(vals('0+10x3')).toEqual([0, 10, 20, 30]);
    expect(vals('1-1x3')).toEqual([1, 0, -1, -2]);
    expect(vals('5x2 _ _x2 stale 7')).toEqual([5, 5, 5, 'omitted', 'omitted', 'omitted', 'stale', 7]);
    expect(vals('0x11')).toHaveLength(12);
    expect(vals('1 _x0 2')).toEqual([1, 2]);
    expect(vals('Inf -Inf NaN 1e3 -2.5')).toEqual([Infinity, -Infinity, NaN, 1000, -2.5]);
  });

  it('accumulates by repeated float addition', () => {
    expect(vals('0.1+0.1x3')[3]).toBe(0.1 + 0.1 + 0.1 + 0.1);
    expect(vals('0.1+0.1x2')[2]).toBe(0.30000000000000004);
    expect(Object.is(vals('-0+0x1')[1], 0)).toBe(true);
    expect(Object.is(vals('-0x1')[1], -0)).toBe(true);
  });

  it('rejects anything else', () => {
    expect(() => parseSeriesValues('1 foo')).toThrow(NotationError);
    expect(() => parseSeriesValues('1+x3')).toThrow(NotationError);
  });
});

describe('parseMetricNotation', () => {
  it('parses names, labels, escapes and empty forms', () => {
    expect(parseMetricNotation('up{job="api", instance=\'a:1\'}')).toEqual({ __name__: 'up', job: 'api', instance: 'a:1' });
    expect(parseMetricNotation('{__name__="x", a="q\\"uote"}')).toEqual({ __name__: 'x', a: 'q"uote' });
    expect(parseMetricNotation('job:lag:max')).toEqual({ __name__: 'job:lag:max' });
    expect(parseMetricNotation('')).toEqual({});
    expect(parseMetricNotation('{}')).toEqual({});
  });

  it('rejects malformed label sets', () => {
    expect(() => parseMetricNotation('x{job="a"')).toThrow(NotationError);
    expect(() => parseMetricNotation('x{job=a}')).toThrow(NotationError);
    expect(() => parseMetricNotation('x{a="1", a="2"}')).toThrow(NotationError);
  });
});

describe('parseUnitTestFile', () => {
  it('is strict: promtool spells it alert_rule_test', () => {
    const { errors } = parseUnitTestFile('tests:\n  - interval: 1m\n    alert_rule_tests: []\n', 't.yaml');
    expect(errors).toEqual(['t.yaml:3:5: field alert_rule_tests not found in type main.testGroup']);
  });

  it('reads every section', () => {
    const text = [
      'rule_files: [a.yaml]', 'evaluation_interval: 30s', 'group_eval_order: [g1, g2]', 'tests:', '  - interval: 15s', '    name: n',
      '    external_labels: {cluster: c}', '    external_url: http://x', '    input_series:', "      - series: 'up{job=\"a\"}'", "        values: '1 1'",
      '    alert_rule_test:', '      - eval_time: 1m', '        alertname: A', '        exp_alerts:', '          - exp_labels: {s: p}',
      '            exp_annotations: {d: x}', '    promql_expr_test:', '      - expr: up', '        eval_time: 2m', '        exp_samples:',
      "          - labels: 'up{job=\"a\"}'", '            value: 1.5',
    ].join('\n');
    const { file, errors } = parseUnitTestFile(text, 't.yaml');
    expect(errors).toEqual([]);
    expect(file).toEqual({
      ruleFiles: ['a.yaml'], evaluationIntervalMs: 30_000, groupEvalOrder: ['g1', 'g2'],
      tests: [{
        intervalMs: 15_000, name: 'n', externalLabels: { cluster: 'c' }, externalURL: 'http://x', inputSeries: [{ series: 'up{job="a"}', values: '1 1' }],
        alertRuleTests: [{ evalTimeMs: 60_000, alertname: 'A', expAlerts: [{ expLabels: { s: 'p' }, expAnnotations: { d: 'x' } }] }],
        promqlExprTests: [{ expr: 'up', evalTimeMs: 120_000, expSamples: [{ labels: 'up{job="a"}', value: 1.5 }] }],
      }],
    });
  });
});
