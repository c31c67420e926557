import { describe, expect, it } from 'vitest';
import { AlertingRule, RuleEvalError } from '../../src/alerts/index.js';
import type { OutputSample, QueryFn } from '../../src/alerts/index.js';
import type { Labels } from '../../src/store/index.js';

const MIN = 60_000;

/** scripted answers the rule's query from a table: time → samples. */
function scripted(table: Record<number, Array<{ labels: Labels; v: number }>>): QueryFn {
  return (_expr, t) => ({ value: { type: 'vector', samples: (table[t] ?? []).map((s) => ({ ...s, t })) }, warnings: [] });
}

function alertsSeries(out: OutputSample[]): string[] {
  return out.filter((s) => s.labels.__name__ === 'ALERTS').map((s) => `${s.labels.alertstate}`);
}

describe('AlertingRule state machine', () => {
  it('for: 5m at 1m steps fires at the sixth consecutive evaluation and writes ALERTS_FOR_STATE', () => {
    const table: Record<number, Array<{ labels: Labels; v: number }>> = {};
    for (let i = 0; i <= 6; i++) table[i * MIN] = [{ labels: { __name__: 'lag', job: 'a' }, v: 20000 }];
    const rule = new AlertingRule({ name: 'Lag', expr: 'lag > 10000', forMs: 5 * MIN, labels: { severity: 'page' }, annotations: { summary: 'lag {{ $value }} on {{ $labels.job }}' } });
    const states: string[][] = [];
    for (let i = 0; i <= 6; i++) states.push(alertsSeries(rule.eval({ evalTimeMs: i * MIN, query: scripted(table), limit: 0 })));
    expect(states).toEqual([['pending'], ['pending'], ['pending'], ['pending'], ['pending'], ['firing'], ['firing']]);
    const [a] = rule.activeAlerts();
    expect(a.labels).toEqual({ job: 'a', severity: 'page', alertname: 'Lag' });
    expect(a.annotations).toEqual({ summary: 'lag 20000 on a' });
    expect(a.activeAtMs).toBe(0);
    expect(a.firedAtMs).toBe(5 * MIN);
    const out = rule.eval({ evalTimeMs: 6 * MIN, query: scripted(table), limit: 0 });
    expect(out.find((s) => s.labels.__name__ === 'ALERTS_FOR_STATE')?.v).toBe(0);
  });

  it('a pending alert that misses one evaluation is forgotten; a firing one resolves and is kept 15m', () => {
    const rule = new AlertingRule({ name: 'X', expr: 'x', forMs: 2 * MIN });
    const q = scripted({ 0: [{ labels: { a: '1' }, v: 1 }], [2 * MIN]: [{ labels: { a: '1' }, v: 1 }], [3 * MIN]: [{ labels: { a: '1' }, v: 1 }], [4 * MIN]: [{ labels: { a: '1' }, v: 1 }] });
    rule.eval({ evalTimeMs: 0, query: q, limit: 0 });
    expect(rule.activeAlerts()).toHaveLength(1);
    rule.eval({ evalTimeMs: MIN, query: q, limit: 0 });
    expect(rule.activeAlerts()).toHaveLength(0);
    rule.eval({ evalTimeMs: 2 * MIN, query: q, limit: 0 });
    rule.eval({ evalTimeMs: 3 * MIN, query: q, limit: 0 });
    rule.eval({ evalTimeMs: 4 * MIN, query: q, limit: 0 });
    expect(rule.activeAlerts()[0].state).toBe('firing');
    expect(rule.activeAlerts()[0].activeAtMs).toBe(2 * MIN);
    rule.eval({ evalTimeMs: 5 * MIN, query: q, limit: 0 });
    expect(rule.activeAlerts()).toHaveLength(0);
    expect(rule.alerts()).toMatchObject([{ state: 'inactive', resolvedAtMs: 5 * MIN }]);
    rule.eval({ evalTimeMs: 20 * MIN, query: q, limit: 0 });
    expect(rule.alerts()).toHaveLength(1);
    rule.eval({ evalTimeMs: 20 * MIN + 1, query: q, limit: 0 });
    expect(rule.alerts()).toHaveLength(0);
  });

  it('keep_firing_for keeps firing with frozen annotations and resolves after the window', () => {
    const rule = new AlertingRule({ name: 'K', expr: 'x', keepFiringForMs: 3 * MIN, annotations: { v: '{{ $value }}' } });
    const q = scripted({ 0: [{ labels: {}, v: 7 }] });
    const st = (t: number): string[] => alertsSeries(rule.eval({ evalTimeMs: t, query: q, limit: 0 }));
    expect(st(0)).toEqual(['firing']);
    expect(st(MIN)).toEqual(['firing']);
    expect(st(2 * MIN)).toEqual(['firing']);
    expect(st(3 * MIN)).toEqual(['firing']);
    expect(rule.activeAlerts()[0].annotations.v).toBe('7');
    expect(st(4 * MIN)).toEqual([]);
    expect(rule.alerts()[0].resolvedAtMs).toBe(4 * MIN);
  });

  it('labels that collide after templating fail the evaluation without changing state', () => {
    const rule = new AlertingRule({ name: 'D', expr: 'x', labels: { instance: 'same' } });
    const q = scripted({ 0: [{ labels: { instance: 'a' }, v: 1 }, { labels: { instance: 'b' }, v: 1 }] });
    expect(() => rule.eval({ evalTimeMs: 0, query: q, limit: 0 })).toThrow(RuleEvalError);
    expect(rule.activeAlerts()).toHaveLength(0);
  });

  it('limit discards every alert and fails', () => {
    const rule = new AlertingRule({ name: 'L', expr: 'x' });
    const q = scripted({ 0: [{ labels: { i: 'a' }, v: 1 }, { labels: { i: 'b' }, v: 1 }] });
    expect(() => rule.eval({ evalTimeMs: 0, query: q, limit: 1 })).toThrow(/exceeded limit of 1 with 2 alerts/);
    expect(rule.alerts()).toHaveLength(0);
  });

  it('a label template that depends on $value changes identity, and template errors become text', () => {
    const rule = new AlertingRule({ name: 'T', expr: 'x', labels: { sev: '{{ if gt $value 5.0 }}page{{ else }}ticket{{ end }}' }, annotations: { bad: '{{ humanize "x" }}' } });
    const q = scripted({ 0: [{ labels: {}, v: 1 }], [MIN]: [{ labels: {}, v: 9 }] });
    rule.eval({ evalTimeMs: 0, query: q, limit: 0 });
    expect(rule.activeAlerts()[0].labels.sev).toBe('ticket');
    expect(rule.activeAlerts()[0].annotations.bad).toMatch(/^<error expanding template: error executing template __alert_T: .*error calling humanize: strconv.ParseFloat: parsing "x": invalid syntax>$/);
    rule.eval({ evalTimeMs: MIN, query: q, limit: 0 });
    expect(rule.activeAlerts().map((a) => a.labels.sev)).toEqual(['page']);
    expect(rule.alerts().map((a) => a.state).sort()).toEqual(['firing', 'inactive']);
  });

  it('copyStateFrom and restoreActiveAt carry alerts across a reload', () => {
    const q = scripted({ 0: [{ labels: { a: '1' }, v: 1 }], [MIN]: [{ labels: { a: '1' }, v: 1 }] });
    const old = new AlertingRule({ name: 'R', expr: 'x', forMs: 10 * MIN });
    old.eval({ evalTimeMs: 0, query: q, limit: 0 });
    const fresh = new AlertingRule({ name: 'R', expr: 'x', forMs: 10 * MIN });
    fresh.copyStateFrom(old);
    expect(fresh.restoreActiveAt({ a: '1', alertname: 'R' }, -20 * MIN)).toBe(true);
    fresh.eval({ evalTimeMs: MIN, query: q, limit: 0 });
    expect(fresh.activeAlerts()[0]).toMatchObject({ state: 'firing', activeAtMs: -20 * MIN, firedAtMs: MIN });
  });
});
