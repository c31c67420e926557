/**
 * The six documented alert thresholds of the operators, end to end against the lab: turning the matching
 * lab knob makes the shipped rule fire (through the real probes, store, engine and rule
 * manager), turning it back resolves it. Lab, probes and rules share one ManualClock, so an hour
 * of baseline takes seconds: the lab's ticker credits counters by the manual time that passed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPromqlExpr, RuleManager } from '../../src/alerts/index.js';
import { loadConfig } from '../../src/config/index.js';
import { startLab } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';
import { buildProbes, ProbeScheduler } from '../../src/probes/index.js';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';

const RULES = join(import.meta.dirname, '..', '..', 'config', 'rules', 'spacetime-sync.rules.yaml');
const logger = pino({ level: 'silent' });

describe('documented thresholds against the lab', () => {
  let dir: string;
  let lab: Lab;
  let clock: ManualClock;
  let store: MemoryStore;
  let scheduler: ProbeScheduler;
  let manager: RuleManager;

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
    const files = lab.secretFiles!;
    const configFile = join(dir, 'sentinel.yaml');
    writeFileSync(
      configFile,
      `environment: dev
target:
  spacetimedb:
    base_url: ${lab.urls.spacetimedb}
    database: ${lab.databaseName}
  runtime:
    base_url: ${lab.urls.runtime}
  control:
    base_url: ${lab.urls.control}
    session_token: \${file:${files.controlSessionToken}}
    jwt_signing_key: \${file:${files.jwtSigningKey}}
probes:
  runtime_metrics: { schedule: "0 * * * *", timeout: 5s }
  replay_lag: { schedule: "0 * * * *", timeout: 5s }
  token: { schedule: "0 * * * *", timeout: 5s }
rules:
  files: ["${RULES}"]
  evaluation_interval: 1m
storage:
  data_dir: ${join(dir, 'data')}
`,
    );
    const config = loadConfig(configFile);
    store = new MemoryStore();
    const registry = new Registry();
    scheduler = new ProbeScheduler({ probes: buildProbes(config, { registry, clock, logger }), store, registry, clock, logger });
    const engine = createEngine();
    manager = new RuleManager({
      resolveFiles: () => [RULES],
      store,
      query: (e, t, s) => engine.instantQuery(store, e, t, s),
      checkExpr: checkPromqlExpr,
      clock,
      defaultIntervalMs: 60_000,
      registry,
      logger,
    });
    await manager.start();
  }, 60_000);

  afterAll(async () => {
    await manager?.stop(Date.now() + 2000);
    await scheduler?.stop(Date.now() + 2000);
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** minute lets the lab tick over the manual minute, probes it, and lets the rules evaluate. */
  async function minute(): Promise<void> {
    await clock.advance(60_000);
    // The lab's ticker runs on real timers (20 ms) and credits the manual time that passed; give
    // it a few ticks of slack for a loaded machine.
    await new Promise((r) => setTimeout(r, 100));
    await scheduler.runOnce('all');
  }

  function state(alertname: string, labels: Record<string, string> = {}): string {
    const alerts = manager.activeAlerts().filter((a) => a.labels.alertname === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
    if (alerts.some((a) => a.state === 'firing')) return 'firing';
    return alerts.length > 0 ? 'pending' : 'inactive';
  }

  /** stepUntil advances minute by minute until the alert reaches `want`, returning how many minutes it took. */
  async function stepUntil(alertname: string, want: string, maxMinutes: number, labels: Record<string, string> = {}): Promise<number> {
    for (let i = 1; i <= maxMinutes; i++) {
      await minute();
      if (state(alertname, labels) === want) return i;
    }
    throw new Error(`${alertname} did not become ${want} within ${maxMinutes} minutes; alerts: ${JSON.stringify(manager.activeAlerts().map((a) => [a.labels.alertname, a.state]))}`);
  }

  it('starts healthy: none of the documented threshold alerts is pending or firing', async () => {
    for (let i = 0; i < 12; i++) await minute();
    const documented = manager.activeAlerts().filter((a) => a.labels.threshold !== undefined);
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
    expect(state('SpacetimeAuthFailuresAboveBaseline', { reason: 'unauthorized' })).toBe('inactive');
    lab.setKnobs({ auth_failures_per_minute: { unauthorized: 30, token_expired: 0 } });
    expect(await stepUntil('SpacetimeAuthFailuresAboveBaseline', 'firing', 15, { reason: 'unauthorized' })).toBeGreaterThanOrEqual(5);
    lab.setKnobs({ auth_failures_per_minute: { unauthorized: 2, token_expired: 0 } });
    await stepUntil('SpacetimeAuthFailuresAboveBaseline', 'inactive', 15, { reason: 'unauthorized' });
  }, 180_000);
});
