import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../../src/lab/index.js';
import type { Lab } from '../../../src/lab/index.js';
import {
  ConnectionsProbe,
  createSpacetimeTarget,
  CutoverStateProbe,
  DeliveryProbe,
  HealthProbe,
  PreflightProbe,
  ReplayLagProbe,
  ResumeProbe,
  RetiredRoutesProbe,
  RuntimeMetricsProbe,
  TokenProbe,
} from '../../../src/probes/probes/index.js';
import type { SpacetimeTarget } from '../../../src/probes/probes/index.js';
import { ControlClient, RuntimeMetricsClient } from '../../../src/spacetime/index.js';
import type { ProbeSample } from '../../../src/probes/index.js';
import { ManualClock } from '../../../src/time/index.js';
import { instruments, probeContext, seriesValue } from './probe-context.js';

let lab: Lab;
let target: SpacetimeTarget;
let runtime: RuntimeMetricsClient;
let control: ControlClient;

beforeAll(async () => {
  lab = await startLab({
    ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 },
    traffic: { clients: [{ id: 'fast-1', applyPerSecond: 1000 }, { id: 'slow-1', applyPerSecond: 1000 }], ackIntervalMs: 50 },
    knobs: { traffic: { events_per_second: 50 } },
    tickMs: 20,
  });
  target = createSpacetimeTarget({ baseUrl: lab.urls.spacetimedb, database: lab.databaseName, timeoutMs: 3000 });
  runtime = new RuntimeMetricsClient({ baseUrl: lab.urls.runtime });
  control = new ControlClient({ baseUrl: lab.urls.control, sessionToken: lab.secrets.controlSessionToken });
});
afterAll(async () => {
  await lab.close();
});

const sample = (samples: readonly ProbeSample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value;

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met in time: ${JSON.stringify(lab.state().clients)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('runtime_metrics', () => {
  it('maps each published field to openagents_spacetime_*, absent fields stay absent', async () => {
    const probe = new RuntimeMetricsProbe({ runtime });
    let r = await probe.run(probeContext());
    // The lab's traffic publishes its first event shortly after start; wait for it.
    await until(async () => {
      r = await probe.run(probeContext());
      return (sample(r.samples, 'openagents_spacetime_mirror_published_total') ?? 0) > 0;
    });
    expect(r.ok).toBe(true);
    expect(sample(r.samples, 'openagents_spacetime_transport_info', { transport: 'spacetime_ws' })).toBe(1);
    expect(sample(r.samples, 'openagents_spacetime_delivery_max_replay_lag')).toBeUndefined();
    lab.setKnobs({ runtime_fields: 'documented' });
    const r2 = await probe.run(probeContext());
    expect(sample(r2.samples, 'openagents_spacetime_delivery_max_replay_lag')).toBeTypeOf('number');
    expect(sample(r2.samples, 'openagents_spacetime_auth_failures_token_expired_total')).toBeTypeOf('number');
    lab.setKnobs({ runtime_fields: 'published' });
  });
});

describe('replay_lag', () => {
  it('equals the lab ground truth exactly for every (stream, client), slow clients included', async () => {
    // A client that never acked has no checkpoint and is invisible to any observer: let both
    // clients ack first, then slow one down.
    await until(() => lab.state().clients.every((c) => c.streams.length > 0 && c.streams.every((s) => s.acked_seq > 0)));
    lab.setKnobs({ slow_clients: ['slow-1'], traffic: { paused: false } });
    await new Promise((r) => setTimeout(r, 400));
    lab.setKnobs({ traffic: { paused: true } });
    // Acks trail applies by one ack interval; wait until every checkpoint caught up (and the slow
    // client re-acked after the last append: its lag is taken as of its last write).
    await until(() => lab.state().clients.every((c) => c.slow || c.streams.every((s) => s.acked_seq === s.last_applied_seq)));
    await new Promise((r) => setTimeout(r, 120));
    const probe = new ReplayLagProbe({ http: target.http });
    const r = await probe.run(probeContext());
    expect(r.ok).toBe(true);
    const state = lab.state();
    let compared = 0;
    for (const c of state.clients) {
      for (const s of c.streams) {
        expect(sample(r.samples, 'sentinel_replay_lag_events', { stream_id: s.stream_id, client_id: c.client_id }), `${c.client_id} on ${s.stream_id}`).toBe(s.lag);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(4);
    const slowLag = state.clients.find((c) => c.client_id === 'slow-1')?.max_lag ?? 0;
    expect(slowLag).toBeGreaterThan(0);
    for (const s of state.streams) {
      const truth = Math.max(...state.clients.flatMap((c) => c.streams.filter((x) => x.stream_id === s.stream_id).map((x) => x.lag)));
      expect(sample(r.samples, 'sentinel_replay_lag_max_events', { stream_id: s.stream_id })).toBe(truth);
    }
    lab.setKnobs({ slow_clients: [] });
  });

  it('matches the truth in every one of 15 runs while traffic and slow clients change between runs', async () => {
    const probe = new ReplayLagProbe({ http: target.http });
    const sets = [[], ['slow-1'], ['fast-1'], ['slow-1', 'fast-1']];
    for (let i = 0; i < 15; i++) {
      lab.setKnobs({ slow_clients: sets[i % sets.length], traffic: { paused: false } });
      await new Promise((r) => setTimeout(r, 60));
      lab.setKnobs({ traffic: { paused: true } });
      await until(() => lab.state().clients.every((c) => c.slow || c.streams.every((s) => s.acked_seq === s.last_applied_seq)));
      // Slow clients are alive and re-ack every interval (50 ms): wait for one after the last append,
      // since the probe takes a client's lag as of its last checkpoint write.
      await new Promise((r) => setTimeout(r, 120));
      const r = await probe.run(probeContext());
      const state = lab.state();
      for (const c of state.clients) {
        for (const s of c.streams) expect(sample(r.samples, 'sentinel_replay_lag_events', { stream_id: s.stream_id, client_id: c.client_id }), `run ${i}: ${c.client_id} on ${s.stream_id}`).toBe(s.lag);
      }
    }
    lab.setKnobs({ slow_clients: [] });
  });
});

describe('delivery', () => {
  it('measures latency on a healthy lab and catches streaming_stopped within one run', async () => {
    const inst = instruments();
    const probe = new DeliveryProbe({ target, instruments: inst, receiveTimeoutMs: 1500 });
    try {
      const ok = await probe.run(probeContext());
      expect(ok.ok, JSON.stringify(ok.detail)).toBe(true);
      expect(await seriesValue(inst, 'sentinel_delivery_latency_seconds_count')).toBe(1);
      lab.setKnobs({ streaming_stopped: true });
      const stopped = await probe.run(probeContext());
      expect(stopped.ok).toBe(false);
      expect(stopped.reason).toBe('not_streaming');
      expect(stopped.detail.committed).toBe(true);
      expect(await seriesValue(inst, 'sentinel_delivery_timeouts_total')).toBe(1);
      lab.setKnobs({ streaming_stopped: false });
      const again = await probe.run(probeContext());
      expect(again.ok, JSON.stringify(again.detail)).toBe(true);
    } finally {
      lab.setKnobs({ streaming_stopped: false });
      await probe.close();
    }
  });
});

describe('long-lived canary connections', () => {
  it('delivery and resume reconnect after the lab drops every connection', async () => {
    const inst = instruments();
    const delivery = new DeliveryProbe({ target, instruments: inst, receiveTimeoutMs: 1500 });
    const resume = new ResumeProbe({ target, instruments: instruments(), clientId: 'sentinel.canary.restart-check', receiveTimeoutMs: 1500 });
    try {
      expect((await delivery.run(probeContext())).ok).toBe(true);
      expect((await resume.run(probeContext())).ok).toBe(true);
      lab.setKnobs({ restart: true });
      // A run that overlaps the drop fails (truthfully); this checks the run after it recovers.
      await until(() => lab.state().connections.open === 0);
      await new Promise((r) => setTimeout(r, 100));
      const d = await delivery.run(probeContext());
      expect(d.ok, JSON.stringify(d.detail)).toBe(true);
      const r = await resume.run(probeContext());
      expect(r.ok, JSON.stringify(r.detail)).toBe(true);
      expect(r.detail.outcome).toBe('ok');
      // Writer and subscriber both had to reconnect once.
      expect(await seriesValue(inst, 'sentinel_ws_reconnects_total', { probe: 'delivery' })).toBe(2);
    } finally {
      await Promise.all([delivery.close(), resume.close()]);
    }
  });
});

describe('connections', () => {
  it('passes the handshake on a healthy lab and reports leaked rows as zombies', async () => {
    const probe = new ConnectionsProbe({ target, sessions: 2, settleTimeoutMs: 600, pollIntervalMs: 25 });
    for (let i = 0; i < 5; i++) {
      const r = await probe.run(probeContext());
      expect(r.ok, JSON.stringify(r.detail)).toBe(true);
      expect(sample(r.samples, 'sentinel_connection_zombie_rows')).toBe(0);
      expect(r.detail.rows_missing_while_open).toBe(0);
    }
    lab.setKnobs({ leak_connection_rows: true });
    try {
      const leak = await probe.run(probeContext());
      expect(leak.ok).toBe(false);
      expect(leak.reason).toBe('leak');
      expect(sample(leak.samples, 'sentinel_connection_zombie_rows')).toBe(2);
      expect(String(leak.detail.explanation)).toContain('30 s idle drop');
    } finally {
      lab.setKnobs({ leak_connection_rows: false });
    }
  });
});

describe('connections settle bound (time is the subject: ManualClock)', () => {
  it('waits out the default 35 s bound on the injected clock, then reports the leak', async () => {
    const clock = new ManualClock(1_000_000);
    const probe = new ConnectionsProbe({ target });
    lab.setKnobs({ leak_connection_rows: true });
    try {
      const ctx = { ...probeContext(), clock, scheduledAtMs: clock.nowMs(), deadlineMs: clock.nowMs() + 60_000 };
      let done = false;
      const run = probe.run(ctx).finally(() => (done = true));
      // Advance manual time in 250 ms steps (the poll interval) while real SQL answers arrive.
      for (let i = 0; i < 400 && !done; i++) {
        await new Promise((r) => setTimeout(r, 5));
        await clock.advance(250);
      }
      const r = await run;
      expect(r.reason).toBe('leak');
      expect(r.detail.settle_ms).toBeGreaterThanOrEqual(34_750);
      // The manual clock keeps moving (250 ms per 5 ms of real time) while the last SQL poll is in
      // flight, so the wait may end a few steps past the bound, never a poll interval's worth more.
      expect(r.detail.settle_ms).toBeLessThanOrEqual(36_000);
    } finally {
      lab.setKnobs({ leak_connection_rows: false });
    }
  });
});

describe('token, cutover_state, retired_routes', () => {
  it('token: the lab grants hold the contract and their HS256 signatures verify with jose', async () => {
    const inst = instruments();
    const r = await new TokenProbe({ control, instruments: inst, jwtSigningKey: lab.secrets.jwtSigningKey, mintsPerRun: 3 }).run(probeContext());
    expect(r.ok, JSON.stringify(r.detail)).toBe(true);
    expect(r.detail).toMatchObject({ mints: { issued: 3 }, signature_checked: true, verified_with: 'current key', violations: [] });
    expect(sample(r.samples, 'sentinel_token_contract_ok')).toBe(1);
    expect(sample(r.samples, 'sentinel_token_fallback_key_used')).toBe(0);
    expect(JSON.stringify(r)).not.toContain(lab.secrets.controlSessionToken);
    expect(await seriesValue(inst, 'sentinel_token_issue_attempts_total')).toBe(3);
    expect(await seriesValue(inst, 'sentinel_token_issue_failures_total', { reason: 'http_status' })).toBe(0);
  });

  it('token: a wrong key is a violation; the right key as a fallback verifies (rotation)', async () => {
    const bad = await new TokenProbe({ control, instruments: instruments(), jwtSigningKey: 'not-the-key', mintsPerRun: 1 }).run(probeContext());
    expect(bad.reason).toBe('contract_violation');
    expect(bad.detail.violations).toContain('JWT signature does not verify with the configured signing key');
    const rotated = await new TokenProbe({ control, instruments: instruments(), jwtSigningKey: 'the-new-key', jwtFallbackSigningKeys: ['older-key', lab.secrets.jwtSigningKey], mintsPerRun: 1 }).run(probeContext());
    expect(rotated.ok, JSON.stringify(rotated.detail)).toBe(true);
    expect(rotated.detail.verified_with).toBe('fallback key 2');
    expect(sample(rotated.samples, 'sentinel_token_fallback_key_used')).toBe(1);
  });

  it('token: issuer failures (5xx) count toward threshold 6; a run still passes while some mints succeed', async () => {
    const inst = instruments();
    const probe = new TokenProbe({ control, instruments: inst, mintsPerRun: 4 });
    lab.setKnobs({ token_failure_ratio: 1 });
    try {
      const failed = await probe.run(probeContext());
      expect(failed.ok).toBe(false);
      expect(failed.reason).toBe('http_status');
      expect(failed.detail).toMatchObject({ mints: { issuer_error: 4 }, issuer_failures: 4 });
      expect(await seriesValue(inst, 'sentinel_token_issue_failures_total', { reason: 'http_status' })).toBe(4);
      expect(await seriesValue(inst, 'sentinel_token_mints_total', { outcome: 'issuer_error' })).toBe(4);
      lab.setKnobs({ token_failure_ratio: 0 });
      const ok = await probe.run(probeContext());
      expect(ok.ok).toBe(true);
      expect(await seriesValue(inst, 'sentinel_token_issue_attempts_total')).toBe(8);
      expect(await seriesValue(inst, 'sentinel_token_issue_failures_total', { reason: 'http_status' })).toBe(4);
    } finally {
      lab.setKnobs({ token_failure_ratio: 0 });
    }
  });

  it('token: a refused session is not an issue failure', async () => {
    const inst = instruments();
    const other = new ControlClient({ baseUrl: lab.urls.control, sessionToken: 'not-a-session' });
    const r = await new TokenProbe({ control: other, instruments: inst, mintsPerRun: 2 }).run(probeContext());
    expect([r.ok, r.reason]).toEqual([false, 'auth']);
    expect(await seriesValue(inst, 'sentinel_token_issue_attempts_total')).toBe(2);
    expect(await seriesValue(inst, 'sentinel_token_issue_failures_total', { reason: 'http_status' })).toBe(0);
    expect(await seriesValue(inst, 'sentinel_token_mints_total', { outcome: 'unauthorized' })).toBe(2);
  });

  it('cutover_state and retired_routes pass against the lab', async () => {
    const cut = await new CutoverStateProbe({ control, runtime }).run(probeContext());
    expect(cut.ok, JSON.stringify(cut.detail)).toBe(true);
    const routes = await new RetiredRoutesProbe({ control, runtime, extraRoutes: ['runtime:/internal/v1/spacetime/topics/run:1:events/messages'] }).run(probeContext());
    expect(routes.ok, JSON.stringify(routes.detail)).toBe(true);
    expect(sample(routes.samples, 'sentinel_retired_route_ok', { route: '/api/v1/sync/token', service: 'control' })).toBe(1);
    expect(sample(routes.samples, 'sentinel_retired_route_ok', { route: '/api/chat/guest-session', service: 'control' })).toBe(1);
    expect(sample(routes.samples, 'sentinel_retired_route_ok', { route: '/internal/v1/spacetime/fanout/hooks', service: 'runtime' })).toBe(1);
    expect(routes.samples).toHaveLength(12);
  });
});

describe('preflight', () => {
  it('follows provision-check.sh: required variables, then the base URL, then GET <base><HEALTH_PATH or /health>', async () => {
    const missing = await new PreflightProbe({ env: 'staging', environment: { OA_SPACETIME_STAGING_HTTP_BASE_URL: 'ftp://x' } }).run(probeContext());
    expect(missing.ok).toBe(false);
    expect(missing.reason).toBe('contract_violation');
    expect(missing.detail.problems).toContain('missing required env: OA_SPACETIME_STAGING_DATABASE');
    expect(missing.detail.health).toEqual({ checked: false });
    const env = {
      OA_SPACETIME_DEV_HTTP_BASE_URL: `${lab.urls.spacetimedb}/`,
      OA_SPACETIME_DEV_DATABASE: lab.databaseName,
      OA_SPACETIME_DEV_TOKEN_ISSUER: 'iss',
      OA_SPACETIME_DEV_TOKEN_AUDIENCE: 'aud',
      OA_SPACETIME_DEV_JWT_SIGNING_KEY: 'super-secret-signing-key',
      OA_SPACETIME_DEV_HEALTH_PATH: '/v1/ping',
    };
    const badScheme = await new PreflightProbe({ env: 'dev', environment: { ...env, OA_SPACETIME_DEV_HTTP_BASE_URL: 'ftp://x' } }).run(probeContext());
    expect(badScheme.detail.problems).toEqual(['invalid OA_SPACETIME_DEV_HTTP_BASE_URL: must start with http:// or https://']);
    const ok = await new PreflightProbe({ env: 'dev', environment: env }).run(probeContext());
    expect(ok.ok, JSON.stringify(ok.detail)).toBe(true);
    expect(JSON.stringify(ok)).not.toContain('super-secret-signing-key');
    // The script's default health path is /health on the SpacetimeDB host.
    const { OA_SPACETIME_DEV_HEALTH_PATH: _unused, ...noHealth } = env;
    const noPath = await new PreflightProbe({ env: 'dev', environment: noHealth }).run(probeContext());
    expect(noPath.detail.health).toMatchObject({ path: '/health' });
    expect(noPath.reason).toBe('http_status');
  });
});

describe('health', () => {
  it('reports runtime, control and SpacetimeDB healthy and ready; a not-ready service fails the run', async () => {
    const probe = new HealthProbe({ runtime, control, spacetimedb: { http: target.http, healthPath: '/v1/ping' } });
    const r = await probe.run(probeContext());
    expect(r.ok, JSON.stringify(r.detail)).toBe(true);
    for (const service of ['runtime', 'control', 'spacetimedb']) expect(sample(r.samples, 'sentinel_service_healthy', { service })).toBe(1);
    for (const service of ['runtime', 'control']) {
      expect(sample(r.samples, 'sentinel_service_ready', { service })).toBe(1);
      expect(sample(r.samples, 'sentinel_service_uptime_seconds', { service })).toBeGreaterThanOrEqual(0);
    }
    expect(sample(r.samples, 'sentinel_services_ready')).toBe(1);
    lab.setKnobs({ readiness: { runtime: false } });
    try {
      const down = await probe.run(probeContext());
      expect([down.ok, down.reason]).toEqual([false, 'http_status']);
      expect(sample(down.samples, 'sentinel_service_ready', { service: 'runtime' })).toBe(0);
      expect(sample(down.samples, 'sentinel_service_healthy', { service: 'runtime' })).toBe(1);
      expect(sample(down.samples, 'sentinel_services_ready')).toBe(0);
    } finally {
      lab.setKnobs({ readiness: { runtime: true } });
    }
  });
});

describe('a target that is down, refusing or answering garbage', () => {
  let garbage: Server;
  let garbageUrl: string;
  let deadUrl: string;
  beforeAll(async () => {
    garbage = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"this is": not json');
    });
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    garbageUrl = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
  });
  afterAll(async () => {
    garbage.closeAllConnections();
    await new Promise<void>((r) => garbage.close(() => r()));
  });

  it('every probe reports success 0 with a reason class and never throws', async () => {
    for (const [url, reason] of [
      [deadUrl, 'unreachable'],
      [garbageUrl, 'bad_response'],
    ] as const) {
      const t = createSpacetimeTarget({ baseUrl: url, database: 'autopilot-sync', timeoutMs: 500 });
      const rt = new RuntimeMetricsClient({ baseUrl: url, token: 'admin-token', timeoutMs: 500 });
      const ctl = new ControlClient({ baseUrl: url, sessionToken: 'session-token', timeoutMs: 500 });
      const probes = [
        new RuntimeMetricsProbe({ runtime: rt }),
        new ReplayLagProbe({ http: t.http }),
        new TokenProbe({ control: ctl, instruments: instruments() }),
        new CutoverStateProbe({ control: ctl, runtime: rt }),
        new HealthProbe({ control: ctl, runtime: rt }),
        new ConnectionsProbe({ target: t, settleTimeoutMs: 100 }),
        new DeliveryProbe({ target: t, instruments: instruments(), receiveTimeoutMs: 300 }),
      ];
      for (const p of probes) {
        const r = await p.run(probeContext(5000));
        expect(r.ok, `${p.name} against ${reason}`).toBe(false);
        // The WebSocket probes see a garbage HTTP server as a refused upgrade.
        expect([reason, 'http_status'], `${p.name}: ${r.reason}`).toContain(r.reason);
      }
    }
  });
});
