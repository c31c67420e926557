/**
 * RegistryInstruments: `ProbeInstruments` backed by a prom-client Registry, able to report the
 * current values of what it created as samples for the store.
 */
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { MetricDescriber } from '../store/index.js';
import type { ProbeCounter, ProbeHistogram, ProbeInstruments, ProbeLabels, ProbeSample } from './types.js';

/**
 * RegistryInstruments creates instruments in one registry and snapshots them for the store; with
 * a `metadata` describer it also records the HELP and TYPE of everything the probe declares.
 */
export class RegistryInstruments implements ProbeInstruments {
  private readonly registry: Registry;
  private readonly metadata: MetricDescriber | undefined;
  private readonly owned = new Map<string, Counter<string> | Histogram<string>>();

  constructor(registry: Registry, metadata?: MetricDescriber) {
    this.registry = registry;
    this.metadata = metadata;
  }

  describe(name: string, help: string): void {
    this.metadata?.describe(name, { type: 'gauge', help });
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): ProbeCounter {
    this.metadata?.describe(name, { type: 'counter', help });
    const metric = this.findOrCreate(name, () => new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] }));
    if (!(metric instanceof Counter)) throw new TypeError(`metric ${name} is already registered as a histogram`);
    return {
      inc: (labels: ProbeLabels = {}, value = 1) => metric.inc({ ...labels }, value),
    };
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): ProbeHistogram {
    this.metadata?.describe(name, { type: 'histogram', help });
    const metric = this.findOrCreate(name, () => new Histogram({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: [this.registry] }));
    if (!(metric instanceof Histogram)) throw new TypeError(`metric ${name} is already registered as a counter`);
    return {
      observe: (labels: ProbeLabels, value: number) => metric.observe({ ...labels }, value),
    };
  }

  /**
   * snapshot returns the current value of every series of every instrument created here, in
   * exposition form (`_bucket{le}`, `_sum`, `_count` for histograms; `le` printed as /metrics
   * prints it).
   */
  async snapshot(): Promise<ProbeSample[]> {
    const out: ProbeSample[] = [];
    for (const metric of this.owned.values()) {
      const data = await metric.get();
      for (const v of data.values) {
        const labels: Record<string, string> = {};
        for (const [k, lv] of Object.entries(v.labels)) if (lv !== undefined) labels[k] = String(lv);
        out.push({ name: (v as { metricName?: string }).metricName ?? data.name, labels, value: v.value });
      }
    }
    return out;
  }

  private findOrCreate(name: string, create: () => Counter<string> | Histogram<string>): Counter<string> | Histogram<string> {
    const mine = this.owned.get(name);
    if (mine) return mine;
    // Two probes may share one instrument (same name in one registry): reuse it, do not throw.
    const existing = this.registry.getSingleMetric(name);
    const metric = existing instanceof Counter || existing instanceof Histogram ? (existing as Counter<string> | Histogram<string>) : create();
    this.owned.set(name, metric);
    return metric;
  }
}
