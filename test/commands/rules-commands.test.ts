import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIX = join(ROOT, 'test', 'alerts', 'fixtures');
const CORPUS = join(ROOT, 'test', 'rules-corpus');
const PROMTOOL = '/usr/bin/promtool';
// promtool is required (npm test installs Debian's prometheus package): these tests never skip.

async function run(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {}, cwd, signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

describe('sentinel rules check', () => {
  it('prints promtool\'s report and exits 0 for valid files', async () => {
    const r = await run(['rules', 'check', 'valid-rules.yaml'], FIX);
    expect(r).toEqual({ code: 0, stdout: 'Checking valid-rules.yaml\n  SUCCESS: 3 rules found\n\n', stderr: '' });
  });

  it('has the same stdout and exit code as promtool check rules', async () => {
    const files = ['valid-rules.yaml', 'invalid-rules.yaml', 'more-invalid-rules.yaml'];
    const p = spawnSync(PROMTOOL, ['check', 'rules', ...files], { cwd: FIX, encoding: 'utf8', timeout: 30_000 });
    const s = await run(['rules', 'check', ...files], FIX);
    expect(s.stdout).toBe(p.stdout);
    expect(s.code).toBe(p.status);
    expect(s.stderr.match(/ {2}FAILED:\n/g)).toHaveLength(2);
  });

  it('reports duplicate rules as promtool\'s non-fatal lint (FAILED, exit 0)', async () => {
    const r = await run(['rules', 'check', 'duplicate-rules.yaml'], FIX);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Checking duplicate-rules.yaml\n\n');
    expect(r.stderr).toBe('  FAILED:\nlint error 2 duplicate rule(s) found.\nMetric: A\nLabel(s):\n\ts: 1\nMetric: job:x\nLabel(s):\nMight cause inconsistency while recording expressions\n');
    const p = spawnSync(PROMTOOL, ['check', 'rules', 'duplicate-rules.yaml'], { cwd: FIX, encoding: 'utf8', timeout: 30_000 });
    expect([p.status, p.stdout, p.stderr]).toEqual([r.code, r.stdout, r.stderr]);
  });

  it('exits 2 without files', async () => {
    expect((await run(['rules', 'check'], FIX)).code).toBe(2);
  });
});

describe('sentinel rules test', () => {
  it('exits 0 when every file passes and 1 when one fails', async () => {
    const ok = await run(['rules', 'test', 'alerts-for.test.yaml', 'selectors.test.yaml'], CORPUS);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('Unit Testing:  alerts-for.test.yaml\n  SUCCESS\n\nUnit Testing:  selectors.test.yaml\n  SUCCESS\n\n');
    const bad = await run(['rules', 'test', 'selectors.test.yaml', 'failing/wrong-value.test.yaml'], CORPUS);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('    expr: "sum(p)", time: 0s,\n        exp: {} 3E-01\n        got: {} 3.0000000000000004E-01\n');
  });
});
