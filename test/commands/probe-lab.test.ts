/**
 * `sentinel probe` end to end: the real CLI dispatch, the real config loader and the real probes,
 * against the embedded lab on ephemeral ports.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { startLab } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';
import { labTargetYaml } from '../helpers/target-yaml.js';
import { captureIO } from '../support/capture-io.js';
import type { CapturedIO } from '../support/capture-io.js';

let lab: Lab;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sentinel-probe-lab-'));
  lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, stateDir: path.join(dir, 'lab'), knobs: { traffic: { paused: true } } });
  fs.writeFileSync(
    path.join(dir, 'sentinel.yaml'),
    `environment: dev
${labTargetYaml(lab, { signingKey: true })}probes:
  runtime_metrics:
    schedule: "*/15 * * * * *"
    timeout: 5s
  replay_lag:
    schedule: "*/15 * * * * *"
    timeout: 5s
  token:
    schedule: "*/30 * * * * *"
    timeout: 5s
  cutover_state:
    schedule: "*/30 * * * * *"
    timeout: 5s
  retired_routes:
    schedule: "*/30 * * * * *"
    timeout: 5s
  delivery:
    schedule: "*/15 * * * * *"
    timeout: 10s
    params:
      receive_timeout: 5s
  resume:
    schedule: "*/30 * * * * *"
    timeout: 15s
    params:
      events_while_away: 3
      receive_timeout: 5s
  connections:
    schedule: "0 * * * * *"
    timeout: 15s
    params:
      settle_timeout: 10s
storage:
  data_dir: data
`,
  );
});

afterAll(async () => {
  await lab?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function io(): CapturedIO {
  return captureIO({ cwd: dir, signal: AbortSignal.timeout(20_000) });
}

describe('sentinel probe against the lab', () => {
  it('runs every configured probe, all ok, and never prints a secret', async () => {
    const a = io();
    const code = await main(['probe', 'all', '--config', 'sentinel.yaml', '--json'], a);
    const results = JSON.parse(a.out()) as Array<{ probe: string; ok: boolean; reason: string; detail: unknown }>;
    expect(results.map((r) => [r.probe, r.ok, r.reason])).toEqual([
      ['runtime_metrics', true, 'ok'],
      ['replay_lag', true, 'ok'],
      ['delivery', true, 'ok'],
      ['resume', true, 'ok'],
      ['connections', true, 'ok'],
      ['token', true, 'ok'],
      ['cutover_state', true, 'ok'],
      ['retired_routes', true, 'ok'],
    ]);
    expect(code).toBe(0);
    for (const secret of Object.values(lab.secrets)) expect(a.out() + a.err()).not.toContain(secret);
  });

  it('exits 1 with a reason class when the target is down', async () => {
    const cfg = fs.readFileSync(path.join(dir, 'sentinel.yaml'), 'utf8').replace(lab.urls.runtime, 'http://127.0.0.1:1');
    fs.writeFileSync(path.join(dir, 'down.yaml'), cfg);
    const a = io();
    expect(await main(['probe', 'runtime_metrics', '--config', 'down.yaml'], a)).toBe(1);
    expect(a.out()).toMatch(/runtime_metrics\s+FAIL\s+unreachable/);
  });

  it('exits 2 on a configuration error', async () => {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'environment: nowhere\n');
    const a = io();
    expect(await main(['probe', 'all', '--config', 'bad.yaml'], a)).toBe(2);
  });
});
