/**
 * Whole rollouts against the lab, started through the daemon's admin API (the daemon composed by
 * `buildDaemon`: its probe scheduler, store, rule manager and alerts), with short real soaks.
 * Each cohort is applied by `scripts/lab-apply-cohort.sh` (the lab's runtime_routing knob, as a
 * deploy of the env plan); the failures come from the lab's own behaviour through test wrappers
 * around that script: a latency fault in cohort 3, evaluate answering 500, a cohort that is never
 * applied, a resume gap that raises a critical alert, a force switch that does nothing.
 */
import { writeFileSync, mkdtempSync, readFileSync, rmSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Document } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import type { Daemon } from '../../src/commands/run.js';
import type { CommandIO } from '../../src/commands/types.js';
import { loadConfig } from '../../src/config/index.js';
import { readVerdict } from '../../src/drills/index.js';
import type { RolloutResult } from '../../src/rollout/index.js';
import { SystemClock } from '../../src/time/index.js';
import { setProbeTimings } from '../helpers/probe-timings.js';
import { startDaemon } from '../helpers/started-daemon.js';

const ROOT = join(import.meta.dirname, '..', '..');
const APPLY = join(ROOT, 'scripts', 'lab-apply-cohort.sh');
const DRILLS = join(ROOT, 'test', 'fixtures', 'drills', 'lab-drills.yaml');
const TEST_RULES = join(ROOT, 'test', 'fixtures', 'rollout', 'critical-resume.rules.yaml');
const NEVER = '0 0 1 1 *';
const ADMIN = 'rollout-lab-admin-token';

const work = mkdtempSync(join(tmpdir(), 'sentinel-rollout-lab-'));
const logger = pino({ level: 'silent' });
const clock = new SystemClock();

function patch(doc: Document): void {
  // Generous canary timeouts: a loaded test machine must not turn a healthy soak into missing data.
  setProbeTimings(doc, {
    delivery: { timeout: '8s', params: { receive_timeout: '4s' } },
    resume: { timeout: '10s', params: { receive_timeout: '4s' } },
    connections: { timeout: '8s', params: { settle_timeout: '3s' } },
  });
  // The rollout runs the probes itself; the daemon's own schedules would only add load.
  for (const p of ['runtime_metrics', 'replay_lag', 'delivery', 'resume', 'connections', 'token', 'cutover_state', 'retired_routes', 'preflight']) doc.setIn(['probes', p, 'schedule'], NEVER);
  doc.setIn(['rules', 'files'], [join(ROOT, 'config', 'rules', '*.rules.yaml'), TEST_RULES]);
  doc.setIn(['rules', 'evaluation_interval'], '1s');
  doc.setIn(['server', 'admin_token'], `\${file:${join(work, 'admin-token')}}`);
  doc.setIn(['rollout', 'slo_window'], '5s');
  doc.setIn(['rollout', 'cohort_effect_timeout'], '5s');
  doc.setIn(['rollout', 'status_poll_interval'], '300ms');
  doc.setIn(['rollout', 'soak', 'probe_interval'], '1s');
  doc.setIn(['rollout', 'chaos_suite'], ['quick-restart']);
  doc.setIn(['rollout', 'rollback_drill', 'recovery_timeout'], '5s');
}

/** wrapper writes an apply command: `before` runs first (it may exit), then the lab script, then `after`. */
function wrapper(name: string, before: string, after = ''): string {
  const file = join(work, `${name}.sh`);
  writeFileSync(file, `#!/usr/bin/env bash\nset -euo pipefail\n${before}\n"${APPLY}"\n${after}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Env is a lab with the daemon watching it (its store, rules and alerts are this test's alone). */
interface Env {
  readonly lab: LabEnvironment;
  readonly daemon: Daemon;
  readonly apiUrl: string;
  readonly daemonEnv: Record<string, string>;
  close(): Promise<void>;
}

let envCount = 0;
async function startEnv(): Promise<Env> {
  envCount += 1;
  const dir = join(work, `env-${envCount}`);
  const lab = await startLabEnvironment({ workDir: dir, evidenceDir: join(dir, 'evidence'), drillFiles: [DRILLS], patchConfig: patch, idleTimeoutMs: 3000 });
  const provision = (e: string): Record<string, string> => ({
    [`OA_SPACETIME_${e}_HTTP_BASE_URL`]: lab.urls.spacetimedb,
    [`OA_SPACETIME_${e}_DATABASE`]: 'autopilot-sync',
    [`OA_SPACETIME_${e}_TOKEN_ISSUER`]: 'https://openagents.com',
    [`OA_SPACETIME_${e}_TOKEN_AUDIENCE`]: 'openagents-sync',
    [`OA_SPACETIME_${e}_JWT_SIGNING_KEY`]: 'set-in-the-environment',
    [`OA_SPACETIME_${e}_HEALTH_PATH`]: '/v1/ping',
  });
  const daemonEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', SENTINEL_LAB_ADMIN_URL: lab.urls.admin, TOXIPROXY_URL: lab.urls.toxiproxy, ...provision('STAGING'), ...provision('PROD') };
  const config = loadConfig(lab.configFile, { env: daemonEnv });
  const { daemon, stop } = await startDaemon(config, { clock, logger, env: daemonEnv });
  return {
    lab,
    daemon,
    apiUrl: daemon.server.address()?.url ?? '',
    daemonEnv,
    async close() {
      await stop();
      await lab.close();
    },
  };
}

/** withEnv runs a test on its own lab and daemon (for tests whose faults would linger in shared alerts). */
async function withEnv(test: (e: Env) => Promise<void>): Promise<void> {
  const e = await startEnv();
  try {
    await test(e);
  } finally {
    await e.close();
  }
}

let shared: Env;

beforeAll(async () => {
  writeFileSync(join(work, 'admin-token'), `${ADMIN}\n`, { mode: 0o600 });
  shared = await startEnv();
}, 60_000);

afterAll(async () => {
  await shared?.close();
  if (!process.env.KEEP_ROLLOUT_LAB) rmSync(work, { recursive: true, force: true });
}, 60_000);

afterEach(() => {
  // The shared lab is left as it was found: no canary, no failing evaluate.
  shared.lab.stack.lab.setKnobs({ runtime_routing: { canary_user_percent: 0, canary_autopilot_percent: 0, force_control_service: false, evaluate_fails_with: null }, next_resume: null });
});

async function rollout(kind: 'staging' | 'production', flags: Record<string, string | boolean>, e: Env = shared): Promise<{ result: RolloutResult; dir: string }> {
  const res = await fetch(`${e.apiUrl}/api/v1/rollouts`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ kind, flags }) });
  const body = (await res.json()) as { data: { outputDir: string }; error?: string };
  expect(res.status, body.error).toBe(202);
  const result = await e.daemon.rollouts.whenIdle();
  if (!result) throw new Error(`the rollout did not run: ${JSON.stringify(e.daemon.rollouts.status())}`);
  return { result, dir: body.data.outputDir };
}

function lines(dir: string, file: string): Array<Record<string, unknown>> {
  const text = readFileSync(join(dir, file), 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function summary(dir: string): string {
  return readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
}

describe('rollouts against the lab', () => {
  it('a healthy staging rollout is allow: every cohort applied, in effect, probed and soaked under watch', async () => {
    const { result, dir } = await rollout('staging', { cohorts: '5,25,100', 'cohort-soak-seconds': '3', 'skip-gates': true, 'apply-command': APPLY });
    expect(result.decision.reasons).toEqual([]);
    expect(result.decision.decision).toBe('allow');
    expect(lines(dir, 'cohort-results.jsonl').map((c) => [c.cohort_percent, c.status, c.http_status, c.driver])).toEqual([
      [5, 'passed', '200', expect.any(String)],
      [25, 'passed', '200', expect.any(String)],
      // At 100% every user is in the canary.
      [100, 'passed', '200', 'runtime_service'],
    ]);
    expect(lines(dir, 'effect-results.jsonl').every((e) => e.status === 'in_effect' && e.via === 'status')).toBe(true);
    // Every soak waited out in full (a round that runs late may stretch it, never shorten it).
    expect(lines(dir, 'soak-results.jsonl').map((s) => [s.status, (s.watched_seconds as number) >= 3])).toEqual([
      ['passed', true],
      ['passed', true],
      ['passed', true],
    ]);
    expect(lines(dir, 'slo-results.jsonl').every((l) => l.status === 'passed' && (l.p95_latency_ms as number) > 0)).toBe(true);
    expect(readFileSync(join(dir, 'logs', 'apply-cohort-25.log'), 'utf8')).toContain('lab: canary 25/25%');
    expect(JSON.parse(readFileSync(join(dir, 'control_status_after_100.json'), 'utf8'))).toMatchObject({ data: { runtimeRouting: { canary_user_percent: 100 } } });
    expect(summary(dir)).toContain('- Decision: allow');
  }, 120_000);

  it('a healthy production rollout, with its rollback drill, is allow and the drill evidence verifies', async () => {
    const { result, dir } = await rollout('production', { cohorts: '50,100', 'cohort-soak-seconds': '3', 'skip-gates': true, 'apply-command': APPLY });
    expect(result.decision.reasons).toEqual([]);
    expect(lines(dir, 'slo-results.jsonl').map((l) => [l.label, l.status])).toEqual([
      ['baseline', 'passed'],
      ['cohort_50', 'passed'],
      ['cohort_100', 'passed'],
      ['post_rollback_drill', 'passed'],
    ]);
    const rollback = lines(dir, 'gate-results.jsonl').find((g) => g.gate === 'rollback_drill');
    expect(rollback).toMatchObject({ status: 'passed' });
    const verdict = await readVerdict(String(rollback?.evidence));
    expect(verdict.kind === 'decided' && verdict.report.decision).toBe('allow');
    expect(readFileSync(join(dir, 'logs', 'rollback-drill.log'), 'utf8')).toMatch(/routing forced to control_service within 5s: yes/);
  }, 120_000);

  it('a 500 from evaluate blocks at that cohort', async () => {
    const apply = wrapper('fail-at-10', '', `if [ "$OA_RUNTIME_CANARY_USER_PERCENT" = 10 ]; then curl -fsS -X POST -H 'content-type: application/json' --data '{"runtime_routing":{"evaluate_fails_with":500}}' "$SENTINEL_LAB_ADMIN_URL/lab/knobs" >/dev/null; fi`);
    const { result, dir } = await rollout('staging', { cohorts: '5,10,25', 'cohort-soak-seconds': '2', 'skip-gates': true, 'apply-command': apply });
    expect(result.decision.decision).toBe('block');
    expect(lines(dir, 'cohort-results.jsonl').map((c) => [c.cohort_percent, c.status, c.http_status ?? c.reason])).toEqual([
      [5, 'passed', '200'],
      [10, 'failed', '500'],
      [25, 'skipped', 'rollout_blocked'],
    ]);
    expect(readFileSync(join(dir, 'cohort-10.status'), 'utf8')).toBe('500\n');
    expect(summary(dir)).toContain('- Blocked at: cohort 10%: runtime-routing evaluate answered HTTP 500, not 200');
  }, 120_000);

  it('a cohort that never takes effect blocks within the bound', async () => {
    const apply = wrapper('skip-10', 'if [ "$OA_RUNTIME_CANARY_USER_PERCENT" = 10 ]; then echo "deploy did not happen"; exit 0; fi');
    const { result, dir } = await rollout('staging', { cohorts: '5,10', 'cohort-soak-seconds': '2', 'skip-gates': true, 'apply-command': apply });
    expect(result.decision.decision).toBe('block');
    expect(lines(dir, 'effect-results.jsonl')[1]).toMatchObject({ cohort_percent: 10, status: 'not_in_effect', observed: { canary_user_percent: 5, canary_autopilot_percent: 5 } });
    expect(summary(dir)).toContain('- Blocked at: cohort 10%: the cohort never took effect within 5s: runtime-routing status still shows canary 5/5, not 10/10');
  }, 120_000);

  it('a production rollout whose force switch does nothing fails its rollback drill and blocks', async () => {
    const apply = wrapper('no-force', 'export OA_RUNTIME_FORCE_CONTROL_SERVICE=false');
    const { result, dir } = await rollout('production', { cohorts: '100', 'cohort-soak-seconds': '2', 'skip-gates': true, 'apply-command': apply });
    expect(result.decision.decision).toBe('block');
    expect(summary(dir)).toContain('- Rollback drill failures: 1');
    expect(summary(dir)).toContain('- Blocked at: gate:rollback_drill: the rollback drill failed: routing did not move to control_service within 5s');
    const evidence = String(lines(dir, 'gate-results.jsonl').find((g) => g.gate === 'rollback_drill')?.evidence);
    const verdict = await readVerdict(evidence);
    expect(verdict.kind === 'decided' && verdict.report.decision).toBe('block');
    expect(existsSync(join(evidence, 'SUMMARY.md'))).toBe(true);
  }, 120_000);

  it('sentinel rollout staging from the command line: watched, and SUMMARY.md to read', async () => {
    let out = '';
    let err = '';
    const io: CommandIO = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: { ...shared.daemonEnv, LOG_LEVEL: 'silent' }, cwd: work, signal: new AbortController().signal };
    const command = await COMMANDS.rollout.load();
    const dir = join(work, 'cli-staging');
    const code = await command.run({ positionals: ['staging'], options: { config: shared.lab.configFile, cohorts: '5,10', 'cohort-soak-seconds': '2', 'skip-gates': true, 'apply-command': APPLY, 'output-dir': dir, 'daemon-url': shared.apiUrl } }, io);
    expect(err).toBe('');
    expect(code, out).toBe(0);
    expect(out).toContain(`starting staging rollout, cohorts 5, 10%\n  output: ${dir}\n`);
    expect(out).toMatch(/passed {4}soak:10%: 2s watched: \d+ probe runs, \d+ alert checks, \d+ SLO checks, all healthy\n/);
    expect(out.trimEnd().endsWith('Decision: allow')).toBe(true);
    expect(summary(dir)).toContain('- Decision: allow');
  }, 120_000);

  // Each of these injects a fault whose alerts would linger: its own lab and daemon.
  it('with its gates, against the module as deployed, blocks at sync-security and says why', async () => {
    await withEnv(async (e) => {
    const { result, dir } = await rollout('staging', { cohorts: '5', 'cohort-soak-seconds': '2', 'apply-command': APPLY }, e);
    expect(result.decision.decision).toBe('block');
    const gates = lines(dir, 'gate-results.jsonl');
    expect(gates.map((g) => g.gate)).toEqual(['spacetime-provision-staging', 'spacetime-replay-resume', 'spacetime-chaos', 'sync-security']);
    expect(gates[0].status).toBe('passed');
    expect(readFileSync(String(gates[1].log_file), 'utf8')).toMatch(/^run 1: resume: ok .*\nrun 2: resume: ok .*\nrun 3: resume: ok /);
    // The chaos suite ran its drill and probe scenarios, one SUMMARY.md in the operators' format.
    const suiteSummary = readFileSync(join(String(gates[2].evidence), 'SUMMARY.md'), 'utf8');
    expect(suiteSummary).toMatch(/^# Spacetime Chaos Drill Summary\n\n- Timestamp \(UTC\): \d{8}T\d{6}Z\n- Output directory: .*\n- Scenario count: 3\n- Failures: \d+\n/);
    expect(suiteSummary).toMatch(/\| replay_resume_harness \| quick-restart \| (passed|failed) \|/);
    expect(suiteSummary).toMatch(/\| runtime_retired_spacetime_routes \| retired_routes \| passed \|/);
    expect(suiteSummary).toMatch(/\| shared_client_stale_cursor \| .* \| not exercised \|/);
    const text = summary(dir);
    expect(gates[3].status).toBe('failed');
    expect(text).toMatch(/\| gate:sync-security \| failed \| \d+s \| subscribe with no token and reducer call with no token were accepted: the module checks nothing about its callers/);
    expect(lines(dir, 'cohort-results.jsonl')).toEqual([{ cohort_percent: 5, status: 'skipped', reason: 'rollout_blocked' }]);
    });
  }, 180_000);

  it('an SLO breach in cohort 3 (delivery slowed by 700 ms) blocks at that soak', async () => {
    const apply = wrapper('slow-at-25', '', `if [ "$OA_RUNTIME_CANARY_USER_PERCENT" = 25 ]; then curl -fsS -X POST -H 'content-type: application/json' --data '{"name":"rollout-test-latency","type":"latency","stream":"downstream","attributes":{"latency":700}}' "$TOXIPROXY_URL/proxies/spacetimedb/toxics" >/dev/null; fi`);
    await withEnv(async (e) => {
    const { result, dir } = await rollout('staging', { cohorts: '5,10,25,50', 'cohort-soak-seconds': '2', 'skip-gates': true, 'apply-command': apply }, e);
    expect(result.decision.decision).toBe('block');
    expect(lines(dir, 'soak-results.jsonl').map((s) => [s.cohort_percent, s.status])).toEqual([
      [5, 'passed'],
      [10, 'passed'],
      [25, 'failed'],
    ]);
    const slo = lines(dir, 'slo-results.jsonl');
    expect(slo.map((l) => [l.label, l.status])).toEqual([
      ['cohort_5', 'passed'],
      ['cohort_10', 'passed'],
      ['cohort_25', 'failed'],
    ]);
    // Slowed past 600 ms; on a very loaded machine a slowed canary may still time out, and then
    // there is no latency to show: the SLO still fails (missing_metrics_fields), never passes.
    if (slo[2].reason === undefined) expect(slo[2].p95_latency_ms as number).toBeGreaterThan(600);
    else expect(slo[2].reason).toBe('missing_metrics_fields');
    expect(summary(dir)).toMatch(/- Blocked at: soak 25%: SLO (breach \(sentinel over \d+s\): p95 \d+(\.\d+)?ms > 600ms|not met over the soak: missing_metrics_fields)/);
    expect(lines(dir, 'cohort-results.jsonl')[3]).toMatchObject({ cohort_percent: 50, status: 'skipped', reason: 'rollout_blocked' });
    });
  }, 120_000);

  it('a critical alert mid-soak blocks at once', async () => {
    const apply = wrapper('gap-at-10', '', `if [ "$OA_RUNTIME_CANARY_USER_PERCENT" = 10 ]; then curl -fsS -X POST -H 'content-type: application/json' --data '{"next_resume":"gap"}' "$SENTINEL_LAB_ADMIN_URL/lab/knobs" >/dev/null; fi`);
    // A lenient error budget: the failed resume run must not be what stops the soak.
    await withEnv(async (e) => {
    const { result, dir } = await rollout('staging', { cohorts: '5,10,25', 'cohort-soak-seconds': '8', 'skip-gates': true, 'apply-command': apply, 'max-error-budget-ratio': '1' }, e);
    expect(result.decision.decision).toBe('block');
    const soaks = lines(dir, 'soak-results.jsonl');
    expect(soaks[1]).toMatchObject({ cohort_percent: 10, status: 'failed', reason: 'critical alert(s) firing: SentinelResumeOutcomeNotOk' });
    expect(soaks[1].watched_seconds as number).toBeLessThan(8);
    expect(summary(dir)).toContain('- Blocked at: soak 10%: critical alert(s) firing: SentinelResumeOutcomeNotOk');
    });
  }, 120_000);
});
