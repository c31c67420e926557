import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generatorUrl, goQueryEscape } from '../../src/alerts/manager.js';
import type { RuleManagerOptions , RuleManager } from '../../src/alerts/manager.js';
import { AlertmanagerNotifier } from '../../src/alerts/notifiers/alertmanager-notifier.js';
import type { Notifier } from '../../src/alerts/notifier.js';
import { createEngine, exprToString, parseExpr } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock, SystemClock } from '../../src/time/index.js';
import { RealAlertmanager, WebhookListener } from './notifiers/alertmanager-harness.js';
import { storeRuleManager } from '../helpers/store-rule-manager.js';

const RULES = `groups:
  - name: lag
    rules:
      - alert: ReplayLagHigh
        expr: replay_lag > 10000
        for: 3m
        labels:
          severity: critical
        annotations:
          summary: 'Replay lag {{ $value }} on {{ $labels.stream }}'
`;

interface Harness {
  dir: string;
  rulesFile: string;
  stateFile: string;
  clock: ManualClock;
  store: MemoryStore;
  manager(notifiers: Notifier[], extra?: Partial<RuleManagerOptions>): RuleManager;
  /** registry is the metrics registry of the last manager built. */
  registry: Registry;
  /** step appends one lag sample at the current time and advances one minute. */
  step(lag: number | undefined): Promise<void>;
}

const engine = createEngine();
const cleanups: Array<() => Promise<void> | void> = [];

function harness(startMs: number, rules = RULES): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-manager-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, rules);
  const clock = new ManualClock(startMs);
  const store = new MemoryStore();
  const h: Harness = {
    registry: new Registry(),
    dir,
    rulesFile,
    stateFile: join(dir, 'state', 'alerts.json'),
    clock,
    store,
    manager(notifiers, extra = {}) {
      h.registry = new Registry();
      const m = storeRuleManager({
        rulesFile,
        store,
        formatExpr: (expr) => exprToString(parseExpr(expr)),
        clock,
        // A long resend delay keeps the firing lease (4 × 1h) in Alertmanager's future even
        // though rule time runs 20 minutes behind the wall clock.
        resendDelayMs: 3600_000,
        externalUrl: 'http://sentinel.test:9464',
        externalLabels: { cluster: 'staging' },
        notifiers,
        stateFile: join(dir, 'state', 'alerts.json'),
        registry: h.registry,
        ...extra,
      });
      cleanups.push(() => m.stop(Date.now() + 2000));
      return m;
    },
    async step(lag) {
      if (lag !== undefined) {
        const app = store.appender();
        app.append({ __name__: 'replay_lag', stream: 'runtime.run.1.events' }, clock.nowMs(), lag);
        app.commit();
      }
      await clock.advance(60_000);
    },
  };
  return h;
}

function alertsState(m: RuleManager): string[] {
  return m.activeAlerts().map((a) => a.state);
}

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('generatorUrl', () => {
  it("escapes the expression like Go's url.QueryEscape, as in Alertmanager's captured payload", () => {
    expect(generatorUrl('http://127.0.0.1:9090/', 'openagents_spacetime_delivery_max_replay_lag > 10000')).toBe(
      'http://127.0.0.1:9090/graph?g0.expr=openagents_spacetime_delivery_max_replay_lag+%3E+10000&g0.tab=1',
    );
    expect(goQueryEscape("a{b=\"c\"}[5m]*(1)!'~")).toBe('a%7Bb%3D%22c%22%7D%5B5m%5D%2A%281%29%21%27~');
  });
});

describe('RuleManager with the real Alertmanager', () => {
  const listener = new WebhookListener();
  const amPosts = new WebhookListener();
  let am: RealAlertmanager;
  let amPostsUrl: string;

  beforeAll(async () => {
    const base = await listener.start();
    amPostsUrl = await amPosts.start();
    am = new RealAlertmanager(base);
    await am.start();
  });
  afterAll(async () => {
    await am.destroy();
    await listener.close();
    await amPosts.close();
  });

  function notifiers(): { real: AlertmanagerNotifier; counting: AlertmanagerNotifier } {
    const clock = new SystemClock();
    return {
      real: new AlertmanagerNotifier({ name: 'am', urls: [am.url], clock, registry: new Registry(), initialBackoffMs: 50, maxBackoffMs: 200 }),
      // A second "Alertmanager" that only records the posts, to count what the manager sent.
      counting: new AlertmanagerNotifier({ name: 'count', urls: [`${amPostsUrl}/count`], clock, registry: new Registry(), initialBackoffMs: 50, maxBackoffMs: 200 }),
    };
  }

  function postedAlerts(): Array<{ labels: Record<string, string>; startsAt: string; endsAt: string }> {
    return amPosts.received.flatMap((m) => m.body as unknown as Array<{ labels: Record<string, string>; startsAt: string; endsAt: string }>);
  }

  it('takes an alert through pending and firing to Alertmanager, then delivers its resolution', async () => {
    const h = harness(Math.floor((Date.now() - 20 * 60_000) / 60_000) * 60_000);
    amPosts.received.length = 0;
    const { real, counting } = notifiers();
    const m = h.manager([real, counting]);
    await m.start();
    expect(m.isReady()).toBe(true);
    await h.step(100);
    await h.step(100);
    await h.step(15000);
    await h.step(15000);
    expect(alertsState(m)).toEqual(['pending']);
    await h.step(15000);
    await h.step(15000);
    await h.step(15000);
    expect(alertsState(m)).toEqual(['firing']);
    const gauge = (await h.registry.getMetricsAsJSON()).find((x) => x.name === 'sentinel_alerts');
    expect(gauge?.values.find((v) => v.labels.state === 'firing')?.value).toBe(1);
    expect(gauge?.values.find((v) => v.labels.state === 'pending')?.value).toBe(0);
    const [firing] = m.activeAlerts();
    await real.flush(Date.now() + 5000);
    await listener.waitFor((msgs) => msgs.some((x) => x.body.alerts.some((a) => a.labels.alertname === 'ReplayLagHigh' && a.status === 'firing')));
    const got = listener.received.flatMap((x) => x.body.alerts).find((a) => a.labels.alertname === 'ReplayLagHigh')!;
    expect(got.labels).toEqual({ alertname: 'ReplayLagHigh', cluster: 'staging', severity: 'critical', stream: 'runtime.run.1.events' });
    expect(got.annotations).toEqual({ summary: 'Replay lag 15000 on runtime.run.1.events' });
    expect(got.generatorURL).toBe('http://sentinel.test:9464/graph?g0.expr=replay_lag+%3E+10000&g0.tab=1');
    // startsAt is FiredAt: three minutes (the `for`) after the alert went pending.
    expect(Date.parse(got.startsAt) - firing.activeAtMs).toBe(3 * 60_000);

    // ALERTS / ALERTS_FOR_STATE are in the store.
    const alertsSeries = h.store.select([{ name: '__name__', type: '=', value: 'ALERTS' }], 0, h.clock.nowMs());
    expect(alertsSeries.map((s) => s.labels.alertstate).sort()).toEqual(['firing', 'pending']);

    await h.step(100);
    await h.step(100);
    expect(alertsState(m)).toEqual([]);
    await real.flush(Date.now() + 5000);
    await listener.waitFor((msgs) => msgs.some((x) => x.body.status === 'resolved' && x.body.alerts.some((a) => a.labels.alertname === 'ReplayLagHigh')));
    await counting.flush(Date.now() + 5000);
    const posted = postedAlerts();
    expect(posted).toHaveLength(2);
    expect(Date.parse(posted[1].endsAt)).toBeLessThan(Date.now());
  });

  it('resumes a pending for-clock after a restart: fires on time, not late, and not twice', async () => {
    const h = harness(Math.floor((Date.now() - 20 * 60_000) / 60_000) * 60_000);
    amPosts.received.length = 0;
    let ns = notifiers();
    let m = h.manager([ns.real, ns.counting]);
    await m.start();
    await h.step(100);
    await h.step(15000);
    await h.step(15000);
    expect(alertsState(m)).toEqual(['pending']);
    const activeAt = m.activeAlerts()[0].activeAtMs;
    await m.stop(Date.now() + 2000);

    // The daemon is down for one evaluation; samples keep arriving (the store outlives it here).
    await h.step(15000);
    ns = notifiers();
    m = h.manager([ns.real, ns.counting]);
    await m.start();
    expect(m.activeAlerts().map((a) => [a.state, a.activeAtMs])).toEqual([['pending', activeAt]]);
    let firedAtEval: number | undefined;
    for (let i = 0; i < 4 && firedAtEval === undefined; i++) {
      await h.step(15000);
      const fired = m.activeAlerts().find((a) => a.state === 'firing');
      if (fired) firedAtEval = m.ruleGroups()[0].rules[0].lastEvaluationMs;
    }
    expect(firedAtEval! - activeAt).toBe(3 * 60_000);

    // Restart while firing: no second notification.
    await ns.counting.flush(Date.now() + 5000);
    await m.stop(Date.now() + 2000);
    ns = notifiers();
    m = h.manager([ns.real, ns.counting]);
    await m.start();
    await h.step(15000);
    await h.step(15000);
    expect(alertsState(m)).toEqual(['firing']);
    await ns.counting.flush(Date.now() + 5000);
    expect(postedAlerts().filter((a) => a.labels.alertname === 'ReplayLagHigh')).toHaveLength(1);
  });
});

describe('RuleManager through an Alertmanager outage', () => {
  it('delivers every alert that fired while Alertmanager was down once it is back', async () => {
    const listener = new WebhookListener();
    const am = new RealAlertmanager(await listener.start());
    cleanups.push(async () => {
      await am.destroy();
      await listener.close();
    });
    await am.start();
    const rules = RULES.replace('for: 3m', 'for: 1m');
    const h = harness(Math.floor((Date.now() - 20 * 60_000) / 60_000) * 60_000, rules);
    const notifier = new AlertmanagerNotifier({ name: 'am', urls: [am.url], clock: new SystemClock(), registry: new Registry(), initialBackoffMs: 50, maxBackoffMs: 200 });
    const m = h.manager([notifier]);
    await m.start();
    await am.stop();
    for (let i = 0; i < 4; i++) {
      const app = h.store.appender();
      for (const stream of ['s1', 's2', 's3']) app.append({ __name__: 'replay_lag', stream }, h.clock.nowMs(), 20_000);
      app.commit();
      await h.clock.advance(60_000);
    }
    expect(m.activeAlerts().filter((a) => a.state === 'firing')).toHaveLength(3);
    expect(await notifier.flush(Date.now() + 500)).toBe(false);
    expect(notifier.queueLength()).toBe(3);
    await am.start();
    expect(await notifier.flush(Date.now() + 10_000)).toBe(true);
    await listener.waitFor((msgs) => new Set(msgs.flatMap((x) => x.body.alerts).map((a) => a.labels.stream)).size === 3);
  });
});

describe('RuleManager restore after a long outage', () => {
  it('does not resume a pending for-clock saved longer ago than the outage tolerance', async () => {
    const h = harness(1_800_000_000_000);
    let m = h.manager([]);
    await m.start();
    await h.step(15000);
    await h.step(15000);
    const saved = m.activeAlerts()[0];
    expect(saved.state).toBe('pending');
    await m.stop(Date.now() + 1000);
    await h.clock.advance(2 * 3600_000);
    m = h.manager([], { outageToleranceMs: 3600_000 });
    await m.start();
    expect(m.activeAlerts()).toEqual([]);
    await h.step(15000);
    await h.step(15000);
    expect(m.activeAlerts().map((a) => a.state)).toEqual(['pending']);
    expect(m.activeAlerts()[0].activeAtMs).toBeGreaterThan(saved.activeAtMs + 3600_000);
  });
});

describe('RuleManager reload and drills', () => {
  it('keeps the old rules when the new file is invalid, and moves alert state on a valid reload', async () => {
    const h = harness(1_800_000_000_000);
    const m = h.manager([]);
    await m.start();
    await h.step(15000);
    await h.step(15000);
    const before = m.activeAlerts();
    expect(before.map((a) => a.state)).toEqual(['pending']);

    writeFileSync(h.rulesFile, 'groups:\n  - name: lag\n    rules:\n      - alert: Broken\n        expr: replay_lag >\n');
    const bad = await m.reload();
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.issues.join('\n')).toContain('rules.yaml');
    expect(m.ruleGroups()[0].rules.map((r) => r.name)).toEqual(['ReplayLagHigh']);

    writeFileSync(h.rulesFile, RULES.replace("summary: 'Replay lag", "summary: 'Lag now"));
    const good = await m.reload();
    expect(good).toMatchObject({ ok: true, groups: 1, rules: 1 });
    expect(m.activeAlerts().map((a) => a.activeAtMs)).toEqual([before[0].activeAtMs]);
    await h.step(15000);
    await h.step(15000);
    const after = m.activeAlerts();
    expect(after[0].state).toBe('firing');
    expect(after[0].annotations.summary).toBe('Lag now 15000 on runtime.run.1.events');
  });

  it('labels alerts raised during a drill stage with drill and stage, and only those', async () => {
    const rules = RULES + `      - alert: Organic\n        expr: replay_lag > 0\n`;
    const h = harness(1_800_000_000_000, rules);
    const sent: Array<Record<string, string>> = [];
    const recorder: Notifier = {
      name: 'recorder',
      async send(alerts) {
        for (const a of alerts) sent.push({ ...a.labels });
        return { accepted: alerts.length, skipped: 0, dropped: 0 };
      },
      async start() {},
      async stop() {},
      async flush() {
        return true;
      },
      queueLength: () => 0,
    };
    const m = h.manager([recorder], { resendDelayMs: 60_000 });
    await m.start();
    await h.step(100);
    await h.step(100);
    m.setDrillLabels({ drill: 'temporary-partition', stage: 'partition' });
    await h.step(15000);
    m.clearDrillLabels();
    for (let i = 0; i < 4; i++) await h.step(15000);
    const lag = sent.filter((l) => l.alertname === 'ReplayLagHigh');
    expect(lag.length).toBeGreaterThan(0);
    for (const l of lag) expect([l.drill, l.stage]).toEqual(['temporary-partition', 'partition']);
    const organic = sent.filter((l) => l.alertname === 'Organic');
    expect(organic.length).toBeGreaterThan(0);
    for (const l of organic) expect(l.drill).toBeUndefined();
  });
});

describe('RuleManager with an external query source (sourceQuery)', () => {
  it('evaluates the rules on the source, not on its store; a source that fails turns the rule to err and keeps its alert', async () => {
    const h = harness(1_800_000_000_000);
    // The source holds the data (a Prometheus that scraped the sentinel); the manager's own store none.
    const elsewhere = new MemoryStore();
    let isDown = false;
    const m = h.manager([], {
      sourceQuery: (expr, t, signal) => (isDown ? Promise.reject(new Error('query source http://prom.test/api/v1/query: cannot reach it (ECONNREFUSED)')) : Promise.resolve(engine.instantQuery(elsewhere, expr, t, signal))),
    });
    await m.start();
    const lag = (v: number): void => {
      const app = elsewhere.appender();
      app.append({ __name__: 'replay_lag', stream: 'runtime.run.1.events' }, h.clock.nowMs(), v);
      app.commit();
    };
    lag(15000);
    await h.step(undefined);
    lag(15000);
    await h.step(undefined);
    expect(alertsState(m)).toEqual(['pending']);
    expect(m.activeAlerts()[0].annotations.summary).toBe('Replay lag 15000 on runtime.run.1.events');
    isDown = true;
    await h.step(undefined);
    await h.step(undefined);
    const [rule] = m.ruleGroups()[0].rules;
    expect([rule.health, rule.lastError]).toEqual(['err', 'query source http://prom.test/api/v1/query: cannot reach it (ECONNREFUSED)']);
    // Neither resolved nor fired on no answer.
    expect(alertsState(m)).toEqual(['pending']);
    isDown = false;
    lag(15000);
    await h.step(undefined);
    expect(m.ruleGroups()[0].rules[0].health).toBe('ok');
    expect(alertsState(m)).toEqual(['firing']);
  });
});
