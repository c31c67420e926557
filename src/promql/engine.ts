/**
 * The PromQL evaluator. An instant query is a range query with start = end (one path). Each
 * step evaluates the tree at one timestamp with a single `switch (node.kind)`; the samples every
 * selector needs for the whole query are read from the `Queryable` once, up front, and each step
 * binary-searches them. Semantics follow Prometheus 2.42's `promql/engine.go`.
 */
import { QueryCanceledError, QueryError, QueryTimeoutError, TooManySamplesError } from '../errors.js';
import type { Labels, Queryable, Sample, SeriesData } from './queryable.js';
import type { AggregateExpr, AtModifier, BinaryExpr, BinaryOp, Call, Expr, MatrixSelector, SubqueryExpr, VectorMatching, VectorSelector } from './ast.js';
import { unwrapParens } from './ast.js';
import { exprValueType, isComparisonOp } from './check.js';
import { formatGoFloat, formatGoFloatPlain, quoteGoString } from '../go-strconv/index.js';
import { FUNCTION_IMPLS, dropMetricName, goQuantile, signature } from './functions.js';
import { goAtan2, goPow } from './go-math.js';
import type { FunctionArg, RangeArg } from './functions.js';
import { parseExpr } from './parse.js';
import { RegexCache } from './label-matcher.js';
import type { EngineOptions, InstantSample, MatrixSeries, Point, QueryResult, QueryValue } from './types.js';

/** Engine runs PromQL queries against a `Queryable`; both calls are synchronous. */
export interface Engine {
  /** instantQuery evaluates `expr` at `tMs`. */
  instantQuery(q: Queryable, expr: string | Expr, tMs: number, signal?: AbortSignal): QueryResult;
  /** rangeQuery evaluates `expr` at every `stepMs` from `startMs` to `endMs` inclusive; the result is a matrix. */
  rangeQuery(q: Queryable, expr: string | Expr, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): QueryResult;
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
  const run = (q: Queryable, expr: string | Expr, startMs: number, endMs: number, stepMs: number, signal: AbortSignal | undefined, isInstant: boolean): QueryResult => {
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

/** Value is one step's value of a node. */
type Value =
  | { readonly type: 'vector'; readonly samples: readonly InstantSample[] }
  | { readonly type: 'scalar'; readonly v: number }
  | { readonly type: 'string'; readonly v: string }
  | RangeArg;

/** labelsToString prints labels as Prometheus' labels.Labels String(): `{a="b", c="d"}`. */
function labelsToString(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort()
    .map((n) => `${n}=${quoteGoString(labels[n])}`)
    .join(', ')}}`;
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

/** lastIndexAtOrBefore returns the index of the last sample with t <= ts, or -1. */
function lastIndexAtOrBefore(samples: readonly Sample[], ts: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (samples[mid].t <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** firstIndexAtOrAfter returns the index of the first sample with t >= ts (length if none). */
function firstIndexAtOrAfter(samples: readonly Sample[], ts: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (samples[mid].t < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}


/** vectorElemBinop is upstream's per-element operation: the value and whether to keep it. */
function vectorElemBinop(op: BinaryOp, lhs: number, rhs: number): [number, boolean] {
  switch (op) {
    case '+':
      return [lhs + rhs, true];
    case '-':
      return [lhs - rhs, true];
    case '*':
      return [lhs * rhs, true];
    case '/':
      return [lhs / rhs, true];
    case '^':
      return [goPow(lhs, rhs), true];
    case '%':
      return [lhs % rhs, true];
    case '==':
      return [lhs, lhs === rhs];
    case '!=':
      return [lhs, lhs !== rhs];
    case '>':
      return [lhs, lhs > rhs];
    case '<':
      return [lhs, lhs < rhs];
    case '>=':
      return [lhs, lhs >= rhs];
    case '<=':
      return [lhs, lhs <= rhs];
    case 'atan2':
      return [goAtan2(lhs, rhs), true];
    default:
      throw new QueryError(`operator "${op}" not allowed for this operation`);
  }
}

/** shouldDropMetricName: arithmetic drops `__name__` (atan2 does not in 2.42). */
function shouldDropMetricName(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '^' || op === '%';
}

function assertNoDuplicateLabelsets(samples: readonly InstantSample[]): void {
  if (samples.length < 2) return;
  const seen = new Set<string>();
  for (const s of samples) {
    const k = signature(s.labels);
    if (seen.has(k)) throw new QueryError('vector cannot contain metrics with the same labelset');
    seen.add(k);
  }
}

/** matchSignature is the key two elements must share to be paired by `on`/`ignoring`. */
function matchSignature(labels: Labels, matching: VectorMatching): string {
  let out = '';
  if (matching.on) {
    for (const n of [...matching.labels].sort()) out += `${n}\u0000${labels[n] ?? ''}\u0001`;
    return out;
  }
  for (const n of Object.keys(labels).sort()) {
    if (n === '__name__' || matching.labels.includes(n)) continue;
    out += `${n}\u0000${labels[n]}\u0001`;
  }
  return out;
}

function matchedLabels(labels: Labels, matching: VectorMatching): Labels {
  const out: Record<string, string> = {};
  for (const [n, v] of Object.entries(labels)) {
    const listed = matching.labels.includes(n);
    if (matching.on ? listed : !listed && n !== '__name__') out[n] = v;
  }
  return out;
}

function resultMetric(lhs: Labels, rhs: Labels, op: BinaryOp, matching: VectorMatching): Labels {
  const out: Record<string, string> = { ...lhs };
  if (shouldDropMetricName(op)) delete out.__name__;
  if (matching.card === 'one-to-one') {
    if (matching.on) {
      for (const n of Object.keys(out)) if (!matching.labels.includes(n)) delete out[n];
    } else {
      for (const n of matching.labels) delete out[n];
    }
  }
  for (const n of matching.include) {
    // group_x labels are copied from the "one" side.
    const v = rhs[n];
    if (v !== undefined && v !== '') out[n] = v;
    else delete out[n];
  }
  return out;
}

/** GoHeap reproduces Go's container/heap so topk/bottomk pick the same elements on ties. */
class GoHeap {
  readonly items: InstantSample[] = [];
  constructor(private readonly less: (a: InstantSample, b: InstantSample) => boolean) {}

  push(x: InstantSample): void {
    this.items.push(x);
    this.up(this.items.length - 1);
  }

  pop(): InstantSample | undefined {
    const n = this.items.length - 1;
    this.swap(0, n);
    this.down(0, n);
    return this.items.pop();
  }

  private swap(i: number, j: number): void {
    const t = this.items[i];
    this.items[i] = this.items[j];
    this.items[j] = t;
  }

  private up(j0: number): void {
    let j = j0;
    for (;;) {
      const i = Math.trunc((j - 1) / 2);
      if (i === j || !this.less(this.items[j], this.items[i])) break;
      this.swap(i, j);
      j = i;
    }
  }

  private down(i0: number, n: number): void {
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n || j1 < 0) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.less(this.items[j2], this.items[j1])) j = j2;
      if (!this.less(this.items[j], this.items[i])) break;
      this.swap(i, j);
      i = j;
    }
  }
}

const byValueLess = (a: InstantSample, b: InstantSample): boolean => Number.isNaN(a.v) || a.v < b.v;
const byReverseValueLess = (a: InstantSample, b: InstantSample): boolean => Number.isNaN(a.v) || a.v > b.v;

/** insertionSort is Go's sort for short slices (stable), used to order topk/bottomk output. */
function insertionSort<T>(items: T[], less: (a: T, b: T) => boolean): void {
  for (let i = 1; i < items.length; i++) {
    for (let j = i; j > 0 && less(items[j], items[j - 1]); j--) {
      const t = items[j];
      items[j] = items[j - 1];
      items[j - 1] = t;
    }
  }
}

interface Group {
  labels: Labels;
  value: number;
  mean: number;
  groupCount: number;
  heap?: GoHeap;
  values?: number[];
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Evaluation is one query's state: its time range, preloaded series and limits. */
class Evaluation {
  private readonly data = new Map<VectorSelector, SeriesData[]>();
  private readonly subqueryMemo = new Map<SubqueryExpr, Map<number, Value>>();
  private readonly deadline: number;
  private readonly warnings: string[] = [];
  private currentSamples = 0;
  private checkCounter = 0;

  constructor(
    private readonly q: Queryable,
    private readonly opts: typeof DEFAULTS,
    private readonly regexes: RegexCache,
    private readonly startMs: number,
    private readonly endMs: number,
    private readonly signal: AbortSignal | undefined,
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
        return { type: 'matrix', series: v.series };
    }
  }

  private checkAbort(): void {
    if (this.signal?.aborted === true) throw new QueryCanceledError();
    if (performance.now() > this.deadline) throw new QueryTimeoutError(`query timed out after ${this.opts.timeoutMs}ms`);
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
          this.data.set(vs, this.q.select(vs.matchers, lo, hi));
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
      case 'binary':
        return this.released(this.currentSamples, this.binary(e, t));
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
      const i = lastIndexAtOrBefore(s.samples, ref);
      if (i < 0) continue;
      const sample = s.samples[i];
      // Both ends of the lookback window count in 2.x; a stale marker ends the series at once.
      if (sample.t < minT || sample.stale === true) continue;
      out.push({ labels: s.labels, t: keepSampleTime ? sample.t : t, v: sample.v });
    }
    this.addSamples(out.length);
    return out;
  }

  /**
   * released models Prometheus' sample accounting: once a node has its value, the samples its
   * arguments held are released and only its output stays counted (the limit applies to the peak).
   */
  private released(before: number, v: Value): Value {
    this.currentSamples = before + (v.type === 'vector' ? v.samples.length : v.type === 'matrix' ? v.series.reduce((n, s) => n + s.points.length, 0) : 0);
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
    const out: MatrixSeries[] = [];
    let count = 0;
    for (const s of this.data.get(vs) ?? []) {
      this.tick();
      const from = firstIndexAtOrAfter(s.samples, start);
      const to = lastIndexAtOrBefore(s.samples, end);
      if (to < from) continue;
      // Samples already have the Point shape; copy only when stale markers must be dropped.
      let points: readonly Point[] = s.samples.slice(from, to + 1);
      if (points.some((p) => (p as Sample).stale === true)) points = points.filter((p) => (p as Sample).stale !== true);
      if (points.length === 0) continue;
      count = perSeries ? Math.max(count, points.length) : count + points.length;
      out.push({ labels: s.labels, points });
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
    const series = new Map<string, { labels: Labels; points: Point[] }>();
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
          ss = { labels: s.labels, points: [] };
          series.set(k, ss);
        }
        ss.points.push({ t: ts, v: s.v });
        count++;
      }
    }
    this.addSamples(count);
    return { type: 'matrix', series: [...series.values()], rangeMs: sq.rangeMs, rangeStartMs: start, rangeEndMs: end };
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
    assertNoDuplicateLabelsets(res.samples);
    return res;
  }

  private binary(e: BinaryExpr, t: number): Value {
    const l = this.eval(e.lhs, t);
    const r = this.eval(e.rhs, t);
    if (l.type === 'scalar' && r.type === 'scalar') {
      const [v, keep] = vectorElemBinop(e.op, l.v, r.v);
      return { type: 'scalar', v: isComparisonOp(e.op) ? (keep ? 1 : 0) : v };
    }
    if (l.type === 'vector' && r.type === 'scalar') return this.vectorScalar(e, l.samples, r.v, false, t);
    if (l.type === 'scalar' && r.type === 'vector') return this.vectorScalar(e, r.samples, l.v, true, t);
    if (l.type !== 'vector' || r.type !== 'vector') throw new QueryError('binary expression must contain only scalar and instant vector types');
    const matching = e.matching ?? { card: 'one-to-one', on: false, labels: [], include: [] };
    switch (e.op) {
      case 'and':
        return { type: 'vector', samples: this.vectorAnd(l.samples, r.samples, matching) };
      case 'or':
        return { type: 'vector', samples: this.vectorOr(l.samples, r.samples, matching) };
      case 'unless':
        return { type: 'vector', samples: this.vectorUnless(l.samples, r.samples, matching) };
      default: {
        const samples = this.vectorBinop(e, l.samples, r.samples, matching, t);
        assertNoDuplicateLabelsets(samples);
        return { type: 'vector', samples };
      }
    }
  }

  private vectorScalar(e: BinaryExpr, samples: readonly InstantSample[], scalar: number, swap: boolean, t: number): Value {
    const out: InstantSample[] = [];
    for (const s of samples) {
      let lv = s.v;
      let rv = scalar;
      if (swap) [lv, rv] = [rv, lv];
      let [value, keep] = vectorElemBinop(e.op, lv, rv);
      // A comparison with the scalar on the left still yields the vector element's value.
      if (isComparisonOp(e.op) && swap) value = rv;
      if (e.returnBool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      const labels = shouldDropMetricName(e.op) || e.returnBool ? dropMetricName(s.labels) : s.labels;
      out.push({ labels, t, v: value });
    }
    assertNoDuplicateLabelsets(out);
    return { type: 'vector', samples: out };
  }

  private vectorAnd(lhs: readonly InstantSample[], rhs: readonly InstantSample[], m: VectorMatching): InstantSample[] {
    if (lhs.length === 0 || rhs.length === 0) return [];
    const right = new Set(rhs.map((s) => matchSignature(s.labels, m)));
    return lhs.filter((s) => right.has(matchSignature(s.labels, m)));
  }

  private vectorOr(lhs: readonly InstantSample[], rhs: readonly InstantSample[], m: VectorMatching): InstantSample[] {
    if (lhs.length === 0) return [...rhs];
    if (rhs.length === 0) return [...lhs];
    const left = new Set(lhs.map((s) => matchSignature(s.labels, m)));
    return [...lhs, ...rhs.filter((s) => !left.has(matchSignature(s.labels, m)))];
  }

  private vectorUnless(lhs: readonly InstantSample[], rhs: readonly InstantSample[], m: VectorMatching): InstantSample[] {
    if (lhs.length === 0 || rhs.length === 0) return [...lhs];
    const right = new Set(rhs.map((s) => matchSignature(s.labels, m)));
    return lhs.filter((s) => !right.has(matchSignature(s.labels, m)));
  }

  private vectorBinop(e: BinaryExpr, lhsIn: readonly InstantSample[], rhsIn: readonly InstantSample[], m: VectorMatching, t: number): InstantSample[] {
    // Prometheus short-circuits before it checks either side for duplicates.
    if (lhsIn.length === 0 || rhsIn.length === 0) return [];
    let lhs = lhsIn;
    let rhs = rhsIn;
    // One-to-many is many-to-one with the sides swapped; values are swapped back below.
    if (m.card === 'one-to-many') [lhs, rhs] = [rhs, lhs];
    const rightSigs = new Map<string, InstantSample>();
    for (const rs of rhs) {
      this.tick();
      const sig = matchSignature(rs.labels, m);
      const dup = rightSigs.get(sig);
      if (dup !== undefined) {
        const oneSide = m.card === 'one-to-many' ? 'left' : 'right';
        throw new QueryError(
          `found duplicate series for the match group ${labelsToString(matchedLabels(rs.labels, m))} on the ${oneSide} hand-side of the operation: [${labelsToString(rs.labels)}, ${labelsToString(dup.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      rightSigs.set(sig, rs);
    }
    const matchedSigs = new Map<string, Set<string> | null>();
    const out: InstantSample[] = [];
    for (const ls of lhs) {
      this.tick();
      const sig = matchSignature(ls.labels, m);
      const rs = rightSigs.get(sig);
      if (rs === undefined) continue;
      let vl = ls.v;
      let vr = rs.v;
      if (m.card === 'one-to-many') [vl, vr] = [vr, vl];
      const [computed, keep] = vectorElemBinop(e.op, vl, vr);
      let value = computed;
      if (e.returnBool) {
        value = keep ? 1 : 0;
      } else if (!keep) {
        continue;
      }
      let metric = resultMetric(ls.labels, rs.labels, e.op, m);
      if (e.returnBool) metric = dropMetricName(metric);
      const inserted = matchedSigs.get(sig);
      if (m.card === 'one-to-one') {
        if (inserted !== undefined) throw new QueryError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        matchedSigs.set(sig, null);
      } else {
        const insertSig = signature(metric);
        if (inserted === undefined || inserted === null) {
          matchedSigs.set(sig, new Set([insertSig]));
        } else {
          if (inserted.has(insertSig)) throw new QueryError('multiple matches for labels: grouping labels must ensure unique matches');
          inserted.add(insertSig);
        }
      }
      out.push({ labels: metric, t, v: value });
    }
    return out;
  }

  private aggregate(e: AggregateExpr, t: number): Value {
    let k = 0;
    let q = 0;
    let valueLabel = '';
    let kParam = 0;
    if (e.op === 'topk' || e.op === 'bottomk') {
      kParam = this.scalarOf(e.param as Expr, t);
    } else if (e.op === 'quantile') {
      q = this.scalarOf(e.param as Expr, t);
    } else if (e.op === 'count_values') {
      const p = this.eval(e.param as Expr, t);
      if (p.type !== 'string') throw new QueryError('count_values needs a string parameter');
      valueLabel = p.v;
      if (!LABEL_NAME_RE.test(valueLabel)) throw new QueryError(`invalid label name ${quoteGoString(valueLabel)}`);
    }
    // Prometheus evaluates both arguments before it looks at k, so errors inside the
    // expression surface even when k < 1.
    const input = this.vectorOf(e.expr, t);
    if (e.op === 'topk' || e.op === 'bottomk') {
      if (!(kParam <= 9.223372036854776e18 && kParam >= -9.223372036854776e18)) throw new QueryError(`Scalar value ${formatGoFloat(kParam)} overflows int64`);
      k = Math.trunc(kParam);
      if (k < 1) return { type: 'vector', samples: [] };
    }
    let grouping = [...e.grouping];
    if (e.op === 'count_values' && !e.without) grouping = [...grouping, valueLabel].sort();
    const groups = new Map<string, Group>();
    const ordered: Group[] = [];
    for (const s0 of input) {
      this.tick();
      let metric = s0.labels;
      if (e.op === 'count_values') metric = { ...metric, [valueLabel]: formatGoFloatPlain(s0.v) };
      const key = groupingKey(metric, grouping, e.without);
      const s: InstantSample = metric === s0.labels ? s0 : { labels: metric, t: s0.t, v: s0.v };
      let g = groups.get(key);
      if (g === undefined) {
        g = { labels: groupLabels(metric, grouping, e.without), value: s.v, mean: s.v, groupCount: 1 };
        switch (e.op) {
          case 'stddev':
          case 'stdvar':
            g.value = 0;
            break;
          case 'topk':
            g.heap = new GoHeap(byValueLess);
            g.heap.items.push(s0);
            break;
          case 'bottomk':
            g.heap = new GoHeap(byReverseValueLess);
            g.heap.items.push(s0);
            break;
          case 'quantile':
            g.values = [s.v];
            break;
          case 'group':
            g.value = 1;
            break;
          default:
            break;
        }
        groups.set(key, g);
        ordered.push(g);
        continue;
      }
      switch (e.op) {
        case 'sum':
          g.value += s.v;
          break;
        case 'avg':
          g.groupCount++;
          if (!Number.isFinite(g.mean) && !Number.isNaN(g.mean)) {
            if (!Number.isFinite(s.v) && !Number.isNaN(s.v) && g.mean > 0 === s.v > 0) break;
            if (Number.isFinite(s.v)) break;
          }
          // Each side of the `-` is divided first to avoid overflow, as upstream does.
          g.mean += s.v / g.groupCount - g.mean / g.groupCount;
          break;
        case 'group':
          break;
        case 'max':
          if (g.value < s.v || Number.isNaN(g.value)) g.value = s.v;
          break;
        case 'min':
          if (g.value > s.v || Number.isNaN(g.value)) g.value = s.v;
          break;
        case 'count':
        case 'count_values':
          g.groupCount++;
          break;
        case 'stddev':
        case 'stdvar': {
          g.groupCount++;
          const delta = s.v - g.mean;
          g.mean += delta / g.groupCount;
          g.value += delta * (s.v - g.mean);
          break;
        }
        case 'topk': {
          const h = g.heap as GoHeap;
          if (h.items.length < k || h.items[0].v < s.v || Number.isNaN(h.items[0].v)) {
            if (h.items.length === k) h.pop();
            h.push(s0);
          }
          break;
        }
        case 'bottomk': {
          const h = g.heap as GoHeap;
          if (h.items.length < k || h.items[0].v > s.v || Number.isNaN(h.items[0].v)) {
            if (h.items.length === k) h.pop();
            h.push(s0);
          }
          break;
        }
        case 'quantile':
          (g.values as number[]).push(s.v);
          break;
        default: {
          const never: never = e.op;
          throw new QueryError(`unknown aggregation ${String(never)}`);
        }
      }
    }
    const out: InstantSample[] = [];
    for (const g of ordered) {
      let v = g.value;
      switch (e.op) {
        case 'avg':
          v = g.mean;
          break;
        case 'count':
        case 'count_values':
          v = g.groupCount;
          break;
        case 'stdvar':
          v = g.value / g.groupCount;
          break;
        case 'stddev':
          v = Math.sqrt(g.value / g.groupCount);
          break;
        case 'topk':
        case 'bottomk': {
          const items = [...(g.heap as GoHeap).items];
          const less = e.op === 'topk' ? byValueLess : byReverseValueLess;
          // sort.Reverse of the heap order: largest (topk) / smallest (bottomk) first.
          if (items.length > 1) insertionSort(items, (a, b) => less(b, a));
          for (const s of items) out.push({ labels: s.labels, t, v: s.v });
          continue;
        }
        case 'quantile':
          v = goQuantile(q, g.values as number[]);
          break;
        default:
          break;
      }
      out.push({ labels: g.labels, t, v });
    }
    return { type: 'vector', samples: out };
  }
}

function groupingKey(labels: Labels, grouping: readonly string[], without: boolean): string {
  let out = '';
  if (without) {
    for (const n of Object.keys(labels).sort()) {
      if (n === '__name__' || grouping.includes(n)) continue;
      out += `${n}\u0000${labels[n]}\u0001`;
    }
    return out;
  }
  for (const n of [...grouping].sort()) {
    const v = labels[n];
    if (v !== undefined) out += `${n}\u0000${v}\u0001`;
  }
  return out;
}

function groupLabels(labels: Labels, grouping: readonly string[], without: boolean): Labels {
  const out: Record<string, string> = {};
  if (without) {
    for (const [n, v] of Object.entries(labels)) if (n !== '__name__' && !grouping.includes(n)) out[n] = v;
    return out;
  }
  for (const n of grouping) {
    const v = labels[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}
