import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../../src/lab/index.js';
import type { Lab, ResumeFault } from '../../../src/lab/index.js';
import { classifyReplay, checkSnapshot, compareOrdering, createSpacetimeTarget, DeliveryProbe, ResumeProbe } from '../../../src/probes/probes/index.js';
import type { ResumeOutcome, SpacetimeTarget } from '../../../src/probes/probes/index.js';
import { fromSqlRow } from '../../../src/spacetime/index.js';
import type { RegistryInstruments } from '../../../src/probes/index.js';
import { instruments, probeContext, seriesValue } from './probe-context.js';

describe('classification rules', () => {
  it('classifyReplay: ok, gap, duplicate, reorder as the lab injects them', () => {
    expect(classifyReplay(10, 15, [11, 12, 13, 14, 15])).toBe('ok');
    expect(classifyReplay(10, 15, [12, 13, 14, 15])).toBe('gap');
    expect(classifyReplay(10, 15, [11, 11, 12, 13, 14, 15])).toBe('duplicate');
    expect(classifyReplay(10, 15, [12, 11, 13, 14, 15])).toBe('reorder');
    expect(classifyReplay(10, 15, [10, 11, 12, 13, 14, 15])).toBe('duplicate');
    expect(classifyReplay(10, 15, [11, 12, 13, 14])).toBe('gap');
    expect(classifyReplay(10, 10, [])).toBe('ok');
  });
  it('checkSnapshot and compareOrdering', () => {
    expect(checkSnapshot(9, [5, 6, 7, 8, 9])).toBeUndefined();
    expect(checkSnapshot(9, [5, 7, 8, 9])).toContain('not contiguous');
    expect(checkSnapshot(9, [5, 6, 7])).toContain('before the head');
    const a = [{ seq: 1, hash: 'a' }, { seq: 2, hash: 'b' }];
    expect(compareOrdering(a, [{ seq: 0, hash: 'z' }, ...a, { seq: 3, hash: 'c' }])).toBe(false);
    expect(compareOrdering([a[1], a[0]], a)).toBe(true);
    expect(compareOrdering(a, [{ seq: 1, hash: 'a' }, { seq: 2, hash: 'X' }])).toBe(true);
    expect(compareOrdering(a, [{ seq: 2, hash: 'b' }])).toBeUndefined();
  });
});

let lab: Lab;
let target: SpacetimeTarget;
const STREAM = 'sentinel.canary.resume';

beforeAll(async () => {
  lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, knobs: { traffic: { paused: true } } });
  target = createSpacetimeTarget({ baseUrl: lab.urls.spacetimedb, database: lab.databaseName, timeoutMs: 3000 });
});
afterAll(async () => {
  await lab.close();
});

async function checkpoint(clientId: string): Promise<number> {
  const r = await target.http.sql(`SELECT * FROM stream_checkpoint WHERE checkpoint_key = '${clientId}:${STREAM}'`);
  return fromSqlRow('stream_checkpoint', r.rows[0]).last_applied_seq;
}

async function outcomeOf(probe: ResumeProbe): Promise<{ outcome: ResumeOutcome; ok: boolean; detail: Record<string, unknown> }> {
  const r = await probe.run(probeContext(15_000));
  return { outcome: r.detail.outcome as ResumeOutcome, ok: r.ok, detail: r.detail };
}

describe('resume against the lab', () => {
  it('bootstraps, then resumes exactly; each injected fault is classified as injected', async () => {
    const inst = instruments();
    const probe = new ResumeProbe({ target, instruments: inst, clientId: 'sentinel.canary.resume-basic', receiveTimeoutMs: 2000 });
    try {
      const first = await outcomeOf(probe);
      expect(first.ok).toBe(true);
      expect(first.detail.bootstrap).toBe(true);
      const healthy = await outcomeOf(probe);
      expect(healthy, JSON.stringify(healthy.detail)).toMatchObject({ outcome: 'ok', ok: true });
      expect(healthy.detail.follower).toBe('agrees');
      for (const fault of ['gap', 'duplicate', 'reorder'] as const) {
        lab.setKnobs({ next_resume: fault });
        const r = await outcomeOf(probe);
        expect(r.outcome, JSON.stringify(r.detail)).toBe(fault);
        expect(r.ok).toBe(false);
        expect(r.detail.follower).toBe('diverged');
        expect(lab.state().knobs.next_resume).toBeNull();
        // The probe rebases its cursor, so the next run is clean again.
        expect((await outcomeOf(probe)).outcome).toBe('ok');
      }
      const n = await checkpoint('sentinel.canary.resume-basic');
      lab.setKnobs({ retention_floor: n + 2 });
      const stale = await outcomeOf(probe);
      expect(stale.outcome, JSON.stringify(stale.detail)).toBe('stale_rebootstrap_ok');
      expect(stale.detail.stale).toBe('retention_floor_breach');
      expect(stale.ok).toBe(true);
      lab.setKnobs({ retention_floor: 0 });
      expect(await seriesValue(inst, 'sentinel_resume_total', { outcome: 'gap' })).toBe(1);
      expect(await seriesValue(inst, 'sentinel_resume_total', { outcome: 'ok' })).toBe(4);
      expect(await seriesValue(inst, 'sentinel_ordering_divergence_total')).toBe(3);
    } finally {
      lab.setKnobs({ retention_floor: 0, next_resume: null });
      await probe.close();
    }
  });

  it('a stale cursor whose fresh snapshot is faulty or refused is stale_rebootstrap_failed; the delivery and follower subscriptions never take the fault', async () => {
    const probe = new ResumeProbe({ target, instruments: instruments(), clientId: 'sentinel.canary.resume-reboot', receiveTimeoutMs: 2000 });
    const delivery = new DeliveryProbe({ target, instruments: instruments(), receiveTimeoutMs: 2000 });
    try {
      expect((await outcomeOf(probe)).ok).toBe(true);
      expect((await outcomeOf(probe)).outcome).toBe('ok');
      for (const fault of ['gap', 'duplicate', 'reorder', 'fail'] as const) {
        // Armed before the run: the probe's follower (re)subscribes live-only first and must leave it.
        lab.setKnobs({ next_rebootstrap: fault, retention_floor: (await checkpoint('sentinel.canary.resume-reboot')) + 2 });
        // The delivery probe (its first run subscribes its live follower) must not consume the fault.
        expect((await delivery.run(probeContext(10_000))).ok).toBe(true);
        expect(lab.state().knobs.next_rebootstrap).toBe(fault);
        const r = await outcomeOf(probe);
        expect(r.outcome, JSON.stringify(r.detail)).toBe('stale_rebootstrap_failed');
        expect(r.ok).toBe(false);
        expect(lab.state().knobs.next_rebootstrap).toBeNull();
        expect(lab.state().counters.lab.rebootstrap_faults.at(-1)).toMatchObject({ fault, stream_id: STREAM });
        lab.setKnobs({ retention_floor: 0 });
        expect((await outcomeOf(probe)).outcome).toBe('ok');
      }
      // Without a stale cursor the knob stays armed through a whole healthy run.
      lab.setKnobs({ next_rebootstrap: 'gap' });
      expect((await outcomeOf(probe)).outcome).toBe('ok');
      expect(lab.state().knobs.next_rebootstrap).toBe('gap');
    } finally {
      lab.setKnobs({ retention_floor: 0, next_rebootstrap: null });
      await Promise.all([probe.close(), delivery.close()]);
    }
  });

  it('reports a timeout while streaming is stopped, and recovers after', async () => {
    const probe = new ResumeProbe({ target, instruments: instruments(), clientId: 'sentinel.canary.resume-stop', receiveTimeoutMs: 400 });
    try {
      await outcomeOf(probe);
      lab.setKnobs({ streaming_stopped: true });
      const r = await outcomeOf(probe);
      expect(r.outcome).toBe('timeout');
      lab.setKnobs({ streaming_stopped: false });
      const back = await outcomeOf(probe);
      expect(back.outcome, JSON.stringify(back.detail)).toBe('ok');
    } finally {
      lab.setKnobs({ streaming_stopped: false });
      await probe.close();
    }
  });
});

describe('resume accuracy: 200 injected runs and 200 healthy runs', () => {
  async function accuracy(probe: ResumeProbe, inst: RegistryInstruments, clientId: string, runs: number, inject: boolean): Promise<Map<string, number>> {
    const confusion = new Map<string, number>();
    // Deterministic mix so a failure reproduces.
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < runs; i++) {
      let injected: ResumeFault | 'stale' | 'none' = 'none';
      if (inject) {
        injected = (['gap', 'duplicate', 'reorder', 'stale'] as const)[Math.floor(rand() * 4)];
        if (injected === 'stale') lab.setKnobs({ retention_floor: (await checkpoint(clientId)) + 2 });
        else lab.setKnobs({ next_resume: injected });
      }
      const r = await outcomeOf(probe);
      const expected = injected === 'none' ? 'ok' : injected === 'stale' ? 'stale_rebootstrap_ok' : injected;
      const key = `${expected}->${r.outcome}`;
      confusion.set(key, (confusion.get(key) ?? 0) + 1);
      if (injected === 'stale') lab.setKnobs({ retention_floor: 0 });
      // A fault run rebases the cursor; the following run must be clean (no carry-over). Checked
      // after every fifth injected run to keep the test short; the 200 healthy runs cover the rest.
      if (injected !== 'none' && injected !== 'stale' && i % 5 === 0) {
        const clean = await outcomeOf(probe);
        const k2 = `ok->${clean.outcome}`;
        confusion.set(k2, (confusion.get(k2) ?? 0) + 1);
      }
    }
    void inst;
    return confusion;
  }

  it('classifies every injected fault as injected and raises zero false alarms', { timeout: 180_000 }, async () => {
    const inst = instruments();
    const probe = new ResumeProbe({ target, instruments: inst, clientId: 'sentinel.canary.resume-accuracy', eventsWhileAway: 3, receiveTimeoutMs: 2000 });
    try {
      await outcomeOf(probe); // bootstrap
      const injected = await accuracy(probe, inst, 'sentinel.canary.resume-accuracy', 200, true);
      const healthy = await accuracy(probe, inst, 'sentinel.canary.resume-accuracy', 200, false);
      const wrong = [...injected, ...healthy].filter(([k]) => k.split('->')[0] !== k.split('->')[1]);
      expect(wrong, JSON.stringify([...injected])).toEqual([]);
      const total = [...injected.values()].reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThanOrEqual(200);
      expect(healthy.get('ok->ok')).toBe(200);
      for (const f of ['gap', 'duplicate', 'reorder', 'stale_rebootstrap_ok']) expect(injected.get(`${f}->${f}`) ?? 0).toBeGreaterThan(20);
    } finally {
      lab.setKnobs({ retention_floor: 0, next_resume: null });
      await probe.close();
    }
  });
});
