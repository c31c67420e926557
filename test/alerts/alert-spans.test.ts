/**
 * Rule group evaluations and notifications as OpenTelemetry spans: one `rules.group.evaluate`
 * per evaluation (group, file, rule count, failures, alerts to send), an `alerts.notify` child
 * per notifier hand-off, and one `alerts.deliver` per delivery attempt (notifier, receiver
 * without credentials, alerts, attempt, result, HTTP status), read from an in-memory exporter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotifiableAlert, Notifier } from '../../src/alerts/notifier.js';
import { WebhookNotifier } from '../../src/alerts/notifiers/webhook-notifier.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock, SystemClock } from '../../src/time/index.js';
import { WebhookListener } from './notifiers/alertmanager-harness.js';
import { storeRuleManager } from '../helpers/store-rule-manager.js';

const RULES = `groups:
  - name: lag
    rules:
      - record: replay_lag:max
        expr: max(replay_lag)
      - alert: ReplayLagHigh
        expr: replay_lag > 10000
        labels:
          severity: critical
`;

function tracing(): { exporter: InMemorySpanExporter; tracer: ReturnType<BasicTracerProvider['getTracer']> } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracer: provider.getTracer('test') };
}

const spansNamed = (exporter: InMemorySpanExporter, name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** RecordingNotifier takes every batch, so the test sees exactly what was handed off. */
class RecordingNotifier implements Notifier {
  readonly name = 'recorder';
  readonly batches: Array<readonly NotifiableAlert[]> = [];
  send(alerts: readonly NotifiableAlert[]): Promise<{ accepted: number; skipped: number; dropped: number }> {
    this.batches.push(alerts);
    return Promise.resolve({ accepted: alerts.length, skipped: 0, dropped: 0 });
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  flush(): Promise<boolean> {
    return Promise.resolve(true);
  }
  queueLength(): number {
    return 0;
  }
}

describe('rule group evaluation spans', () => {
  it('one span per evaluation with the group, its rules and the alerts sent; a child span per notifier', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-alert-spans-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, RULES);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = new MemoryStore();
    const { exporter, tracer } = tracing();
    const notifier = new RecordingNotifier();
    const manager = storeRuleManager({ rulesFile, store, clock, notifiers: [notifier], tracer });
    cleanups.push(() => manager.stop(clock.nowMs() + 1000));
    expect((await manager.reload()).ok).toBe(true);
    await manager.start();

    // A quiet minute: the group evaluates, nothing is sent, no notifier span.
    await clock.advance(60_000);
    const quiet = spansNamed(exporter, 'rules.group.evaluate');
    expect(quiet).toHaveLength(1);
    expect(quiet[0].attributes).toMatchObject({
      'sentinel.rule_group': 'lag',
      'sentinel.rule_group.file': rulesFile,
      'sentinel.rule_group.rules': 2,
      'sentinel.rule_group.failures': 0,
      'sentinel.alerts.to_send': 0,
    });
    expect(spansNamed(exporter, 'alerts.notify')).toHaveLength(0);

    // Lag over the threshold: the alert fires (no `for`) and is handed to the notifier.
    const app = store.appender();
    app.append({ __name__: 'replay_lag', stream: 's1' }, clock.nowMs(), 15_000);
    app.commit();
    await clock.advance(60_000);
    const evals = spansNamed(exporter, 'rules.group.evaluate');
    expect(evals).toHaveLength(2);
    expect(evals[1].attributes['sentinel.alerts.to_send']).toBe(1);
    expect(notifier.batches).toHaveLength(1);
    const [notify] = spansNamed(exporter, 'alerts.notify');
    expect(notify.attributes).toMatchObject({ 'sentinel.notifier': 'recorder', 'sentinel.alerts': 1, 'sentinel.alerts.resolved': 0, 'sentinel.alerts.accepted': 1, 'sentinel.alerts.dropped': 0 });
    expect(notify.parentSpanContext?.spanId).toBe(evals[1].spanContext().spanId);
  });
});

describe('delivery spans', () => {
  it('one span per attempt: a refused attempt carries the HTTP status, the retry is sent; no credential in any attribute', async () => {
    const listener = new WebhookListener();
    const base = await listener.start();
    cleanups.push(() => listener.close());
    const { exporter, tracer } = tracing();
    const secret = 'hook-secret-token';
    const notifier = new WebhookNotifier({
      name: 'pager',
      url: `${base}/hook?token=${secret}`,
      bearerToken: secret,
      clock: new SystemClock(),
      registry: new Registry(),
      initialBackoffMs: 20,
      maxBackoffMs: 20,
      tracer,
    });
    await notifier.start();
    cleanups.push(() => notifier.stop(Date.now() + 2000));
    listener.status = 503;
    const alert: NotifiableAlert = {
      labels: { alertname: 'ReplayLagHigh', severity: 'critical' },
      annotations: {},
      startsAtMs: Date.UTC(2026, 0, 1),
      endsAtMs: Date.UTC(2026, 0, 1, 1),
      generatorURL: '',
      isResolved: false,
    };
    await notifier.send([alert]);
    const deadline = Date.now() + 10_000;
    while (spansNamed(exporter, 'alerts.deliver').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    listener.status = 200;
    await listener.waitFor((msgs) => msgs.length === 1);
    expect(await notifier.flush(Date.now() + 5000)).toBe(true);

    const attempts = spansNamed(exporter, 'alerts.deliver');
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    const failed = attempts[0];
    expect(failed.attributes).toMatchObject({
      'sentinel.notifier': 'pager',
      'sentinel.alerts': 1,
      'sentinel.notification.attempt': 1,
      'sentinel.notification.result': 'failed',
      'http.response.status_code': 503,
    });
    expect(String(failed.attributes['sentinel.notifier.receiver'])).toBe(`${base}/hook`);
    const sent = attempts[attempts.length - 1];
    expect(sent.attributes).toMatchObject({ 'sentinel.notification.result': 'sent', 'sentinel.notification.attempt': attempts.length });
    const everything = JSON.stringify(exporter.getFinishedSpans().map((s) => [s.attributes, s.events, s.status]));
    expect(everything).not.toContain(secret);
  });
});
