/**
 * The sync-security gate's caller checks against the lab, through its fault proxy: the lab
 * mirrors the deployed module by default (any caller accepted), so the gate fails and says why;
 * with `enforce_caller_auth` (what the operators' token contract intends) it passes; and a valid
 * token refused as well makes the refusals prove nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import { loadConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/index.js';
import { runCallerAuthChecks, syncSecurityGate } from '../../src/rollout/index.js';
import type { CallerAuthOptions, GateProbes } from '../../src/rollout/index.js';
import { ControlClient } from '../../src/spacetime/index.js';

const work = mkdtempSync(join(tmpdir(), 'sentinel-syncsec-'));
let env: LabEnvironment;
let config: Config;

beforeAll(async () => {
  env = await startLabEnvironment({ workDir: work, evidenceDir: join(work, 'evidence'), idleTimeoutMs: 3000 });
  config = loadConfig(env.configFile, { env: {} });
}, 60_000);
afterAll(async () => {
  await env.close();
  rmSync(work, { recursive: true, force: true });
});

function options(extra: Partial<CallerAuthOptions> = {}): CallerAuthOptions {
  const t = config.target;
  const control = new ControlClient({ baseUrl: t.control.baseUrl, sessionToken: t.control.sessionToken.reveal(), timeoutMs: 5000 });
  return {
    baseUrl: t.spacetimedb.baseUrl,
    database: t.spacetimedb.database,
    websocketPath: t.spacetimedb.websocketPath,
    timeoutMs: 5000,
    mintSyncToken: async (signal) => (await control.mintSyncToken({ signal })).token,
    signingKey: t.control.jwtSigningKey?.reveal(),
    stream: 'sentinel.canary.sync-security',
    nowMs: () => Date.now(),
    ...extra,
  };
}

const passingProbes: GateProbes = { has: () => true, run: () => Promise.resolve({ ok: true, reason: 'ok', detail: {} }) };

describe('the sync-security caller checks against the lab', () => {
  it('fail against the module as deployed (any caller accepted), saying why', async () => {
    env.stack.lab.setKnobs({ enforce_caller_auth: false });
    const report = await runCallerAuthChecks(options(), AbortSignal.timeout(30_000));
    expect(report.checks.map((c) => [c.name, c.outcome])).toEqual([
      ['subscribe with a valid token', 'accepted'],
      ['reducer call with a valid token', 'accepted'],
      ['subscribe with no token', 'accepted'],
      ['reducer call with no token', 'accepted'],
      ['subscribe with an expired token', 'refused'],
      ['reducer call with an expired token', 'refused'],
    ]);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(/^subscribe with no token and reducer call with no token were accepted: the module checks nothing about its callers \(the deployed autopilot-sync module at 9b2b978949 makes every table public and accepts any sender/);
    const gate = await syncSecurityGate(passingProbes, (s) => runCallerAuthChecks(options(), s)).run(AbortSignal.timeout(30_000));
    expect(gate.status).toBe('failed');
    expect(gate.detail).toContain('reducer call with no token were accepted');
  }, 60_000);

  it('pass when the module enforces caller auth as the docs intend', async () => {
    env.stack.lab.setKnobs({ enforce_caller_auth: true });
    try {
      const report = await runCallerAuthChecks(options(), AbortSignal.timeout(30_000));
      expect(report.checks.map((c) => [c.credential, c.action, c.outcome])).toEqual([
        ['valid', 'subscribe', 'accepted'],
        ['valid', 'call', 'accepted'],
        ['none', 'subscribe', 'refused'],
        ['none', 'call', 'refused'],
        ['expired', 'subscribe', 'refused'],
        ['expired', 'call', 'refused'],
      ]);
      expect(report.problems).toEqual([]);
    } finally {
      env.stack.lab.setKnobs({ enforce_caller_auth: false });
    }
  }, 60_000);

  it('cannot pass without a way to make an expired token, nor when a valid token is refused too', async () => {
    env.stack.lab.setKnobs({ enforce_caller_auth: true });
    try {
      const noKey = await runCallerAuthChecks(options({ signingKey: undefined }), AbortSignal.timeout(30_000));
      expect(noKey.problems).toEqual([expect.stringMatching(/^the expired-token checks need the control signing key/)]);
      // A token the host cannot verify stands for "every caller refused": the refusals prove nothing.
      const forged = await runCallerAuthChecks(options({ mintSyncToken: () => Promise.resolve('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl') }), AbortSignal.timeout(30_000));
      expect(forged.problems.some((p) => p.startsWith('subscribe with a valid token was refused'))).toBe(true);
    } finally {
      env.stack.lab.setKnobs({ enforce_caller_auth: false });
    }
  }, 60_000);
});
