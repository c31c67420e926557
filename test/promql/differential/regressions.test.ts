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
  it('points operator errors at the operator, as Prometheus skips the whitespace before it', () => {
    expect(checkPromqlExpr('(up @ 60) < on(le) group_left(le) (up)')).toBe('1:11: parse error: label "le" must not occur in ON and GROUP clause at once');
    expect(checkPromqlExpr('up + bool up')).toBe('1:4: parse error: bool modifier can only be used on comparison operators');
  });
});
