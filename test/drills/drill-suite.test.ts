/**
 * The drill suite: its SUMMARY.md and results.jsonl in the operators' chaos format (checked
 * against the lines their own run-chaos-drills.sh writes), `Failures: N` over every scenario,
 * fresh allow evidence reused only when it verifies, and `sentinel drill run --suite chaos`
 * against the lab.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { CommandIO } from '../../src/commands/types.js';
import { operatorsScenarioOf, OPERATORS_CHAOS_MATRIX, runDrillSuite } from '../../src/drills/index.js';
import type { DrillRunResult, DrillSpec } from '../../src/drills/index.js';
import { ManualClock } from '../../src/time/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'sentinel-suite-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function drill(name: string): DrillSpec {
  return { name, environments: ['dev'] } as unknown as DrillSpec;
}

/** fakeRun stands for a drill run whose evidence directory does not verify (the suite must not trust memory). */
function fakeRun(dir: string): (d: DrillSpec) => Promise<DrillRunResult> {
  return () => Promise.resolve({ dir } as unknown as DrillRunResult);
}

describe('the suite summary', () => {
  it("has the operators' chaos format, line for line, and counts every failed scenario", async () => {
    // The operators' own script, with none of its commands available: nine failures, in its format.
    const theirs = join(work, 'theirs');
    await new Promise<void>((resolve) => {
      execFile('bash', [join(ROOT, 'test', 'fixtures', 'vendor', 'openagents', 'scripts', 'run-chaos-drills.sh'), '--output-dir', theirs], { timeout: 60_000, env: { PATH: '/usr/bin:/bin', HOME: work } }, () => resolve());
    });
    const theirSummary = readFileSync(join(theirs, 'SUMMARY.md'), 'utf8').split('\n');
    const theirLine = JSON.parse(readFileSync(join(theirs, 'results.jsonl'), 'utf8').split('\n')[0]) as Record<string, unknown>;

    const clock = new ManualClock(1_767_225_600_000);
    const result = await runDrillSuite(
      {
        runDrill: fakeRun(join(work, 'no-such-evidence')),
        drills: [drill('temporary-partition'), drill('reconnect-storm')],
        probes: [{ probe: 'retired_routes', run: () => Promise.resolve({ ok: true, reason: 'ok', detail: {} }) }],
        evidenceRoot: join(work, 'evidence'),
        suiteRoot: join(work, 'suites'),
        reuseFreshMs: 0,
        clock,
        environment: 'dev',
      },
      'chaos',
      ['temporary-partition', 'reconnect-storm', 'retired_routes'],
      new AbortController().signal,
    );
    expect(result.failures).toBe(2);
    const ours = readFileSync(join(result.dir, 'SUMMARY.md'), 'utf8').split('\n');
    const prefix = (l: string): string => l.replace(/: .*$/, ':');
    // The same header lines, in the same order, then the same table.
    expect(ours.slice(0, 7).map(prefix)).toEqual(theirSummary.slice(0, 7).map(prefix));
    expect(ours.slice(7, 10)).toEqual(theirSummary.slice(7, 10));
    expect(ours).toContain('- Failures: 2');
    expect(ours).toContain('- Scenario count: 3');
    expect(ours[ours.length - 2]).toBe('Decision: block');
    const line = JSON.parse(readFileSync(join(result.dir, 'results.jsonl'), 'utf8').split('\n')[0]) as Record<string, unknown>;
    expect(Object.keys(line).slice(0, 4)).toEqual(Object.keys(theirLine));
    expect(line).toMatchObject({ scenario: 'temporary-partition', status: 'failed', operators_scenario: 'replay_resume_harness' });
    expect(String(line.reason)).toMatch(/^evidence invalid: /);
    expect(ours.join('\n')).toContain('| shared_client_reconnect_storm | reconnect-storm | failed |');
    expect(ours.join('\n')).toContain('| runtime_retired_spacetime_routes | retired_routes | passed |');
  }, 90_000);

  it("names a live counterpart for the operators' replay/resume, routes, stale cursor, reconnect storm and publish scenarios", () => {
    expect(OPERATORS_CHAOS_MATRIX.map((s) => s.scenario)).toEqual([
      'replay_resume_harness',
      'runtime_desktop_e2e_suite',
      'legacy_symbol_guard',
      'runtime_publish_observability',
      'runtime_retired_spacetime_routes',
      'shared_client_stale_cursor',
      'shared_client_reconnect_helpers',
      'shared_client_reconnect_storm',
      'desktop_reconnect_backoff',
    ]);
    expect(['temporary-partition', 'service-restart', 'stale-cursor-retention', 'reconnect-storm', 'latency-slow-consumer', 'token-expiry-storm'].map((d) => operatorsScenarioOf('drill', d))).toEqual([
      'replay_resume_harness',
      'replay_resume_harness',
      'shared_client_stale_cursor',
      'shared_client_reconnect_storm',
      undefined,
      undefined,
    ]);
    expect(operatorsScenarioOf('probe', 'runtime_metrics')).toBe('runtime_publish_observability');
    expect(operatorsScenarioOf('probe', 'retired_routes')).toBe('runtime_retired_spacetime_routes');
  });
});

describe('sentinel drill run --suite chaos against the lab', () => {
  it('runs the suite, reads Failures: 0, and refuses a name beside --all', async () => {
    const env = await startLabEnvironment({
      workDir: join(work, 'lab'),
      evidenceDir: join(work, 'lab-evidence'),
      drillFiles: [join(ROOT, 'test', 'fixtures', 'drills', 'lab-drills.yaml')],
      idleTimeoutMs: 3000,
      patchConfig: (doc) => {
        doc.setIn(['probes', 'delivery', 'timeout'], '8s');
        doc.setIn(['probes', 'delivery', 'params', 'receive_timeout'], '4s');
        doc.setIn(['probes', 'connections', 'timeout'], '8s');
        doc.setIn(['probes', 'connections', 'params', 'settle_timeout'], '3s');
        doc.setIn(['rollout', 'chaos_suite'], ['quick-restart']);
      },
    });
    try {
      let out = '';
      let err = '';
      const io: CommandIO = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: { LOG_LEVEL: 'silent' }, cwd: work, signal: new AbortController().signal };
      const command = await COMMANDS.drill.load();
      expect(await command.run({ positionals: ['run', 'quick-restart'], options: { config: env.configFile, all: true } }, io)).toBe(2);
      expect(err).toBe('sentinel drill run: --all and --suite NAME run a suite instead of one named drill; give one of them and no drill name\n');
      err = '';
      const code = await command.run({ positionals: ['run'], options: { config: env.configFile, suite: 'chaos', 'skip-alert-check': true, out: join(work, 'suites') } }, io);
      const summaryPath = /SUMMARY: (.*)\n/.exec(out)?.[1] ?? '';
      const summary = readFileSync(summaryPath, 'utf8');
      expect(summary).toMatch(/- Scenario count: 3\n/);
      expect(summary).toMatch(/\| replay_resume_harness \| quick-restart \| (passed|failed) \|/);
      expect(out).toContain('scenario retired_routes: passed [operators: runtime_retired_spacetime_routes]');
      // Exit 0 exactly when the summary says Failures: 0.
      expect(code).toBe(summary.includes('- Failures: 0\n') ? 0 : 1);
      expect(err).toContain('--skip-alert-check: firing critical alerts are NOT checked');
    } finally {
      await env.close();
    }
  }, 120_000);
});
