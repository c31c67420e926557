import { describe, expect, it } from 'vitest';
import { PromqlParseError, QueryCanceledError, QueryError, QueryTimeoutError, TooManySamplesError } from '../../src/errors.js';
import { createEngine, parseExpr } from '../../src/promql/index.js';
import type { LabelMatcher, Queryable, SeriesColumns } from '../../src/promql/index.js';
import { ArrayQueryable } from './promqltest.js';

function counterStore(series = 3, points = 61, stepMs = 60_000): ArrayQueryable {
  const q = new ArrayQueryable();
  for (let s = 0; s < series; s++) {
    q.add(
      { __name__: 'req_total', instance: `i${s}` },
      Array.from({ length: points }, (_, i) => ({ t: i * stepMs, v: i * (s + 1) })),
    );
  }
  return q;
}

describe('engine', () => {
  it('answers an instant query with samples stamped at the evaluation time', () => {
    const res = createEngine().instantQuery(counterStore(), 'req_total{instance="i1"}', 90_000);
    expect(res.value).toEqual({ type: 'vector', samples: [{ labels: { __name__: 'req_total', instance: 'i1' }, t: 90_000, v: 2 }] });
    expect(res.warnings).toEqual([]);
  });

  it('accepts a pre-parsed expression', () => {
    const res = createEngine().instantQuery(counterStore(), parseExpr('sum(req_total)'), 60_000);
    expect(res.value).toEqual({ type: 'vector', samples: [{ labels: {}, t: 60_000, v: 6 }] });
  });

  it('answers a range query as a matrix sorted by labels, one point per step', () => {
    const res = createEngine().rangeQuery(counterStore(), 'rate(req_total[2m]) * 60', 120_000, 240_000, 60_000);
    expect(res.value.type).toBe('matrix');
    if (res.value.type !== 'matrix') return;
    expect(res.value.series.map((s) => s.labels.instance)).toEqual(['i0', 'i1', 'i2']);
    expect(res.value.series[1].points).toEqual([
      { t: 120_000, v: 2 },
      { t: 180_000, v: 2 },
      { t: 240_000, v: 2 },
    ]);
  });

  it('turns a scalar range query into one series without labels', () => {
    const res = createEngine().rangeQuery(counterStore(), 'time()', 0, 120_000, 60_000);
    expect(res.value).toEqual({ type: 'matrix', series: [{ labels: {}, points: [{ t: 0, v: 0 }, { t: 60_000, v: 60 }, { t: 120_000, v: 120 }] }] });
  });

  it('gives an instant query of a range selector as a matrix, and strings as strings', () => {
    const e = createEngine();
    const m = e.instantQuery(counterStore(1), 'req_total[1m]', 120_000).value;
    expect(m).toEqual({ type: 'matrix', series: [{ labels: { __name__: 'req_total', instance: 'i0' }, points: [{ t: 60_000, v: 1 }, { t: 120_000, v: 2 }] }] });
    expect(e.instantQuery(counterStore(1), '"hello"', 5000).value).toEqual({ type: 'string', t: 5000, v: 'hello' });
    expect(e.instantQuery(counterStore(1), '1 + 1', 5000).value).toEqual({ type: 'scalar', t: 5000, v: 2 });
  });

  it('refuses range queries of range vectors and bad steps', () => {
    const e = createEngine();
    expect(() => e.rangeQuery(counterStore(), 'req_total[5m]', 0, 60_000, 60_000)).toThrow(QueryError);
    expect(() => e.rangeQuery(counterStore(), 'req_total', 60_000, 0, 60_000)).toThrow(QueryError);
    expect(() => e.rangeQuery(counterStore(), 'req_total', 0, 60_000, 0)).toThrow(QueryError);
  });

  it('throws PromqlParseError for bad text', () => {
    expect(() => createEngine().instantQuery(counterStore(), 'sum(', 0)).toThrow(PromqlParseError);
  });

  it('honours a configured lookback delta', () => {
    const q = new ArrayQueryable();
    q.add({ __name__: 'g' }, [{ t: 0, v: 1 }]);
    expect(createEngine({ lookbackDeltaMs: 60_000 }).instantQuery(q, 'g', 61_000).value).toEqual({ type: 'vector', samples: [] });
    expect(createEngine({ lookbackDeltaMs: 60_000 }).instantQuery(q, 'g', 60_000).value.type).toBe('vector');
  });

  it('uses the configured default subquery step', () => {
    const e = createEngine({ defaultSubqueryStepMs: 120_000 });
    const v = e.instantQuery(counterStore(1), 'count_over_time(req_total[10m:])', 600_000).value;
    expect(v).toEqual({ type: 'vector', samples: [{ labels: { instance: 'i0' }, t: 600_000, v: 6 }] });
  });

  it('counts samples like Prometheus: a function holds one series window at a time', () => {
    // Mirrors a promtool 2.42 run with its 10000-sample limit: 2 series × 8001 samples at 15 s.
    const q = new ArrayQueryable();
    for (const i of ['1', '2']) q.add({ __name__: 'x', i }, Array.from({ length: 8001 }, (_, p) => ({ t: p * 15_000, v: p })));
    const e = createEngine({ maxSamples: 10_000 });
    const t = 30 * 3600_000;
    expect(e.instantQuery(q, 'sum(count_over_time(x[30h]))', t).value).toEqual({ type: 'vector', samples: [{ labels: {}, t, v: 14_402 }] });
    expect(e.instantQuery(q, 'count_over_time(x[30h]) + count_over_time(x[30h])', t).value.type).toBe('vector');
    expect(() => e.instantQuery(q, 'x[30h]', t)).toThrow(TooManySamplesError);
    expect(() => e.instantQuery(q, 'max_over_time(x[30h:10s])', t)).toThrow(TooManySamplesError);
  });

  it('is canceled by its abort signal', () => {
    const ac = new AbortController();
    ac.abort();
    expect(() => createEngine().instantQuery(counterStore(), 'req_total', 0, ac.signal)).toThrow(QueryCanceledError);
  });

  it('times out a query that runs past timeoutMs', () => {
    // A Queryable that is slow to answer makes the query overrun its 1ms budget.
    const slow: Queryable = {
      selectColumns(_m: readonly LabelMatcher[], _s: number, _e: number): SeriesColumns[] {
        const until = performance.now() + 20;
        while (performance.now() < until) {
          // busy wait: the engine is synchronous, so only a slow select can stall it
        }
        return [];
      },
    };
    expect(() => createEngine({ timeoutMs: 1 }).rangeQuery(slow, 'up', 0, 600_000, 1000)).toThrow(QueryTimeoutError);
  });

  it('rejects bad options by name', () => {
    expect(() => createEngine({ lookbackDeltaMs: 0 })).toThrow(/lookbackDeltaMs/);
  });

  it('reads each selector from the store once per query, over the whole window', () => {
    const calls: Array<[number, number]> = [];
    const inner = counterStore(1);
    const spy: Queryable = {
      selectColumns(m, s, e) {
        calls.push([s, e]);
        return inner.selectColumns(m, s, e);
      },
    };
    createEngine().rangeQuery(spy, 'rate(req_total[5m] offset 1m)', 600_000, 1_200_000, 60_000);
    expect(calls).toEqual([[600_000 - 60_000 - 300_000, 1_200_000 - 60_000]]);
  });

  it('reports the duplicate label set error of functions that drop the name', () => {
    const q = new ArrayQueryable();
    q.add({ __name__: 'a', x: '1' }, [{ t: 0, v: 1 }]);
    q.add({ __name__: 'b', x: '1' }, [{ t: 0, v: 2 }]);
    expect(() => createEngine().instantQuery(q, 'abs({x="1"})', 0)).toThrow(/vector cannot contain metrics with the same labelset/);
  });

  it('reports many-to-many matching', () => {
    const q = new ArrayQueryable();
    q.add({ __name__: 'a', x: '1', y: '1' }, [{ t: 0, v: 1 }]);
    q.add({ __name__: 'a', x: '1', y: '2' }, [{ t: 0, v: 1 }]);
    q.add({ __name__: 'b', x: '1' }, [{ t: 0, v: 2 }]);
    expect(() => createEngine().instantQuery(q, 'b + on(x) a', 0)).toThrow(/many-to-many matching not allowed/);
    expect(() => createEngine().instantQuery(q, 'a + on(x) b', 0)).toThrow(/multiple matches for labels: many-to-one matching must be explicit/);
    expect(createEngine().instantQuery(q, 'a + on(x) group_left b', 0).value.type).toBe('vector');
  });

  it('gives a range query the same values as instant queries at each step', () => {
    const q = new ArrayQueryable();
    q.add({ __name__: 'c', job: 'a' }, Array.from({ length: 21 }, (_, i) => ({ t: i * 60_000, v: i * 3 })));
    q.add({ __name__: 'c', job: 'b' }, [
      ...Array.from({ length: 8 }, (_, i) => ({ t: i * 60_000, v: i })),
      { t: 8 * 60_000, v: NaN, stale: true as const },
      ...Array.from({ length: 5 }, (_, i) => ({ t: (12 + i) * 60_000, v: 100 + i })),
    ]);
    const e = createEngine();
    const exprs = [
      'c',
      'rate(c[3m])',
      'sum by (job) (increase(c[5m]))',
      'max_over_time(c[4m:1m])',
      'c offset 2m',
      'c > 5',
      'c * on(job) group_left c',
      'absent(c{job="b"})',
      'timestamp(c)',
      'time() - c',
      'topk(1, c)',
      'c @ 300',
    ];
    for (const expr of exprs) {
      const range = e.rangeQuery(q, expr, 0, 20 * 60_000, 60_000).value;
      if (range.type !== 'matrix') throw new Error('expected a matrix');
      for (let t = 0; t <= 20 * 60_000; t += 60_000) {
        const inst = e.instantQuery(q, expr, t).value;
        const fromInstant = inst.type === 'vector' ? inst.samples.map((s) => `${JSON.stringify(s.labels)}=${s.v}`).sort() : [];
        const fromRange = range.series.flatMap((s) => s.points.filter((p) => p.t === t).map((p) => `${JSON.stringify(s.labels)}=${p.v}`)).sort();
        expect(fromRange, `${expr} at ${t}`).toEqual(fromInstant);
      }
    }
  });
});
