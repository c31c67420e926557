/**
 * `sentinel rules test` against `promtool test rules` on one heavy unit-test file (issue 4):
 * hundreds of series, several hours of 15 s samples, shipped-style rules (a recording rule, a
 * `for` alert with templated annotations, a ratio alert). Both run as child processes on the same
 * file, alternating, several rounds; prints each median and the median ratio.
 * Target: the sentinel no slower than promtool (ratio <= 1).
 * Run: npx tsx bench/alerts/rules-test.bench.ts [--rounds N] [--series N] [--hours H]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('rounds', 5);
const SERIES = arg('series', 200);
const HOURS = arg('hours', 6);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROMTOOL = '/usr/bin/promtool';

const RULES = `groups:
  - name: heavy
    rules:
      - record: stream:req:rate5m
        expr: sum by (stream) (rate(req_total[5m]))
      - alert: ReplayLagHigh
        expr: max by (stream) (lag) > 5000
        for: 5m
        labels: {severity: page}
        annotations:
          summary: "lag {{ $value | humanize }} on {{ $labels.stream }}"
          description: "replay lag {{ printf \\"%.1f\\" $value }} events"
      - alert: ErrorRatioHigh
        expr: sum by (stream) (rate(req_total{code="500"}[5m])) / sum by (stream) (rate(req_total[5m])) > 0.5
        for: 2m
`;

function testFile(): string {
  const steps = (HOURS * 3600) / 15;
  const lines = ['rule_files: [rules.yaml]', 'evaluation_interval: 1m', 'tests:', '  - interval: 15s', '    input_series:'];
  for (let i = 0; i < SERIES; i++) {
    lines.push(`      - series: 'lag{stream="s${i}", pod="p${i % 5}"}'`, `        values: '0+${(i % 7) + 1}x${steps}'`);
    lines.push(`      - series: 'req_total{stream="s${i}", code="${i % 3 ? 200 : 500}"}'`, `        values: '0+${(i % 11) + 1}x${steps}'`);
  }
  lines.push(
    '    promql_expr_test:',
    '      - expr: count(stream:req:rate5m)',
    `        eval_time: ${HOURS}h`,
    '        exp_samples:',
    "          - labels: '{}'",
    `            value: ${SERIES}`,
  );
  return lines.join('\n') + '\n';
}

function timeRun(cmd: string, args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'sentinel-rules-bench-'));
try {
  writeFileSync(path.join(dir, 'rules.yaml'), RULES);
  writeFileSync(path.join(dir, 'heavy.test.yaml'), testFile());
  console.log(`rules test bench: ${SERIES * 2} series × ${(HOURS * 3600) / 15 + 1} samples (15 s, ${HOURS} h), 3 rules, ${ROUNDS} rounds`);
  console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const sentinelArgs = [path.join(ROOT, 'src', 'cli.ts'), 'rules', 'test', 'heavy.test.yaml'];
  const hasPromtool = spawnSync(PROMTOOL, ['--version'], { timeout: 10_000 }).status === 0;
  const s: number[] = [];
  const p: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    s.push(timeRun(tsx, sentinelArgs, dir));
    if (hasPromtool) p.push(timeRun(PROMTOOL, ['test', 'rules', 'heavy.test.yaml'], dir));
    console.log(`round ${r + 1}: sentinel ${(s[r] / 1000).toFixed(2)} s${hasPromtool ? `, promtool ${(p[r] / 1000).toFixed(2)} s` : ''}`);
  }
  console.log(`sentinel rules test median ${(median(s) / 1000).toFixed(2)} s`);
  if (hasPromtool) {
    const ratio = median(s.map((x, i) => x / p[i]));
    console.log(`promtool test rules median ${(median(p) / 1000).toFixed(2)} s`);
    console.log(`median ratio sentinel/promtool ${ratio.toFixed(2)} (target <= 1.00): ${ratio <= 1 ? 'PASS' : 'MISS'}`);
  } else {
    console.log('promtool not installed: no ratio (install Debian package prometheus)');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
