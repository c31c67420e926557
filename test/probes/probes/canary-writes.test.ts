/**
 * The canaries' writes against the lab: read-only mode disables the writing probes (a distinct,
 * non-failing result that writes nothing and opens no socket), the daily event budget caps what
 * they append (restart-safe: the day's count is read back from the database), and every canary
 * id lies in the canary namespace.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../../src/lab/index.js';
import type { Lab } from '../../../src/lab/index.js';
import { CanaryWrites, DeliveryProbe, ResumeProbe, createSpacetimeTarget } from '../../../src/probes/probes/index.js';
import type { SpacetimeTarget } from '../../../src/probes/probes/index.js';
import type { ProbeContext, ProbeResult } from '../../../src/probes/index.js';
import { ManualClock } from '../../../src/time/index.js';
import { count } from '../../lab/helpers.js';
import { instruments } from './probe-context.js';

let lab: Lab;
let target: SpacetimeTarget;
const clock = new ManualClock(Date.parse('2026-03-01T23:40:00Z'));

beforeAll(async () => {
  lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, knobs: { traffic: { paused: true } } });
  target = createSpacetimeTarget({ baseUrl: lab.urls.spacetimedb, database: lab.databaseName, timeoutMs: 3000 });
});
afterAll(async () => {
  await lab.close();
});

function ctx(): ProbeContext {
  return { signal: AbortSignal.timeout(15_000), scheduledAtMs: clock.nowMs(), deadlineMs: clock.nowMs() + 15_000, clock, logger: pino({ level: 'silent' }) };
}

const disabledGauge = (r: ProbeResult, probe: string, reason: string): number | undefined =>
  r.samples.find((s) => s.name === 'sentinel_probe_disabled' && s.labels?.probe === probe && s.labels?.reason === reason)?.value;

describe('read-only mode', () => {
  it('disables delivery and resume: result disabled (not a failure), nothing written, no socket opened', async () => {
    const canary = new CanaryWrites({ readOnly: true });
    const delivery = new DeliveryProbe({ target, instruments: instruments(), canary, canaryStream: 'sentinel.canary.ro-delivery' });
    const resume = new ResumeProbe({ target, instruments: instruments(), canary, stream: 'sentinel.canary.ro-resume', clientId: 'sentinel.canary.ro-client' });
    try {
      for (const [probe, r] of [['delivery', await delivery.run(ctx())], ['resume', await resume.run(ctx())]] as const) {
        expect(r, probe).toMatchObject({ ok: true, reason: 'disabled', detail: { disabled: 'read_only' } });
        expect(disabledGauge(r, probe, 'read_only')).toBe(1);
        expect(disabledGauge(r, probe, 'canary_budget')).toBe(0);
      }
      expect(await count(lab, 'sync_event', "WHERE stream_id = 'sentinel.canary.ro-delivery' OR stream_id = 'sentinel.canary.ro-resume'")).toBe(0);
      expect(await count(lab, 'stream_checkpoint', "WHERE client_id = 'sentinel.canary.ro-client'")).toBe(0);
      expect(lab.state().connections.open).toBe(0);
    } finally {
      await Promise.all([delivery.close(), resume.close()]);
    }
  });
});

describe('the daily canary event budget', () => {
  it('caps the events of all canaries together per UTC day, survives a restart, and renews at midnight UTC', async () => {
    const streams = { delivery: 'sentinel.canary.b-delivery', resume: 'sentinel.canary.b-resume' };
    const make = (budget: number): { delivery: DeliveryProbe; resume: ResumeProbe } => {
      const canary = new CanaryWrites({ dailyEventBudget: budget });
      return {
        delivery: new DeliveryProbe({ target, instruments: instruments(), canary, canaryStream: streams.delivery, receiveTimeoutMs: 2000 }),
        resume: new ResumeProbe({ target, instruments: instruments(), canary, stream: streams.resume, clientId: 'sentinel.canary.b-client', eventsWhileAway: 5, receiveTimeoutMs: 2000 }),
      };
    };
    const events = (): Promise<number> => count(lab, 'sync_event', `WHERE stream_id = '${streams.delivery}' OR stream_id = '${streams.resume}'`);
    const first = make(8);
    try {
      expect((await first.delivery.run(ctx())).ok).toBe(true);
      expect((await first.resume.run(ctx())).ok).toBe(true); // 1 + 5 events
      const third = await first.delivery.run(ctx());
      expect(third.ok, JSON.stringify(third.detail)).toBe(true);
      expect(third.detail.disabled).toBeUndefined();
      expect(third.samples.find((s) => s.name === 'sentinel_canary_events_today')?.value).toBe(8);
      expect(await events()).toBe(8);
      const refused = await first.delivery.run(ctx());
      expect(refused).toMatchObject({ ok: true, reason: 'disabled', detail: { disabled: 'canary_budget' } });
      expect(disabledGauge(refused, 'delivery', 'canary_budget')).toBe(1);
      expect((await first.resume.run(ctx())).detail.disabled).toBe('canary_budget');
      expect(await events()).toBe(8);
    } finally {
      await Promise.all([first.delivery.close(), first.resume.close()]);
    }
    // A restarted sentinel reads the day's count back: still nothing to spend.
    const second = make(8);
    try {
      expect((await second.delivery.run(ctx())).detail.disabled).toBe('canary_budget');
      expect(await events()).toBe(8);
      // The next UTC day has a fresh budget.
      await clock.advance(30 * 60_000);
      const renewed = await second.delivery.run(ctx());
      expect([renewed.ok, renewed.detail.disabled]).toEqual([true, undefined]);
      expect(await events()).toBe(9);
    } finally {
      await Promise.all([second.delivery.close(), second.resume.close()]);
    }
  });

  it('keeps every canary id in the namespace', () => {
    expect(() => new DeliveryProbe({ target, instruments: instruments(), canaryStream: 'runtime.run.r1.events' })).toThrow(/outside the canary namespace sentinel\.canary\./);
    expect(() => new ResumeProbe({ target, instruments: instruments(), clientId: 'desktop-1' })).toThrow(/outside the canary namespace/);
  });
});
