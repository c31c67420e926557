/**
 * The PromQL evaluator. An instant query is a range query with start = end (one path). Each
 * step evaluates the tree at one timestamp with a single `switch (node.kind)`; the samples every
 * selector needs for the whole query are read from the `Queryable` once, up front, as columns,
 * and each step binary-searches them. Binary operators live in binary.ts, aggregations in
 * aggregate.ts, functions in functions.ts. Semantics follow Prometheus 2.42's `promql/engine.go`.
 */
import { QueryCanceledError, QueryError, QueryTimeoutError, TooManySamplesError } from '../errors.js';
import { aggregate, checkAggregateParam } from './aggregate.js';
import type { AggregateParam } from './aggregate.js';
import type { AggregateExpr, AtModifier, Call, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from './ast.js';
import { unwrapParens } from './ast.js';
import { evalBinary } from './binary.js';
import { exprValueType } from './check.js';
import { FUNCTION_IMPLS, SERIES_ARGUMENT } from './functions.js';
import type { FunctionArg } from './functions.js';
import { RegexCache } from './label-matcher.js';
import { parseExpr } from './parse.js';
import { firstAtOrAfter } from './time-search.js';
import type { Labels, Queryable, SeriesColumns } from './queryable.js';
import type { EngineOptions, InstantSample, MatrixSeries, Point, QueryResult, QuerySignal, QueryValue } from './types.js';
import { assertNoDuplicateLabelsets, dropMetricName, signature } from './value.js';
import type { RangeArg, RangeSeries, Value } from './value.js';

/** Engine runs PromQL queries against a `Queryable`; both calls are synchronous. */
export interface Engine {
  /** instantQuery evaluates `expr` at `tMs`. */
  instantQuery(q: Queryable, expr: string | Expr, tMs: number, signal?: QuerySignal): QueryResult;
  /** rangeQuery evaluates `expr` at every `stepMs` from `startMs` to `endMs` inclusive; the result is a matrix. */
  rangeQuery(q: Queryable, expr: string | Expr, startMs: number, endMs: number, stepMs: number, signal?: QuerySignal): QueryResult;
}

const DEFAULTS = {
  lookbackDeltaMs: 5 * 60_000,
  maxSamples: 50_000_000,
  timeoutMs: 2 * 60_000,
  defaultSubqueryStepMs: 60_000,
};

/** createEngine builds an engine; options default to Prometheus' (5m lookback, 50M samples, 2m timeout, 1m subquery step). */
export function createEngine(opts: EngineOptions = {}): Engine {
  const o = { ...DEFAULTS, ...stripUndefined(opts) };
  for (const [name, v] of Object.entries(o)) {
    if (!Number.isFinite(v) || v <= 0) throw new QueryError(`engine option ${name} must be a positive number, got ${String(v)}`);
  }
  const regexes = new RegexCache();
  const run = (q: Queryable, expr: string | Expr, startMs: number, endMs: number, stepMs: number, signal: QuerySignal | undefined, isInstant: boolean): QueryResult => {
    const e = typeof expr === 'string' ? parseExpr(expr) : expr;
    const ev = new Evaluation(q, o, regexes, startMs, endMs, signal);
    return ev.run(e, stepMs, isInstant);
  };
  return {
    instantQuery(q, expr, tMs, signal) {
      checkTime(tMs, 'time');
      return run(q, expr, tMs, tMs, 0, signal, true);
    },
    rangeQuery(q, expr, startMs, endMs, stepMs, signal) {
      checkTime(startMs, 'start');
      checkTime(endMs, 'end');
      if (endMs < startMs) throw new QueryError('range query end timestamp must not be before start time');
      if (!Number.isInteger(stepMs) || stepMs <= 0) throw new QueryError('range query step must be a positive integer number of milliseconds');
      return run(q, expr, startMs, endMs, stepMs, signal, false);
    },
  };
}

function stripUndefined(opts: EngineOptions): Partial<typeof DEFAULTS> {
  const out: Partial<typeof DEFAULTS> = {};
  for (const k of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const v = opts[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function checkTime(t: number, what: string): void {
  if (!Number.isInteger(t)) throw new QueryError(`query ${what} must be an integer number of milliseconds, got ${t}`);
}

/** compareLabels orders label sets as Prometheus' labels.Compare. */
function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    if (an[i] !== bn[i]) return an[i] < bn[i] ? -1 : 1;
    const av = a[an[i]];
    const bv = b[bn[i]];
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return an.length - bn.length;
}

/** upperBound returns the first index in [lo, hi) whose timestamp is > ts (hi if none). */
function upperBound(t: Float64Array, lo: number, hi: number, ts: number): number {
  return firstAtOrAfter(t, lo, hi, ts, false);
}

/** lowerBound returns the first index in [lo, hi) whose timestamp is >= ts (hi if none). */
function lowerBound(t: Float64Array, lo: number, hi: number, ts: number): number {
  return firstAtOrAfter(t, lo, hi, ts, true);
}

/** window returns a series' samples with index in [from, to) as a RangeSeries, stale markers removed, or undefined if none is left. */
function window(s: SeriesColumns, from: number, to: number): RangeSeries | undefined {
  const stale = s.stale;
  if (stale !== undefined) {
    let staleCount = 0;
    for (let i = from; i < to; i++) staleCount += stale[i];
    if (staleCount > 0) {
      const n = to - from - staleCount;
      if (n === 0) return undefined;
      const t = new Float64Array(n);
      const v = new Float64Array(n);
      let j = 0;
      for (let i = from; i < to; i++) {
        if (stale[i] !== 0) continue;
        t[j] = s.t[i];
        v[j] = s.v[i];
        j++;
      }
      return { labels: s.labels, t, v, start: 0, end: n };
    }
  }
  return { labels: s.labels, t: s.t, v: s.v, start: from, end: to };
}

/**
 * outputIsDistinct tells a call whose output cannot hold a label set twice: a function mapping
 * each series of a selector that fixes the metric name (`__name__="x"`) to one series labelled
 * like it. The store holds each label set once, so those series differ in more than the name.
 */
function outputIsDistinct(e: Call): boolean {
  const i = SERIES_ARGUMENT.get(e.func);
  if (i === undefined || i >= e.args.length) return false;
  const a = unwrapParens(e.args[i]);
  const vs = a.kind === 'vectorSelector' ? a : a.kind === 'matrixSelector' ? a.selector : undefined;
  return vs !== undefined && vs.matchers.some((m) => m.name === '__name__' && m.type === '=' && m.value !== '');
}

/** points turns a window's columns into the points of a query result. */
function points(s: RangeSeries): Point[] {
  const out = new Array<Point>(s.end - s.start);
  for (let i = s.start; i < s.end; i++) out[i - s.start] = { t: s.t[i], v: s.v[i] };
  return out;
}

/** Evaluation is one query's state: its time range, preloaded series and limits. */
class Evaluation {
  private readonly data = new Map<VectorSelector, SeriesColumns[]>();
  private readonly subqueryMemo = new Map<SubqueryExpr, Map<number, Value>>();
  private readonly deadline: number;
  private readonly warnings: string[] = [];
  private currentSamples = 0;
  private checkCounter = 0;
  /** work is what the binary and aggregation loops call to let the deadline and signal interrupt them. */
  private readonly work = { tick: (): void => this.tick() };

  constructor(
    private readonly q: Queryable,
    private readonly opts: typeof DEFAULTS,
    private readonly regexes: RegexCache,
    private readonly startMs: number,
    private readonly endMs: number,
    private readonly signal: QuerySignal | undefined,
  ) {
    this.deadline = performance.now() + opts.timeoutMs;
  }

  run(expr: Expr, stepMs: number, isInstant: boolean): QueryResult {
    this.checkAbort();
    const type = exprValueType(expr);
    if (!isInstant && type !== 'vector' && type !== 'scalar') {
      throw new QueryError(`invalid expression type "${type === 'matrix' ? 'range vector' : type}" for range query, must be Scalar or instant Vector`);
    }
    this.preload(expr, this.startMs, this.endMs);
    if (isInstant) {
      const v = this.eval(expr, this.startMs);
      return { value: this.toQueryValue(v, this.startMs), warnings: this.warnings };
    }
    const series = new Map<string, { labels: Labels; points: Point[] }>();
    let totalPoints = 0;
    for (let t = this.startMs; t <= this.endMs; t += stepMs) {
      this.currentSamples = totalPoints;
      this.checkAbort();
      const v = this.eval(expr, t);
      const samples = v.type === 'scalar' ? [{ labels: {}, t, v: v.v }] : v.type === 'vector' ? v.samples : [];
      for (const s of samples) {
        const k = signature(s.labels);
        let ss = series.get(k);
        if (ss === undefined) {
          ss = { labels: s.labels, points: [] };
          series.set(k, ss);
        }
        ss.points.push({ t, v: s.v });
        totalPoints++;
      }
      if (totalPoints > this.opts.maxSamples) throw new TooManySamplesError(this.opts.maxSamples);
    }
    const out = [...series.values()].sort((a, b) => compareLabels(a.labels, b.labels));
    return { value: { type: 'matrix', series: out }, warnings: this.warnings };
  }

  private toQueryValue(v: Value, t: number): QueryValue {
    switch (v.type) {
      case 'vector':
        return { type: 'vector', samples: v.samples.map((s) => (s.t === t ? s : { labels: s.labels, t, v: s.v })) };
      case 'scalar':
        return { type: 'scalar', t, v: v.v };
      case 'string':
        return { type: 'string', t, v: v.v };
      case 'matrix':
        return { type: 'matrix', series: v.series.map((s): MatrixSeries => ({ labels: s.labels, points: points(s) })) };
    }
  }

  private checkAbort(): void {
    if (this.signal?.aborted === true) throw new QueryCanceledError();
    if (performance.now() > this.deadline) throw new QueryTimeoutError();
  }

  private tick(): void {
    if (++this.checkCounter % 256 === 0) this.checkAbort();
  }

  private addSamples(n: number): void {
    this.currentSamples += n;
    if (this.currentSamples > this.opts.maxSamples) throw new TooManySamplesError(this.opts.maxSamples);
  }

  private resolveAt(at: AtModifier | undefined, t: number): number {
    if (at === undefined) return t;
    switch (at.kind) {
      case 'start':
        return this.startMs;
      case 'end':
        return this.endMs;
      case 'timestamp':
        return at.ms;
    }
  }

  /** preload reads, once, every sample each selector can need over the steps [start, end]. */
  private preload(e: Expr, start: number, end: number): void {
    switch (e.kind) {
      case 'vectorSelector':
      case 'matrixSelector': {
        const vs = e.kind === 'vectorSelector' ? e : e.selector;
        const back = e.kind === 'vectorSelector' ? this.opts.lookbackDeltaMs : e.rangeMs;
        const lo = (vs.at !== undefined ? this.resolveAt(vs.at, start) : start) - vs.offsetMs - back;
        const hi = (vs.at !== undefined ? this.resolveAt(vs.at, end) : end) - vs.offsetMs;
        if (!this.data.has(vs)) {
          this.checkAbort();
          this.data.set(vs, this.q.selectColumns(vs.matchers, lo, hi));
        }
        return;
      }
      case 'subquery': {
        const s = (e.at !== undefined ? this.resolveAt(e.at, start) : start) - e.offsetMs - e.rangeMs;
        const en = (e.at !== undefined ? this.resolveAt(e.at, end) : end) - e.offsetMs;
        this.preload(e.expr, s, en);
        return;
      }
      case 'paren':
      case 'unary':
        this.preload(e.expr, start, end);
        return;
      case 'binary':
        this.preload(e.lhs, start, end);
        this.preload(e.rhs, start, end);
        return;
      case 'aggregate':
        if (e.param !== undefined) this.preload(e.param, start, end);
        this.preload(e.expr, start, end);
        return;
      case 'call':
        for (const a of e.args) this.preload(a, start, end);
        return;
      case 'number':
      case 'string':
        return;
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  private eval(e: Expr, t: number): Value {
    switch (e.kind) {
      case 'number':
        return { type: 'scalar', v: e.value };
      case 'string':
        return { type: 'string', v: e.value };
      case 'paren':
        return this.eval(e.expr, t);
      case 'vectorSelector':
        return { type: 'vector', samples: this.vectorSelector(e, t, false) };
      case 'matrixSelector':
        return this.matrixSelector(e, t);
      case 'subquery':
        return this.subquery(e, t);
      case 'unary': {
        const v = this.eval(e.expr, t);
        if (e.op === '+') return v;
        if (v.type === 'scalar') return { type: 'scalar', v: -v.v };
        if (v.type !== 'vector') throw new QueryError('unary minus needs a scalar or an instant vector');
        const samples = v.samples.map((s) => ({ labels: dropMetricName(s.labels), t, v: -s.v }));
        assertNoDuplicateLabelsets(samples);
        return { type: 'vector', samples };
      }
      case 'binary': {
        const before = this.currentSamples;
        return this.released(before, evalBinary(e, this.eval(e.lhs, t), this.eval(e.rhs, t), t, this.work));
      }
      case 'aggregate':
        return this.released(this.currentSamples, this.aggregate(e, t));
      case 'call':
        return this.released(this.currentSamples, this.call(e, t));
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  private vectorSelector(vs: VectorSelector, t: number, keepSampleTime: boolean): InstantSample[] {
    const series = this.data.get(vs) ?? [];
    const ref = this.resolveAt(vs.at, t) - vs.offsetMs;
    const minT = ref - this.opts.lookbackDeltaMs;
    const out: InstantSample[] = [];
    for (const s of series) {
      this.tick();
      const i = upperBound(s.t, s.start, s.end, ref) - 1;
      if (i < s.start) continue;
      // Both ends of the lookback window count in 2.x; a stale marker ends the series at once.
      const sampleT = s.t[i];
      if (sampleT < minT || (s.stale !== undefined && s.stale[i] !== 0)) continue;
      out.push({ labels: s.labels, t: keepSampleTime ? sampleT : t, v: s.v[i] });
    }
    this.addSamples(out.length);
    return out;
  }

  /**
   * released models Prometheus' sample accounting: once a node has its value, the samples its
   * arguments held are released and only its output stays counted (the limit applies to the peak).
   */
  private released(before: number, v: Value): Value {
    this.currentSamples = before + (v.type === 'vector' ? v.samples.length : v.type === 'matrix' ? v.series.reduce((n, s) => n + s.end - s.start, 0) : 0);
    return v;
  }

  /**
   * matrixSelector returns the window of every series. As argument of a function (`perSeries`),
   * Prometheus holds one series' points at a time, so only the largest series counts.
   */
  private matrixSelector(ms: MatrixSelector, t: number, perSeries = false): RangeArg {
    const vs = ms.selector;
    const end = this.resolveAt(vs.at, t) - vs.offsetMs;
    const start = end - ms.rangeMs;
    const out: RangeSeries[] = [];
    let count = 0;
    for (const s of this.data.get(vs) ?? []) {
      this.tick();
      const from = lowerBound(s.t, s.start, s.end, start);
      const to = upperBound(s.t, from, s.end, end);
      if (to <= from) continue;
      const w = window(s, from, to);
      if (w === undefined) continue;
      const n = w.end - w.start;
      count = perSeries ? Math.max(count, n) : count + n;
      out.push(w);
    }
    this.addSamples(count);
    return { type: 'matrix', series: out, rangeMs: ms.rangeMs, rangeStartMs: start, rangeEndMs: end };
  }

  private subquery(sq: SubqueryExpr, t: number): RangeArg {
    const end = this.resolveAt(sq.at, t) - sq.offsetMs;
    const start = end - sq.rangeMs;
    const step = sq.stepMs > 0 ? sq.stepMs : this.opts.defaultSubqueryStepMs;
    // Inner steps are multiples of the step counted from Unix time 0.
    let ts = Math.ceil(start / step) * step;
    if (Object.is(ts, -0)) ts = 0;
    let memo = this.subqueryMemo.get(sq);
    if (memo === undefined) {
      memo = new Map();
      this.subqueryMemo.set(sq, memo);
    }
    const series = new Map<string, { labels: Labels; t: number[]; v: number[] }>();
    let count = 0;
    for (; ts <= end; ts += step) {
      this.checkAbort();
      let v = memo.get(ts);
      if (v === undefined) {
        v = this.eval(sq.expr, ts);
        memo.set(ts, v);
      }
      if (v.type !== 'vector') continue;
      for (const s of v.samples) {
        const k = signature(s.labels);
        let ss = series.get(k);
        if (ss === undefined) {
          ss = { labels: s.labels, t: [], v: [] };
          series.set(k, ss);
        }
        ss.t.push(ts);
        ss.v.push(s.v);
        count++;
      }
    }
    this.addSamples(count);
    const out: RangeSeries[] = [];
    for (const s of series.values()) out.push({ labels: s.labels, t: Float64Array.from(s.t), v: Float64Array.from(s.v), start: 0, end: s.t.length });
    return { type: 'matrix', series: out, rangeMs: sq.rangeMs, rangeStartMs: start, rangeEndMs: end };
  }

  private scalarOf(e: Expr, t: number): number {
    const v = this.eval(e, t);
    if (v.type !== 'scalar') throw new QueryError('expected a scalar');
    return v.v;
  }

  private vectorOf(e: Expr, t: number): readonly InstantSample[] {
    const v = this.eval(e, t);
    if (v.type !== 'vector') throw new QueryError('expected an instant vector');
    return v.samples;
  }

  private call(e: Call, t: number): Value {
    const impl = FUNCTION_IMPLS[e.func];
    if (impl === undefined) throw new QueryError(`function "${e.func}" is not implemented`);
    const args: FunctionArg[] = [];
    for (let i = 0; i < e.args.length; i++) {
      const a = unwrapParens(e.args[i]);
      if (e.func === 'timestamp' && a.kind === 'vectorSelector') {
        // timestamp(selector) reports each sample's own time, not the step's.
        args.push({ type: 'vector', samples: this.vectorSelector(a, t, true) });
        continue;
      }
      args.push(a.kind === 'matrixSelector' ? this.matrixSelector(a, t, true) : this.eval(a, t));
    }
    const res = impl(args, { tMs: t, argExprs: e.args, regexes: this.regexes });
    if (res.type === 'scalar') return res;
    if (!outputIsDistinct(e)) assertNoDuplicateLabelsets(res.samples);
    return res;
  }

  private aggregate(e: AggregateExpr, t: number): Value {
    let param: AggregateParam;
    if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'quantile') {
      param = this.scalarOf(e.param as Expr, t);
    } else if (e.op === 'count_values') {
      const p = this.eval(e.param as Expr, t);
      param = p.type === 'string' ? p.v : undefined;
    }
    checkAggregateParam(e, param);
    // Prometheus evaluates both arguments before it looks at k, so errors inside the
    // expression surface even when k < 1.
    const input = this.vectorOf(e.expr, t);
    return { type: 'vector', samples: aggregate(e, param, input, t, this.work) };
  }
}
