/**
 * Aggregation operators (`sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`, `stdvar`,
 * `topk`, `bottomk`, `quantile`, `count_values`) over one step's instant vector, as Prometheus
 * 2.42's `promql/engine.go` aggregation: groups in order of first appearance, the same float
 * operations in the same order, Go's heap for topk/bottomk so ties pick the same elements.
 */
import { QueryError } from '../errors.js';
import { formatGoFloat, formatGoFloatPlain, quoteGoString } from '../go-strconv/index.js';
import type { AggregateExpr } from './ast.js';
import { goQuantile } from './functions.js';
import type { Labels } from './queryable.js';
import type { InstantSample } from './types.js';
import type { Checkpoint } from './value.js';

/** AggregateParam is the evaluated parameter of topk/bottomk/quantile (a number) or count_values (a label name). */
export type AggregateParam = number | string | undefined;

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

/**
 * checkAggregateParam validates the evaluated parameter before the input is looked at (topk's k
 * must fit an int64, count_values' label must be a label name), as upstream does.
 */
export function checkAggregateParam(e: AggregateExpr, param: AggregateParam): void {
  if (e.op === 'count_values') {
    if (typeof param !== 'string') throw new QueryError('count_values needs a string parameter');
    if (!LABEL_NAME_RE.test(param)) throw new QueryError(`invalid label name ${quoteGoString(param)}`);
  }
}

/**
 * aggregate computes `e.op` over `input` at step time `t`. `param` is the evaluated parameter:
 * k for topk/bottomk, q for quantile, the label name for count_values.
 */
export function aggregate(e: AggregateExpr, param: AggregateParam, input: readonly InstantSample[], t: number, work: Checkpoint): InstantSample[] {
  let k = 0;
  const q = e.op === 'quantile' ? (param as number) : 0;
  const valueLabel = e.op === 'count_values' ? (param as string) : '';
  if (e.op === 'topk' || e.op === 'bottomk') {
    const kParam = param as number;
    if (!(kParam <= 9.223372036854776e18 && kParam >= -9.223372036854776e18)) throw new QueryError(`Scalar value ${formatGoFloat(kParam)} overflows int64`);
    k = Math.trunc(kParam);
    if (k < 1) return [];
  }
  let grouping = [...e.grouping];
  if (e.op === 'count_values' && !e.without) grouping = [...grouping, valueLabel].sort();
  const groupBy = groupingKeyOf(grouping, e.without);
  const groups = new Map<string, Group>();
  const ordered: Group[] = [];
  for (const s0 of input) {
    work.tick();
    let metric = s0.labels;
    if (e.op === 'count_values') metric = { ...metric, [valueLabel]: formatGoFloatPlain(s0.v) };
    const key = groupBy(metric);
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
  return out;
}

/** groupingKeyOf returns the function that keys a label set by the grouping labels (`by`) or all others (`without`). */
function groupingKeyOf(grouping: readonly string[], without: boolean): (labels: Labels) => string {
  if (without) {
    return (labels) => {
      let out = '';
      for (const n of Object.keys(labels).sort()) {
        if (n === '__name__' || grouping.includes(n)) continue;
        out += `${n}\u0000${labels[n]}\u0001`;
      }
      return out;
    };
  }
  const sorted = [...grouping].sort();
  return (labels) => {
    let out = '';
    for (const n of sorted) {
      const v = labels[n];
      if (v !== undefined) out += `${n}\u0000${v}\u0001`;
    }
    return out;
  };
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
