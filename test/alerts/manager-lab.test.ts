/**
 * The six documented alert thresholds of the operators, end to end against the lab: turning the matching
 * lab knob makes the shipped rule fire (through the real probes, store, engine and rule
 * manager), turning it back resolves it. Lab, probes and rules share one ManualClock, so an hour
 * of baseline takes seconds: the lab's ticker credits counters by the manual time that passed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startLab } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';
import { ManualClock } from '../../src/time/index.js';
import { labTargetYaml } from '../helpers/target-yaml.js';
import { ProbesAndRules, SHIPPED_RULES } from '../support/probes-and-rules.js';
import type { AlertState } from '../support/probes-and-rules.js';

const logger = pino({ level: 'silent' });

describe('documented thresholds against the lab', () => {
  let dir: string;
  let lab: Lab;
  let clock: ManualClock;
  let rig: ProbesAndRules;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-lab-rules-'));
    clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000);
    lab = await startLab({
      host: '127.0.0.1',
      ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 },
      stateDir: join(dir, 'lab'),
      clock,
      logger,
      tickMs: 20,
      knobs: { runtime_fields: 'documented', traffic: { events_per_second: 2 } },
    });
    const configFile = join(dir, 'sentinel.yaml');
    writeFileSync(
      configFile,
      `environment: dev
${labTargetYaml(lab, { signingKey: true })}probes:
  runtime_metrics: { schedule: "0 * * * *", timeout: 5s }
  replay_lag: { schedule: "0 * * * *", timeout: 5s }
  token: { schedule: "0 * * * *", timeout: 5s }
rules:
  files: ["${SHIPPED_RULES}"]
  evaluation_interval: 1m
storage:
  data_dir: ${join(dir, 'data')}
`,
    );
    rig = new ProbesAndRules(loadConfig(configFile), clock, { settleMs: 100 });
    await rig.start();
  }, 60_000);

  afterAll(async () => {
    await rig?.stop();
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const minute = (): Promise<unknown> => rig.minute();
  /** stepUntil steps minute by minute until the alert reaches `want`, returning how many minutes it took. */
  const stepUntil = async (alertname: string, want: AlertState, maxMinutes: number, labels: Record<string, string> = {}): Promise<number> =>
    (await rig.stepUntil(alertname, want, maxMinutes, labels)).minutes;

  it('starts healthy: none of the documented threshold alerts is pending or firing', async () => {
    for (let i = 0; i < 12; i++) await minute();
    const documented = rig.manager.activeAlerts().filter((a) => a.labels.threshold !== undefined);
    expect(documented.map((a) => a.labels.alertname)).toEqual([]);
  }, 60_000);

  it('6: token issue failures above 2% fire with token_failure_ratio and resolve without it', async () => {
    lab.setKnobs({ token_failure_ratio: 1 });
    const minutes = await stepUntil('SpacetimeTokenIssueFailuresHigh', 'firing', 12);
    expect(minutes).toBeGreaterThanOrEqual(5);
    lab.setKnobs({ token_failure_ratio: 0 });
    await stepUntil('SpacetimeTokenIssueFailuresHigh', 'inactive', 12);
  }, 60_000);

  it('1 and 2: mirror failures without recoveries and a rising outbox fire with publish_failures', async () => {
    lab.setKnobs({ publish_failures: 1 });
    expect(await stepUntil('SpacetimeMirrorFailuresWithoutRecovery', 'firing', 15)).toBeGreaterThanOrEqual(5);
    await stepUntil('SpacetimeOutboxDepthRising', 'firing', 15);
    lab.setKnobs({ publish_failures: 0 });
    await stepUntil('SpacetimeMirrorFailuresWithoutRecovery', 'inactive', 15);
    await stepUntil('SpacetimeOutboxDepthRising', 'inactive', 20);
  }, 90_000);

  it('4: stale-cursor events above 50 per 5m fire with stale_cursor_events_per_minute', async () => {
    lab.setKnobs({ stale_cursor_events_per_minute: 30 });
    expect(await stepUntil('SpacetimeStaleCursorSpike', 'firing', 15)).toBeGreaterThanOrEqual(5);
    lab.setKnobs({ stale_cursor_events_per_minute: 0 });
    await stepUntil('SpacetimeStaleCursorSpike', 'inactive', 15);
  }, 60_000);

  it('3: max replay lag above 10000 fires with a slow client and a burst', async () => {
    const stream = lab.state().streams[0]?.stream_id ?? 'sentinel.canary.canary';
    const slow = lab.state().clients[0]?.client_id;
    lab.setKnobs({ slow_clients: slow ? [slow] : [], append_burst: { stream, count: 12_000 } });
    expect(await stepUntil('SpacetimeReplayLagHigh', 'firing', 15)).toBeGreaterThanOrEqual(5);
    lab.setKnobs({ slow_clients: [] });
    await stepUntil('SpacetimeReplayLagHigh', 'inactive', 30);
  }, 120_000);

  it('5: unauthorized failures above 3x the hourly baseline fire after an hour of baseline', async () => {
    lab.setKnobs({ auth_failures_per_minute: { unauthorized: 2, token_expired: 0 } });
    for (let i = 0; i < 65; i++) await minute();
    expect(rig.alertState('SpacetimeAuthFailuresAboveBaseline', { reason: 'unauthorized' })).toBe('inactive');
    lab.setKnobs({ auth_failures_per_minute: { unauthorized: 30, token_expired: 0 } });
    expect(await stepUntil('SpacetimeAuthFailuresAboveBaseline', 'firing', 15, { reason: 'unauthorized' })).toBeGreaterThanOrEqual(5);
    lab.setKnobs({ auth_failures_per_minute: { unauthorized: 2, token_expired: 0 } });
    await stepUntil('SpacetimeAuthFailuresAboveBaseline', 'inactive', 15, { reason: 'unauthorized' });
  }, 180_000);
});
