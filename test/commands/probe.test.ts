import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProbeCommand } from '../../src/commands/probe.js';
import type { ProbeFactories } from '../../src/probes/index.js';
import { captureIO } from '../support/capture-io.js';
import type { CapturedIO } from '../support/capture-io.js';

const CONFIG = `environment: dev
target:
  spacetimedb:
    base_url: http://127.0.0.1:1
    database: autopilot-sync
  runtime:
    base_url: http://127.0.0.1:1
    token: \${RT_TOKEN}
  control:
    base_url: http://127.0.0.1:1
    session_token: \${CT_TOKEN}
probes:
  token:
    schedule: "*/30 * * * * *"
    timeout: 5s
  replay_lag:
    schedule: "*/30 * * * * *"
    timeout: 5s
storage:
  data_dir: data
`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sentinel-probe-cmd-'));
  fs.writeFileSync(path.join(dir, 'sentinel.yaml'), CONFIG);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function io(): CapturedIO {
  return captureIO({ env: { RT_TOKEN: 'rt-secret', CT_TOKEN: 'ct-secret' }, cwd: dir });
}

let closed = 0;
const factories: ProbeFactories = {
  token: ({ instruments }) => {
    const attempts = instruments.counter('sentinel_token_issue_attempts_total', 'Token mint attempts.');
    return {
      name: 'token',
      run: async () => {
        attempts.inc();
        return { ok: true, durationMs: 12, detail: { expires_in: 900 }, samples: [{ name: 'sentinel_token_latency_seconds', value: 0.012 }] };
      },
      close: async () => void closed++,
    };
  },
  replay_lag: () => ({
    name: 'replay_lag',
    run: async () => ({ ok: false, reason: 'unreachable', durationMs: 3, detail: { error: 'connect ECONNREFUSED 127.0.0.1:1' }, samples: [] }),
  }),
};

describe('sentinel probe', () => {
  it('runs one probe and exits 0 when it succeeds, printing a table', async () => {
    const cmdIo = io();
    const code = await createProbeCommand({ factories }).run({ positionals: ['token'], options: { config: 'sentinel.yaml' } }, cmdIo);
    expect(code).toBe(0);
    expect(cmdIo.out()).toMatch(/^PROBE\s+RESULT\s+REASON\s+DURATION\s+DETAIL\ntoken\s+ok\s+ok\s+12 ms\s+expires_in=900\n\n1\/1 probes ok\n$/);
    expect(closed).toBeGreaterThan(0);
  });

  it('runs all probes, exits 1 when one fails, and prints JSON with --json', async () => {
    const cmdIo = io();
    const code = await createProbeCommand({ factories }).run({ positionals: ['all'], options: { config: 'sentinel.yaml', json: true } }, cmdIo);
    expect(code).toBe(1);
    const out = JSON.parse(cmdIo.out()) as Array<{ probe: string; ok: boolean; reason: string; samples: unknown[] }>;
    expect(out.map((r) => [r.probe, r.ok, r.reason])).toEqual([
      ['replay_lag', false, 'unreachable'],
      ['token', true, 'ok'],
    ]);
    expect(out[1].samples).toEqual([{ name: 'sentinel_token_latency_seconds', labels: {}, value: 0.012 }]);
    expect(cmdIo.out()).not.toContain('secret');
  });

  it('exits 2 for an unknown or unconfigured probe, naming what is available', async () => {
    const a = io();
    expect(await createProbeCommand({ factories }).run({ positionals: ['nope'], options: { config: 'sentinel.yaml' } }, a)).toBe(2);
    expect(a.err()).toContain("unknown probe 'nope'");
    const b = io();
    expect(await createProbeCommand({ factories }).run({ positionals: ['resume'], options: { config: 'sentinel.yaml' } }, b)).toBe(2);
    expect(b.err()).toContain("probe 'resume' is not configured");
  });

  it('fails with a configuration error naming the probe when this build lacks it', async () => {
    await expect(createProbeCommand({ factories: {} }).run({ positionals: ['token'], options: { config: 'sentinel.yaml' } }, io())).rejects.toThrow(/probes\.replay_lag: this build has no 'replay_lag' probe/);
  });
});
