import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerNotifier } from '../../../src/alerts/notifiers/alertmanager-notifier.js';
import type { NotifiableAlert } from '../../../src/alerts/notifier.js';
import { SystemClock } from '../../../src/time/index.js';
import { RealAlertmanager, WebhookListener } from './alertmanager-harness.js';

// The notifier's delivery loop is scheduler-level code, so it runs on the system clock here;
// alert times are chosen relative to now so Alertmanager sees them as current.
const clock = new SystemClock();

function alert(name: string, instance: string, overrides: Partial<NotifiableAlert> = {}): NotifiableAlert {
  const now = Date.now();
  return {
    labels: { alertname: name, instance, severity: 'critical' },
    annotations: { summary: `${name} on ${instance}`, runbook: 'docs/runbooks/spacetime-sync.md' },
    startsAtMs: now - 60_000,
    endsAtMs: now + 3600_000,
    generatorURL: 'http://sentinel:9464/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
    isResolved: false,
    ...overrides,
  };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return (v?.value as number | undefined) ?? 0;
}

describe('AlertmanagerNotifier against the real Alertmanager 0.25', () => {
  const listener = new WebhookListener();
  let am: RealAlertmanager;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const base = await listener.start();
    am = new RealAlertmanager(base);
    await am.start();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    listener.received.length = 0;
    if (!(await am.activeAlerts().catch(() => undefined))) await am.start();
  });
  afterAll(async () => {
    await am.destroy();
    await listener.close();
  });

  function notifier(extra: Partial<ConstructorParameters<typeof AlertmanagerNotifier>[0]> = {}): { n: AlertmanagerNotifier; registry: Registry } {
    const registry = new Registry();
    const n = new AlertmanagerNotifier({ urls: [am.url], clock, registry, initialBackoffMs: 50, maxBackoffMs: 400, ...extra });
    cleanups.push(() => n.stop(Date.now() + 2000));
    return { n, registry };
  }

  it('delivers a firing alert with its labels and annotations, then its resolution', async () => {
    const { n, registry } = notifier();
    await n.start();
    const firing = alert('NotifierFiring', 'sync-1');
    await n.send([firing]);
    expect(await n.flush(Date.now() + 5000)).toBe(true);
    await listener.waitFor((msgs) => msgs.some((m) => m.body.alerts.some((a) => a.labels.alertname === 'NotifierFiring' && a.status === 'firing')));
    const got = listener.received.flatMap((m) => m.body.alerts).find((a) => a.labels.alertname === 'NotifierFiring')!;
    expect(got.labels).toEqual({ alertname: 'NotifierFiring', instance: 'sync-1', severity: 'critical' });
    expect(got.annotations).toEqual(firing.annotations);
    expect(got.generatorURL).toBe(firing.generatorURL);
    expect(Date.parse(got.startsAt)).toBe(firing.startsAtMs);

    const resolvedAt = Date.now() - 1000;
    await n.send([{ ...firing, endsAtMs: resolvedAt, isResolved: true }]);
    await listener.waitFor((msgs) => msgs.some((m) => m.body.status === 'resolved' && m.body.alerts.some((a) => a.labels.alertname === 'NotifierFiring')));
    const resolved = listener.received.flatMap((m) => m.body.alerts).find((a) => a.labels.alertname === 'NotifierFiring' && a.status === 'resolved')!;
    expect(Date.parse(resolved.endsAt)).toBe(resolvedAt);
    expect(await metricValue(registry, 'sentinel_notifications_total', { notifier: 'alertmanager', result: 'sent' })).toBe(2);
  });

  it('keeps alerts queued while Alertmanager is down and delivers every one after it returns', async () => {
    const { n, registry } = notifier();
    await n.start();
    await am.stop();
    const alerts = Array.from({ length: 70 }, (_, i) => alert('NotifierOutage', `sync-${i}`));
    await n.send(alerts.slice(0, 40));
    await n.send(alerts.slice(40));
    expect(await n.flush(Date.now() + 600)).toBe(false);
    expect(n.queueLength()).toBe(70);
    expect(await metricValue(registry, 'sentinel_notification_queue_length', { notifier: 'alertmanager' })).toBe(70);
    expect(await metricValue(registry, 'sentinel_notifications_total', { notifier: 'alertmanager', result: 'failed' })).toBeGreaterThan(0);
    await am.start();
    expect(await n.flush(Date.now() + 10_000)).toBe(true);
    const active = await am.activeAlerts();
    const instances = new Set(active.filter((a) => a.labels.alertname === 'NotifierOutage').map((a) => a.labels.instance));
    expect(instances.size).toBe(70);
    await listener.waitFor((msgs) => new Set(msgs.flatMap((m) => m.body.alerts).filter((a) => a.labels.alertname === 'NotifierOutage').map((a) => a.labels.instance)).size === 70);
  });

  it('keeps the queue on disk across a sentinel restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-queue-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await am.stop();
    const first = notifier({ queueDir: dir }).n;
    await first.start();
    await first.send([alert('NotifierRestart', 'sync-9')]);
    await first.stop(Date.now() + 1000);
    await am.start();
    const second = notifier({ queueDir: dir }).n;
    expect(second.queueLength()).toBe(1);
    await second.start();
    expect(await second.flush(Date.now() + 10_000)).toBe(true);
    await listener.waitFor((msgs) => msgs.some((m) => m.body.alerts.some((a) => a.labels.alertname === 'NotifierRestart')));
  });

  it('drops the oldest alerts only past the bound, and counts them', async () => {
    await am.stop();
    const { n, registry } = notifier({ maxQueueItems: 5 });
    const alerts = Array.from({ length: 8 }, (_, i) => alert('NotifierBound', `sync-${i}`));
    const outcome = await n.send(alerts);
    expect(outcome.dropped).toBe(3);
    expect(n.queueLength()).toBe(5);
    expect(await metricValue(registry, 'sentinel_notifications_total', { notifier: 'alertmanager', result: 'dropped' })).toBe(3);
    await am.start();
    await n.start();
    expect(await n.flush(Date.now() + 10_000)).toBe(true);
    const active = (await am.activeAlerts()).filter((a) => a.labels.alertname === 'NotifierBound').map((a) => a.labels.instance).sort();
    expect(active).toEqual(['sync-3', 'sync-4', 'sync-5', 'sync-6', 'sync-7']);
  });

  it('drops a batch Alertmanager rejects as invalid (counted) instead of blocking the alerts behind it', async () => {
    const { n, registry } = notifier();
    await n.start();
    const now = Date.now();
    // endsAt before startsAt: Alertmanager answers 400 "start time must be before end time".
    await n.send([alert('NotifierPoison', 'sync-1', { startsAtMs: now, endsAtMs: now - 60_000 })]);
    await n.send([alert('NotifierAfterPoison', 'sync-2')]);
    expect(await n.flush(Date.now() + 5000)).toBe(true);
    expect(await metricValue(registry, 'sentinel_notifications_total', { notifier: 'alertmanager', result: 'rejected' })).toBeGreaterThanOrEqual(1);
    const names = (await am.activeAlerts()).map((a) => a.labels.alertname);
    expect(names).toContain('NotifierAfterPoison');
    expect(names).not.toContain('NotifierPoison');
  });

  it('never writes the bearer token to its logs, even while deliveries fail', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (l: string) => lines.push(l) });
    await am.stop();
    const { n } = notifier({ bearerToken: 'tok-very-secret-42', logger });
    await n.start();
    await n.send([alert('NotifierSecret', 'sync-1')]);
    expect(await n.flush(Date.now() + 500)).toBe(false);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('tok-very-secret-42');
  });

  it('replaces a queued copy of the same alert instead of queueing resends', async () => {
    await am.stop();
    const { n } = notifier();
    const a = alert('NotifierCoalesce', 'sync-1');
    await n.send([a]);
    await n.send([{ ...a, endsAtMs: a.endsAtMs + 60_000 }]);
    expect(n.queueLength()).toBe(1);
  });

  it('sends the bearer token to every Alertmanager and batches at most 64 alerts per request', async () => {
    const sink = new WebhookListener();
    const base = await sink.start();
    cleanups.push(() => sink.close());
    const { n } = notifier({ urls: [`${base}/am1`, `${base}/am2/`], bearerToken: 's3cret-token' });
    await n.start();
    await n.send(Array.from({ length: 100 }, (_, i) => alert('NotifierBatch', `sync-${i}`)));
    expect(await n.flush(Date.now() + 5000)).toBe(true);
    const paths = sink.received.map((m) => m.path).sort();
    expect(paths).toEqual(['/am1/api/v2/alerts', '/am1/api/v2/alerts', '/am2/api/v2/alerts', '/am2/api/v2/alerts']);
    for (const m of sink.received) {
      expect(m.headers.authorization).toBe('Bearer s3cret-token');
      expect((m.body as unknown as unknown[]).length).toBeLessThanOrEqual(64);
    }
  });
});
