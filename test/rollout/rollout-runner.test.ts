/**
 * Whole rollouts against the control stand-in, with soaks that take milliseconds (the clock jumps
 * over every sleep) and a soak watch whose samples the SLO queries read: a healthy rollout is
 * allow; each failure blocks at its step and stops widening, with the artifacts saying so; an
 * interrupted rollout is block and resumes from its journal.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRolloutOptions, readRolloutJournal, recordConfirmation } from '../../src/rollout/index.js';
import type { RolloutOptions } from '../../src/rollout/index.js';
import { startStandIn } from './control-stand-in.js';
import type { StandIn } from './control-stand-in.js';
import { buildHarness, stubGate } from './runner-harness.js';

const work = mkdtempSync(join(tmpdir(), 'sentinel-rollout-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
function outDir(): string {
  n += 1;
  return join(work, `run-${n}`);
}

function lines(dir: string, file: string): Array<Record<string, unknown>> {
  const text = readFileSync(join(dir, file), 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function staging(flags: Record<string, string | boolean> = {}): RolloutOptions {
  return parseRolloutOptions('staging', { cohorts: '5,10,25', 'cohort-soak-seconds': '120', ...flags }, {});
}

function production(flags: Record<string, string | boolean> = {}): RolloutOptions {
  return parseRolloutOptions('production', { cohorts: '1,5', 'cohort-soak-seconds': '60', ...flags }, {});
}

let standIn: StandIn;
beforeEach(async () => {
  standIn = await startStandIn();
});
afterEach(async () => {
  await standIn.close();
});

describe('a healthy staging rollout', () => {
  it('waits for each cohort, probes it, soaks it in full under watch, and allows', async () => {
    const h = buildHarness(standIn, {});
    const dir = outDir();
    const result = await h.run(staging(), dir);
    expect(result.decision.reasons).toEqual([]);
    expect(result.decision.decision).toBe('allow');
    const cohorts = lines(dir, 'cohort-results.jsonl');
    expect(cohorts.map((l) => [l.cohort_percent, l.status, l.http_status])).toEqual([
      [5, 'passed', '200'],
      [10, 'passed', '200'],
      [25, 'passed', '200'],
    ]);
    expect(Object.keys(cohorts[0]).slice(0, 5)).toEqual(['cohort_percent', 'status', 'http_status', 'duration_seconds', 'response_file']);
    expect(readFileSync(join(dir, 'cohort-5.status'), 'utf8')).toBe('200\n');
    // The evaluate body is the script's, with the session bearer.
    const evals = standIn.requests.filter((r) => r.path.endsWith('/evaluate'));
    expect(evals.map((r) => r.body)).toEqual([
      '{"thread_id":"staging-canary-thread-5","cohort_key":"user:staging-canary-5"}',
      '{"thread_id":"staging-canary-thread-10","cohort_key":"user:staging-canary-10"}',
      '{"thread_id":"staging-canary-thread-25","cohort_key":"user:staging-canary-25"}',
    ]);
    expect(evals.every((r) => r.authorized)).toBe(true);
    // Every soak was waited out in full on the clock.
    const soaks = lines(dir, 'soak-results.jsonl');
    expect(soaks.map((s) => [s.cohort_percent, s.status, s.watched_seconds])).toEqual([
      [5, 'passed', 120],
      [10, 'passed', 120],
      [25, 'passed', 120],
    ]);
    expect(lines(dir, 'effect-results.jsonl').map((e) => [e.cohort_percent, e.status, e.via])).toEqual([
      [5, 'in_effect', 'status'],
      [10, 'in_effect', 'status'],
      [25, 'in_effect', 'status'],
    ]);
    const gates = lines(dir, 'gate-results.jsonl');
    expect(gates.map((g) => [g.gate, g.status])).toEqual([
      ['spacetime-provision-staging', 'passed'],
      ['spacetime-replay-resume', 'passed'],
      ['spacetime-chaos', 'passed'],
      ['sync-security', 'passed'],
    ]);
    expect(Object.keys(gates[0]).slice(0, 4)).toEqual(['gate', 'status', 'duration_seconds', 'log_file']);
    expect(readFileSync(gates[0].log_file as string, 'utf8')).toContain('spacetime-provision-staging ok');
    // Snapshots were taken with the right credentials: control status with the bearer.
    expect(JSON.parse(readFileSync(join(dir, 'control_status_before.json'), 'utf8'))).toMatchObject({ data: { syncCutover: { defaultTransport: 'spacetime_ws' } } });
    expect(existsSync(join(dir, 'runtime_metrics_after_25.json'))).toBe(true);
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary.split('\n').slice(0, 8)).toEqual([
      '# Staging Spacetime Canary Rollout Summary',
      '',
      '- Timestamp (UTC): 20260101T000000Z',
      `- Output directory: ${dir}`,
      '- Gate failures: 0',
      '- Cohort probe failures: 0',
      '- Recommended soak per cohort: 120s',
      '- Decision: allow',
    ]);
    expect(summary).toContain('| cohort:10% | passed | 0s | runtime-routing evaluate (HTTP 200) |');
    expect(summary).toContain(`## Canary Env Sequence\n\nSee: ${join(dir, 'canary-env-sequence.txt')}`);
    expect(summary.trimEnd().split('\n').pop()).toBe('Decision: allow');
    const journal = readRolloutJournal(join(dir, 'journal.jsonl'));
    expect(journal[0].type).toBe('run_start');
    expect(journal[journal.length - 1]).toMatchObject({ type: 'run_end', decision: 'allow' });
  });

  it('shows the cohort, the soak time left and the SLO values while it soaks', async () => {
    const ticks: string[] = [];
    const h = buildHarness(standIn, {}, { events: [{ soakTick: (t) => ticks.push(`${t.cohort} ${t.leftMs} ${t.sentinel.p95LatencyMs}`) }] });
    await h.run(staging({ cohorts: '5' }), outDir());
    expect(ticks[0]).toBe('5 120000 null');
    expect(ticks).toContain('5 60000 195');
    expect(ticks[ticks.length - 1]).toBe('5 0 195');
  });
});

describe('a rollout that must block', () => {
  it('blocks at cohort 10% when evaluate answers 500, and never widens to 25%', async () => {
    const h2 = buildHarness(standIn, { applies: (c) => {
      if (c === 10) standIn.knobs.evaluateStatus = 500;
      return true;
    } });
    const dir2 = outDir();
    const blocked = await h2.run(staging(), dir2);
    expect(blocked.decision.decision).toBe('block');
    expect(lines(dir2, 'cohort-results.jsonl').map((l) => [l.cohort_percent, l.status, l.http_status ?? l.reason])).toEqual([
      [5, 'passed', '200'],
      [10, 'failed', '500'],
      [25, 'skipped', 'rollout_blocked'],
    ]);
    expect(readFileSync(join(dir2, 'cohort-10.status'), 'utf8')).toBe('500\n');
    const summary = readFileSync(join(dir2, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('- Cohort probe failures: 1');
    expect(summary).toContain('- Decision: block');
    expect(summary).toContain('- Blocked at: cohort 10%: runtime-routing evaluate answered HTTP 500, not 200');
    expect(standIn.knobs.canaryUserPercent).toBe(10);
    expect(lines(dir2, 'soak-results.jsonl').map((s) => s.cohort_percent)).toEqual([5]);
  });

  it('blocks when a cohort never takes effect within the bound, naming what status showed', async () => {
    const h = buildHarness(standIn, { applies: (c) => c !== 10 }, { effectTimeoutMs: 60_000 });
    const dir = outDir();
    const result = await h.run(staging(), dir);
    expect(result.decision.decision).toBe('block');
    expect(lines(dir, 'effect-results.jsonl').map((e) => [e.cohort_percent, e.status, e.waited_seconds])).toEqual([
      [5, 'in_effect', 0],
      [10, 'not_in_effect', 60],
    ]);
    expect(lines(dir, 'cohort-results.jsonl')[1]).toMatchObject({ cohort_percent: 10, status: 'failed', reason: 'not_in_effect' });
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toContain('- Blocked at: cohort 10%: the cohort never took effect within 1m: runtime-routing status still shows canary 5/5, not 10/10');
    // Evaluate was never called for a cohort that is not in effect.
    expect(standIn.requests.filter((r) => r.path.endsWith('/evaluate'))).toHaveLength(1);
  });

  it('blocks in cohort 3 on an SLO breach (delivery p95 over 600 ms), in the soak and in slo-results', async () => {
    const h = buildHarness(standIn, { latencySeconds: (_t, cohort) => (cohort === 25 ? 0.9 : 0.15) });
    const dir = outDir();
    const result = await h.run(staging(), dir);
    expect(result.decision.decision).toBe('block');
    const soaks = lines(dir, 'soak-results.jsonl');
    expect(soaks.map((s) => [s.cohort_percent, s.status])).toEqual([
      [5, 'passed'],
      [10, 'passed'],
      [25, 'failed'],
    ]);
    expect(String(soaks[2].reason)).toMatch(/^SLO breach \(sentinel over 1m\): p95 \d+(\.\d+)?ms > 600ms$/);
    const slo = lines(dir, 'slo-results.jsonl');
    expect(slo.map((l) => [l.label, l.status])).toEqual([
      ['cohort_5', 'passed'],
      ['cohort_10', 'passed'],
      ['cohort_25', 'failed'],
    ]);
    expect(slo[2].p95_latency_ms as number).toBeGreaterThan(600);
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toMatch(/- Blocked at: soak 25%: SLO breach/);
  });

  it('blocks at once on a critical alert mid-soak, before the soak ends', async () => {
    let firstSeen = 0;
    const h = buildHarness(standIn, {
      firing: (t, cohort) => {
        if (cohort !== 10) return [];
        firstSeen ||= t;
        return t - firstSeen >= 60_000 ? ['SentinelResumeOutcomeNotOk'] : [];
      },
    });
    const dir = outDir();
    const result = await h.run(staging(), dir);
    expect(result.decision.decision).toBe('block');
    const soak = lines(dir, 'soak-results.jsonl')[1];
    expect(soak).toMatchObject({ cohort_percent: 10, status: 'failed', reason: 'critical alert(s) firing: SentinelResumeOutcomeNotOk', watched_seconds: 60 });
  });

  it('fails closed when critical alerts cannot be checked', async () => {
    const h = buildHarness(standIn, {
      firing: () => {
        throw new Error('no answer from the daemon');
      },
    });
    const dir = outDir();
    const result = await h.run(staging({ cohorts: '5' }), dir);
    expect(result.decision.decision).toBe('block');
    expect(lines(dir, 'soak-results.jsonl')[0].reason).toBe('could not check critical alerts: no answer from the daemon');
  });

  it('blocks on a streak of failed probe runs', async () => {
    const h = buildHarness(standIn, { probeOk: (probe, _t, cohort) => !(probe === 'resume' && cohort === 5) });
    const dir = outDir();
    // A lenient error budget, so the streak is what stops the soak (one probe in three fails).
    await h.run(staging({ 'max-error-budget-ratio': '0.5' }), dir);
    expect(lines(dir, 'soak-results.jsonl')[0]).toMatchObject({ status: 'failed', reason: 'probe resume failed 3 runs in a row (timeout)', watched_seconds: 60 });
  });

  it('blocks before any cohort when a gate fails', async () => {
    const h = buildHarness(standIn, {}, { gates: [stubGate('spacetime-provision-staging'), stubGate('sync-security', { status: 'failed', detail: 'subscribe with no token was accepted' })] });
    const dir = outDir();
    const result = await h.run(staging(), dir);
    expect(result.decision.decision).toBe('block');
    expect(lines(dir, 'gate-results.jsonl').map((g) => [g.gate, g.status])).toEqual([
      ['spacetime-provision-staging', 'passed'],
      ['sync-security', 'failed'],
    ]);
    expect(lines(dir, 'cohort-results.jsonl').every((l) => l.status === 'skipped')).toBe(true);
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('- Gate failures: 1');
    expect(summary).toContain('| gate:sync-security | failed | 0s | subscribe with no token was accepted |');
    expect(summary).toContain('- Blocked at: gate:sync-security: gate(s) failed, no cohort was started: sync-security (subscribe with no token was accepted)');
  });

  it('records --skip-gates as the script does', async () => {
    const h = buildHarness(standIn, {});
    const dir = outDir();
    await h.run(staging({ cohorts: '5', 'skip-gates': true }), dir);
    expect(readFileSync(join(dir, 'gate-results.jsonl'), 'utf8')).toBe('{"gate":"all","status":"skipped","reason":"--skip-gates"}\n');
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toContain('| gate:all | skipped | 0s | --skip-gates |');
  });
});

describe('when runtime-routing status is not reachable', () => {
  it('waits for the operator to confirm the cohort, and records it as confirmed', async () => {
    standIn.knobs.statusRoute = 'missing';
    const dir = outDir();
    const waits: string[] = [];
    const h = buildHarness(standIn, {}, {
      events: [
        {
          waiting: (t) => {
            waits.push(t.instruction);
            recordConfirmation(dir, t.cohort, h.clock.nowMs(), 'release-manager');
          },
        },
      ],
    });
    const result = await h.run(staging({ cohorts: '5' }), dir);
    expect(waits[0]).toContain(`then confirm with: sentinel rollout confirm --output-dir ${dir} --cohort 5`);
    expect(result.decision.decision).toBe('allow');
    expect(lines(dir, 'effect-results.jsonl')[0]).toMatchObject({ status: 'confirmed', via: 'operator', confirmed_by: 'release-manager' });
  });

  it('blocks without a confirmation', async () => {
    standIn.knobs.statusRoute = 'missing';
    const h = buildHarness(standIn, {}, { effectTimeoutMs: 30_000 });
    const dir = outDir();
    await h.run(staging({ cohorts: '5' }), dir);
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toMatch(/- Blocked at: cohort 5%: the cohort never took effect within 30s: runtime-routing status not reachable \(.*HTTP 404\) and no operator confirmation/);
  });
});

describe('an interrupted rollout', () => {
  it('is block, and resumes from its journal: finished cohorts stay, the interrupted one soaks in full', async () => {
    const controller = new AbortController();
    const h = buildHarness(standIn, {}, {
      events: [
        {
          soakTick: (t) => {
            if (t.cohort === 10 && t.leftMs === 60_000) controller.abort(new Error('received SIGINT'));
          },
        },
      ],
    });
    const dir = outDir();
    const first = await h.run(staging(), dir, { signal: controller.signal });
    expect(first.interrupted).toBe(true);
    expect(first.decision.decision).toBe('block');
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('- Decision: block');
    expect(summary).toContain(`- Interrupted: during soak:10% (received SIGINT); resume with: --resume ${dir}`);
    expect(readRolloutJournal(join(dir, 'journal.jsonl')).some((e) => e.type === 'run_end')).toBe(false);

    const h2 = buildHarness(standIn, {});
    const second = await h2.run(staging(), dir, { resume: true });
    expect(second.decision.decision).toBe('allow');
    expect(lines(dir, 'cohort-results.jsonl').map((l) => l.cohort_percent)).toEqual([5, 10, 25]);
    expect(lines(dir, 'soak-results.jsonl').map((s) => [s.cohort_percent, s.watched_seconds])).toEqual([
      [5, 120],
      [10, 120],
      [25, 120],
    ]);
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toContain('- Resumed: 1 time(s)');
    // The gates and cohort 5 were not run again.
    expect(standIn.requests.filter((r) => r.path.endsWith('/evaluate')).map((r) => JSON.parse(r.body).thread_id)).toEqual([
      'staging-canary-thread-5',
      'staging-canary-thread-10',
      'staging-canary-thread-10',
      'staging-canary-thread-25',
    ]);
    await expect(buildHarness(standIn, {}).run(staging(), dir, { resume: true })).rejects.toThrow(`--resume ${dir}: that rollout already finished (Decision: allow); start a new one`);
    await expect(buildHarness(standIn, {}).run(staging(), dir)).rejects.toThrow(`--output-dir ${dir} already holds a rollout`);
  });
});

describe('a production rollout', () => {
  it('checks the SLO at baseline, after each cohort and after its rollback drill, and allows', async () => {
    const h = buildHarness(standIn, {}, { gates: [stubGate('spacetime-provision-prod'), stubGate('spacetime-replay-resume'), stubGate('spacetime-chaos'), stubGate('sync-security')] });
    const dir = outDir();
    const result = await h.run(production(), dir);
    expect(result.decision.reasons).toEqual([]);
    expect(lines(dir, 'slo-results.jsonl').map((l) => [l.label, l.status])).toEqual([
      ['baseline', 'passed'],
      ['cohort_1', 'passed'],
      ['cohort_5', 'passed'],
      ['post_rollback_drill', 'passed'],
    ]);
    const rollback = lines(dir, 'gate-results.jsonl').find((g) => g.gate === 'rollback_drill');
    expect(rollback).toMatchObject({ status: 'passed', evidence: join(dir, 'rollback-drill') });
    // The drill forced control_service for the session user and restored it.
    expect(standIn.overrides.get(standIn.userId)).toEqual({ driver: 'control_service', is_active: false });
    const journal = readRolloutJournal(join(dir, 'journal.jsonl'));
    expect(journal.filter((e) => e.type === 'intent').map((e) => (e.type === 'intent' ? e.action : ''))).toEqual(['force_control_service', 'restore_routing']);
    expect(readFileSync(join(dir, 'cohort-env-sequence.txt'), 'utf8')).toContain('# Cohort 1%\nOA_RUNTIME_CANARY_USER_PERCENT=1\n');
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary.split('\n').slice(0, 12)).toEqual([
      '# Spacetime Production Phased Rollout Summary',
      '',
      '- Timestamp (UTC): 20260101T000000Z',
      `- Output directory: ${dir}`,
      '- Gate failures: 0',
      '- Cohort probe failures: 0',
      '- SLO failures: 0',
      '- Rollback drill failures: 0',
      '- Recommended soak per cohort: 60s',
      '- SLO thresholds: p95<=600ms, error_budget<=0.020',
      '- Decision: allow',
      '- Soak failures: 0',
    ]);
  });

  it('blocks when the rollback drill fails (overrides disabled), and restores nothing it did not set', async () => {
    const h = buildHarness(standIn, { applies: (c) => {
      if (c === 5) standIn.knobs.overridesEnabled = false;
      return true;
    } }, { gates: [] });
    const dir = outDir();
    const result = await h.run(production(), dir);
    expect(result.decision.decision).toBe('block');
    const rollback = lines(dir, 'gate-results.jsonl').find((g) => g.gate === 'rollback_drill');
    expect(rollback).toMatchObject({ status: 'failed' });
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('- Rollback drill failures: 1');
    expect(summary).toContain('- Blocked at: gate:rollback_drill: the rollback drill failed: runtime-routing overrides are disabled (overrides_enabled: false)');
    expect(standIn.overrides.size).toBe(0);
    expect(lines(dir, 'slo-results.jsonl').map((l) => l.label)).not.toContain('post_rollback_drill');
  });

  it('blocks when forcing is accepted but routing does not move: the decision must be the rollback\'s doing', async () => {
    standIn.knobs.overridesHonoured = false;
    const h = buildHarness(standIn, {}, { gates: [] });
    const dir = outDir();
    const result = await h.run(production({ cohorts: '100' }), dir);
    expect(result.decision.decision).toBe('block');
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toContain('- Blocked at: gate:rollback_drill: the rollback drill failed: routing did not move to control_service within 1m');
    const evidence = lines(join(dir, 'rollback-drill'), 'results.jsonl')[0] as { status: string; faults_removed: boolean; conditions: Array<{ name: string; status: string; detail?: string }> };
    expect(evidence.status).toBe('failed');
    expect(evidence.faults_removed).toBe(true);
    expect(evidence.conditions[0]).toMatchObject({ name: 'routing forced to control_service within 1m', status: 'failed', detail: 'last answer: HTTP 200 driver=runtime_service reason=user_canary' });
  });

  it('records --skip-rollback-drill as the script does and may allow', async () => {
    const h = buildHarness(standIn, {}, { gates: [] });
    const dir = outDir();
    const result = await h.run(production({ 'skip-rollback-drill': true }), dir);
    expect(result.decision.decision).toBe('allow');
    expect(lines(dir, 'gate-results.jsonl')).toContainEqual({ gate: 'rollback_drill', status: 'skipped', reason: '--skip-rollback-drill' });
  });

  it('judges the snapshot URL as the script reads it, beside its own values', async () => {
    const { createServer } = await import('node:http');
    let p95 = 120;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sync: { p95_latency_ms: p95, error_budget_ratio: 0.001 } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/slo`;
    try {
      const h = buildHarness(standIn, { applies: (c) => {
        if (c === 5) p95 = 750;
        return true;
      } }, { gates: [], sloUrl: url });
      const dir = outDir();
      const result = await h.run(production(), dir);
      expect(result.decision.decision).toBe('block');
      const slo = lines(dir, 'slo-results.jsonl');
      expect(slo.map((l) => [l.label, l.status, l.p95_latency_ms])).toEqual([
        ['baseline', 'passed', 120],
        ['cohort_1', 'passed', 120],
        ['cohort_5', 'failed', 750],
      ]);
      expect(slo[2]).toMatchObject({ source: 'url', sentinel: { status: 'passed' } });
      expect(readFileSync(slo[2].snapshot_file as string, 'utf8')).toBe('{"sync":{"p95_latency_ms":750,"error_budget_ratio":0.001}}');
      expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toContain(`- Blocked at: soak 5%: SLO breach (${url}): p95 750ms > 600ms`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
