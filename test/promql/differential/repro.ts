/**
 * repro: one case by hand, ours vs promtool.
 * `npx tsx test/promql/differential/repro.ts --interval 1m --eval-interval 1m --at 5m --series 'a{x="1"}' '0+1x10' --expr 'rate(a[5m])'`
 */
import { parseDurationMs } from '../../../src/time/index.js';
import type { ExprNode, GenSeries } from './generate.js';
import { checkPromqlGroups, evaluateOurs } from './oracle.js';

const argv = process.argv.slice(2);
const series: GenSeries[] = [];
const exprs: string[] = [];
let intervalMs = 60_000;
let evalIntervalMs = 60_000;
let at = 0;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--series') series.push({ series: argv[++i], values: argv[++i] });
  else if (argv[i] === '--expr') exprs.push(argv[++i]);
  else if (argv[i] === '--interval') intervalMs = parseDurationMs(argv[++i]) ?? 60_000;
  else if (argv[i] === '--eval-interval') evalIntervalMs = parseDurationMs(argv[++i]) ?? 60_000;
  else if (argv[i] === '--at') at = parseDurationMs(argv[++i]) ?? 0;
}
const leafOf = (text: string): ExprNode => ({ type: 'vector', kids: [], render: () => text, alts: [] });
const group = { intervalMs, series, cases: exprs.map((e) => ({ expr: leafOf(e), evalTimeMs: at })) };
console.log(JSON.stringify(evaluateOurs(group, evalIntervalMs)));
const r = await checkPromqlGroups([group], { evalIntervalMs, compareRunner: true });
for (const d of r.discrepancies) console.log(`${d.kind}: ${d.expr}\n  ours:     ${d.ours}\n  promtool: ${d.promtool}`);
if (r.discrepancies.length === 0) console.log('agree');
