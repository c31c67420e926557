/**
 * The provision gate checks readiness too: after the environment's preflight, the health probe
 * must have answered that the runtime and the control service are healthy and ready. A service
 * whose /readyz says not ready fails the gate with the check named; a health probe that is not
 * configured, or that reported nothing about a service, fails it (readiness unknown is no pass).
 */
import { describe, expect, it } from 'vitest';
import { provisionGate } from '../../src/rollout/index.js';
import type { GateProbeRun, GateProbes } from '../../src/rollout/index.js';

const READY = {
  runtime: { healthz: { status: 200 }, readyz: { status: 200 } },
  control: { healthz: { status: 200 }, readyz: { status: 200 } },
};

function probes(health: GateProbeRun | undefined, preflight: GateProbeRun = { ok: true, reason: 'ok', detail: {} }): GateProbes & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    has: (name) => name === 'preflight' || (name === 'health' && health !== undefined),
    run(name) {
      ran.push(name);
      if (name === 'preflight') return Promise.resolve(preflight);
      if (name === 'health' && health) return Promise.resolve(health);
      return Promise.reject(new Error(`unknown probe ${name}`));
    },
  };
}

const signal = new AbortController().signal;

describe('provision gate', () => {
  it('passes when the preflight passes and runtime and control are healthy and ready', async () => {
    const p = probes({ ok: true, reason: 'ok', detail: READY });
    const r = await provisionGate('staging', p).run(signal);
    expect(r).toMatchObject({ status: 'passed', detail: 'preflight staging ok; runtime and control healthy and ready' });
    expect(p.ran).toEqual(['preflight', 'health']);
  });

  it('fails when the control service says not ready, naming the check', async () => {
    const detail = { ...READY, control: { healthz: { status: 200 }, readyz: { status: 503, state: 'not_ready' } } };
    const r = await provisionGate('production', probes({ ok: false, reason: 'http_status', detail })).run(signal);
    expect(r.status).toBe('failed');
    expect(r.detail).toBe('preflight prod ok; services not healthy and ready (health: http_status): control /readyz 503');
    expect(r.log.join('\n')).toContain('health: FAILED (http_status)');
  });

  it('fails when the health probe is not configured', async () => {
    const r = await provisionGate('staging', probes(undefined)).run(signal);
    expect(r.status).toBe('failed');
    expect(r.detail).toMatch(/health probe is not configured \(probes\.health\): runtime and control readiness cannot be checked/);
  });

  it('fails when the health run says ok but reported nothing about the control service', async () => {
    const r = await provisionGate('staging', probes({ ok: true, reason: 'ok', detail: { runtime: READY.runtime } })).run(signal);
    expect(r.status).toBe('failed');
    expect(r.detail).toBe('preflight staging ok; the health probe reported nothing for control: readiness unknown');
  });

  it('fails on the preflight first, without reading readiness', async () => {
    const p = probes({ ok: true, reason: 'ok', detail: READY }, { ok: false, reason: 'contract_violation', detail: { problems: ['OA_SPACETIME_STAGING_DATABASE is not set'] } });
    const r = await provisionGate('staging', p).run(signal);
    expect(r).toMatchObject({ status: 'failed', detail: 'preflight staging failed (contract_violation): OA_SPACETIME_STAGING_DATABASE is not set' });
    expect(p.ran).toEqual(['preflight']);
  });
});
