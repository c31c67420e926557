/**
 * PromQL function implementations, one entry per function under a `// === name(args) ===`
 * header, as Prometheus 2.42's promql/functions.go. Signatures live in functions-meta.ts; the
 * engine type-checks and evaluates arguments, then calls the implementation once per step.
 * Float operation order follows upstream so results agree to the last bit.
 */
import { QueryError } from '../errors.js';
import type { Labels } from './queryable.js';
import { formatGoFloatPlain, parseGoFloat } from '../go-strconv/index.js';
import { expandGoTemplate } from '../go-regexp/index.js';
import type { Expr } from './ast.js';
import { unwrapParens } from './ast.js';
import { goInt64, goTimeFields } from './go-time.js';
import type { GoTimeFields } from './go-time.js';
import { goAcos, goAcosh, goAsin, goAsinh, goAtanFn, goAtanh, goCos, goCosh, goExp, goLog, goLog10, goLog2, goSin, goSinh, goTan, goTanh } from './go-math.js';
import type { RegexCache } from './label-matcher.js';
import type { InstantSample } from './types.js';
import { dropMetricName, signature } from './value.js';
import type { RangeArg, RangeSeries, Value } from './value.js';

/** FunctionArg is one evaluated argument. */
export type FunctionArg = Value;

/** FunctionResult is what a function returns for one step. */
export type FunctionResult = { readonly type: 'vector'; readonly samples: InstantSample[] } | { readonly type: 'scalar'; readonly v: number };

/** FunctionContext is the per-step context of a call. */
export interface FunctionContext {
  /** tMs is the evaluation time of this step. */
  readonly tMs: number;
  /** argExprs are the unevaluated arguments (absent() reads their matchers). */
  readonly argExprs: readonly Expr[];
  readonly regexes: RegexCache;
}

/** FunctionImpl is the one signature every function implementation has. */
export type FunctionImpl = (args: readonly FunctionArg[], ctx: FunctionContext) => FunctionResult;

function vectorArg(args: readonly FunctionArg[], i: number): readonly InstantSample[] {
  const a = args[i];
  if (a === undefined || a.type !== 'vector') throw new QueryError(`internal: argument ${i + 1} is not an instant vector`);
  return a.samples;
}

function scalarArg(args: readonly FunctionArg[], i: number): number {
  const a = args[i];
  if (a === undefined || a.type !== 'scalar') throw new QueryError(`internal: argument ${i + 1} is not a scalar`);
  return a.v;
}

function stringArg(args: readonly FunctionArg[], i: number): string {
  const a = args[i];
  if (a === undefined || a.type !== 'string') throw new QueryError(`internal: argument ${i + 1} is not a string`);
  return a.v;
}

function rangeArg(args: readonly FunctionArg[], i: number): RangeArg {
  const a = args[i];
  if (a === undefined || a.type !== 'matrix') throw new QueryError(`internal: argument ${i + 1} is not a range vector`);
  return a;
}

function vec(samples: InstantSample[]): FunctionResult {
  return { type: 'vector', samples };
}

/** simple applies `f` to every element, dropping the metric name (Prometheus' simpleFunc). */
function simple(f: (v: number) => number): FunctionImpl {
  return (args, ctx) => vec(vectorArg(args, 0).map((s) => ({ labels: dropMetricName(s.labels), t: ctx.tMs, v: f(s.v) })));
}

/**
 * overTime applies `f` to each series' window (never empty), dropping the metric name unless
 * `keepName`.
 */
function overTime(f: (s: RangeSeries, args: readonly FunctionArg[], ctx: FunctionContext, r: RangeArg) => number | undefined, matrixIndex = 0, keepName = false): FunctionImpl {
  return (args, ctx) => {
    const r = rangeArg(args, matrixIndex);
    const out: InstantSample[] = [];
    for (const s of r.series) {
      if (s.end <= s.start) continue;
      const v = f(s, args, ctx, r);
      if (v === undefined) continue;
      out.push({ labels: keepName ? s.labels : dropMetricName(s.labels), t: ctx.tMs, v });
    }
    return vec(out);
  };
}

/**
 * KahanSum is a running Neumaier compensated sum: `add(x)` is upstream's
 * `sum, c = kahanSumInc(x, sum, c)`, the same float operations in the same order.
 */
class KahanSum {
  sum = 0;
  c = 0;

  add(inc: number): void {
    const t = this.sum + inc;
    if (Math.abs(this.sum) >= Math.abs(inc)) this.c += this.sum - t + inc;
    else this.c += inc - t + this.sum;
    this.sum = t;
  }
}

/** extrapolatedRate is Prometheus 2.42's shared rate/increase/delta routine (`promql/functions.go` extrapolatedRate). */
function extrapolatedRate(s: RangeSeries, r: RangeArg, isCounter: boolean, isRate: boolean): number | undefined {
  const { t, v, start, end } = s;
  const n = end - start;
  if (n < 2) return undefined;
  const firstV = v[start];
  const lastT = t[end - 1];
  let resultValue = v[end - 1] - firstV;
  if (isCounter) {
    let prev = firstV;
    for (let i = start + 1; i < end; i++) {
      const cur = v[i];
      if (cur < prev) resultValue += prev;
      prev = cur;
    }
  }
  let durationToStart = (t[start] - r.rangeStartMs) / 1000;
  const durationToEnd = (r.rangeEndMs - lastT) / 1000;
  const sampledInterval = (lastT - t[start]) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  if (isCounter && resultValue > 0 && firstV >= 0) {
    // A counter cannot go below zero: do not extrapolate to before the line through the data hits zero.
    const durationToZero = sampledInterval * (firstV / resultValue);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  if (durationToStart < extrapolationThreshold) extrapolateToInterval += durationToStart;
  else extrapolateToInterval += averageDurationBetweenSamples / 2;
  if (durationToEnd < extrapolationThreshold) extrapolateToInterval += durationToEnd;
  else extrapolateToInterval += averageDurationBetweenSamples / 2;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= r.rangeMs / 1000;
  return resultValue * factor;
}

function instantValue(s: RangeSeries, isRate: boolean): number | undefined {
  const { t, v, start, end } = s;
  if (end - start < 2) return undefined;
  const lastV = v[end - 1];
  const prevV = v[end - 2];
  let result = isRate && lastV < prevV ? lastV : lastV - prevV;
  const sampledInterval = t[end - 1] - t[end - 2];
  if (sampledInterval === 0) return undefined;
  if (isRate) result /= sampledInterval / 1000;
  return result;
}

function linearRegression(s: RangeSeries, interceptTime: number): [number, number] {
  const { t, v, start, end } = s;
  let n = 0;
  const x = new KahanSum();
  const y = new KahanSum();
  const xy = new KahanSum();
  const x2 = new KahanSum();
  const initY = v[start];
  let constY = true;
  for (let i = start; i < end; i++) {
    const vi = v[i];
    if (constY && i > start && vi !== initY) constY = false;
    n += 1;
    const xi = (t[i] - interceptTime) / 1e3;
    x.add(xi);
    y.add(vi);
    xy.add(xi * vi);
    x2.add(xi * xi);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  const sumX = x.sum + x.c;
  const sumY = y.sum + y.c;
  const sumXY = xy.sum + xy.c;
  const sumX2 = x2.sum + x2.c;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/** goQuantile is upstream's `quantile`: linear interpolation at rank q × (n − 1); NaN sorts first. */
export function goQuantile(q: number, values: number[] | Float64Array): number {
  if (values.length === 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (Number.isNaN(q)) return NaN;
  // A typed array sorts numerically and natively, but puts NaN last and -0 before 0: only for
  // values without either.
  if (values instanceof Float64Array && values.every((x) => !Number.isNaN(x) && !Object.is(x, -0))) values.sort();
  else values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return values[lowerIndex] * (1 - weight) + values[upperIndex] * weight;
}

interface Bucket {
  upperBound: number;
  count: number;
}

/** bucketQuantile is upstream's classic-histogram quantile, with coalescing and the monotonicity fix. */
export function bucketQuantile(q: number, buckets: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  buckets.sort((a, b) => a.upperBound - b.upperBound);
  if (buckets[buckets.length - 1].upperBound !== Infinity) return NaN;
  // Coalesce buckets with the same upper bound (e.g. "1" and "1.0").
  const merged: Bucket[] = [];
  for (const b of buckets) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else merged.push({ upperBound: b.upperBound, count: b.count });
  }
  // Counts must not decrease with the bound; scrape races can make them do so.
  let max = -Infinity;
  for (const b of merged) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (merged.length < 2) return NaN;
  const observations = merged[merged.length - 1].count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = merged.length - 1;
  for (let i = 0; i < merged.length - 1; i++) {
    if (merged[i].count >= rank) {
      b = i;
      break;
    }
  }
  if (b === merged.length - 1) return merged[merged.length - 2].upperBound;
  if (b === 0 && merged[0].upperBound <= 0) return merged[0].upperBound;
  let bucketStart = 0;
  const bucketEnd = merged[b].upperBound;
  let count = merged[b].count;
  if (b > 0) {
    bucketStart = merged[b - 1].upperBound;
    count -= merged[b - 1].count;
    rank -= merged[b - 1].count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** setLabel returns labels with `name` set, or removed when `value` is empty. */
function setLabel(labels: Labels, name: string, value: string): Labels {
  const out: Record<string, string> = { ...labels };
  if (value === '') delete out[name];
  else out[name] = value;
  return out;
}

function dateFn(f: (d: GoTimeFields) => number): FunctionImpl {
  return (args, ctx) => {
    if (args.length === 0) {
      return vec([{ labels: {}, t: ctx.tMs, v: f(goTimeFields(BigInt(Math.trunc(ctx.tMs / 1000)))) }]);
    }
    return vec(
      vectorArg(args, 0).map((s) => ({
        labels: dropMetricName(s.labels),
        t: ctx.tMs,
        // Go's int64(v): NaN, ±Inf and huge values all become MinInt64, a real (odd) date.
        v: f(goTimeFields(goInt64(s.v))),
      })),
    );
  };
}

function absentLabels(expr: Expr | undefined): Labels {
  if (expr === undefined) return {};
  const e = unwrapParens(expr);
  const matchers = e.kind === 'vectorSelector' ? e.matchers : e.kind === 'matrixSelector' ? e.selector.matchers : undefined;
  if (matchers === undefined) return {};
  const out: Record<string, string> = {};
  const conflicting: string[] = [];
  for (const m of matchers) {
    if (m.name === '__name__') continue;
    if (m.type === '=' && !(m.name in out)) out[m.name] = m.value;
    else conflicting.push(m.name);
  }
  for (const n of conflicting) delete out[n];
  for (const n of Object.keys(out)) if (out[n] === '') delete out[n];
  return out;
}

function sortByValue(samples: readonly InstantSample[], descending: boolean): InstantSample[] {
  // NaN always sorts last, as upstream's reversed heap orders do.
  return [...samples].sort((a, b) => {
    const an = Number.isNaN(a.v);
    const bn = Number.isNaN(b.v);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return descending ? b.v - a.v : a.v - b.v;
  });
}

/**
 * SERIES_ARGUMENT lists the functions whose output holds at most one series per series of one
 * argument, labelled as that series (perhaps without `__name__`), with that argument's index.
 * Applied to a selector that fixes the metric name, their output cannot repeat a label set.
 */
export const SERIES_ARGUMENT: ReadonlyMap<string, number> = new Map([
  ...['rate', 'increase', 'delta', 'irate', 'idelta', 'deriv', 'predict_linear', 'holt_winters', 'resets', 'changes'].map((f) => [f, 0] as const),
  ...['avg_over_time', 'sum_over_time', 'count_over_time', 'min_over_time', 'max_over_time', 'last_over_time', 'present_over_time'].map((f) => [f, 0] as const),
  ...['stddev_over_time', 'stdvar_over_time'].map((f) => [f, 0] as const),
  ['quantile_over_time', 1] as const,
  ...['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'sgn', 'deg', 'rad', 'round', 'clamp', 'clamp_max', 'clamp_min'].map((f) => [f, 0] as const),
  ...['acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cos', 'cosh', 'sin', 'sinh', 'tan', 'tanh'].map((f) => [f, 0] as const),
]);

/** FUNCTION_IMPLS maps each supported function to its implementation. */
export const FUNCTION_IMPLS: Readonly<Record<string, FunctionImpl>> = {
  // === time() scalar ===
  time: (_args, ctx) => ({ type: 'scalar', v: ctx.tMs / 1000 }),

  // === pi() scalar ===
  pi: () => ({ type: 'scalar', v: Math.PI }),

  // === rate(v range-vector) ===
  rate: overTime((p, _a, _c, r) => extrapolatedRate(p, r, true, true)),

  // === increase(v range-vector) ===
  increase: overTime((p, _a, _c, r) => extrapolatedRate(p, r, true, false)),

  // === delta(v range-vector) ===
  delta: overTime((p, _a, _c, r) => extrapolatedRate(p, r, false, false)),

  // === irate(v range-vector) ===
  irate: overTime((p) => instantValue(p, true)),

  // === idelta(v range-vector) ===
  idelta: overTime((p) => instantValue(p, false)),

  // === deriv(v range-vector) ===
  deriv: overTime((s) => (s.end - s.start < 2 ? undefined : linearRegression(s, s.t[s.start])[0])),

  // === predict_linear(v range-vector, t scalar) ===
  predict_linear: overTime((s, args, ctx) => {
    if (s.end - s.start < 2) return undefined;
    const duration = scalarArg(args, 1);
    const [slope, intercept] = linearRegression(s, ctx.tMs);
    return slope * duration + intercept;
  }),

  // === holt_winters(v range-vector, sf scalar, tf scalar) ===
  holt_winters: (args, ctx) => {
    const sf = scalarArg(args, 1);
    const tf = scalarArg(args, 2);
    if (!(sf > 0 && sf < 1)) throw new QueryError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatGoFloatPlain(sf)}`);
    if (!(tf > 0 && tf < 1)) throw new QueryError(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatGoFloatPlain(tf)}`);
    return overTime(({ v, start, end }) => {
      if (end - start < 2) return undefined;
      let s0 = 0;
      let s1 = v[start];
      let b = v[start + 1] - v[start];
      for (let i = start + 1; i < end; i++) {
        const x = sf * v[i];
        // The trend is first updated from the second smoothed value on, as upstream's calcTrendValue.
        if (i - 1 !== start) b = tf * (s1 - s0) + (1 - tf) * b;
        const y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
      }
      return s1;
    })(args, ctx);
  },

  // === resets(v range-vector) ===
  resets: overTime(({ v, start, end }) => {
    let resets = 0;
    let prev = v[start];
    for (let i = start + 1; i < end; i++) {
      if (v[i] < prev) resets++;
      prev = v[i];
    }
    return resets;
  }),

  // === changes(v range-vector) ===
  changes: overTime(({ v, start, end }) => {
    let changes = 0;
    let prev = v[start];
    for (let i = start + 1; i < end; i++) {
      const cur = v[i];
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
      prev = cur;
    }
    return changes;
  }),

  // === avg_over_time(v range-vector) ===
  avg_over_time: overTime(({ v: values, start, end }) => {
    const mean = new KahanSum();
    let count = 0;
    for (let i = start; i < end; i++) {
      const v = values[i];
      count++;
      if (!Number.isFinite(mean.sum) && !Number.isNaN(mean.sum)) {
        // An infinite mean stays as it is unless a NaN or an opposite infinity arrives.
        if (!Number.isFinite(v) && !Number.isNaN(v) && mean.sum > 0 === v > 0) continue;
        if (Number.isFinite(v)) continue;
      }
      mean.add(v / count - mean.sum / count);
    }
    if (!Number.isFinite(mean.sum) && !Number.isNaN(mean.sum)) return mean.sum;
    return mean.sum + mean.c;
  }),

  // === sum_over_time(v range-vector) ===
  sum_over_time: overTime(({ v, start, end }) => {
    const sum = new KahanSum();
    for (let i = start; i < end; i++) sum.add(v[i]);
    if (!Number.isFinite(sum.sum) && !Number.isNaN(sum.sum)) return sum.sum;
    return sum.sum + sum.c;
  }),

  // === count_over_time(v range-vector) ===
  count_over_time: overTime((s) => s.end - s.start),

  // === min_over_time(v range-vector) ===
  min_over_time: overTime(({ v, start, end }) => {
    let min = v[start];
    for (let i = start; i < end; i++) if (v[i] < min || Number.isNaN(min)) min = v[i];
    return min;
  }),

  // === max_over_time(v range-vector) ===
  max_over_time: overTime(({ v, start, end }) => {
    let max = v[start];
    for (let i = start; i < end; i++) if (v[i] > max || Number.isNaN(max)) max = v[i];
    return max;
  }),

  // === last_over_time(v range-vector) ===
  // 2.42 keeps the metric name here, unlike every other *_over_time.
  last_over_time: overTime(({ v, end }) => v[end - 1], 0, true),

  // === present_over_time(v range-vector) ===
  present_over_time: overTime(() => 1),

  // === quantile_over_time(q scalar, v range-vector) ===
  quantile_over_time: overTime((s, args) => goQuantile(scalarArg(args, 0), s.v.slice(s.start, s.end)), 1),

  // === stddev_over_time(v range-vector) ===
  stddev_over_time: overTime((s) => Math.sqrt(stdvarOverTime(s))),

  // === stdvar_over_time(v range-vector) ===
  stdvar_over_time: overTime((s) => stdvarOverTime(s)),

  // === absent_over_time(v range-vector) ===
  absent_over_time: (args, ctx) => {
    const r = rangeArg(args, 0);
    if (r.series.some((s) => s.end > s.start)) return vec([]);
    return vec([{ labels: absentLabels(ctx.argExprs[0]), t: ctx.tMs, v: 1 }]);
  },

  // === absent(v instant-vector) ===
  absent: (args, ctx) => {
    if (vectorArg(args, 0).length > 0) return vec([]);
    return vec([{ labels: absentLabels(ctx.argExprs[0]), t: ctx.tMs, v: 1 }]);
  },

  // === abs(v instant-vector) ===
  abs: simple(Math.abs),
  // === ceil(v instant-vector) ===
  ceil: simple(Math.ceil),
  // === floor(v instant-vector) ===
  floor: simple(Math.floor),
  // === exp(v instant-vector) ===
  exp: simple(goExp),
  // === sqrt(v instant-vector) ===
  sqrt: simple(Math.sqrt),
  // === ln(v instant-vector) ===
  ln: simple(goLog),
  // === log2(v instant-vector) ===
  log2: simple(goLog2),
  // === log10(v instant-vector) ===
  log10: simple(goLog10),
  // === sgn(v instant-vector) ===
  sgn: simple((v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  // === acos(v instant-vector) === and the other trigonometric functions (Go's algorithms where
  // they differ from V8's, including Go's amd64 Exp and Log under the hyperbolic ones)
  acos: simple(goAcos),
  acosh: simple(goAcosh),
  asin: simple(goAsin),
  asinh: simple(goAsinh),
  atan: simple(goAtanFn),
  atanh: simple(goAtanh),
  cos: simple(goCos),
  cosh: simple(goCosh),
  sin: simple(goSin),
  sinh: simple(goSinh),
  tan: simple(goTan),
  tanh: simple(goTanh),
  // === deg(v instant-vector) ===
  deg: simple((v) => (v * 180) / Math.PI),
  // === rad(v instant-vector) ===
  rad: simple((v) => (v * Math.PI) / 180),

  // === round(v instant-vector, to_nearest scalar) ===
  round: (args, ctx) => {
    const toNearest = args.length >= 2 ? scalarArg(args, 1) : 1;
    // Upstream inverts first: fewer floating point surprises than dividing by toNearest.
    const inverse = 1 / toNearest;
    return vec(vectorArg(args, 0).map((s) => ({ labels: dropMetricName(s.labels), t: ctx.tMs, v: Math.floor(s.v * inverse + 0.5) / inverse })));
  },

  // === clamp(v instant-vector, min scalar, max scalar) ===
  clamp: (args, ctx) => {
    const min = scalarArg(args, 1);
    const max = scalarArg(args, 2);
    if (max < min) return vec([]);
    return vec(vectorArg(args, 0).map((s) => ({ labels: dropMetricName(s.labels), t: ctx.tMs, v: goMax(min, goMin(max, s.v)) })));
  },

  // === clamp_max(v instant-vector, max scalar) ===
  clamp_max: (args, ctx) => {
    const max = scalarArg(args, 1);
    return vec(vectorArg(args, 0).map((s) => ({ labels: dropMetricName(s.labels), t: ctx.tMs, v: goMin(max, s.v) })));
  },

  // === clamp_min(v instant-vector, min scalar) ===
  clamp_min: (args, ctx) => {
    const min = scalarArg(args, 1);
    return vec(vectorArg(args, 0).map((s) => ({ labels: dropMetricName(s.labels), t: ctx.tMs, v: goMax(min, s.v) })));
  },

  // === scalar(v instant-vector) scalar ===
  scalar: (args) => {
    const v = vectorArg(args, 0);
    return { type: 'scalar', v: v.length === 1 ? v[0].v : NaN };
  },

  // === vector(s scalar) ===
  vector: (args, ctx) => vec([{ labels: {}, t: ctx.tMs, v: scalarArg(args, 0) }]),

  // === timestamp(v instant-vector) ===
  // The engine passes sample timestamps (not the step time) when the argument is a selector.
  timestamp: (args, ctx) => vec(vectorArg(args, 0).map((s) => ({ labels: dropMetricName(s.labels), t: ctx.tMs, v: s.t / 1000 }))),

  // === sort(v instant-vector) ===
  sort: (args) => vec(sortByValue(vectorArg(args, 0), false)),

  // === sort_desc(v instant-vector) ===
  sort_desc: (args) => vec(sortByValue(vectorArg(args, 0), true)),

  // === histogram_quantile(q scalar, b instant-vector) ===
  histogram_quantile: (args, ctx) => {
    const q = scalarArg(args, 0);
    const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
    for (const s of vectorArg(args, 1)) {
      const le = s.labels.le;
      const parsed = le === undefined ? undefined : parseGoFloat(le);
      // No `le` label, or one ParseFloat rejects (out of range too): skipped, as upstream does.
      if (parsed === undefined || parsed.error !== undefined) continue;
      const upperBound = parsed.value;
      const rest: Record<string, string> = { ...s.labels };
      delete rest.le;
      // Grouped by every label but `le` (the name included); the output drops the name.
      const key = signature(rest);
      let g = groups.get(key);
      if (g === undefined) {
        g = { labels: dropMetricName(rest), buckets: [] };
        groups.set(key, g);
      }
      g.buckets.push({ upperBound, count: s.v });
    }
    const out: InstantSample[] = [];
    for (const g of groups.values()) {
      if (g.buckets.length > 0) out.push({ labels: g.labels, t: ctx.tMs, v: bucketQuantile(q, g.buckets) });
    }
    return vec(out);
  },

  // === label_replace(v instant-vector, dst string, replacement string, src string, regex string) ===
  label_replace: (args, ctx) => {
    const dst = stringArg(args, 1);
    const repl = stringArg(args, 2);
    const src = stringArg(args, 3);
    const regexStr = stringArg(args, 4);
    let re;
    try {
      re = ctx.regexes.get(regexStr);
    } catch (err) {
      throw new QueryError(`invalid regular expression in label_replace(): ${regexStr}`, { cause: err });
    }
    if (!LABEL_NAME_RE.test(dst)) throw new QueryError(`invalid destination label name in label_replace(): ${dst}`);
    const named = re.namedGroups();
    const out: InstantSample[] = [];
    for (const s of vectorArg(args, 0)) {
      const srcVal = s.labels[src] ?? '';
      const m = re.matcher(srcVal);
      if (!m.matches()) {
        out.push({ labels: s.labels, t: ctx.tMs, v: s.v });
        continue;
      }
      const res = expandGoTemplate(repl, (ref) => {
        if (typeof ref === 'number') return ref <= m.groupCount() ? (m.group(ref) ?? '') : '';
        return ref in named ? (m.group(ref) ?? '') : '';
      });
      out.push({ labels: setLabel(s.labels, dst, res), t: ctx.tMs, v: s.v });
    }
    return vec(out);
  },

  // === label_join(v instant-vector, dst string, sep string, src string...) ===
  label_join: (args, ctx) => {
    const dst = stringArg(args, 1);
    const sep = stringArg(args, 2);
    const srcs: string[] = [];
    for (let i = 3; i < args.length; i++) {
      const src = stringArg(args, i);
      if (!LABEL_NAME_RE.test(src)) throw new QueryError(`invalid source label name in label_join(): ${src}`);
      srcs.push(src);
    }
    if (!LABEL_NAME_RE.test(dst)) throw new QueryError(`invalid destination label name in label_join(): ${dst}`);
    return vec(
      vectorArg(args, 0).map((s) => ({
        labels: setLabel(
          s.labels,
          dst,
          srcs.map((n) => s.labels[n] ?? '').join(sep),
        ),
        t: ctx.tMs,
        v: s.v,
      })),
    );
  },

  // === minute(v=vector(time()) instant-vector) ===
  minute: dateFn((d) => d.minute),
  // === hour(v=vector(time()) instant-vector) ===
  hour: dateFn((d) => d.hour),
  // === day_of_week(v=vector(time()) instant-vector) ===
  day_of_week: dateFn((d) => d.dayOfWeek),
  // === day_of_month(v=vector(time()) instant-vector) ===
  day_of_month: dateFn((d) => d.dayOfMonth),
  // === days_in_month(v=vector(time()) instant-vector) ===
  days_in_month: dateFn((d) => d.daysInMonth),
  // === month(v=vector(time()) instant-vector) ===
  month: dateFn((d) => d.month),
  // === year(v=vector(time()) instant-vector) ===
  year: dateFn((d) => d.year),
};

function stdvarOverTime({ v: values, start, end }: RangeSeries): number {
  let count = 0;
  const mean = new KahanSum();
  const aux = new KahanSum();
  for (let i = start; i < end; i++) {
    const v = values[i];
    count++;
    const delta = v - (mean.sum + mean.c);
    mean.add(delta / count);
    aux.add(delta * (v - (mean.sum + mean.c)));
  }
  return (aux.sum + aux.c) / count;
}

/** goMax is Go's math.Max: +Inf wins even over NaN, then NaN wins, +0 beats -0. */
function goMax(a: number, b: number): number {
  if (a === Infinity || b === Infinity) return Infinity;
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  return Math.max(a, b);
}

/** goMin is Go's math.Min: -Inf wins even over NaN, then NaN wins, -0 beats +0. */
function goMin(a: number, b: number): number {
  if (a === -Infinity || b === -Infinity) return -Infinity;
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  return Math.min(a, b);
}

