/**
 * Each of the six documented alert thresholds of the operators (OpenAgents
 * docs/sync/SPACETIME_OBSERVABILITY_AND_ALERTS.md) fires against the lab when the matching lab
 * knob is turned, and resolves when it is turned back.
 *
 * Everything is the shipped thing: the lab and its fault proxy from `startLabEnvironment` (the
 * sentinel config written from `config/lab.yaml`, reaching the lab through the proxies), the
 * daemon composed by `buildDaemon` (SQLite store, rule manager over the shipped
 * `config/rules/*.rules.yaml`, webhook notifier, Prometheus-shaped HTTP API), knobs turned over
 * the lab's admin API. Only time is simulated: the lab and the daemon share one ManualClock, the
 * probes run with `ProbeScheduler.runOnce` once per simulated minute and the rule groups evaluate
 * on their 1m slots as the clock moves, so an hour of baseline takes seconds.
 *
 * For each threshold the alert must go inactive -> pending -> firing exactly `for` after it went
 * pending (not early, not late), reach the on-call webhook firing with its labels and
 * annotations, and, once the knob is turned back, leave /api/v1/alerts and reach the webhook
 * resolved. The first suite has the lab serve the documented runtime fields (`runtime_fields:
 * documented`), so the rules read the operators' metrics; the second keeps the published fields
 * only, where thresholds 3-5 must fire through their fallbacks (the sentinel's own replay lag,
 * the resume canary's stale rebootstraps, the mirror's auth failures).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Document } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import { buildDaemon } from '../../src/commands/run.js';
import type { Daemon } from '../../src/commands/run.js';
import { loadConfig } from '../../src/config/index.js';
import type { ProbeScheduler } from '../../src/probes/index.js';
import { startComponents, stopComponents } from '../../src/daemon/index.js';
import type { Component } from '../../src/daemon/index.js';
import { ManualClock } from '../../src/time/index.js';

const logger = pino({ level: 'silent' });
const MINUTE_MS = 60_000;
/** NEVER is a cron schedule that does not fire during the test: probes run by hand at simulated minutes. */
const NEVER = '0 0 1 1 *';
/** LAB_TICK_MS is the lab ticker's real period; after each simulated minute we wait a few ticks. */
const LAB_TICK_MS = 10;
/** The probes the documented thresholds read; the WebSocket canaries stay configured (drills name them) but idle. */
const THRESHOLD_PROBES = ['runtime_metrics', 'replay_lag', 'token'] as const;
const OTHER_PROBES = ['delivery', 'resume', 'connections', 'cutover_state', 'retired_routes'] as const;

type AlertState = 'inactive' | 'pending' | 'firing';

interface ApiAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** Target names one alert of the shipped rules (alertname plus distinguishing labels). */
interface Target {
  readonly alertname: string;
  readonly labels?: Record<string, string>;
}

function matches(labels: Record<string, string>, t: Target): boolean {
  return labels.alertname === t.alertname && Object.entries(t.labels ?? {}).every(([k, v]) => labels[k] === v);
}

function realSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** HarnessOptions say which probes run each simulated minute and how the lab starts. */
interface HarnessOptions {
  /** probes run once per simulated minute (the others stay configured but idle). */
  readonly probes: readonly string[];
  /** mayFail are probes whose failure is the knob's intended effect rather than a broken harness. */
  readonly mayFail: readonly string[];
  /** knobs are set over the admin API before the daemon starts. */
  readonly knobs: Record<string, unknown>;
  /** configPatch edits the sentinel configuration written for the lab (after the harness's own edits). */
  readonly configPatch?: (doc: Document) => void;
}

/**
 * useThresholdHarness registers the hooks that start the lab environment, a webhook receiver and
 * the daemon on one ManualClock (and stop them), and returns the steps the tests drive them with.
 */
function useThresholdHarness(opts: HarnessOptions) {
  let work: string;
  let clock: ManualClock;
  let env: LabEnvironment;
  let daemon: Daemon;
  let started: Component[] = [];
  let scheduler: ProbeScheduler;
  let apiUrl: string;
  let receiver: Server;
  const received: WebhookAlert[] = [];
  /** minutes counts simulated minutes since the daemon started (for failure messages). */
  let minutes = 0;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sentinel-thresholds-'));
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const payload = JSON.parse(body) as { alerts: WebhookAlert[] };
        received.push(...payload.alerts);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const address = receiver.address();
    if (address === null || typeof address === 'string') throw new Error('webhook receiver has no port');
    const webhookUrl = `http://127.0.0.1:${address.port}/hook`;

    // Whole minutes: the probes' samples land on minute boundaries, the groups on their slot in each.
    clock = new ManualClock(Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS);
    const patchConfig = (doc: Document): void => {
      for (const p of [...THRESHOLD_PROBES, ...OTHER_PROBES]) doc.setIn(['probes', p, 'schedule'], NEVER);
      doc.setIn(['rules', 'evaluation_interval'], '1m');
      doc.setIn(['alerting', 'log'], false);
      doc.setIn(['alerting', 'webhooks'], doc.createNode([{ url: webhookUrl, timeout: '5s' }]));
      opts.configPatch?.(doc);
    };
    env = await startLabEnvironment({ workDir: join(work, 'env'), evidenceDir: join(work, 'evidence'), clock, tickMs: LAB_TICK_MS, patchConfig });
    await setKnobs(opts.knobs);

    const config = loadConfig(env.configFile);
    daemon = await buildDaemon(config, { clock, logger, registry: new Registry(), tracer: trace.getTracer('thresholds-lab'), version: 'test', env: {} });
    started = await startComponents(daemon.components, { signal: new AbortController().signal, logger, clock, deadlineMs: () => clock.nowMs() + 5000 });
    scheduler = daemon.generation().probeScheduler;
    expect(scheduler.probeNames()).toEqual(expect.arrayContaining([...opts.probes]));
    const bound = daemon.server.address();
    if (!bound) throw new Error('the daemon HTTP server did not start');
    apiUrl = bound.url;
  }, 60_000);

  afterAll(async () => {
    // Stop on a real-time bound: a component waiting out its deadline on the manual clock must not hang the suite.
    if (started.length > 0) await Promise.race([stopComponents(started, { deadlineMs: clock.nowMs() + 2000, clock, logger }), realSleep(10_000)]);
    await env?.close();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    if (work) rmSync(work, { recursive: true, force: true });
  }, 30_000);

  /** setKnobs turns lab knobs the way an operator or a drill does: POST /lab/knobs on the admin API. */
  async function setKnobs(knobs: Record<string, unknown>): Promise<void> {
    const res = await postKnobs(knobs);
    expect(res.status, `POST /lab/knobs ${JSON.stringify(knobs)}: ${res.text}`).toBe(200);
  }

  /** postKnobs is POST /lab/knobs without judging the answer (a knob the lab may not have). */
  async function postKnobs(knobs: Record<string, unknown>): Promise<{ status: number; text: string }> {
    const res = await fetch(`${env.urls.admin}/lab/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(knobs), signal: AbortSignal.timeout(5000) });
    return { status: res.status, text: await res.text() };
  }

  async function labState(): Promise<{ streams: Array<{ stream_id: string }>; clients: Array<{ client_id: string; max_lag: number }> }> {
    const res = await fetch(`${env.urls.admin}/lab/state`, { signal: AbortSignal.timeout(5000) });
    return (await res.json()) as { streams: Array<{ stream_id: string }>; clients: Array<{ client_id: string; max_lag: number }> };
  }

  /** query runs an instant PromQL query on the daemon's API and returns its vector. */
  async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const res = await fetch(`${apiUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    expect(body.status, `query ${expr}`).toBe('success');
    return body.data.result;
  }

  async function apiAlerts(): Promise<ApiAlert[]> {
    const res = await fetch(`${apiUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: { alerts: ApiAlert[] } };
    expect(body.status).toBe('success');
    return body.data.alerts;
  }

  async function stateOf(t: Target): Promise<AlertState> {
    const alerts = (await apiAlerts()).filter((a) => matches(a.labels, t));
    if (alerts.some((a) => a.state === 'firing')) return 'firing';
    return alerts.length > 0 ? 'pending' : 'inactive';
  }

  /**
   * minute moves simulated time one minute (the rule groups evaluate on their slot inside it),
   * lets the lab's ticker credit that minute to its traffic and counters, then runs the probes
   * against the lab at the new time. Every probe must complete; those in `mayFail` may fail
   * because a knob breaks what they check, the others must succeed.
   */
  async function minute(): Promise<void> {
    await clock.advance(MINUTE_MS);
    minutes += 1;
    await realSleep(LAB_TICK_MS * 6);
    const reports = (await Promise.all(opts.probes.map((p) => scheduler.runOnce(p)))).flat();
    for (const r of reports) {
      if (!opts.mayFail.includes(r.probe)) expect(r.outcome.result.ok, `probe ${r.probe} at minute ${minutes}: ${JSON.stringify(r.outcome.result)}`).toBe(true);
    }
  }

  /**
   * stepUntil advances minute by minute until the alert is in `want`, returning the state seen
   * after each minute (the last one is `want`). Fails naming the alerts active when it gives up.
   */
  async function stepUntil(t: Target, want: AlertState, maxMinutes: number): Promise<AlertState[]> {
    const seen: AlertState[] = [];
    for (let i = 0; i < maxMinutes; i++) {
      await minute();
      const s = await stateOf(t);
      seen.push(s);
      if (s === want) return seen;
    }
    const active = (await apiAlerts()).map((a) => `${a.labels.alertname}{${a.labels.reason ?? ''}}=${a.state}`);
    throw new Error(`${t.alertname} did not become ${want} within ${maxMinutes} simulated minutes (states: ${seen.join(',')}); active alerts: ${active.join(', ') || 'none'}`);
  }

  /**
   * expectFiresOnTime turns the knob, then checks the path inactive -> pending -> firing, with
   * firing exactly `forMinutes` evaluations after the first pending one (Prometheus: firing once
   * evalTime - activeAt >= for), and that on-call heard nothing before it fired.
   */
  async function expectFiresOnTime(t: Target, forMinutes: number, maxMinutes: number): Promise<void> {
    expect(await stateOf(t), `${t.alertname} before its knob`).toBe('inactive');
    const heardFrom = received.length;
    const seen = await stepUntil(t, 'firing', maxMinutes);
    const firstPending = seen.indexOf('pending');
    expect(firstPending, `${t.alertname} went firing without pending first: ${seen.join(',')}`).toBeGreaterThanOrEqual(0);
    const path = seen.slice(firstPending);
    expect(path, `${t.alertname}: pending for exactly ${forMinutes}m, then firing`).toEqual([...Array<AlertState>(forMinutes).fill('pending'), 'firing']);
    expect(seen.slice(0, firstPending).every((s) => s === 'inactive')).toBe(true);
    const [alert] = (await apiAlerts()).filter((a) => matches(a.labels, t) && a.state === 'firing');
    expect(alert?.labels.threshold, `${t.alertname} carries its documented threshold label`).toBeTruthy();
    expect(Number(alert?.value)).toBeGreaterThan(0);
    // Only firing alerts are sent; the notification arrives once the evaluation has been sent.
    const fired = await waitForWebhook(t, 'firing', heardFrom);
    expect(fired.labels.severity).toMatch(/^(warning|critical)$/);
    expect(fired.labels.env, 'external label from config/lab.yaml').toBe('lab');
    expect(fired.annotations.summary).toBeTruthy();
    expect(fired.annotations.runbook_url).toMatch(/^https:\/\/github\.com\/OpenAgentsInc\/openagents\/blob\/9b2b978949\/docs\/sync\//);
    // The description carries $value: a number, never the raw template.
    expect(fired.annotations.description).toMatch(/\d/);
    expect(fired.annotations.description).not.toMatch(/\{\{|\$value/);
  }

  /** expectResolves steps until the alert is gone from /api/v1/alerts and on-call got it resolved. */
  async function expectResolves(t: Target, maxMinutes: number): Promise<void> {
    const heardFrom = received.length;
    await stepUntil(t, 'inactive', maxMinutes);
    await waitForWebhook(t, 'resolved', heardFrom);
  }

  /** waitForWebhook waits (real time, bounded) for a notification of `t` in `status` received after index `from`. */
  async function waitForWebhook(t: Target, status: WebhookAlert['status'], from: number): Promise<WebhookAlert> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const hit = received.slice(from).find((a) => matches(a.labels, t) && a.status === status);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`the webhook never received ${t.alertname} ${status}; received: ${received.map((a) => `${a.labels.alertname}=${a.status}`).join(', ') || 'nothing'}`);
      await realSleep(20);
    }
  }

  return { setKnobs, postKnobs, labState, apiAlerts, query, received: () => received, stateOf, minute, stepUntil, expectFiresOnTime, expectResolves, minutesElapsed: () => minutes };
}

describe('the six documented thresholds fire against the lab and resolve (daemon, shipped rules, lab knobs)', () => {
  const { setKnobs, labState, apiAlerts, stateOf, minute, expectFiresOnTime, expectResolves, minutesElapsed } = useThresholdHarness({
    probes: THRESHOLD_PROBES,
    mayFail: ['token'],
    knobs: { runtime_fields: 'documented', traffic: { events_per_second: 2 } },
  });

  const documentedActive = async (): Promise<string[]> => (await apiAlerts()).filter((a) => a.labels.threshold !== undefined).map((a) => `${a.labels.alertname}=${a.state}`);

  it('a healthy lab raises none of the documented threshold alerts', async () => {
    for (let i = 0; i < 12; i++) {
      await minute();
      expect(await documentedActive(), `minute ${minutesElapsed()}`).toEqual([]);
    }
  }, 60_000);

  it('6: sync.token.issue.failed above 2% of attempts (knob token_failure_ratio)', async () => {
    const t = { alertname: 'SpacetimeTokenIssueFailuresHigh' };
    await setKnobs({ token_failure_ratio: 1 });
    await expectFiresOnTime(t, 5, 12);
    await setKnobs({ token_failure_ratio: 0 });
    await expectResolves(t, 12);
  }, 60_000);

  it('1: mirror.failed_total rising with no recoveries (knob publish_failures)', async () => {
    const t = { alertname: 'SpacetimeMirrorFailuresWithoutRecovery' };
    await setKnobs({ publish_failures: 1 });
    await expectFiresOnTime(t, 5, 15);
    await setKnobs({ publish_failures: 0 });
    await expectResolves(t, 15);
  }, 90_000);

  it('2: mirror.outbox_depth trending up for more than 10 minutes (knob publish_failures)', async () => {
    const t = { alertname: 'SpacetimeOutboxDepthRising' };
    await setKnobs({ publish_failures: 1 });
    await expectFiresOnTime(t, 10, 20);
    await setKnobs({ publish_failures: 0 });
    await expectResolves(t, 20);
  }, 90_000);

  it('3: delivery.max_replay_lag above 10000 (knobs slow_clients and append_burst)', async () => {
    const t = { alertname: 'SpacetimeReplayLagHigh' };
    const state = await labState();
    const client = state.clients[0]?.client_id;
    const stream = state.streams.find((s) => !s.stream_id.startsWith('sentinel.canary.'))?.stream_id;
    expect(client, 'the lab simulates at least one client').toBeTruthy();
    expect(stream, 'the lab has a traffic stream').toBeTruthy();
    await setKnobs({ slow_clients: [client], append_burst: { stream, count: 12_000 } });
    await expectFiresOnTime(t, 5, 12);
    await setKnobs({ slow_clients: [] });
    await expectResolves(t, 30);
  }, 90_000);

  it('4: delivery.stale_cursor_events_total above 50 per 5 minutes (knob stale_cursor_events_per_minute)', async () => {
    const t = { alertname: 'SpacetimeStaleCursorSpike' };
    await setKnobs({ stale_cursor_events_per_minute: 30 });
    await expectFiresOnTime(t, 5, 15);
    await setKnobs({ stale_cursor_events_per_minute: 0 });
    await expectResolves(t, 15);
  }, 60_000);

  it('5: auth_failures.unauthorized_total and token_expired_total above 3x the trailing hour (knob auth_failures_per_minute)', async () => {
    const unauthorized = { alertname: 'SpacetimeAuthFailuresAboveBaseline', labels: { reason: 'unauthorized' } };
    const expired = { alertname: 'SpacetimeAuthFailuresAboveBaseline', labels: { reason: 'token_expired' } };
    // An hour (and the 5m offset) of steady baseline first. Going from none to 2/min is itself a
    // jump over an empty hour, so the alert may be raised early on; once a third of the trailing
    // hour holds the new rate, 2/min is no longer above 3x it, and a steady rate stays quiet.
    await setKnobs({ auth_failures_per_minute: { unauthorized: 2, token_expired: 2 } });
    for (let i = 0; i < 36; i++) await minute();
    for (let i = 0; i < 30; i++) {
      await minute();
      expect(await stateOf(unauthorized), `unauthorized at a steady baseline, minute ${minutesElapsed()}`).toBe('inactive');
      expect(await stateOf(expired), `token_expired at a steady baseline, minute ${minutesElapsed()}`).toBe('inactive');
    }
    await setKnobs({ auth_failures_per_minute: { unauthorized: 30 } });
    await expectFiresOnTime(unauthorized, 5, 12);
    expect(await stateOf(expired), 'token_expired stayed at its baseline').toBe('inactive');
    await setKnobs({ auth_failures_per_minute: { unauthorized: 2 } });
    await expectResolves(unauthorized, 12);

    await setKnobs({ auth_failures_per_minute: { token_expired: 30 } });
    await expectFiresOnTime(expired, 5, 12);
    await setKnobs({ auth_failures_per_minute: { token_expired: 2 } });
    await expectResolves(expired, 12);
  }, 180_000);
});

/**
 * The published runtime endpoint (the lab's default, and what production served at the
 * published revision) lacks delivery.max_replay_lag, delivery.stale_cursor_events_total and
 * auth_failures.*; the shipped rules then fall back to the sentinel's own measurements. Those
 * fallbacks must fire too, or thresholds 3-5 would be silent in production.
 */
describe('with only the published runtime fields, the fallbacks of thresholds 3-5 fire against the lab', () => {
  const { setKnobs, postKnobs, labState, apiAlerts, stateOf, minute, stepUntil, expectFiresOnTime, expectResolves, minutesElapsed } = useThresholdHarness({
    probes: [...THRESHOLD_PROBES, 'resume'],
    mayFail: ['token', 'resume'],
    knobs: { runtime_fields: 'published', traffic: { events_per_second: 2 } },
  });

  it('a healthy lab raises none of the documented threshold alerts', async () => {
    for (let i = 0; i < 8; i++) {
      await minute();
      const active = (await apiAlerts()).filter((a) => a.labels.threshold !== undefined).map((a) => `${a.labels.alertname}=${a.state}`);
      expect(active, `minute ${minutesElapsed()}`).toEqual([]);
    }
  }, 60_000);

  it("3 (fallback: the sentinel's own replay lag per stream) with slow_clients and append_burst", async () => {
    const t = { alertname: 'SpacetimeReplayLagHigh' };
    const state = await labState();
    const client = state.clients[0]?.client_id;
    const stream = state.streams.find((s) => !s.stream_id.startsWith('sentinel.canary.'))?.stream_id;
    await setKnobs({ slow_clients: [client], append_burst: { stream, count: 12_000 } });
    await expectFiresOnTime(t, 5, 12);
    const firing = (await apiAlerts()).filter((a) => matches(a.labels, t) && a.state === 'firing');
    // The sentinel's measurement is per stream: the burst's stream is named, the runtime's field is not there.
    expect(firing.map((a) => a.labels.stream_id)).toContain(stream);
    await setKnobs({ slow_clients: [] });
    await expectResolves(t, 30);
  }, 90_000);

  it('3 (fallback) stays quiet for a client that stops acking forever, however far its row falls behind', async () => {
    const lagAlerts = [{ alertname: 'SpacetimeReplayLagHigh' }, { alertname: 'SpacetimeReplayLagP95SLO' }];
    // The previous test's lag leaves the 10m p95 window first.
    for (const t of lagAlerts) if ((await stateOf(t)) !== 'inactive') await stepUntil(t, 'inactive', 20);
    const state = await labState();
    const client = state.clients[0]?.client_id as string;
    const stream = state.streams.find((s) => !s.stream_id.startsWith('sentinel.canary.'))?.stream_id;
    await setKnobs({ dead_clients: [client] });
    await minute();
    await setKnobs({ append_burst: { stream, count: 12_000 } });
    for (let i = 0; i < 15; i++) {
      await minute();
      for (const t of lagAlerts) expect(await stateOf(t), `${t.alertname}, minute ${minutesElapsed()}`).toBe('inactive');
    }
    // Ground truth: the dead client's row is more than 10000 events behind the head all along.
    expect((await labState()).clients.find((c) => c.client_id === client)?.max_lag).toBeGreaterThan(10_000);
    await setKnobs({ dead_clients: [] });
    await minute();
  }, 90_000);

  it("4 (fallback: the resume canary's stale-cursor rebootstraps) with retention_floor", async () => {
    const t = { alertname: 'SpacetimeStaleCursorSpike' };
    // A floor above every retained seq: each resume of the canary finds its cursor below it.
    await setKnobs({ retention_floor: 1_000_000 });
    await expectFiresOnTime(t, 5, 12);
    await setKnobs({ retention_floor: 0 });
    await expectResolves(t, 20);
  }, 90_000);

  it('5 (fallback: mirror.auth_failures_total above 3x its trailing hour) with publish_failures of kind auth', async () => {
    const t = { alertname: 'SpacetimeAuthFailuresAboveBaseline', labels: { reason: 'mirror_auth' } };
    // With the published fields the runtime exports no auth_failures.* breakdown, so
    // auth_failures_per_minute is invisible; the rule reads the mirror's auth failures instead.
    const answer = await postKnobs({ publish_failure_kind: 'auth' });
    expect(
      answer.status,
      'threshold 5 cannot fire against the published runtime fields: no lab knob moves mirror.auth_failures_total (every mirror publish failure ' +
        `is counted as a network failure), so its fallback rule has nothing to see. The lab needs the knob publish_failure_kind: "auth" (lab answered: ${answer.text.slice(0, 200)})`,
    ).toBe(200);
    // The lab's ticker publishes a simulated minute's events in one step and queues every event
    // behind the first failure, so a small failure ratio gives a bursty, not a steady, baseline.
    // The jump is therefore from none: a quiet stretch (the trailing hour holds no failures, but
    // holds samples, so the baseline is 0, not absent), then failures, which are above 3 x 0.
    for (let i = 0; i < 10; i++) {
      await minute();
      expect(await stateOf(t), `mirror_auth with no failures, minute ${minutesElapsed()}`).toBe('inactive');
    }
    await setKnobs({ publish_failures: 0.2 });
    await expectFiresOnTime(t, 5, 12);
    await setKnobs({ publish_failures: 0 });
    await expectResolves(t, 15);
    await setKnobs({ publish_failure_kind: 'network' });
  }, 180_000);
});

/**
 * Read-only mode (`probes.read_only: true`): the probes that would write (delivery, resume)
 * report themselves disabled on every run, which is neither a failure nor a reason to alert, and
 * the watched database gets no canary stream.
 */
describe('read-only mode: the writing probes report disabled, write nothing, and raise no alert', () => {
  const { apiAlerts, labState, query, received, minute, minutesElapsed } = useThresholdHarness({
    probes: [...THRESHOLD_PROBES, 'delivery', 'resume'],
    mayFail: ['token'],
    knobs: { runtime_fields: 'published', traffic: { events_per_second: 2 } },
    configPatch: (doc) => doc.setIn(['probes', 'read_only'], true),
  });
  /** fromDisabled: alerts a disabled delivery or resume could raise (their probe's, or over their samples). */
  const fromDisabled = (a: { labels: Record<string, string> }): boolean =>
    a.labels.probe === 'delivery' ||
    a.labels.probe === 'resume' ||
    ['SentinelResumeOutcomeNotOk', 'SentinelOrderingDivergence', 'SentinelDeliveryLatencyP95High', 'SentinelConnectedNotStreaming', 'SpacetimeStaleCursorSpike', 'SpacetimeStaleCursorIncidentsSLO', 'SpacetimeAuthFailureRatioSLO', 'SpacetimeReconnectSpikeSLO'].includes(a.labels.alertname ?? '');

  it('runs ten minutes with delivery and resume disabled and no alert from them', async () => {
    for (let i = 0; i < 10; i++) {
      await minute();
      const alerts = await apiAlerts();
      expect(alerts.filter(fromDisabled).map((a) => `${a.labels.alertname}=${a.state}`), `minute ${minutesElapsed()}: ${JSON.stringify(alerts.map((a) => a.labels))}`).toEqual([]);
    }
    expect(received().filter(fromDisabled)).toEqual([]);
    for (const probe of ['delivery', 'resume']) {
      expect((await query(`sentinel_probe_runs_total{probe="${probe}",result="disabled"}`))[0]?.value[1], probe).toBe('10');
      expect((await query(`sentinel_probe_disabled{probe="${probe}",reason="read_only"}`))[0]?.value[1], probe).toBe('1');
      expect((await query(`sentinel_probe_success{probe="${probe}"}`))[0]?.value[1], probe).toBe('1');
    }
    expect((await labState()).streams.filter((s) => s.stream_id.startsWith('sentinel.canary.'))).toEqual([]);
  }, 90_000);
});
