/**
 * datecheck: `npx tsx test/promql/differential/datecheck.ts SEED` runs the date functions over NaN,
 * ±Inf, huge and random timestamps and prints every value promtool computes differently.
 */
import { Rng } from './generate.js';
import type { ExprNode } from './generate.js';
import { checkPromqlGroups } from './oracle.js';
const rng = new Rng(Number(process.argv[2] ?? 1));
const fixed = ['NaN', 'Inf', '-Inf', '1e15', '-1e15', '1e18', '9.3e18', '-9.3e18', '-62135596800', '-62135596801', '-1e12', '0', '1.7e9', '951782400', '951868800', '4102444800', '-1', '-0.5', '86399.9', '1e300', '9.2e18', '-9.2e18', '253402300799', '253402300800', '-2208988800', '8.64e12', '8.7e12', '-8.7e12'];
const series = fixed.map((v, i) => ({ series: `x{i="${i}"}`, values: v }));
for (let i = 0; i < 40; i++) series.push({ series: `x{i="r${i}"}`, values: String(Math.round((rng.next() - 0.5) * 10 ** rng.int(3, 18))) });
const leaf = (t: string): ExprNode => ({ type: 'vector', kids: [], render: () => t, alts: [] });
const exprs = ['year(x)', 'month(x)', 'day_of_month(x)', 'day_of_week(x)', 'hour(x)', 'minute(x)', 'days_in_month(x)', 'year()', 'days_in_month()'];
const r = await checkPromqlGroups([{ intervalMs: 60_000, series, cases: exprs.map((e) => ({ expr: leaf(e), evalTimeMs: 0 })) }]);
for (const d of r.discrepancies) console.log(d.kind, d.expr, '\n  ours', d.ours.slice(0, 1500), '\n  prom', d.promtool.slice(0, 1500));
console.log('cases', r.cases, 'discrepancies', r.discrepancies.length);
