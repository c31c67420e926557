/**
 * generate: a seeded generator of promtool unit-test material for differential testing: input
 * series in promtool's expanding notation and random PromQL expressions (as shrinkable trees)
 * from the grammar the engine supports, plus alerting rules whose annotations exercise the
 * template helpers. Everything is a pure function of the seed, so a discrepancy is replayable.
 */
import { formatDurationMs } from '../../../src/time/index.js';

/** Rng is a small seeded PRNG (mulberry32); Math.random would make failures unreplayable. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** next returns a float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** int returns an integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** pick returns one element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)];
  }

  /** chance is true with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** weighted picks a key by weight; entries with weight 0 are never picked. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [v, w] of entries) {
      if (r < w) return v;
      r -= w;
    }
    return entries[entries.length - 1][0];
  }
}

/** GenSeries is one `input_series` entry. */
export interface GenSeries {
  readonly series: string;
  readonly values: string;
}

/** ValType is a PromQL value type the generator produces. */
export type ValType = 'vector' | 'scalar' | 'matrix';

/**
 * ExprNode is a generated expression as a tree: `render` prints it from its children, `alts` are
 * simpler expressions of the same type that the minimiser may substitute for it.
 */
export interface ExprNode {
  readonly type: ValType;
  readonly kids: readonly ExprNode[];
  readonly render: (kids: readonly string[]) => string;
  readonly alts: readonly ExprNode[];
}

/** exprText prints an expression tree. */
export function exprText(n: ExprNode): string {
  return n.render(n.kids.map(exprText));
}

/** PromqlCase is one expression evaluated at one time. */
export interface PromqlCase {
  readonly expr: ExprNode;
  readonly evalTimeMs: number;
}

/** PromqlGroup is one test group: an interval, its input series and the cases over them. */
export interface PromqlGroup {
  readonly intervalMs: number;
  readonly series: readonly GenSeries[];
  readonly cases: readonly PromqlCase[];
}

/** World is what expressions are generated against: the interval and how long the data runs. */
interface World {
  readonly intervalMs: number;
  readonly steps: number;
}

const INTERVALS = [15_000, 60_000, 90_000] as const;
const JOBS = ['api', 'db', 'Web-Edge'] as const;
const INSTANCES = ['a-1', 'b-2', 'c_3'] as const;
const LES = ['0.1', '0.5', '1', '2.5', '+Inf'] as const;

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** counterValues writes a counter with increments, occasional resets, gaps and stale markers. */
function counterValues(rng: Rng, steps: number): string {
  const out: string[] = [];
  let n = 0;
  let v = rng.pick([0, 1, 5, 100, 1e6, 0.5, 3]);
  while (n < steps) {
    const k = Math.min(steps - n - 1, rng.int(0, 12));
    const kind = rng.weighted([['run', 6], ['reset', 1], ['gap', 1], ['gaps', 0.6], ['stale', 0.5], ['flat', 1], ['one', 1], ['nan', 0.2]] as const);
    if (kind === 'run' && k > 0) {
      const inc = rng.pick([1, 2, 0.5, 0.1, 3, 10, 1000, 7, 0.3]);
      out.push(`${num(v)}+${num(inc)}x${k}`);
      v += inc * k + rng.pick([0, inc]);
      n += k + 1;
    } else if (kind === 'reset') {
      v = rng.pick([0, 1, 2, 0.5]);
      out.push(num(v));
      v += rng.pick([1, 3, 10]);
      n++;
    } else if (kind === 'gap') {
      out.push('_');
      n++;
    } else if (kind === 'gaps' && k > 0) {
      out.push(`_x${k}`);
      n += k;
    } else if (kind === 'stale') {
      out.push('stale');
      n++;
    } else if (kind === 'flat' && k > 0) {
      out.push(`${num(v)}x${k}`);
      n += k + 1;
    } else if (kind === 'nan') {
      out.push('NaN');
      n++;
    } else {
      out.push(num(v));
      v += rng.pick([1, 2, 5]);
      n++;
    }
  }
  return out.join(' ');
}

const GAUGE_VALUES = [-5, 0, 0.1, 0.2, 0.3, 1.5, 2, 3, 7, 10, 42, 99.5, 1e-7, 1e15, 123456789, -0.25, 0.9, 1, 2.5, 1e308, 5e-324] as const;

/** gaugeValues writes a gauge: literals, ramps up and down, repeats, NaN/Inf, gaps, stale. */
function gaugeValues(rng: Rng, steps: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < steps) {
    const k = Math.min(steps - n - 1, rng.int(0, 8));
    const kind = rng.weighted([['lit', 6], ['up', 1.5], ['down', 1.5], ['rep', 1], ['gap', 0.8], ['stale', 0.5], ['special', 0.4]] as const);
    const v = rng.pick(GAUGE_VALUES);
    if ((kind === 'up' || kind === 'down') && k > 0) {
      out.push(`${num(v)}${kind === 'up' ? '+' : '-'}${num(rng.pick([0.1, 1, 2.5, 0.3, 100]))}x${k}`);
      n += k + 1;
    } else if (kind === 'rep' && k > 0) {
      out.push(`${num(v)}x${k}`);
      n += k + 1;
    } else if (kind === 'gap') {
      out.push(k > 1 && rng.chance(0.4) ? `_x${k}` : '_');
      n += k > 1 && out[out.length - 1] !== '_' ? k : 1;
    } else if (kind === 'stale') {
      out.push('stale');
      n++;
    } else if (kind === 'special') {
      out.push(rng.pick(['NaN', 'Inf', '-Inf']));
      n++;
    } else {
      out.push(num(v));
      n++;
    }
  }
  return out.join(' ');
}

/** generateSeries makes a handful of series: counters, gauges, an up metric and a histogram. */
export function generateSeries(rng: Rng, steps: number): GenSeries[] {
  const out: GenSeries[] = [];
  const seen = new Set<string>();
  const add = (series: string, values: string): void => {
    if (seen.has(series)) return;
    seen.add(series);
    out.push({ series, values });
  };
  for (let i = rng.int(1, 3); i > 0; i--) add(`req_total{job="${rng.pick(JOBS)}", instance="${rng.pick(INSTANCES)}"}`, counterValues(rng, steps));
  for (let i = rng.int(1, 3); i > 0; i--) add(`temp{job="${rng.pick(JOBS)}", instance="${rng.pick(INSTANCES)}"}`, gaugeValues(rng, steps));
  if (rng.chance(0.6)) {
    for (const inst of INSTANCES.slice(0, rng.int(1, 2))) {
      add(`up{job="api", instance="${inst}"}`, Array.from({ length: steps }, () => (rng.chance(0.8) ? '1' : rng.pick(['0', '_']))).join(' '));
    }
  }
  if (rng.chance(0.5)) {
    // Cumulative buckets: each bucket is the previous one plus a non-negative increment.
    const job = rng.pick(JOBS);
    let prev = Array.from({ length: steps }, () => 0);
    const resetAt = rng.chance(0.3) ? rng.int(1, steps - 1) : -1;
    for (const le of LES.slice(rng.int(0, 2))) {
      const base = rng.pick([0, 1, 2]);
      const per = rng.pick([0, 1, 2, 5]);
      const vals = prev.map((p, i) => p + (i >= resetAt && resetAt >= 0 ? base + per * (i - resetAt) : base + per * i));
      prev = vals;
      add(`lat_bucket{job="${job}", le="${le}"}`, vals.map((v) => num(v)).join(' '));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Expressions

function leaf(type: ValType, text: string, alts: readonly ExprNode[] = []): ExprNode {
  return { type, kids: [], render: () => text, alts };
}

function node(type: ValType, kids: readonly ExprNode[], render: (k: readonly string[]) => string, alts: readonly ExprNode[] = []): ExprNode {
  return { type, kids, render, alts };
}

const METRICS = ['req_total', 'temp', 'up', 'lat_bucket'] as const;
const RANGES = ['15s', '30s', '45s', '1m', '90s', '2m', '3m', '5m', '10m', '1m30s'] as const;
const OFFSETS = ['30s', '1m', '90s', '2m', '5m', '-1m', '15s'] as const;
const MATRIX_FNS = [
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'resets', 'changes', 'avg_over_time', 'min_over_time',
  'max_over_time', 'sum_over_time', 'count_over_time', 'stddev_over_time', 'stdvar_over_time', 'last_over_time',
  'present_over_time', 'absent_over_time',
] as const;
const VECTOR_FNS = [
  'abs', 'ceil', 'floor', 'round', 'sqrt', 'exp', 'ln', 'log2', 'log10', 'sgn', 'timestamp', 'sort', 'sort_desc', 'absent',
  'deg', 'rad', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh',
  'day_of_week', 'day_of_month', 'days_in_month', 'hour', 'minute', 'month', 'year',
] as const;
const SCALARS = ['0', '1', '2', '0.5', '-1', '10', '100', '1e3', '0.1', '3', '0.3', '1e-3', '-0.5', '7'] as const;
const AGGS = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar'] as const;
const ARITH = ['+', '-', '*', '/', '%', '^'] as const;
const CMP = ['==', '!=', '>', '<', '>=', '<='] as const;
const SETOPS = ['and', 'or', 'unless'] as const;
const GROUP_LABELS = ['job', 'instance', 'le'] as const;

/** selector builds `metric{matchers}` with optional offset / @, its alts being the bare forms. */
function selector(rng: Rng, w: World): ExprNode {
  const m = rng.pick(METRICS);
  const matchers: string[] = [];
  if (rng.chance(0.4)) {
    const label = rng.pick(['job', 'instance'] as const);
    const op = rng.pick(['=', '!=', '=~', '!~'] as const);
    const value = op === '=~' || op === '!~' ? rng.pick(['a.*', 'api|db', '.*-.*', 'b-2', '', 'Web.+', '[ab]-[0-9]']) : rng.pick(label === 'job' ? JOBS : INSTANCES);
    matchers.push(`${label}${op}${JSON.stringify(value)}`);
  }
  const nameMatcher = rng.chance(0.05);
  if (nameMatcher) matchers.push(`__name__=~${JSON.stringify(rng.pick(['req_total|temp', 't.*', 'up']))}`);
  const base = nameMatcher ? `{${matchers.join(', ')}}` : matchers.length > 0 ? `${m}{${matchers.join(', ')}}` : m;
  const plain = leaf('vector', m);
  const mod = modifier(rng, w);
  if (mod === '') return base === m ? plain : leaf('vector', base, [plain]);
  return leaf('vector', `${base}${mod}`, [leaf('vector', base, base === m ? [] : [plain]), plain]);
}

function modifier(rng: Rng, w: World): string {
  let out = '';
  if (rng.chance(0.12)) {
    const at = rng.chance(0.3) ? rng.pick(['start()', 'end()']) : String((rng.int(0, w.steps) * w.intervalMs + rng.pick([0, 0, 0, 7_000, 30_000])) / 1000);
    out += ` @ ${at}`;
  }
  if (rng.chance(0.15)) out += ` offset ${rng.pick(OFFSETS)}`;
  return out;
}

function rangeSelector(rng: Rng, w: World): ExprNode {
  const m = rng.pick(METRICS);
  const range = rng.pick(RANGES);
  const matchers = rng.chance(0.3) ? `{job=${JSON.stringify(rng.pick(JOBS))}}` : '';
  const mod = modifier(rng, w);
  const plain = leaf('matrix', `${m}[${range}]`);
  if (mod === '' && matchers === '') return plain;
  return leaf('matrix', `${m}${matchers}[${range}]${mod}`, [plain]);
}

function genMatrix(rng: Rng, w: World, depth: number): ExprNode {
  if (depth > 0 && rng.chance(0.2)) {
    const inner = genVector(rng, w, depth - 1);
    const range = rng.pick(['2m', '5m', '3m', '10m', '90s', '1m']);
    const step = rng.pick(['1m', '30s', '', '15s', '2m', '45s']);
    const off = rng.chance(0.15) ? ` offset ${rng.pick(['1m', '30s'])}` : '';
    return node('matrix', [inner], ([k]) => `(${k})[${range}:${step}]${off}`, [rangeSelector(rng, w)]);
  }
  return rangeSelector(rng, w);
}

function scalarLit(rng: Rng): ExprNode {
  return leaf('scalar', rng.pick(SCALARS));
}

function genScalar(rng: Rng, w: World, depth: number): ExprNode {
  const one = leaf('scalar', '1');
  const kind = rng.weighted([['lit', 6], ['scalar', depth > 0 ? 1 : 0], ['time', 0.5], ['binop', depth > 0 ? 0.5 : 0], ['special', 0.3]] as const);
  switch (kind) {
    case 'scalar':
      return node('scalar', [genVector(rng, w, depth - 1)], ([k]) => `scalar(${k})`, [one]);
    case 'time':
      return leaf('scalar', 'time()', [one]);
    case 'binop': {
      const op = rng.pick([...ARITH, ...CMP.map((c) => `${c} bool`)]);
      return node('scalar', [genScalar(rng, w, depth - 1), genScalar(rng, w, depth - 1)], ([a, b]) => `(${a} ${op} ${b})`, [one]);
    }
    case 'special':
      return leaf('scalar', rng.pick(['Inf', '-Inf', 'NaN', '1e308', '-0']), [one]);
    default:
      return scalarLit(rng);
  }
}

function grouping(rng: Rng): string {
  if (rng.chance(0.35)) return '';
  const labels = rng.chance(0.15) ? [] : [...new Set([rng.pick(GROUP_LABELS), ...(rng.chance(0.3) ? [rng.pick(GROUP_LABELS)] : [])])];
  return ` ${rng.chance(0.7) ? 'by' : 'without'} (${labels.join(', ')})`;
}

function matching(rng: Rng, setOp: boolean): string {
  if (rng.chance(0.5)) return '';
  const labels = rng.chance(0.2) ? [] : [...new Set([rng.pick(GROUP_LABELS), ...(rng.chance(0.3) ? [rng.pick(GROUP_LABELS)] : [])])];
  let out = ` ${rng.chance(0.6) ? 'on' : 'ignoring'}(${labels.join(', ')})`;
  if (!setOp && rng.chance(0.35)) {
    // `group_left (x)` would read (x) as the include-labels list: bare modifiers only before
    // unparenthesised operands (see the caller).
    out += ` ${rng.pick(['group_left', 'group_right'])}${rng.weighted([[`(${rng.pick(GROUP_LABELS)})`, 3], ['()', 2], ['', 2]] as const)}`;
  }
  return out;
}

/** sibling derives a same-labelled vector from `a` (shifted, transformed or aggregated). */
function sibling(rng: Rng, a: ExprNode): ExprNode {
  const f = rng.pick(['abs(X)', 'X', 'X offset 1m', 'clamp_min(X, 1)', '-X', 'sort_desc(X)', 'X * 2', 'floor(X)', 'sum by (job) (X)', 'max by (job, instance) (X)', 'timestamp(X)']);
  if (f.includes('offset') && (a.kids.length > 0 || exprText(a).includes('offset'))) return a;
  return node('vector', [a], ([x]) => f.replace('X', f.includes('offset') ? x : `(${x})`));
}

/** wrapper decides once (render must be pure) whether an operand is parenthesised. */
function wrapper(rng: Rng): (k: string) => string {
  // Unparenthesised operands now and then, so precedence and associativity get exercised.
  return rng.chance(0.8) ? (k) => `(${k})` : (k) => k;
}

function genVector(rng: Rng, w: World, depth: number): ExprNode {
  if (depth <= 0) return selector(rng, w);
  const kind = rng.weighted([
    ['sel', 3], ['mfn', 4], ['vfn', 2], ['agg', 3], ['vv', 2.5], ['vs', 2], ['neg', 0.4], ['hq', 0.5], ['label', 0.5],
    ['vector', 0.3], ['clamp', 0.6], ['topk', 0.8], ['quantile', 0.5], ['count_values', 0.3], ['predict', 0.4], ['qot', 0.4],
  ] as const);
  const sel = (): ExprNode => selector(rng, w);
  switch (kind) {
    case 'sel':
      return sel();
    case 'mfn': {
      const f = rng.pick(MATRIX_FNS);
      return node('vector', [genMatrix(rng, w, depth - 1)], ([k]) => `${f}(${k})`, [sel()]);
    }
    case 'predict': {
      const s = rng.pick(['60', '0', '-30', '300', '1.5']);
      return node('vector', [genMatrix(rng, w, depth - 1)], ([k]) => `predict_linear(${k}, ${s})`);
    }
    case 'qot':
      return node('vector', [genScalar(rng, w, 0), genMatrix(rng, w, depth - 1)], ([q, m]) => `quantile_over_time(${q}, ${m})`);
    case 'vfn': {
      const f = rng.pick(VECTOR_FNS);
      if (f === 'round' && rng.chance(0.5)) {
        const to = rng.pick(['0.1', '5', '0.25', '2', '-1', '0']);
        return node('vector', [genVector(rng, w, depth - 1)], ([k]) => `round(${k}, ${to})`);
      }
      if (f.startsWith('day') || ['hour', 'minute', 'month', 'year'].includes(f)) {
        if (rng.chance(0.3)) return leaf('vector', `${f}()`, [sel()]);
      }
      return node('vector', [genVector(rng, w, depth - 1)], ([k]) => `${f}(${k})`);
    }
    case 'clamp': {
      const f = rng.pick(['clamp', 'clamp_min', 'clamp_max'] as const);
      const args = f === 'clamp' ? [genScalar(rng, w, depth - 1), genScalar(rng, w, depth - 1)] : [genScalar(rng, w, depth - 1)];
      return node('vector', [genVector(rng, w, depth - 1), ...args], (k) => `${f}(${k.join(', ')})`);
    }
    case 'agg': {
      const op = rng.pick(AGGS);
      const g = grouping(rng);
      const pre = rng.chance(0.5);
      return node('vector', [genVector(rng, w, depth - 1)], ([k]) => (pre ? `${op}${g} (${k})` : `${op}(${k})${g}`));
    }
    case 'topk': {
      const op = rng.pick(['topk', 'bottomk'] as const);
      const g = grouping(rng);
      return node('vector', [genScalar(rng, w, 0), genVector(rng, w, depth - 1)], ([k, v]) => `${op}${g} (${k}, ${v})`);
    }
    case 'quantile': {
      const g = grouping(rng);
      const q = leaf('scalar', rng.pick(['0', '0.5', '0.9', '1', '-0.5', '1.5', '0.25', '0.99']));
      return node('vector', [q, genVector(rng, w, depth - 1)], ([a, v]) => `quantile${g} (${a}, ${v})`);
    }
    case 'count_values': {
      const g = grouping(rng);
      const label = rng.pick(['value', 'v', 'job']);
      return node('vector', [genVector(rng, w, depth - 1)], ([v]) => `count_values${g} (${JSON.stringify(label)}, ${v})`);
    }
    case 'vv': {
      const setOp = rng.chance(0.25);
      const op = setOp ? rng.pick(SETOPS) : rng.chance(0.5) ? rng.pick(ARITH) : rng.pick(CMP);
      const bool = CMP.includes(op as (typeof CMP)[number]) && rng.chance(0.4) ? ' bool' : '';
      const m = matching(rng, setOp);
      const a = genVector(rng, w, depth - 1);
      // Half the time the right side derives from the left, so the sides share label sets and
      // the operation has something to match.
      const b = rng.chance(0.5) ? genVector(rng, w, depth - 1) : sibling(rng, a);
      const wa = wrapper(rng);
      const wb = /group_(left|right)$/.test(m) ? (k: string): string => k : wrapper(rng);
      return node('vector', [a, b], ([x, y]) => `${wa(x)} ${op}${bool}${m} ${wb(y)}`);
    }
    case 'vs': {
      const op = rng.chance(0.6) ? rng.pick(ARITH) : rng.pick(CMP);
      const bool = CMP.includes(op as (typeof CMP)[number]) && rng.chance(0.3) ? ' bool' : '';
      const v = genVector(rng, w, depth - 1);
      const s = genScalar(rng, w, depth - 1);
      const left = rng.chance(0.3);
      const wv = wrapper(rng);
      return left
        ? node('vector', [s, v], ([x, y]) => `${x} ${op}${bool} ${wv(y)}`)
        : node('vector', [v, s], ([x, y]) => `${wv(x)} ${op}${bool} ${y}`);
    }
    case 'neg':
      return node('vector', [genVector(rng, w, depth - 1)], ([k]) => `-(${k})`);
    case 'hq': {
      const q = rng.pick(['0.5', '0.9', '0.99', '0', '1', '-1', '2', '0.75']);
      const byLe = rng.pick(['by (le)', 'by (le, job)', 'without (instance)']);
      const inner = rng.chance(0.7) ? leaf('vector', `sum ${byLe} (rate(lat_bucket[${rng.pick(['1m', '2m', '5m'])}]))`) : leaf('vector', 'lat_bucket');
      return node('vector', [inner], ([k]) => `histogram_quantile(${q}, ${k})`);
    }
    case 'label': {
      if (rng.chance(0.5)) {
        const [dst, src, re, rep] = rng.pick([
          ['job', 'instance', '(.*)-(.*)', '$2'],
          ['host', 'instance', '([a-z]+).*', '${1}x'],
          ['instance', 'job', '(.*)', 'x-$1'],
          ['job', 'instance', 'nomatch', 'y'],
          ['new', 'job', '.*', ''],
        ] as const);
        return node('vector', [genVector(rng, w, depth - 1)], ([k]) => `label_replace(${k}, ${JSON.stringify(dst)}, ${JSON.stringify(rep)}, ${JSON.stringify(src)}, ${JSON.stringify(re)})`);
      }
      const dst = rng.pick(['joined', 'job']);
      const sep = rng.pick(['-', ',', '']);
      const srcs = rng.pick([['job', 'instance'], ['instance'], ['job', 'missing', 'instance'], []]);
      return node('vector', [genVector(rng, w, depth - 1)], ([k]) => `label_join(${[k, ...[dst, sep, ...srcs].map((s) => JSON.stringify(s))].join(', ')})`);
    }
    case 'vector':
      return node('vector', [genScalar(rng, w, depth - 1)], ([k]) => `vector(${k})`);
    default:
      return sel();
  }
}

/** generateExpr returns a random expression tree of instant-vector (or sometimes scalar) type. */
export function generateExpr(rng: Rng, intervalMs: number, steps: number, maxDepth = 3): ExprNode {
  const w: World = { intervalMs, steps };
  if (rng.chance(0.05)) return genScalar(rng, w, maxDepth);
  return genVector(rng, w, rng.int(1, maxDepth));
}

/** evalTime picks a time on a sample, between samples or at the ends of the data. */
function evalTime(rng: Rng, intervalMs: number, steps: number): number {
  const i = rng.int(0, steps - 1);
  const off = rng.weighted([[0, 5], [Math.floor(intervalMs / 2), 1], [1000, 1], [intervalMs - 1000, 1], [7000, 1]] as const);
  return i * intervalMs + off;
}

/** generatePromqlGroup makes one test group: series over 12..40 steps and `cases` expressions. */
export function generatePromqlGroup(rng: Rng, cases: number, maxDepth = 3): PromqlGroup {
  const intervalMs = rng.pick(INTERVALS);
  const steps = rng.int(12, 40);
  const series = generateSeries(rng, steps);
  const out: PromqlCase[] = [];
  for (let i = 0; i < cases; i++) out.push({ expr: generateExpr(rng, intervalMs, steps, maxDepth), evalTimeMs: evalTime(rng, intervalMs, steps) });
  return { intervalMs, series, cases: out };
}

// ---------------------------------------------------------------------------------------------
// Alerting rules with templated annotations

/** GenAlertRule is one alerting rule of the generated rule file. */
export interface GenAlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly forText: string;
  readonly keepFiringFor?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** AlertGroup is one test group for the alert rules: series and the times alerts are checked. */
export interface AlertGroup {
  readonly intervalMs: number;
  readonly series: readonly GenSeries[];
  readonly evalTimesMs: readonly number[];
}

const TEMPLATES = [
  '{{ $value }}',
  '{{ .Value }}',
  '{{ $value | humanize }}',
  '{{ humanize $value }}',
  '{{ humanize1024 $value }}',
  '{{ $value | humanizeDuration }}',
  '{{ humanizePercentage $value }}',
  '{{ printf "%.2f" $value }}',
  '{{ printf "%.0f" $value }}',
  '{{ printf "%.3g" $value }}',
  '{{ printf "%g" $value }}',
  '{{ printf "%e" $value }}',
  '{{ printf "%.1e" $value }}',
  '{{ printf "%8.3f|" $value }}',
  '{{ printf "%-8.2f|" $value }}',
  '{{ printf "%+.3f" $value }}',
  '{{ printf "%08.2f" $value }}',
  '{{ printf "%v" $value }}',
  '{{ printf "%d" $value }}',
  '{{ printf "%s" $value }}',
  '{{ printf "%5.1f%%" $value }}',
  '{{ printf "%x" $value }}',
  '{{ printf "%G" $value }}',
  '{{ printf "%.10g" $value }}',
  '{{ $value | printf "%.1f" }}',
  '{{ printf "%s on %s" $labels.job $labels.instance }}',
  '{{ printf "%q" $labels.instance }}',
  '{{ printf "%10s|" $labels.job }}',
  '{{ printf "%-6s|" $labels.job }}',
  '{{ $labels.job | title }}',
  '{{ title $labels.instance }}',
  '{{ $labels.instance | toUpper }}',
  '{{ toLower $labels.job }}',
  '{{ reReplaceAll "(.*)-(.*)" "$2_$1" $labels.instance }}',
  '{{ reReplaceAll "[aeiou]" "" $labels.job }}',
  '{{ $labels.nonexistent }}',
  '{{ if gt $value 5.0 }}high{{ else }}low{{ end }}',
  '{{ if eq $labels.job "api" }}API{{ else }}other {{ $labels.job }}{{ end }}',
  '{{ with $labels.instance }}on {{ . }}{{ end }}',
  '{{ humanize ($value) }} of {{ $labels.job }}',
  '{{ $value | humanizePercentage }} ({{ printf "%.4f" $value }})',
  '{{ len $labels }} labels',
  '{{ index $labels "job" }}',
  '{{ $value | humanize1024 }}B',
  '{{ humanizeDuration 0.5 }}',
  '{{ printf "%.2f" 2.675 }} {{ printf "%.0f" 2.5 }} {{ printf "%.1f" 0.25 }}',
  '{{ printf "%T" $value }}',
  '{{ printf "%t" true }}',
  '{{ printf "%5.2f%%" (humanizePercentage $value) }}',
  'literal {{"text"}} {{ 42 }} {{ 1.5 }}',
  '{{ printf "%.3x" $value }}',
  '{{ printf "%b" $value }}',
  '{{ printf "%X" $value }}',
  '{{ printf "%6.2d" $value }}',
  '{{ printf "%q" $value }}',
  '{{ printf "%10.3v|" $value }}',
  '{{ printf "% .3f" $value }}',
  '{{ printf "%+.2e" $value }}',
  '{{ printf "%08.3e" $value }}',
  '{{ printf "%-+8.1f|" $value }}',
  '{{ printf "%#v" $value }}',
  '{{ printf "%5.1q" $labels.job }}',
  '{{ printf "%x" $labels.job }}',
  '{{ printf "%c%c" 75 56 }}',
  '{{ printf "%U" 65 }}',
  '{{ humanizeTimestamp $value }}',
  '{{ $value | toTime }}',
  '{{ "api.example.com:9090" | stripPort }}',
  '{{ "api.example.com:9090" | stripDomain }}',
  '{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}',
  '{{ match "a.*" $labels.instance }}',
  '{{ printf "%.1f" (parseDuration "1m30s") }}',
  '{{ printf "%d items" (len $labels) }}',
  '{{ $value | humanize | printf "%s!" }}',
  '{{ printf "%s" (humanizePercentage 0.12345) }}',
] as const;

// Multi-series float sums (sum, avg) are left out: their rounding depends on promtool's random
// series creation order. `job:temp:max` is the generated recording rule.
const ALERT_EXPRS = [
  'temp', 'temp * 1000', 'temp / 3', 'temp * 1e6', 'temp / 1e4', 'rate(req_total[2m])', 'req_total', 'increase(req_total[5m])',
  'temp > 1', 'temp != 0', 'up == 0', 'temp * 86400', '-temp', 'temp * 1024', 'temp * 1048576', 'temp / 7', 'max by (job) (temp)',
  'min(temp)', 'temp * 3661', 'temp ^ 3', 'temp - 0.1', 'temp + 0.2', 'count(temp)', 'job:temp:max > 0.5', 'job:temp:max',
  'absent(nonexistent{job="x"})', 'temp > bool 5', 'changes(temp[3m]) > 0', 'delta(temp[2m])',
] as const;

/** generateAlertRules makes `n` alerting rules with 1..3 templated annotations each. */
export function generateAlertRules(rng: Rng, n: number): GenAlertRule[] {
  const out: GenAlertRule[] = [];
  for (let i = 0; i < n; i++) {
    const annotations: Record<string, string> = {};
    for (let j = rng.int(1, 3); j > 0; j--) annotations[`a${j}`] = rng.pick(TEMPLATES);
    const labels: Record<string, string> = { severity: rng.pick(['page', 'ticket']) };
    if (rng.chance(0.2)) labels.team = rng.pick(['{{ $labels.job | toUpper }}', 'sre', '{{ if gt $value 5.0 }}hot{{ else }}cold{{ end }}']);
    const keep = rng.chance(0.2) ? { keepFiringFor: rng.pick(['1m', '2m', '90s']) } : {};
    out.push({ alert: `Gen${i}`, expr: rng.pick(ALERT_EXPRS), forText: rng.pick(['0s', '0s', '1m', '2m', '90s']), ...keep, labels, annotations });
  }
  return out;
}

/** generateAlertGroup makes series and a few alert check times (some between evaluations). */
export function generateAlertGroup(rng: Rng): AlertGroup {
  const intervalMs = rng.pick(INTERVALS);
  const steps = rng.int(6, 20);
  const series = generateSeries(rng, steps);
  const times = new Set<number>();
  for (let i = rng.int(1, 3); i > 0; i--) times.add(rng.int(0, Math.floor((steps * intervalMs) / 60_000)) * 60_000 + rng.pick([0, 0, 30_000]));
  return { intervalMs, series, evalTimesMs: [...times].sort((a, b) => a - b) };
}

/** durationText prints ms the way promtool files write durations. */
export function durationText(ms: number): string {
  return formatDurationMs(ms);
}
