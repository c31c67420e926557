/**
 * The differential corpus: every unit-test file here must pass under the real promtool
 * (Debian's /usr/bin/promtool, 2.42) AND under `sentinel rules test` in-process; every file in
 * failing/ must fail under both, with the same report where the wording is promtool's own.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runRulesTests } from '../../src/alerts/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FAILING = join(HERE, 'failing');
const PROMTOOL = '/usr/bin/promtool';
// promtool is required (npm test installs Debian's prometheus package): these tests never skip.

const passing = readdirSync(HERE).filter((f) => f.endsWith('.test.yaml')).sort();
const failing = readdirSync(FAILING).filter((f) => f.endsWith('.test.yaml')).sort();
/** Files whose failure text is not promtool's exact wording (YAML decoder messages). */
const WORDING_DIFFERS = new Set(['strict-keys.test.yaml']);

function promtool(cwd: string, file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PROMTOOL, ['test', 'rules', file], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function sentinel(cwd: string, file: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ok = await runRulesTests([file], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } }, { cwd });
  return { ok, stdout, stderr };
}

describe('rules corpus', () => {
  it('has at least 25 passing files', () => {
    expect(passing.length).toBeGreaterThanOrEqual(25);
  });

  describe.each(passing)('%s', (file) => {
    it('passes under promtool', () => {
      const r = promtool(HERE, file);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
    it('passes under sentinel rules test', async () => {
      const r = await sentinel(HERE, file);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`Unit Testing:  ${file}\n  SUCCESS\n\n`);
      expect(r.ok).toBe(true);
    });
  });

  describe.each(failing)('failing/%s', (file) => {
    it('fails under sentinel rules test', async () => {
      const r = await sentinel(FAILING, file);
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(/^ {2}FAILED:\n/);
    });
    it('fails under promtool with the same report', async () => {
      const p = promtool(FAILING, file);
      expect(p.status).toBe(1);
      const s = await sentinel(FAILING, file);
      if (WORDING_DIFFERS.has(file)) {
        expect(s.stdout).toBe(p.stdout);
        return;
      }
      expect(s.stdout).toBe(p.stdout);
      expect(s.stderr).toBe(p.stderr);
    });
  });
});
