/**
 * mathcheck: `npx tsx test/promql/differential/mathcheck.ts SEED` evaluates exp, ln, log2/10, pow,
 * the hyperbolic and trigonometric functions over random values and prints every value promtool
 * computes differently (Go's amd64 Exp/Log differ from V8's in the last bit).
 */
import { Rng } from './generate.js';
import type { ExprNode } from './generate.js';
import { checkPromqlGroups } from './oracle.js';
const rng = new Rng(Number(process.argv[2] ?? 1));
const series = [];
for (let i = 0; i < 60; i++) {
  const k = rng.next();
  const v = k < 0.3 ? (rng.next() - 0.5) * 20 : k < 0.5 ? (rng.next() - 0.5) * 1400 : k < 0.7 ? rng.next() * 1e-3 : k < 0.85 ? rng.next() * 2 - 1 : rng.next() * 1e6;
  series.push({ series: `x{i="${i}"}`, values: String(v) });
}
const leaf = (t: string): ExprNode => ({ type: 'vector', kids: [], render: () => t, alts: [] });
const exprs = ['exp(x)', 'ln(x)', 'ln(-x)', 'log2(x)', 'log10(x)', 'sinh(x)', 'cosh(x)', 'tanh(x)', 'asinh(x)', 'acosh(x)', 'acosh(x + 1)', 'atanh(x)', 'atanh(x / 1000)', 'x ^ 0.37', '1.5 ^ x', 'x ^ -2.5', 'x ^ x', 'sqrt(x)', 'exp(x / 10)', 'sin(x)', 'cos(x)', 'tan(x)', 'asin(x)', 'acos(x)', 'atan(x)', 'x % 0.7', 'x atan2 3'];
const r = await checkPromqlGroups([{ intervalMs: 60_000, series, cases: exprs.map((e) => ({ expr: leaf(e), evalTimeMs: 0 })) }]);
for (const d of r.discrepancies) console.log(d.kind, d.expr, '\n  ours', d.ours.slice(0, 300), '\n  prom', d.promtool.slice(0, 300));
console.log('cases', r.cases, 'discrepancies', r.discrepancies.length);
