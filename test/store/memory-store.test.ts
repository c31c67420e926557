import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { labelsKey, MemoryStore, metricName } from '../../src/store/index.js';
import type { Logger } from 'pino';
import type { Labels } from '../../src/store/index.js';

function seed(store: MemoryStore, labels: Labels, points: Array<[number, number]>): void {
  const app = store.appender();
  for (const [t, v] of points) app.append(labels, t, v);
  app.commit();
}

describe('labelsKey', () => {
  it('ignores label order and empty values', () => {
    expect(labelsKey({ b: '2', a: '1' })).toBe(labelsKey({ a: '1', b: '2', c: '' }));
    expect(labelsKey({ a: '1' })).not.toBe(labelsKey({ a: '1', b: '2' }));
    expect(labelsKey({ a: 'x y' })).not.toBe(labelsKey({ a: 'x', y: '' }));
  });
  it('sorts like Prometheus: a prefix label set first, then by name and value', () => {
    const sets: Labels[] = [{ __name__: 'm', job: 'b' }, { __name__: 'm' }, { __name__: 'm', ab: 'z' }, { __name__: 'm', job: 'a' }];
    const sorted = [...sets].sort((x, y) => (labelsKey(x) < labelsKey(y) ? -1 : 1));
    expect(sorted).toEqual([{ __name__: 'm' }, { __name__: 'm', ab: 'z' }, { __name__: 'm', job: 'a' }, { __name__: 'm', job: 'b' }]);
  });
  it('metricName reads __name__', () => {
    expect(metricName({ __name__: 'up', job: 'x' })).toBe('up');
    expect(metricName({ job: 'x' })).toBe('');
  });
});

describe('MemoryStore', () => {
  it('returns samples in the closed interval, ascending, series sorted by label key', () => {
    const store = new MemoryStore();
    seed(store, { __name__: 'up', job: 'z' }, [[1000, 1], [2000, 0], [3000, 1]]);
    seed(store, { __name__: 'up', job: 'a' }, [[1000, 5], [4000, 6]]);
    const out = store.select([{ name: '__name__', type: '=', value: 'up' }], 1000, 3000);
    expect(out.map((s) => s.labels['job'])).toEqual(['a', 'z']);
    expect(out[0].samples).toEqual([{ t: 1000, v: 5 }]);
    expect(out[1].samples).toEqual([{ t: 1000, v: 1 }, { t: 2000, v: 0 }, { t: 3000, v: 1 }]);
    expect(store.select([{ name: '__name__', type: '=', value: 'up' }], 3500, 3900)).toEqual([]);
  });

  it('implements =, !=, =~, !~ with anchored regexes and absent labels reading as empty', () => {
    const store = new MemoryStore();
    seed(store, { __name__: 'm', env: 'prod' }, [[1, 1]]);
    seed(store, { __name__: 'm', env: 'production' }, [[1, 2]]);
    seed(store, { __name__: 'm' }, [[1, 3]]);
    const values = (ms: Parameters<MemoryStore['select']>[0]): number[] => store.select(ms, 0, 10).map((s) => s.samples[0].v);
    const name = { name: '__name__', type: '=', value: 'm' } as const;
    expect(values([name, { name: 'env', type: '=~', value: 'prod' }])).toEqual([1]);
    expect(values([name, { name: 'env', type: '=~', value: 'prod.*' }])).toEqual([1, 2]);
    expect(values([name, { name: 'env', type: '!~', value: 'prod' }])).toEqual([3, 2]);
    expect(values([name, { name: 'env', type: '=', value: '' }])).toEqual([3]);
    expect(values([name, { name: 'env', type: '!=', value: '' }])).toEqual([1, 2]);
    expect(values([name, { name: 'env', type: '=~', value: '|prod' }])).toEqual([3, 1]);
    expect(values([{ name: '__name__', type: '=~', value: 'm|n' }, { name: 'env', type: '=', value: 'staging' }])).toEqual([]);
  });

  it('refuses out-of-order and conflicting same-timestamp samples, never reordering; counts them', async () => {
    const registry = new Registry();
    const store = new MemoryStore({ registry });
    const l = { __name__: 'x' };
    seed(store, l, [[1000, 1], [2000, 2]]);
    const app = store.appender();
    app.append(l, 1500, 9);
    app.append(l, 2000, 2); // identical repeat: ignored, not refused
    app.append(l, 2000, 3); // same time, other value: refused
    app.append(l, 3000, 4);
    expect(app.commit()).toEqual({ appended: 1, outOfOrder: 2, refusedSeriesLimit: 0 });
    expect(store.select([{ name: '__name__', type: '=', value: 'x' }], 0, 1e9)[0].samples.map((s) => s.v)).toEqual([1, 2, 4]);
    const text = await registry.metrics();
    expect(text).toContain('sentinel_store_samples_refused_total{reason="out_of_order"} 1');
    expect(text).toContain('sentinel_store_samples_refused_total{reason="duplicate_timestamp"} 1');
    expect(text).toContain('sentinel_store_samples_appended_total 3');
  });

  it('stores and returns stale markers explicitly, distinct from ordinary NaN', () => {
    const store = new MemoryStore();
    const l = { __name__: 'x' };
    const app = store.appender();
    app.append(l, 1000, NaN);
    app.appendStale(l, 2000);
    app.commit();
    const [s] = store.select([{ name: '__name__', type: '=', value: 'x' }], 0, 5000);
    expect(s.samples[0].stale).toBeUndefined();
    expect(Number.isNaN(s.samples[0].v)).toBe(true);
    expect(s.samples[1]).toEqual({ t: 2000, v: NaN, stale: true });
  });

  it('refuses new series past maxSeries, keeps appending to existing ones, logs instead of crashing', async () => {
    const registry = new Registry();
    const warnings: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
    const store = new MemoryStore({ maxSeries: 2, registry, logger });
    const app = store.appender();
    app.append({ __name__: 'a' }, 1, 1);
    app.append({ __name__: 'b' }, 1, 1);
    app.append({ __name__: 'c' }, 1, 1);
    app.append({ __name__: 'd' }, 2, 1);
    app.append({ __name__: 'a' }, 2, 2);
    expect(app.commit()).toEqual({ appended: 3, outOfOrder: 0, refusedSeriesLimit: 2 });
    expect(store.labelValues('__name__')).toEqual(['a', 'b']);
    expect(warnings).toHaveLength(1);
    expect(await registry.metrics()).toContain('sentinel_store_samples_refused_total{reason="series_limit"} 2');
    expect(await registry.metrics()).toContain('sentinel_store_series 2');
  });

  it('applyRetention drops old samples and forgets empty series', () => {
    const store = new MemoryStore({ retentionMs: 10_000 });
    seed(store, { __name__: 'old' }, [[1000, 1]]);
    seed(store, { __name__: 'mixed' }, [[1000, 1], [9000, 2], [15_000, 3]]);
    store.applyRetention(20_000); // cutoff 10_000
    expect(store.labelValues('__name__')).toEqual(['mixed']);
    expect(store.select([{ name: '__name__', type: '=~', value: '.+' }], 0, 1e9)[0].samples).toEqual([{ t: 15_000, v: 3 }]);
    // Appending after retention still respects the series' newest sample.
    const app = store.appender();
    app.append({ __name__: 'mixed' }, 14_000, 1);
    expect(app.commit().outOfOrder).toBe(1);
  });

  it('answers label names, values and series listings with matchers', () => {
    const store = new MemoryStore();
    seed(store, { __name__: 'up', job: 'a', zone: 'z1' }, [[1000, 1]]);
    seed(store, { __name__: 'up', job: 'b' }, [[5000, 1]]);
    seed(store, { __name__: 'down', team: 't' }, [[1000, 1]]);
    expect(store.labelNames()).toEqual(['__name__', 'job', 'team', 'zone']);
    expect(store.labelNames([{ name: '__name__', type: '=', value: 'up' }])).toEqual(['__name__', 'job', 'zone']);
    expect(store.labelValues('job', [{ name: 'zone', type: '=', value: 'z1' }])).toEqual(['a']);
    expect(store.series([{ name: '__name__', type: '=', value: 'up' }], 0, 2000)).toEqual([{ __name__: 'up', job: 'a', zone: 'z1' }]);
  });

  it('keeps many samples per series across retention and regrowth, answering ranges by binary search', () => {
    const store = new MemoryStore({ retentionMs: 26 * 3600_000 });
    const l = { __name__: 'big' };
    const sel = [{ name: '__name__', type: '=', value: 'big' }] as const;
    let app = store.appender();
    for (let i = 0; i < 10_000; i++) app.append(l, i * 15_000, i);
    app.commit();
    expect(store.select(sel, 100 * 15_000, 102 * 15_000)[0].samples.map((x) => x.v)).toEqual([100, 101, 102]);
    store.applyRetention(9999 * 15_000); // keeps the last 26 h = 6240 intervals
    expect(store.select(sel, 0, 1e12)[0].samples[0]).toEqual({ t: 3759 * 15_000, v: 3759 });
    app = store.appender();
    for (let i = 10_000; i < 20_000; i++) app.append(l, i * 15_000, i);
    app.commit();
    const all = store.select(sel, 0, 1e12)[0].samples;
    expect(all).toHaveLength(20_000 - 3759);
    expect(all.every((x, i) => i === 0 || x.t > all[i - 1].t)).toBe(true);
    expect(store.select(sel, 15_000 * 15_000 - 1, 15_000 * 15_000 + 1)[0].samples).toEqual([{ t: 15_000 * 15_000, v: 15_000 }]);
  });
});
