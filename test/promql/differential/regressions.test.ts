/**
 * Regression cases for the discrepancies the differential fuzzer found against promtool 2.42.
 * Every `regressions/*.test.yaml` holds promtool's own answers and must pass under both
 * promtool and `sentinel rules test`; errors (which promtool's format cannot expect) are
 * checked here against promtool's wording.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkPromqlExpr, NotationError, parseSeriesValues, runRulesTests } from '../../../src/alerts/index.js';
import { createEngine } from '../../../src/promql/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { PROMTOOL } from './oracle.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'regressions');
const files = readdirSync(DIR).filter((f) => f.endsWith('.test.yaml')).sort();

describe('differential regressions (promtool-verified unit-test files)', () => {
  it('has the regression files', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  describe.each(files)('%s', (file) => {
    it('passes under sentinel rules test', async () => {
      let out = '';
      const ok = await runRulesTests([file], { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (out += t) } }, { cwd: DIR });
      expect(out).toBe(`Unit Testing:  ${file}\n  SUCCESS\n\n`);
      expect(ok).toBe(true);
    });
    it('passes under promtool', () => {
      const r = spawnSync(PROMTOOL, ['test', 'rules', file], { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  });
});

describe('differential regressions (errors, in promtool words)', () => {
  const store = new MemoryStore();
  const app = store.appender();
  for (const job of ['a', 'b']) app.append({ __name__: 'm', job }, 0, 1);
  app.commit();
  const engine = createEngine();
  const query = (q: string): unknown => engine.instantQuery(store, q, 60_000).value;

  it('evaluates the expression of topk/bottomk even when k < 1', () => {
    expect(() => query('bottomk(-0.5, label_join(m, "job", ""))')).toThrow('vector cannot contain metrics with the same labelset');
  });

  it('prints an overflowing k with Go %v', () => {
    expect(() => query('topk(Inf, m)')).toThrow('Scalar value +Inf overflows int64');
    expect(() => query('topk(1e308, m)')).toThrow('Scalar value 1e+308 overflows int64');
  });

  it('short-circuits a vector operation with an empty side before checking for duplicates', () => {
    expect(query('nothing > on() m')).toEqual({ type: 'vector', samples: [] });
    expect(() => query('m > on() m')).toThrow('many-to-many matching not allowed');
  });

  it('points operator errors at the operator, as Prometheus skips the whitespace before it', () => {
    expect(checkPromqlExpr('(up @ 60) < on(le) group_left(le) (up)')).toBe('1:11: parse error: label "le" must not occur in ON and GROUP clause at once');
    expect(checkPromqlExpr('up + bool up')).toBe('1:4: parse error: bool modifier can only be used on comparison operators');
  });
});

describe('differential regressions (series notation, promtool decides)', () => {
  // Each values string is run through promtool: whether it loads must match parseSeriesValues.
  const cases: Array<[string, boolean]> = [
    ['Infx2', false],
    ['NaNx2', false],
    ['stalex2 3', false],
    ['1+Infx2', false],
    ['1-NaNx1', false],
    ['Infinity', false],
    ['1e400', false],
    ['Inf-1x2 -Inf+1x1 NaN+1x1', true],
    ['.5x2 5.x2 1+.5x2', true],
    ['1e-400 4.9e-324', true],
    ['inf nan +Inf -NaN', true],
  ];
  it.each(cases)('%s loads: %s', (values, loads) => {
    const dir = mkdtempSync(join(tmpdir(), 'notation-'));
    try {
      writeFileSync(join(dir, 't.yml'), `rule_files: []\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'x'\n        values: '${values}'\n    promql_expr_test:\n      - expr: count_over_time(x[1h])\n        eval_time: 0s\n        exp_samples:\n          - labels: '{}'\n            value: 1\n`);
      const r = spawnSync(PROMTOOL, ['test', 'rules', 't.yml'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr.includes('parse error')).toBe(!loads);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (loads) expect(parseSeriesValues(values).length).toBeGreaterThan(0);
    else expect(() => parseSeriesValues(values)).toThrow(NotationError);
  });
});

describe('differential regressions (syntax error wording, as promtool check rules prints it)', () => {
  const cases: Array<[string, string]> = [
    ['rate(x[5m]', '1:11: parse error: unclosed left parenthesis'],
    ['x[5m', '1:5: parse error: unclosed left bracket'],
    ['foo{bar="baz"', '1:14: parse error: unexpected end of input inside braces'],
    ['1 +* 2', '1:4: parse error: unexpected <op:*>'],
    ['sum by (job) x', '1:14: parse error: unexpected identifier "x" in aggregation'],
    ['sum(x) by job', '1:11: parse error: unexpected identifier "job" in grouping opts, expected "("'],
    ['foo{=bar}', '1:5: parse error: unexpected "=" in label matching, expected identifier or "}"'],
    ['x offset', '1:9: parse error: unexpected end of input in offset, expected duration'],
    ['x)', "1:3: parse error: unexpected right parenthesis ')'"],
    ['rate(x[5m]) by (job)', '1:13: parse error: unexpected <by>'],
  ];
  it.each(cases)('%s', (expr, message) => {
    expect(checkPromqlExpr(expr)).toBe(message);
    const dir = mkdtempSync(join(tmpdir(), 'wording-'));
    try {
      writeFileSync(join(dir, 'r.yml'), `groups:\n  - name: g\n    rules:\n      - record: r\n        expr: ${JSON.stringify(expr)}\n`);
      const r = spawnSync(PROMTOOL, ['check', 'rules', 'r.yml'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(`${r.stdout}${r.stderr}`).toContain(`could not parse expression: ${message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
