/**
 * Cross-checks this project's promqltest scripts against the real promtool (2.42): every
 * `eval instant` (not `eval_fail`, not NaN-valued) becomes a promtool `promql_expr_test`, and the
 * values promtool reports are compared with the script's expectations.
 *
 * promtool only loads samples up to the test's largest eval_time, so cases that look into the
 * future (negative offset, `@` after the evaluation time) are marked `# promtool-skip` in the
 * script. Used by promtool-oracle.test.ts and runnable by hand:
 * `npx tsx test/promql/promtool-oracle.ts test/promql/testdata/rate.test`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDurationMs } from '../../src/time/index.js';
import { parseScript } from './promqltest.js';
import type { Command, SeriesValue } from './promqltest.js';

/** OracleCase is one eval turned into a promtool test group. */
interface OracleCase {
  line: number;
  expr: string;
  yaml: string;
  expected: Array<{ labels: string; value: number }>;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function valueText(v: SeriesValue): string {
  if (v === undefined) return '_';
  if (v === 'stale') return 'stale';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  const name = labels.__name__ ?? '';
  const rest = Object.keys(labels)
    .filter((n) => n !== '__name__')
    .sort()
    .map((n) => `${n}=${JSON.stringify(labels[n])}`)
    .join(', ');
  return `${name}{${rest}}`;
}

function buildCases(text: string): OracleCase[] {
  const cmds = parseScript(text);
  const lines = text.split('\n');
  const out: OracleCase[] = [];
  let loads: Array<Extract<Command, { kind: 'load' }>> = [];
  for (const cmd of cmds) {
    if (cmd.kind === 'clear') loads = [];
    else if (cmd.kind === 'load') loads = [...loads, cmd];
    else {
      if (cmd.fail || cmd.mode !== 'instant') continue;
      if ((lines[cmd.line - 2] ?? '').includes('promtool-skip')) continue;
      if (cmd.expected.some((e) => e.values.some((v) => typeof v === 'number' && Number.isNaN(v)))) continue;
      if (cmd.expected.some((e) => e.values.length !== 1)) continue;
      const interval = loads.reduce((g, l) => gcd(g, l.intervalMs), 0) || 60_000;
      const series: string[] = [];
      for (const l of loads) {
        const gap = l.intervalMs / interval;
        for (const s of l.series) {
          const vals = s.values.map((v, i) => (i === 0 || gap === 1 ? valueText(v) : `${'_ '.repeat(gap - 1)}${valueText(v)}`));
          series.push(`      - series: '${labelsText(s.labels)}'\n        values: '${vals.join(' ')}'`);
        }
      }
      const yaml = [
        '  - interval: ' + formatDurationMs(interval),
        '    input_series:',
        ...(series.length > 0 ? series : ["      - series: 'oracle_dummy'\n        values: '0'"]),
        '    promql_expr_test:',
        `      - expr: ${JSON.stringify(cmd.expr)}`,
        `        eval_time: ${formatDurationMs(cmd.atMs)}`,
        '        exp_samples: []',
      ].join('\n');
      out.push({
        line: cmd.line,
        expr: cmd.expr,
        yaml,
        expected: cmd.expected.map((e) => ({ labels: labelsText(e.labels ?? {}), value: e.values[0] as number })),
      });
    }
  }
  return out;
}

/** Mismatch is a case where promtool's answer differs from the script's expectation. */
export interface Mismatch {
  readonly line: number;
  readonly expr: string;
  readonly detail: string;
}

function parseGot(block: string): Array<{ labels: string; value: number }> {
  const m = /got:\s*(.*)$/s.exec(block);
  if (m === null) return [];
  const text = m[1].trim();
  if (text.startsWith('(empty)') || text === '') return [];
  // promtool prints `{a="b"} 1E+00, {c="d"} 2E+00`; label values do not contain "} ".
  const out: Array<{ labels: string; value: number }> = [];
  const re = /(\S*\{[^}]*\})\s+(\S+?)(?:,\s*|\s*$)/g;
  let mm: RegExpExecArray | null;
  while ((mm = re.exec(text)) !== null) {
    const v = mm[2].toLowerCase() === '+inf' ? Infinity : mm[2].toLowerCase() === '-inf' ? -Infinity : Number(mm[2]);
    out.push({ labels: normalizeLabels(mm[1]), value: v });
  }
  return out;
}

function normalizeLabels(s: string): string {
  const m = /^([^{]*)\{(.*)\}$/.exec(s);
  if (m === null) return s;
  const parts = m[2] === '' ? [] : m[2].split(/,\s*(?=[a-zA-Z_]+=")/);
  const labels: Record<string, string> = {};
  if (m[1] !== '') labels.__name__ = m[1];
  for (const p of parts) {
    const eq = p.indexOf('=');
    labels[p.slice(0, eq).trim()] = JSON.parse(p.slice(eq + 1)) as string;
  }
  return labelsText(labels);
}

/** checkWithPromtool runs every case of one script through promtool and returns the disagreements. */
export function checkWithPromtool(file: string, promtool = '/usr/bin/promtool'): { cases: number; mismatches: Mismatch[] } {
  const cases = buildCases(readFileSync(file, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'promql-oracle-'));
  const mismatches: Mismatch[] = [];
  try {
    for (const c of cases) {
      const path = join(dir, `case-${c.line}.yml`);
      writeFileSync(path, `rule_files: []\nevaluation_interval: 1m\ntests:\n${c.yaml}\n`);
      const res = spawnSync(promtool, ['test', 'rules', path], { encoding: 'utf8', timeout: 30_000 });
      const output = `${res.stdout}${res.stderr}`;
      const got = res.status === 0 ? [] : parseGot(output);
      if (res.status !== 0 && !output.includes('got:')) {
        mismatches.push({ line: c.line, expr: c.expr, detail: `promtool error: ${output.trim().split('\n').slice(-3).join(' ')}` });
        continue;
      }
      const gotMap = new Map(got.map((g) => [g.labels, g.value]));
      const problems: string[] = [];
      if (got.length !== c.expected.length) problems.push(`promtool returned ${got.length} samples, script expects ${c.expected.length}`);
      for (const e of c.expected) {
        const v = gotMap.get(e.labels);
        if (v === undefined) problems.push(`promtool has no ${e.labels}`);
        else if (!Object.is(v, e.value) && v !== e.value) problems.push(`${e.labels}: promtool ${v}, script ${e.value}`);
      }
      if (problems.length > 0) mismatches.push({ line: c.line, expr: c.expr, detail: `${problems.join('; ')} | promtool got: ${got.map((g) => `${g.labels} ${g.value}`).join(', ')}` });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { cases: cases.length, mismatches };
}

if (process.argv[1]?.endsWith('promtool-oracle.ts')) {
  for (const f of process.argv.slice(2)) {
    const { cases, mismatches } = checkWithPromtool(f);
    console.log(`${f}: ${cases} cases, ${mismatches.length} mismatches`);
    for (const m of mismatches) console.log(`  line ${m.line}: ${m.expr}\n    ${m.detail}`);
  }
}
