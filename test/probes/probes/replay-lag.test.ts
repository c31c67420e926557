/**
 * replay_lag against the lab on a shared ManualClock: the lag of live clients only. A client
 * that stops acking for good (knob dead_clients) keeps the lag it last reported and leaves the
 * measurement once its checkpoint is older than the activity window, while its row stays in
 * `stream_checkpoint` forever; a stuck client that keeps acking shows its whole lag; the
 * sentinel's canary streams are reported apart and never reach the per-stream maximum.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../../src/lab/index.js';
import type { Lab } from '../../../src/lab/index.js';
import { ReplayLagProbe, createSpacetimeTarget } from '../../../src/probes/probes/index.js';
import type { ProbeContext, ProbeResult, ProbeSample } from '../../../src/probes/index.js';
import { ManualClock } from '../../../src/time/index.js';
import { appendArgs, call, count } from '../../lab/helpers.js';

const MINUTE = 60_000;
const STREAM = 'runtime.run.rl.events';
let lab: Lab;
let clock: ManualClock;
let probe: ReplayLagProbe;

beforeAll(async () => {
  clock = new ManualClock(Math.floor(Date.now() / MINUTE) * MINUTE);
  lab = await startLab({
    ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 },
    clock,
    tickMs: 5,
    traffic: { streams: [STREAM], clients: [{ id: 'alive', applyPerSecond: 1000 }, { id: 'doomed', applyPerSecond: 1000 }], ackIntervalMs: 250 },
    knobs: { traffic: { paused: false, events_per_second: 5 } },
  });
  const target = createSpacetimeTarget({ baseUrl: lab.urls.spacetimedb, database: lab.databaseName, timeoutMs: 3000 });
  probe = new ReplayLagProbe({ http: target.http, activityWindowMs: 3 * MINUTE });
});
afterAll(async () => {
  await lab.close();
});

function ctx(): ProbeContext {
  return { signal: AbortSignal.timeout(10_000), scheduledAtMs: clock.nowMs(), deadlineMs: clock.nowMs() + 10_000, clock, logger: pino({ level: 'silent' }) };
}

const value = (samples: readonly ProbeSample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value;

/** minute moves the shared clock a minute, lets the lab's ticker credit it, and runs the probe. */
async function minute(): Promise<ProbeResult> {
  await clock.advance(MINUTE);
  await new Promise((r) => setTimeout(r, 40));
  const r = await probe.run(ctx());
  expect(r.ok, JSON.stringify(r.detail)).toBe(true);
  return r;
}

const truthLag = (client: string): number => lab.state().clients.find((c) => c.client_id === client)?.max_lag ?? Number.NaN;

describe('replay_lag counts live clients only', () => {
  it('a client that stops acking forever keeps its last lag, then leaves the measurement; its row stays', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await minute();
      expect(value(r.samples, 'sentinel_replay_lag_max_events', { stream_id: STREAM })).toBe(0);
    }
    lab.setKnobs({ dead_clients: ['doomed'] });
    // Traffic goes on (300 events a simulated minute), and a burst lands while it is dead: its row
    // falls ever further behind the head, yet the lag it last reported was 0.
    let r = await minute();
    lab.setKnobs({ append_burst: { stream: STREAM, count: 2000 } });
    for (let i = 0; i < 2; i++) {
      r = await minute();
      expect(value(r.samples, 'sentinel_replay_lag_events', { stream_id: STREAM, client_id: 'doomed' }), `minute ${i}`).toBe(0);
      expect(value(r.samples, 'sentinel_replay_lag_max_events', { stream_id: STREAM })).toBe(0);
      expect(value(r.samples, 'sentinel_replay_checkpoints', { state: 'live' })).toBe(2);
    }
    expect(truthLag('doomed')).toBeGreaterThan(2000 + 2 * 300);
    // Past the activity window it is not measured at all, but its row is still there.
    r = await minute();
    expect(value(r.samples, 'sentinel_replay_lag_events', { stream_id: STREAM, client_id: 'doomed' })).toBeUndefined();
    expect(value(r.samples, 'sentinel_replay_checkpoints', { state: 'inactive' })).toBe(1);
    expect(value(r.samples, 'sentinel_replay_checkpoints', { state: 'live' })).toBe(1);
    expect(value(r.samples, 'sentinel_replay_lag_max_events', { stream_id: STREAM })).toBe(0);
    expect(await count(lab, 'stream_checkpoint', "WHERE client_id = 'doomed'")).toBe(1);
    expect(r.detail.inactive_checkpoints).toBe(1);
  });

  it('a stuck client that keeps acking shows its whole lag, which clears once it catches up', async () => {
    lab.setKnobs({ slow_clients: ['alive'] });
    await minute();
    lab.setKnobs({ append_burst: { stream: STREAM, count: 2000 } });
    const r = await minute();
    const lag = value(r.samples, 'sentinel_replay_lag_events', { stream_id: STREAM, client_id: 'alive' }) as number;
    expect(lag).toBe(truthLag('alive'));
    expect(lag).toBeGreaterThan(2000);
    expect(value(r.samples, 'sentinel_replay_lag_max_events', { stream_id: STREAM })).toBe(lag);
    lab.setKnobs({ slow_clients: [] });
    const back = await minute();
    expect(value(back.samples, 'sentinel_replay_lag_max_events', { stream_id: STREAM })).toBe(0);
  });

  it('reports the canary streams apart and keeps them out of the per-stream maximum', async () => {
    const canary = 'sentinel.canary.resume';
    for (let i = 1; i <= 3; i++) expect((await call(lab, 'append_sync_event', appendArgs(canary, `rl-canary-${i}`))).status).toBe(200);
    expect((await call(lab, 'ack_stream_checkpoint', ['sentinel.canary.resume-client', canary, 1, 0])).status).toBe(200);
    const r = await minute();
    expect(value(r.samples, 'sentinel_canary_replay_lag_events', { stream_id: canary, client_id: 'sentinel.canary.resume-client' })).toBe(2);
    expect(value(r.samples, 'sentinel_replay_lag_events', { stream_id: canary })).toBeUndefined();
    expect(value(r.samples, 'sentinel_replay_lag_max_events', { stream_id: canary })).toBeUndefined();
    expect(value(r.samples, 'sentinel_replay_checkpoints', { state: 'canary' })).toBe(1);
    expect(value(r.samples, 'sentinel_stream_head_seq', { stream_id: canary })).toBe(3);
  });
});
