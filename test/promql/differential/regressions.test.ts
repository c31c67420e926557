/**
 * Regression cases for the discrepancies the differential fuzzer found against promtool 2.42.
 * Every `regressions/*.test.yaml` holds promtool's own answers and must pass under both
 * promtool and `sentinel rules test`; errors (which promtool's format cannot expect) are
 * checked here against promtool's wording.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkPromqlExpr, runRulesTests } from '../../../src/alerts/index.js';
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
