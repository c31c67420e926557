import { describe, expect, it } from 'vitest';
import { AlertingRule, RecordingRule, RuleGroup, parseRuleFile, checkPromqlExpr } from '../../src/alerts/index.js';
import type { QueryFn, Rule } from '../../src/alerts/index.js';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import type { Labels } from '../../src/store/index.js';

const MIN = 60_000;

function setup(rules: Rule[]): { store: MemoryStore; group: RuleGroup; query: QueryFn; load: (labels: Labels, values: Array<number | null>) => void } {
  const store = new MemoryStore({ retentionMs: 1e12 });
  const engine = createEngine();
  const query: QueryFn = (expr, t) => engine.instantQuery(store, expr, t);
  const group = new RuleGroup({ name: 'g', file: 'f.yaml', intervalMs: MIN, rules, query, appendable: store });
  const load = (labels: Labels, values: Array<number | null>): void => {
    const app = store.appender();
    values.forEach((v, i) => {
      if (v !== null) app.append(labels, i * MIN, v);
    });
    app.commit();
  };
  return { store, group, query, load };
}

function raw(store: MemoryStore, name: string): Array<{ labels: Labels; samples: Array<{ t: number; v: number; stale?: true }> }> {
  return store.select([{ name: '__name__', type: '=', value: name }], 0, 1e9).map((s) => ({ labels: s.labels, samples: s.samples.map((p) => ({ ...p })) }));
}

describe('RuleGroup', () => {
  it('evaluates in order at one timestamp, so a later rule reads what an earlier one just wrote', () => {
    const { store, group, load } = setup([
      new RecordingRule({ name: 'job:x:sum', expr: 'sum by (job) (x)' }),
      new RecordingRule({ name: 'job:x:double', expr: 'job:x:sum * 2', labels: { source: 'rule' } }),
    ]);
    load({ __name__: 'x', job: 'a', i: '1' }, [1, 2]);
    load({ __name__: 'x', job: 'a', i: '2' }, [3, 4]);
    group.eval(0);
    group.eval(MIN);
    expect(raw(store, 'job:x:double')).toEqual([{ labels: { __name__: 'job:x:double', job: 'a', source: 'rule' }, samples: [{ t: 0, v: 8 }, { t: MIN, v: 12 }] }]);
  });

  it('writes a stale marker for output series that vanished, including ALERTS when an alert resolves', () => {
    const { store, group, load } = setup([new RecordingRule({ name: 'copy', expr: 'x > 0' }), new AlertingRule({ name: 'Pos', expr: 'x > 0' })]);
    load({ __name__: 'x', k: 'a' }, [1, 1, 0]);
    for (let i = 0; i < 3; i++) group.eval(i * MIN);
    expect(raw(store, 'copy')[0].samples).toEqual([{ t: 0, v: 1 }, { t: MIN, v: 1 }, { t: 2 * MIN, v: NaN, stale: true }]);
    expect(raw(store, 'ALERTS')[0]).toEqual({
      labels: { __name__: 'ALERTS', alertname: 'Pos', alertstate: 'firing', k: 'a' },
      samples: [{ t: 0, v: 1 }, { t: MIN, v: 1 }, { t: 2 * MIN, v: NaN, stale: true }],
    });
    expect(raw(store, 'ALERTS_FOR_STATE')[0].samples.map((s) => s.v)).toEqual([0, 0, NaN]);
  });

  it('the pending ALERTS series goes stale in the evaluation the alert turns firing; unrestored rules write none', () => {
    const quiet = new AlertingRule({ name: 'Quiet', expr: 'x > 0', restored: false });
    const { store, group, load } = setup([new AlertingRule({ name: 'F', expr: 'x > 0', forMs: MIN }), quiet]);
    load({ __name__: 'x', k: 'a' }, [1, 1]);
    group.eval(0);
    group.eval(MIN);
    const series = raw(store, 'ALERTS');
    expect(series.map((s) => [s.labels.alertstate, s.samples])).toEqual([
      ['firing', [{ t: MIN, v: 1 }]],
      ['pending', [{ t: 0, v: 1 }, { t: MIN, v: NaN, stale: true }]],
    ]);
    expect(quiet.activeAlerts()).toHaveLength(1);
    quiet.setRestored(true);
    group.eval(2 * MIN);
    expect(raw(store, 'ALERTS').filter((s) => s.labels.alertname === 'Quiet')).toHaveLength(1);
  });

  it('a failing rule records health and lastError and the group carries on', () => {
    const bad = new RecordingRule({ name: 'dup', expr: 'x', labels: { k: 'same' } });
    const good = new RecordingRule({ name: 'ok', expr: 'sum(x)' });
    const { store, group, load } = setup([bad, good]);
    load({ __name__: 'x', k: 'a' }, [1]);
    load({ __name__: 'x', k: 'b' }, [2]);
    const res = group.eval(0);
    expect(res.failures.map((f) => f.rule.name)).toEqual(['dup']);
    expect(bad.health).toBe('err');
    expect(bad.lastError?.message).toBe('vector contains metrics with the same labelset after applying rule labels');
    expect(good.health).toBe('ok');
    expect(group.health()).toBe('err');
    expect(raw(store, 'ok')[0].samples).toEqual([{ t: 0, v: 3 }]);
  });

  it('copyStateFrom keeps alerts of matching rules and marks series of removed rules stale', () => {
    const first = setup([new AlertingRule({ name: 'A', expr: 'x > 0', forMs: 10 * MIN }), new RecordingRule({ name: 'gone', expr: 'x' })]);
    first.load({ __name__: 'x', k: 'a' }, [1, 1, 1]);
    first.group.eval(0);
    const alerting = new AlertingRule({ name: 'A', expr: 'x > 0', forMs: 10 * MIN });
    const next = new RuleGroup({ name: 'g', file: 'f.yaml', intervalMs: MIN, rules: [alerting], query: first.query, appendable: first.store });
    next.copyStateFrom(first.group);
    next.eval(MIN);
    expect(alerting.activeAlerts()[0]).toMatchObject({ state: 'pending', activeAtMs: 0 });
    expect(raw(first.store, 'gone')[0].samples).toEqual([{ t: 0, v: 1 }, { t: MIN, v: NaN, stale: true }]);
  });

  it('builds from a rule-file definition with the group interval or the default', () => {
    const { file, errors } = parseRuleFile('groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up == 0\n        for: 1m\n', 'r.yaml', { checkExpr: checkPromqlExpr });
    expect(errors).toEqual([]);
    const store = new MemoryStore();
    const g = RuleGroup.fromDefinition(file.groups[0], { query: () => ({ value: { type: 'vector', samples: [] }, warnings: [] }), appendable: store, defaultIntervalMs: 15_000 });
    expect([g.name, g.file, g.intervalMs, g.alertingRules().map((r) => [r.name, r.forMs])]).toEqual(['a', 'r.yaml', 15_000, [['X', MIN]]]);
  });
});
