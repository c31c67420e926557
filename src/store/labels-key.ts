/**
 * Label-set helpers shared by every store implementation and by the rule code that tracks the
 * series it wrote.
 */
import type { Labels } from './types.js';

// NUL separates names and values: it sorts before every other character, so comparing two keys
// as strings orders label sets the way Prometheus' labels.Compare does (name by name, then value,
// a prefix before its extensions).
const SEP = '\u0000';

/**
 * labelsKey is a stable string key for a label set: label names sorted, labels with an empty value
 * dropped (Prometheus treats `{a=""}` as `{}`). Two label sets have the same key exactly when they
 * select the same series, and keys sort in Prometheus' series order.
 */
export function labelsKey(labels: Labels): string {
  const names = Object.keys(labels);
  // Label sets are mostly built in name order already; sort only when they are not.
  for (let i = 1; i < names.length; i++) {
    if (names[i - 1] > names[i]) {
      names.sort(compareStrings);
      break;
    }
  }
  let key = '';
  for (const n of names) {
    const v = labels[n];
    if (v !== '' && v !== undefined) key += n + SEP + v + SEP;
  }
  return key;
}

/** metricName is the `__name__` of a label set, or '' when it has none (as Prometheus' Get). */
export function metricName(labels: Labels): string {
  return labels['__name__'] ?? '';
}

/**
 * normalizeLabels returns a frozen copy with empty-valued labels dropped and names sorted, the
 * form the store keeps, so callers may hand in a label object they later mutate.
 */
export function normalizeLabels(labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const n of Object.keys(labels).sort(compareStrings)) {
    const v = labels[n];
    if (v !== '' && v !== undefined) out[n] = v;
  }
  return Object.freeze(out);
}

/** compareStrings orders strings by UTF-16 code units, without locale rules. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
