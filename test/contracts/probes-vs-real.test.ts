/**
 * The probes against the real services' contracts, not against the lab: the runtime and control
 * are a stand-in that serves exactly test/fixtures/real/ (real-stand-in.ts), SpacetimeDB is the
 * lab's. Through the real probes, store, engine and the shipped rules on one ManualClock:
 * 1. every probe reports healthy and no alert goes pending or firing;
 * 2. each real fault moves the right probe and the right alert, and clearing it resolves:
 *    the control failing token issues (503), a retired route answering again, the control status
 *    announcing another transport, the runtime unreachable.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startLab } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';
import type { ProbeRunReport } from '../../src/probes/index.js';
import { ManualClock } from '../../src/time/index.js';
import { ProbesAndRules, SHIPPED_RULES } from '../support/probes-and-rules.js';
import type { AlertState } from '../support/probes-and-rules.js';
import { FIXTURE_SIGNING_KEY, SESSION_TOKEN, startRealStandIns } from './real-stand-in.js';
import type { RealStandIns } from './real-stand-in.js';

const PROBES = ['runtime_metrics', 'token', 'cutover_state', 'retired_routes', 'health', 'replay_lag'] as const;

let dir: string;
let lab: Lab;
let real: RealStandIns;
let clock: ManualClock;
let rig: ProbesAndRules;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-contracts-'));
  clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000);
  real = await startRealStandIns();
  lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, clock, tickMs: 20, knobs: { traffic: { paused: true } } });
  const configFile = join(dir, 'sentinel.yaml');
  writeFileSync(
    configFile,
    `environment: staging
target:
  spacetimedb:
    base_url: ${lab.urls.spacetimedb}
    database: ${lab.databaseName}
  runtime:
    base_url: ${real.runtime.url}
    request_timeout: 5s
  control:
    base_url: ${real.control.url}
    session_token: \${SESSION}
    jwt_signing_key: \${SIGNING_KEY}
    request_timeout: 5s
probes:
${PROBES.map((p) => `  ${p}: { schedule: "0 0 1 1 *", timeout: 20s }`).join('\n')}
rules:
  files: ["${SHIPPED_RULES}"]
storage:
  data_dir: ${join(dir, 'data')}
`,
  );
  rig = new ProbesAndRules(loadConfig(configFile, { env: { SESSION: SESSION_TOKEN, SIGNING_KEY: FIXTURE_SIGNING_KEY } }), clock);
  await rig.start();
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  await real?.close();
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const minute = (): Promise<ProbeRunReport[]> => rig.minute();
const active = (): string[] => rig.active();
const alertState = (alertname: string, labels: Record<string, string> = {}): AlertState => rig.alertState(alertname, labels);
/** stepUntil steps minute by minute until the alert is `want`, returning the last minute's probe runs. */
const stepUntil = async (alertname: string, want: AlertState, maxMinutes: number, labels: Record<string, string> = {}): Promise<ProbeRunReport[]> =>
  (await rig.stepUntil(alertname, want, maxMinutes, labels)).reports;

function report(reports: readonly ProbeRunReport[], probe: string): ProbeRunReport {
  const r = reports.find((x) => x.probe === probe);
  if (!r) throw new Error(`no run of ${probe}`);
  return r;
}

describe('the probes against the real services\' bodies', () => {
  it('every probe is healthy and no alert goes pending or firing', async () => {
    for (let i = 0; i < 8; i++) {
      const reports = await minute();
      for (const r of reports) expect(r.outcome.result.ok, `${r.probe}: ${r.outcome.reason} ${JSON.stringify(r.outcome.result.detail)}`).toBe(true);
      expect(active(), `minute ${i + 1}`).toEqual([]);
    }
    const last = await minute();
    expect(report(last, 'token').outcome.result.detail).toMatchObject({ signature_checked: true, verified_with: 'current key', violations: [], mints: { issued: 12 } });
    expect(report(last, 'cutover_state').outcome.result.detail).toMatchObject({ control_default_transport: 'spacetime_ws', runtime_transport: 'spacetime_ws' });
    expect(report(last, 'runtime_metrics').outcome.result.detail).toMatchObject({ fields: 12, transport: 'spacetime_ws' });
    expect(report(last, 'retired_routes').outcome.result.detail).toMatchObject({ still_answering: 0 });
  }, 120_000);

  it('the control failing token issues (503): the token probe fails and SpacetimeTokenIssueFailuresHigh fires, then resolves', async () => {
    real.faults.tokenIssueFails = true;
    try {
      const reports = await stepUntil('SpacetimeTokenIssueFailuresHigh', 'firing', 12);
      expect(report(reports, 'token').outcome.reason).toBe('http_status');
      expect(alertState('SentinelProbeFailing', { probe: 'token' })).toBe('firing');
    } finally {
      real.faults.tokenIssueFails = false;
    }
    await stepUntil('SpacetimeTokenIssueFailuresHigh', 'inactive', 12);
    expect(active()).toEqual([]);
  }, 120_000);

  it('a retired route answering again: retired_routes reports it and SentinelRetiredRouteAlive fires, then resolves', async () => {
    for (const revived of ['control:/api/v1/sync/token', 'runtime:/internal/v1/spacetime/fanout/hooks']) {
      const route = revived.slice(revived.indexOf(':') + 1);
      real.faults.revivedRoutes = [revived];
      try {
        const reports = await stepUntil('SentinelRetiredRouteAlive', 'firing', 5, { route });
        expect(report(reports, 'retired_routes').outcome.reason).toBe('contract_violation');
        expect(active().filter((a) => a.startsWith('SentinelRetiredRouteAlive')), revived).toEqual([`SentinelRetiredRouteAlive{route=${route}}:firing`]);
      } finally {
        real.faults.revivedRoutes = [];
      }
      await stepUntil('SentinelRetiredRouteAlive', 'inactive', 5, { route });
    }
  }, 120_000);

  it('the control announcing another transport: cutover_state fails and SentinelCutoverStateWrong fires, then resolves', async () => {
    real.faults.controlTransport = 'phoenix_ws';
    try {
      const reports = await stepUntil('SentinelCutoverStateWrong', 'firing', 5);
      expect(report(reports, 'cutover_state').outcome.result.detail.violations).toEqual(['control syncCutover.defaultTransport is "phoenix_ws", expected spacetime_ws']);
    } finally {
      real.faults.controlTransport = undefined;
    }
    await stepUntil('SentinelCutoverStateWrong', 'inactive', 5);
  }, 120_000);

  it('the runtime unreachable: runtime_metrics and health fail as unreachable and SentinelProbeFailing fires, then resolves', async () => {
    await real.runtime.stop();
    try {
      const reports = await stepUntil('SentinelProbeFailing', 'firing', 6, { probe: 'runtime_metrics' });
      expect(report(reports, 'runtime_metrics').outcome.reason).toBe('unreachable');
      expect(report(reports, 'health').outcome.reason).toBe('unreachable');
      expect(alertState('SentinelProbeFailing', { probe: 'health' })).toBe('firing');
    } finally {
      await real.runtime.start();
    }
    await stepUntil('SentinelProbeFailing', 'inactive', 6, { probe: 'runtime_metrics' });
    await minute();
    expect(active()).toEqual([]);
  }, 120_000);
});
