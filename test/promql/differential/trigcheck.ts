/**
 * trigcheck: `npx tsx test/promql/differential/trigcheck.ts SEED` runs sin/cos/tan over arguments
 * beyond 2^29 (Go's Payne-Hanek reduction) and prints every value promtool computes differently.
 */
import { Rng } from './generate.js';
import type { ExprNode } from './generate.js';
import { checkPromqlGroups } from './oracle.js';
const rng = new Rng(Number(process.argv[2] ?? 1));
const series = [];
for (let i = 0; i < 80; i++) series.push({ series: `x{i="${i}"}`, values: String((rng.next() - 0.5) * 10 ** rng.int(8, 300)) });
for (const [i, v] of ['536870912', '536870911.9', '1e15', '1e22', '1.7976931348623157e308', '-1e300', '3.1e9'].entries()) series.push({ series: `x{i="f${i}"}`, values: v });
const leaf = (t: string): ExprNode => ({ type: 'vector', kids: [], render: () => t, alts: [] });
const r = await checkPromqlGroups([{ intervalMs: 60_000, series, cases: ['sin(x)', 'cos(x)', 'tan(x)'].map((e) => ({ expr: leaf(e), evalTimeMs: 0 })) }]);
for (const d of r.discrepancies) console.log(d.kind, d.expr, '\n  ours', d.ours.slice(0, 600), '\n  prom', d.promtool.slice(0, 600));
console.log('cases', r.cases, 'discrepancies', r.discrepancies.length);
