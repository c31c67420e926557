/**
 * The values one evaluation step produces and passes between nodes (instant vectors, scalars,
 * strings, range-vector windows), and the label helpers every node uses on them.
 */
import { QueryError } from '../errors.js';
import type { Labels } from './queryable.js';
import type { InstantSample } from './types.js';

/**
 * RangeSeries is one series' window of a range vector: for each index i in [start, end) (never
 * empty), `t[i]` is a timestamp in ms and `v[i]` its value, ascending, stale markers removed. The
 * columns may be the store's buffers: read them, never keep or write them.
 */
export interface RangeSeries {
  readonly labels: Labels;
  readonly t: Float64Array;
  readonly v: Float64Array;
  readonly start: number;
  readonly end: number;
}

/** RangeArg is a range-vector value: each series' window, and the window's bounds. */
export interface RangeArg {
  readonly type: 'matrix';
  readonly series: readonly RangeSeries[];
  readonly rangeMs: number;
  /** rangeStartMs/rangeEndMs are the window after offset and @: [end - range, end]. */
  readonly rangeStartMs: number;
  readonly rangeEndMs: number;
}

/** Value is one step's value of a node (and one evaluated function argument). */
export type Value =
  | { readonly type: 'vector'; readonly samples: readonly InstantSample[] }
  | { readonly type: 'scalar'; readonly v: number }
  | { readonly type: 'string'; readonly v: string }
  | RangeArg;

/** Checkpoint is how long loops inside one step let the evaluation check its deadline and signal. */
export interface Checkpoint {
  tick(): void;
}

// Label sets are immutable, and most of those an evaluation sees are the store's own objects or
// results of the helpers below, so keys and name-less copies are computed once per object.
const signatures = new WeakMap<Labels, string>();
const withoutName = new WeakMap<Labels, Labels>();

/** signature is a stable string key for a label set (names sorted), as Prometheus' labels hash. */
export function signature(labels: Labels): string {
  let out = signatures.get(labels);
  if (out !== undefined) return out;
  out = '';
  for (const n of Object.keys(labels).sort()) out += `${n}\u0000${labels[n]}\u0001`;
  signatures.set(labels, out);
  return out;
}

/** dropMetricName returns the labels without `__name__` (the same object when there is none). */
export function dropMetricName(labels: Labels): Labels {
  if (!('__name__' in labels)) return labels;
  let out = withoutName.get(labels);
  if (out !== undefined) return out;
  const copy: Record<string, string> = {};
  for (const n of Object.keys(labels)) if (n !== '__name__') copy[n] = labels[n];
  out = copy;
  withoutName.set(labels, out);
  return out;
}

/** assertNoDuplicateLabelsets fails a step whose result holds one label set twice, as Prometheus does. */
export function assertNoDuplicateLabelsets(samples: readonly InstantSample[]): void {
  if (samples.length < 2) return;
  const seen = new Set<string>();
  for (const s of samples) {
    const k = signature(s.labels);
    if (seen.has(k)) throw new QueryError('vector cannot contain metrics with the same labelset');
    seen.add(k);
  }
}
