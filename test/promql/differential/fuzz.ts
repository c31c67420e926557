/**
 * fuzz: long differential runs against the real promtool.
 * `npx tsx test/promql/differential/fuzz.ts --seeds N [--from S] [--cases C] [--no-minimise] [--alerts-only|--promql-only]`
 * prints every discrepancy, minimised, and a summary per kind; exits 1 when any was found.
 */
import { generateAlertGroup, generateAlertRules, generatePromqlGroup, Rng } from './generate.js';
import { minimiseGroup } from './minimise.js';
import { checkAlertGroups, checkPromqlGroups, formatGroup } from './oracle.js';
import type { Discrepancy } from './oracle.js';
import { durationText } from './generate.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const flag = (name: string): boolean => process.argv.includes(name);

/** EVAL_INTERVALS are the files' evaluation_interval values (also the default subquery step). */
const EVAL_INTERVALS = [60_000, 60_000, 15_000, 30_000, 90_000];

async function main(): Promise<void> {
  const seeds = arg('--seeds', 20);
  const from = arg('--from', 1);
  const casesPerGroup = arg('--cases', 8);
  const found: Array<Discrepancy & { seed: number }> = [];
  let total = 0;
  let nan = 0;
  let errs = 0;
  let empty = 0;
  let alertChecks = 0;
  let orderDependent = 0;
  for (let seed = from; seed < from + seeds; seed++) {
    const rng = new Rng(seed);
    const evalIntervalMs = rng.pick(EVAL_INTERVALS);
    if (!flag('--alerts-only')) {
      const groups = Array.from({ length: 6 }, () => generatePromqlGroup(rng, casesPerGroup));
      const r = await checkPromqlGroups(groups, { evalIntervalMs, compareRunner: flag('--runner') });
      total += r.cases;
      nan += r.nanCases;
      errs += r.errorCases;
      empty += r.emptyCases;
      for (const d of r.discrepancies) {
        if (d.kind === 'order') {
          orderDependent++;
          continue;
        }
        const min = d.group && !flag('--no-minimise') ? await minimiseGroup(d.group, d.kind, evalIntervalMs) : d.group;
        const again = min ? (await checkPromqlGroups([min], { evalIntervalMs })).discrepancies.find((x) => x.kind === d.kind) ?? d : d;
        found.push({ ...again, seed });
        console.log(`\n[seed ${seed}] ${d.kind} (evaluation_interval ${durationText(evalIntervalMs)})`);
        if (min) console.log(formatGroup(min));
        else console.log(`  ${d.expr}`);
        console.log(`  ours:     ${again.ours}\n  promtool: ${again.promtool}`);
      }
    }
    if (!flag('--promql-only')) {
      const rules = generateAlertRules(rng, 6);
      const groups = Array.from({ length: 3 }, () => generateAlertGroup(rng));
      const r = await checkAlertGroups(rules, groups, { evalIntervalMs, compareRunner: flag('--runner') });
      alertChecks += r.checks;
      for (const d of r.discrepancies) {
        found.push({ ...d, seed });
        console.log(`\n[seed ${seed}] ${d.kind}: ${d.expr}\n${d.promtool}`);
      }
    }
  }
  const byKind = new Map<string, number>();
  for (const d of found) byKind.set(d.kind, (byKind.get(d.kind) ?? 0) + 1);
  console.log(`\n${seeds} seeds: ${total} promql cases (${nan} with NaN, ${errs} errors, ${empty} empty), ${alertChecks} alert checks; ${orderDependent} order-dependent (not counted); discrepancies: ${found.length} ${JSON.stringify(Object.fromEntries(byKind))}`);
  process.exitCode = found.length > 0 ? 1 : 0;
}

await main();
