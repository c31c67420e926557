/**
 * Differential tests against the real promtool (2.42): generated series and expressions whose
 * expectations are this engine's answers, and generated alerting rules whose expected
 * annotations are this template engine's expansions; promtool must agree on every case, and
 * `sentinel rules test` must print promtool's report for the same file (promtool is required: the
 * test command installs it). Longer runs: `npx tsx test/promql/differential/fuzz.ts --seeds N`.
 */
import { describe, expect, it } from 'vitest';
import { exprText, generateAlertGroup, generateAlertRules, generatePromqlGroup, Rng } from './generate.js';
import { checkAlertGroups, checkPromqlGroups, parseSampleList, sameSamples } from './oracle.js';
import type { Discrepancy, Outcome } from './oracle.js';

/** SEEDS are fixed so a failure is replayable with `fuzz.ts --from SEED --seeds 1`. */
const SEEDS = Array.from({ length: 24 }, (_, i) => 1000 + i);
const EVAL_INTERVALS = [60_000, 15_000, 30_000, 90_000];

/**
 * counts says whether a discrepancy fails the suite: order-dependent float sums never do, and
 * neither does the wording of a parse error (lezer's recovery is not Prometheus' yacc; both
 * sides refused the expression, which is what the suite checks). fuzz.ts still prints them.
 */
function counts(d: Discrepancy): boolean {
  if (d.kind === 'order') return false;
  const parseError = /^\d+:\d+: parse error: /;
  return !(d.kind === 'errtext' && parseError.test(d.ours) && parseError.test(d.promtool));
}

function describeAll(list: readonly Discrepancy[]): string[] {
  return list.map((d) => `${d.kind} @${d.evalTimeMs}ms ${d.expr}\n  ours:     ${d.ours}\n  promtool: ${d.promtool}`);
}

describe('differential harness', () => {
  it('generates the same cases for the same seed and different ones for another', () => {
    const a = generatePromqlGroup(new Rng(7), 5);
    const b = generatePromqlGroup(new Rng(7), 5);
    const c = generatePromqlGroup(new Rng(8), 5);
    expect(a.cases.map((x) => exprText(x.expr))).toEqual(b.cases.map((x) => exprText(x.expr)));
    expect(a.series).toEqual(b.series);
    expect(a.cases.map((x) => exprText(x.expr))).not.toEqual(c.cases.map((x) => exprText(x.expr)));
  });

  it('reads promtool sample lists exactly, escapes and NaN included', () => {
    const list = parseSampleList('{__name__="a", x="q\\"\\\\z"} 1.6666666666666666E-02, {} NaN, {y="1"} -Inf');
    expect(list).toHaveLength(3);
    expect(list[0]).toEqual({ labels: { __name__: 'a', x: 'q"\\z' }, value: 0.016666666666666666 });
    expect(Number.isNaN(list[1].value)).toBe(true);
    expect(sameSamples(list, [{ labels: { y: '1' }, value: -Infinity }, { labels: {}, value: NaN }, list[0]])).toBe(true);
    expect(sameSamples(list, [{ labels: { y: '1' }, value: -Infinity }, { labels: {}, value: 0 }, list[0]])).toBe(false);
  });

  it('catches a wrong expectation and reports promtool\'s answer', async () => {
    const group = {
      intervalMs: 60_000,
      series: [{ series: 'm{a="1"}', values: '0+10x10' }],
      cases: [{ expr: { type: 'vector' as const, kids: [], render: () => 'rate(m[5m])', alts: [] }, evalTimeMs: 300_000 }],
    };
    const ok = await checkPromqlGroups([group]);
    expect(ok.cases).toBe(1);
    expect(ok.discrepancies).toEqual([]);
    const off = (o: Outcome): Outcome => (o.ok ? { ok: true, samples: o.samples.map((x) => ({ ...x, value: x.value + 1 })) } : o);
    const bad = await checkPromqlGroups([group], { tamper: off });
    expect(bad.discrepancies.map((d) => [d.kind, d.promtool])).toEqual([['value', '{a="1"} 1.6666666666666669E-01']]);
  });
});

describe('promtool agrees with the engine and the templates', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}`, { timeout: 30_000 }, async () => {
      const rng = new Rng(seed);
      const evalIntervalMs = EVAL_INTERVALS[seed % EVAL_INTERVALS.length];
      const groups = Array.from({ length: 6 }, () => generatePromqlGroup(rng, 8));
      const p = await checkPromqlGroups(groups, { evalIntervalMs, compareRunner: true });
      expect(p.cases).toBeGreaterThan(30);
      const rules = generateAlertRules(rng, 6);
      const a = await checkAlertGroups(rules, Array.from({ length: 3 }, () => generateAlertGroup(rng)), { evalIntervalMs, compareRunner: true });
      expect(describeAll([...p.discrepancies, ...a.discrepancies].filter(counts))).toEqual([]);
    });
  }
});
