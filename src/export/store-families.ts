/**
 * StoreFamilies: the probes' series in the store, as /metrics families. Each series shows its
 * newest sample, read from the store at scrape time (no second copy of the data), under the name
 * and labels it has in the store. A series is shown while the PromQL engine would still return it
 * for an instant query now: its newest sample is not a stale marker and lies within the lookback
 * delta. So a series a probe stopped reporting leaves /metrics when it leaves the sentinel's own
 * queries.
 *
 * Timestamps: counters and histograms carry their sample's own time, gauges none. Reasons:
 * 1. A scraper without timestamps re-samples a step function at its scrape times: the old value
 *    stays in its samples until the scrape after the probe's next run, so a `[10m]` window over a
 *    counter lets an increase go up to one probe interval later than in the sentinel. With the
 *    probe's timestamps both engines hold the same samples and the window edges agree.
 * 2. Prometheus never marks a series with explicit timestamps stale (scrape.go tracks staleness
 *    only for samples without one). Cumulative series are never stale-marked by the probes, so
 *    nothing is lost; a per-run gauge is stale-marked when a run stops reporting it (a drill
 *    relabelling it, a failed run), and only without a timestamp does it leave Prometheus at the
 *    next scrape, as it leaves the sentinel's queries at once.
 */
import { labelsKey } from '../store/index.js';
import type { Labels, LatestReader } from '../store/index.js';
import type { FamilyResolver } from './family-resolver.js';
import type { FamilySource } from './metrics-exposition.js';
import type { ExposedFamily, ExposedSeries } from './text-format.js';

/** NameList is where the names to expose come from (RecordedNames). */
export interface NameList {
  list(): readonly string[];
}

/** StoreFamiliesOptions configure StoreFamilies. */
export interface StoreFamiliesOptions {
  readonly store: LatestReader;
  readonly names: NameList;
  readonly resolver: FamilyResolver;
  /** lookbackDeltaMs is the rules' lookback delta (`rules.lookback_delta`). */
  readonly lookbackDeltaMs: number;
}

interface FamilyBuilder {
  readonly name: string;
  readonly type: ExposedFamily['type'];
  readonly help: string;
  readonly series: Array<ExposedSeries & { readonly sortKey: string }>;
}

const SUFFIX_RANK: Record<string, number> = { _bucket: 0, _sum: 1, _count: 2 };

/** StoreFamilies builds the families of the recorded names at each scrape. */
export class StoreFamilies implements FamilySource {
  readonly name = 'store';
  private readonly options: StoreFamiliesOptions;

  constructor(options: StoreFamiliesOptions) {
    if (!(options.lookbackDeltaMs > 0)) throw new RangeError(`StoreFamilies: lookbackDeltaMs must be > 0, got ${options.lookbackDeltaMs}`);
    this.options = options;
  }

  /**
   * claimed lists the families the store owns, shown or not: another source (the prom-client
   * registry) must not expose them too, or /metrics would carry a family twice.
   */
  claimed(): Set<string> {
    const out = new Set<string>();
    for (const name of this.options.names.list()) out.add(this.options.resolver.resolve(name).family);
    return out;
  }

  /** collect returns every family with at least one live series at `nowMs`, sorted by name. */
  collect(nowMs: number): ExposedFamily[] {
    const { store, names, resolver, lookbackDeltaMs } = this.options;
    const minT = nowMs - lookbackDeltaMs;
    const families = new Map<string, FamilyBuilder>();
    for (const name of names.list()) {
      const info = resolver.resolve(name);
      for (const { labels, sample } of store.latest([{ name: '__name__', type: '=', value: name }])) {
        if (sample.stale || sample.t < minT) continue;
        let f = families.get(info.family);
        if (!f) families.set(info.family, (f = { name: info.family, type: info.type, help: info.help, series: [] }));
        const timestampMs = info.type === 'counter' || info.type === 'histogram' ? sample.t : undefined;
        f.series.push({ name, labels: withoutName(labels), value: sample.v, timestampMs, sortKey: info.type === 'histogram' ? histogramSortKey(name, info.family, labels) : '' });
      }
    }
    const out: ExposedFamily[] = [];
    for (const f of [...families.values()].sort((a, b) => compare(a.name, b.name))) {
      const series = f.type === 'histogram' ? [...f.series].sort((a, b) => compare(a.sortKey, b.sortKey)) : f.series;
      out.push({ name: f.name, type: f.type, help: f.help, series: series.map(({ name, labels, value, timestampMs }) => (timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs })) });
    }
    return out;
  }
}

function withoutName(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k !== '__name__') out[k] = v;
  return out;
}

/**
 * histogramSortKey orders a histogram as client libraries print it: per label set, the buckets
 * by ascending `le` (+Inf last), then `_sum`, then `_count`.
 */
function histogramSortKey(name: string, family: string, labels: Labels): string {
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k !== '__name__' && k !== 'le') rest[k] = v;
  const rank = SUFFIX_RANK[name.slice(family.length)] ?? 3;
  const le = Number(labels['le'] ?? 'NaN');
  // Sortable fixed-width encoding of le: its rank among doubles, as 17 hex digits.
  const leKey = Number.isNaN(le) ? 'z' : leRank(le);
  return `${labelsKey(rest)}\u0001${rank}\u0001${leKey}`;
}

function leRank(le: number): string {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, le);
  let bits = buf.getBigUint64(0);
  // Flip so that the unsigned order of the bits is the numeric order of the doubles.
  bits = le < 0 || Object.is(le, -0) ? ~bits & 0xffffffffffffffffn : bits | 0x8000000000000000n;
  return bits.toString(16).padStart(16, '0');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
