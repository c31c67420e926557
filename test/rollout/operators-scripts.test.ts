/**
 * The sentinel against the operators' own scripts (byte-identical copies in
 * test/fixtures/vendor/openagents/scripts/): the same bad input is refused with the same sentence and exit 2,
 * and the same rollout (gates skipped, cohorts probed against the control stand-in) leaves the
 * same artifact names, the same JSON fields and the same SUMMARY.md lines.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseRolloutOptions } from '../../src/rollout/index.js';
import type { RolloutKind } from '../../src/rollout/index.js';
import { startStandIn } from './control-stand-in.js';
import { buildHarness } from './runner-harness.js';

const SCRIPTS = join(import.meta.dirname, '..', 'fixtures', 'vendor', 'openagents', 'scripts');
const work = mkdtempSync(join(tmpdir(), 'sentinel-scripts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function script(kind: RolloutKind): string {
  return join(SCRIPTS, kind === 'staging' ? 'run-staging-canary-rollout.sh' : 'run-production-phased-rollout.sh');
}

/** runScript runs a script asynchronously (a stand-in in this process must be able to answer it). */
function runScript(file: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('bash', [file, ...args], { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } }, (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }));
  });
}

function sentinelRefusal(kind: RolloutKind, flags: Record<string, string>, env: Record<string, string>): string | undefined {
  try {
    parseRolloutOptions(kind, flags, env);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
}

describe('bad input', () => {
  const cases: Array<{ kind: RolloutKind; flags: Record<string, string>; env?: Record<string, string> }> = [
    { kind: 'staging', flags: { 'cohort-soak-seconds': 'abc' } },
    { kind: 'staging', flags: { 'cohort-soak-seconds': '-5' } },
    { kind: 'staging', flags: { cohorts: '5,101' } },
    { kind: 'staging', flags: { cohorts: ' 5, x' } },
    { kind: 'staging', flags: { cohorts: ', ,' } },
    { kind: 'staging', flags: {}, env: { OA_STAGING_CANARY_COHORTS: '5,abc' } },
    { kind: 'staging', flags: {}, env: { OA_STAGING_CANARY_COHORT_SOAK_SECONDS: '1.5' } },
    { kind: 'production', flags: { cohorts: '' } },
    { kind: 'production', flags: { 'max-p95-latency-ms': '1.5' } },
    { kind: 'production', flags: { 'max-error-budget-ratio': '.5' } },
    { kind: 'production', flags: {}, env: { OA_SPACETIME_SLO_MAX_ERROR_BUDGET_RATIO: '2%' } },
    { kind: 'production', flags: {}, env: { OA_PROD_ROLLOUT_COHORTS: '1,5,200' } },
  ];
  it.each(cases)("is refused like the $kind script refuses it: $flags $env", async ({ kind, flags, env = {} }) => {
    const args = [...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]), '--output-dir', join(work, `bad-${Math.random().toString(36).slice(2)}`), '--skip-gates'];
    const real = await runScript(script(kind), args, env);
    expect(real.code).toBe(2);
    expect(sentinelRefusal(kind, flags, env)).toBe(real.stderr.trim());
  });

  it('takes the same defaults from the same environment variables', () => {
    expect(parseRolloutOptions('staging', {}, {})).toMatchObject({ cohorts: [5, 10, 25, 50, 100], soakSeconds: 900, maxP95LatencyMs: 600, maxErrorBudgetRatioText: '0.020' });
    expect(parseRolloutOptions('production', {}, {})).toMatchObject({ cohorts: [1, 5, 10, 25, 50, 100], soakSeconds: 1800 });
    const env = { OA_PROD_ROLLOUT_COHORTS: '2,4', OA_PROD_ROLLOUT_COHORT_SOAK_SECONDS: '30', OA_SPACETIME_SLO_SNAPSHOT_URL: 'http://slo.example/x', OA_SPACETIME_SLO_MAX_P95_LATENCY_MS: '500', OA_PROD_CONTROL_BASE_URL: 'http://control.example', OA_PROD_CONTROL_AUTH_TOKEN: 'tok' };
    expect(parseRolloutOptions('production', {}, env)).toMatchObject({ cohorts: [2, 4], soakSeconds: 30, sloSnapshotUrl: 'http://slo.example/x', maxP95LatencyMs: 500, controlBaseUrl: 'http://control.example', authToken: 'tok' });
    expect(parseRolloutOptions('production', { cohorts: '7' }, env).cohorts).toEqual([7]);
  });

  it('refuses what the sentinel does differently, in one sentence', () => {
    expect(sentinelRefusal('production', { 'rollback-drill-command': './x.sh' }, {})).toBe(
      '--rollback-drill-command is not supported: the sentinel runs its own rollback drill (forcing the control_service driver and watching routing and sync recover); use --skip-rollback-drill to skip it explicitly',
    );
    expect(() => parseRolloutOptions('staging', { 'skip-rollback-drill': true } as never, {})).toThrow('--skip-rollback-drill is for production: the staging canary has no rollback drill');
    expect(parseRolloutOptions('production', {}, { OA_SPACETIME_ROLLBACK_DRILL_COMMAND: './x' }).notes).toEqual(['OA_SPACETIME_ROLLBACK_DRILL_COMMAND is ignored: the sentinel runs its own rollback drill']);
  });
});

describe('the same staging rollout, by the script and by the sentinel', () => {
  it('leaves the same artifacts, fields and SUMMARY.md lines', async () => {
    const standIn = await startStandIn();
    try {
      const scriptDir = join(work, 'script-staging');
      const real = await runScript(script('staging'), ['--control-base-url', standIn.url, '--auth-token', standIn.sessionToken, '--cohorts', '5,10', '--cohort-soak-seconds', '0', '--skip-gates', '--output-dir', scriptDir]);
      expect(real.code).toBe(0);
      const oursDir = join(work, 'sentinel-staging');
      const h = buildHarness(standIn, {});
      const result = await h.run(parseRolloutOptions('staging', { cohorts: '5,10', 'cohort-soak-seconds': '0', 'skip-gates': true }, {}), oursDir);
      expect(result.decision.decision).toBe('allow');

      const read = (dir: string, f: string): string => readFileSync(join(dir, f), 'utf8');
      expect(read(oursDir, 'canary-env-sequence.txt')).toBe(read(scriptDir, 'canary-env-sequence.txt'));
      expect(read(oursDir, 'gate-results.jsonl')).toBe(read(scriptDir, 'gate-results.jsonl'));
      for (const c of [5, 10]) {
        expect(read(oursDir, `cohort-${c}.status`).trim()).toBe(read(scriptDir, `cohort-${c}.status`).trim());
        expect(read(oursDir, `cohort-${c}.json`)).toBe(read(scriptDir, `cohort-${c}.json`));
      }
      const theirs = read(scriptDir, 'cohort-results.jsonl').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const ours = read(oursDir, 'cohort-results.jsonl').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(ours).toHaveLength(theirs.length);
      theirs.forEach((t, i) => {
        // Same fields, in the same order, first; paths differ only by directory.
        expect(Object.keys(ours[i]).slice(0, Object.keys(t).length)).toEqual(Object.keys(t));
        expect([ours[i].cohort_percent, ours[i].status, ours[i].http_status]).toEqual([t.cohort_percent, t.status, t.http_status]);
        expect(ours[i].response_file).toBe(String(t.response_file).replace(scriptDir, oursDir));
      });
      // SUMMARY.md: every line of the script's, with only the directory, timestamp and durations
      // differing (the script's durations are whole seconds of the wall clock).
      const durations = (text: string): string => text.replace(/ \| \d+s \| /g, ' | Ns | ');
      const theirLines = durations(read(scriptDir, 'SUMMARY.md').replaceAll(scriptDir, oursDir)).split('\n');
      const ourLines = durations(read(oursDir, 'SUMMARY.md')).split('\n');
      for (const line of theirLines) {
        if (line.startsWith('- Timestamp (UTC): ')) expect(ourLines.some((l) => /^- Timestamp \(UTC\): \d{8}T\d{6}Z$/.test(l))).toBe(true);
        else expect(ourLines, line).toContain(line);
      }
    } finally {
      await standIn.close();
    }
  });
});
