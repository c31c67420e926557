/**
 * The shipped rules (config/rules/spacetime-sync.rules.yaml) and their unit tests pass under both
 * the sentinel's own `rules check|test` and the real promtool 2.42, so the file means the same
 * thing to the sentinel and to a Prometheus the operators may load it into.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = join(ROOT, 'config', 'rules', 'spacetime-sync.rules.yaml');
const TESTS = join(ROOT, 'config', 'rules', 'spacetime-sync.test.yaml');
const PROMTOOL = '/usr/bin/promtool';
const DEPLOY_RULES = join(ROOT, 'test', 'fixtures', 'real', 'spacetime-slo-alert-rules.yaml');
const DOCS = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'real', 'openagents-docs-sync-anchors.json'), 'utf8')) as { files: Record<string, string[]> };

interface RuleEntry {
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

function rulesOf(file: string, groups: (doc: unknown) => Array<{ name: string; rules: RuleEntry[] }>): Map<string, RuleEntry[]> {
  const out = new Map<string, RuleEntry[]>();
  for (const g of groups(parse(readFileSync(file, 'utf8')))) out.set(g.name, g.rules);
  return out;
}

/** windowsOf lists the range selectors of an expression (`[5m]`). */
function windowsOf(expr: string): string[] {
  return [...expr.matchAll(/\[(\d+[smhdwy])\]/g)].map((m) => m[1] as string);
}

/** thresholdOf is the number a deploy rule compares against last (`... > 0.03`). */
function thresholdOf(expr: string): string {
  const m = /> *([0-9.]+) *$/.exec(expr);
  if (!m) throw new Error(`no trailing threshold in ${expr}`);
  return m[1] as string;
}

/**
 * SLO_COUNTERPARTS maps each operators' SLO rule to the shipped rule that implements it, with the
 * deliberate differences the shipped file explains in its comments (null: not implemented).
 */
const SLO_COUNTERPARTS: Record<string, { readonly alert: string | null; readonly differences: string }> = {
  OpenAgentsSpacetimeWsAuthFailureRatioHigh: { alert: 'SpacetimeAuthFailureRatioSLO', differences: 'attempts are the sentinel probe runs; no clamp_min(denominator, 1)' },
  OpenAgentsSpacetimeReplayLagP95High: { alert: 'SpacetimeReplayLagP95SLO', differences: "the lag is the sentinel's per-stream maximum over live clients" },
  OpenAgentsSpacetimeStaleCursorRateHigh: { alert: 'SpacetimeStaleCursorIncidentsSLO', differences: "the runtime's counter, or the resume canary's stale rebootstraps without it (threshold 4's fallback)" },
  OpenAgentsSpacetimeClientReconnectSpike: { alert: 'SpacetimeReconnectSpikeSLO', differences: "the sentinel's own sockets' reconnects" },
  OpenAgentsSpacetimeClientAuthFailureByBuildHigh: { alert: null, differences: 'needs client telemetry by app_version, which nothing reports' },
};

async function sentinel(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (out += t) },
    env: {},
    cwd: ROOT,
    signal: new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, out };
}

describe('shipped rules', () => {
  it('pass `promtool check rules` and `promtool test rules`', async () => {
    const run = promisify(execFile);
    const check = await run(PROMTOOL, ['check', 'rules', RULES], { timeout: 60_000 });
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const test = await run(PROMTOOL, ['test', 'rules', TESTS], { timeout: 60_000 });
    expect(test.stdout).toContain('SUCCESS');
  });

  it('pass `sentinel rules check` and `sentinel rules test`', async () => {
    const check = await sentinel(['rules', 'check', RULES]);
    expect(check.out).toMatch(/SUCCESS/);
    expect(check.code).toBe(0);
    const test = await sentinel(['rules', 'test', TESTS]);
    expect(test.out, test.out).toContain('SUCCESS');
    expect(test.code).toBe(0);
  });

  it('give every alert a severity, summary, description with $value, and a runbook_url naming an operators\' document', () => {
    const doc = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }> };
    const alerts = doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(18);
    for (const a of alerts) {
      expect(a.labels?.severity, a.alert).toMatch(/^(critical|warning|info)$/);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toContain('$value');
      expect(a.annotations?.runbook, `${a.alert}: the runbook is a runbook_url`).toBeUndefined();
      const url = a.annotations?.runbook_url ?? '';
      expect(url, a.alert).toMatch(/^https:\/\/github\.com\/OpenAgentsInc\/openagents\/blob\/9b2b978949\/docs\/sync\/[A-Z_]+\.md#[a-z0-9-]+$/);
      const [path, anchor] = url.replace('https://github.com/OpenAgentsInc/openagents/blob/9b2b978949/', '').split('#') as [string, string];
      expect(DOCS.files[path], `${a.alert}: ${path} is an operators' document at 9b2b978949`).toBeDefined();
      expect(DOCS.files[path], `${a.alert}: ${path} has a section #${anchor}`).toContain(anchor);
      expect(a.for, `${a.alert} needs a for: so it has a pending phase`).toBeTruthy();
    }
  });

  it('implement the operators\' deploy SLO rules rule by rule: same threshold, window and for; each difference explained', () => {
    const deploy = rulesOf(DEPLOY_RULES, (d) => (d as { spec: { groups: Array<{ name: string; rules: RuleEntry[] }> } }).spec.groups).get('runtime.spacetime.slo') ?? [];
    const shipped = rulesOf(RULES, (d) => (d as { groups: Array<{ name: string; rules: RuleEntry[] }> }).groups);
    const slo = shipped.get('spacetime-sync-slo') ?? [];
    const text = readFileSync(RULES, 'utf8');
    expect(deploy.map((r) => r.alert).sort()).toEqual(Object.keys(SLO_COUNTERPARTS).sort());
    for (const real of deploy) {
      const counterpart = SLO_COUNTERPARTS[real.alert as string] as { alert: string | null; differences: string };
      // Every deploy rule is named in the shipped file's comments, where its differences are explained.
      expect(text, `${real.alert} is discussed in the shipped rules`).toContain(real.alert as string);
      if (counterpart.alert === null) {
        expect(text).toMatch(new RegExp(`${real.alert}[\\s\\S]{0,200}has no counterpart`));
        continue;
      }
      const ours = slo.find((r) => r.alert === counterpart.alert);
      expect(ours, `${real.alert} -> ${counterpart.alert}`).toBeDefined();
      expect(ours?.for, `${counterpart.alert}: for`).toBe(real.for);
      for (const w of windowsOf(real.expr)) expect(windowsOf(ours?.expr ?? ''), `${counterpart.alert}: window [${w}]`).toContain(w);
      expect(ours?.expr, `${counterpart.alert}: threshold`).toMatch(new RegExp(`> ${thresholdOf(real.expr).replace('.', '\\.')}(?![0-9])`));
      expect(ours?.labels?.severity).toBe(real.labels?.severity);
    }
    // The SLO group holds nothing beyond the deploy rules' counterparts.
    expect(slo.map((r) => r.alert).sort()).toEqual(Object.values(SLO_COUNTERPARTS).flatMap((c) => (c.alert === null ? [] : [c.alert])).sort());
  });

  it('can tell a changed window, threshold or for from the deploy rules (the comparison is not vacuous)', () => {
    const real = '(sum(rate(x{status="error"}[5m])) / clamp_min(sum(rate(x[5m])), 1)) > 0.03';
    expect(windowsOf('sum(rate(x[10m])) > 0.03')).not.toContain(windowsOf(real)[0]);
    expect('sum(rate(x[5m])) > 0.3').not.toMatch(new RegExp(`> ${thresholdOf(real).replace('.', '\\.')}(?![0-9])`));
    expect('sum(rate(x[5m])) > 0.031').not.toMatch(new RegExp(`> ${thresholdOf(real).replace('.', '\\.')}(?![0-9])`));
  });
});
