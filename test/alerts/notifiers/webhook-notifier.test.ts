import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { alertFingerprint } from '../../../src/alerts/notifier.js';
import type { NotifiableAlert } from '../../../src/alerts/notifier.js';
import { buildWebhookMessage, WebhookNotifier } from '../../../src/alerts/notifiers/webhook-notifier.js';
import { ManualClock } from '../../../src/time/index.js';
import { WebhookListener } from './alertmanager-harness.js';

const FIXTURES = new URL('../../fixtures/alertmanager', import.meta.url).pathname;
const firingFixture = JSON.parse(readFileSync(join(FIXTURES, 'alertmanager-webhook-firing.json'), 'utf8')) as Record<string, unknown> & { alerts: Array<{ labels: Record<string, string>; fingerprint: string }> };
const resolvedFixture = JSON.parse(readFileSync(join(FIXTURES, 'alertmanager-webhook-resolved.json'), 'utf8')) as Record<string, unknown>;

const T0 = Date.parse('2026-11-25T17:24:40Z');
const GEN = 'http://127.0.0.1:9090/graph?g0.expr=openagents_spacetime_delivery_max_replay_lag+%3E+10000&g0.tab=1';

function lagAlert(instance: string, summary: string, overrides: Partial<NotifiableAlert> = {}): NotifiableAlert {
  return {
    labels: { alertname: 'SpacetimeReplayLagHigh', instance, service: 'spacetime', severity: 'critical' },
    annotations: { runbook: 'none', summary },
    startsAtMs: T0,
    endsAtMs: T0 + 240_000,
    generatorURL: GEN,
    isResolved: false,
    ...overrides,
  };
}

describe('alertFingerprint', () => {
  it("matches Alertmanager's fingerprints in the captured payload", () => {
    for (const a of firingFixture.alerts) expect(alertFingerprint(a.labels)).toBe(a.fingerprint);
  });
});

describe('buildWebhookMessage', () => {
  it('reproduces the captured firing and resolved payloads field for field', () => {
    const firing = buildWebhookMessage({
      receiver: 'corpus-webhook',
      groupLabels: { alertname: 'SpacetimeReplayLagHigh', service: 'spacetime' },
      alerts: [lagAlert('sync-2', 'Replay lag 25k on sync-2'), lagAlert('sync-1', 'Replay lag 15k on sync-1')].map((a) => ({ ...a, labels: { ...a.labels }, annotations: { ...a.annotations } })),
      externalURL: 'http://127.0.0.1:19093/',
      maxAlerts: 0,
    });
    expect(JSON.stringify(firing)).toBe(JSON.stringify(firingFixture));
    const resolved = buildWebhookMessage({
      receiver: 'corpus-webhook',
      groupLabels: { alertname: 'SpacetimeReplayLagHigh', service: 'spacetime' },
      alerts: [{ ...lagAlert('sync-2', 'Replay lag 25k on sync-2'), endsAtMs: Date.parse('2026-11-25T17:26:15Z'), isResolved: true }].map((a) => ({ ...a, labels: { ...a.labels }, annotations: { ...a.annotations } })),
      externalURL: 'http://127.0.0.1:19093',
      maxAlerts: 0,
    });
    expect(JSON.stringify(resolved)).toBe(JSON.stringify(resolvedFixture));
  });

  it('truncates to maxAlerts and computes the common labels after truncation', () => {
    const msg = buildWebhookMessage({
      receiver: 'r',
      groupLabels: { alertname: 'SpacetimeReplayLagHigh' },
      alerts: [lagAlert('sync-1', 'a'), lagAlert('sync-2', 'b')].map((a) => ({ ...a, labels: { ...a.labels }, annotations: { ...a.annotations } })),
      externalURL: '',
      maxAlerts: 1,
    });
    expect(msg.truncatedAlerts).toBe(1);
    expect(msg.alerts.map((a) => a.labels.instance)).toEqual(['sync-1']);
    expect(msg.commonLabels.instance).toBe('sync-1');
    expect(msg.groupKey).toBe('{}:{alertname="SpacetimeReplayLagHigh"}');
  });
});

describe('WebhookNotifier', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(extra: Partial<ConstructorParameters<typeof WebhookNotifier>[0]> = {}) {
    const listener = new WebhookListener();
    const base = await listener.start();
    cleanups.push(() => listener.close());
    const clock = new ManualClock(T0);
    const make = () => {
      const n = new WebhookNotifier({ name: 'oncall', url: `${base}/hook`, clock, registry: new Registry(), bearerToken: 'tok-123', externalURL: 'http://sentinel:9464', groupBy: ['alertname', 'service'], initialBackoffMs: 10, maxBackoffMs: 50, ...extra });
      cleanups.push(() => n.stop(Date.now() + 1000));
      return n;
    };
    return { listener, clock, make };
  }

  it('notifies a group when it starts firing and when it resolves, with the bearer token, and not on resends', async () => {
    const { listener, clock, make } = await setup();
    const n = make();
    await n.start();
    await n.send([lagAlert('sync-1', 's1'), lagAlert('sync-2', 's2')]);
    await clock.advance(60_000);
    const resend = await n.send([lagAlert('sync-1', 's1', { endsAtMs: T0 + 300_000 }), lagAlert('sync-2', 's2', { endsAtMs: T0 + 300_000 })]);
    expect(resend.skipped).toBe(2);
    await n.send([lagAlert('sync-1', 's1', { endsAtMs: T0 + 60_000, isResolved: true }), lagAlert('sync-2', 's2', { endsAtMs: T0 + 300_000 })]);
    // The resolved alert is resent by the rule manager for 15m; the receiver hears it once.
    await n.send([lagAlert('sync-1', 's1', { endsAtMs: T0 + 60_000, isResolved: true })]);
    await listener.waitFor((m) => m.length >= 2);
    expect(await n.flush(Date.now() + 5000)).toBe(true);
    expect(listener.received).toHaveLength(2);
    const [first, second] = listener.received;
    expect(first.headers.authorization).toBe('Bearer tok-123');
    expect(first.body.status).toBe('firing');
    expect(first.body.alerts.map((a) => a.labels.instance)).toEqual(['sync-1', 'sync-2']);
    expect(first.body.groupKey).toBe('{}:{alertname="SpacetimeReplayLagHigh", service="spacetime"}');
    expect(first.body.externalURL).toBe('http://sentinel:9464');
    expect(second.body.status).toBe('firing');
    expect(second.body.alerts.map((a) => [a.labels.instance, a.status])).toEqual([
      ['sync-1', 'resolved'],
      ['sync-2', 'firing'],
    ]);
    expect(second.body.alerts[0].endsAt).toBe('2026-11-25T17:25:40Z');
  });

  it('repeats a still-firing group after repeatIntervalMs', async () => {
    const { listener, clock, make } = await setup({ repeatIntervalMs: 600_000 });
    const n = make();
    await n.start();
    await n.send([lagAlert('sync-1', 's1', { endsAtMs: T0 + 3600_000 })]);
    await clock.advance(300_000);
    await n.send([lagAlert('sync-1', 's1', { endsAtMs: T0 + 3600_000 })]);
    await clock.advance(300_000);
    await n.send([lagAlert('sync-1', 's1', { endsAtMs: T0 + 3600_000 })]);
    expect(await n.flush(Date.now() + 5000)).toBe(true);
    expect(listener.received).toHaveLength(2);
  });

  it('retries while the receiver fails and remembers what it sent across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-webhook-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { listener, make } = await setup({ queueDir: dir, clock: new ManualClock(T0) });
    listener.status = 503;
    const first = make();
    await first.start();
    await first.send([lagAlert('sync-1', 's1')]);
    expect(first.queueLength()).toBe(1);
    await first.stop(Date.now() + 1000);
    listener.status = 200;
    const second = make();
    await second.start();
    expect(await second.flush(Date.now() + 5000)).toBe(true);
    expect(listener.received).toHaveLength(1);
    // The same firing alert after the restart is a resend, not news.
    const again = await second.send([lagAlert('sync-1', 's1')]);
    expect(again.skipped).toBe(1);
    expect(second.queueLength()).toBe(0);
  });
});
