/**
 * The shipped rules (config/rules/spacetime-sync.rules.yaml) and their unit tests pass under both
 * the sentinel's own `rules check|test` and the real promtool 2.42, so the file means the same
 * thing to the sentinel and to a Prometheus the operators may load it into.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = join(ROOT, 'config', 'rules', 'spacetime-sync.rules.yaml');
const TESTS = join(ROOT, 'config', 'rules', 'spacetime-sync.test.yaml');
const PROMTOOL = '/usr/bin/promtool';

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

  it('give every alert a severity, summary, description with $value, and runbook', async () => {
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const doc = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }> };
    const alerts = doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(18);
    for (const a of alerts) {
      expect(a.labels?.severity, a.alert).toMatch(/^(critical|warning|info)$/);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toContain('$value');
      expect(a.annotations?.runbook, a.alert).toMatch(/runbook/);
      expect(a.for, `${a.alert} needs a for: so it has a pending phase`).toBeTruthy();
    }
  });
});
