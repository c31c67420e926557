/**
 * MetricsExposition: the body of `GET /metrics`. The sentinel's own instruments come from the
 * prom-client registry (process, HTTP, rules, store, drills); the probes' measurements come from
 * the sample store, the one source of truth, through family sources such as StoreFamilies (and
 * the opt-in compatibility families). A family a source claims is never printed from the
 * registry as well, so no family appears twice and none with two TYPEs.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '../time/index.js';
import { renderFamilies, TEXT_CONTENT_TYPE } from './text-format.js';
import type { ExposedFamily } from './text-format.js';

/** FamilySource is one producer of families read at scrape time. */
export interface FamilySource {
  /** name labels the source in `sentinel_export_series{source}`. */
  readonly name: string;
  /** claimed lists the family names this source owns, whether or not it shows them now. */
  claimed(): ReadonlySet<string>;
  collect(nowMs: number): ExposedFamily[];
}

/** MetricsSource is what the /metrics route serves (a prom-client Registry is one too). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** MetricsExpositionOptions configure MetricsExposition. */
export interface MetricsExpositionOptions {
  readonly registry: Registry;
  readonly sources: readonly FamilySource[];
  readonly clock: Clock;
}

/** MetricsExposition merges the registry and the family sources into one text exposition. */
export class MetricsExposition implements MetricsSource {
  readonly contentType = TEXT_CONTENT_TYPE;
  private readonly options: MetricsExpositionOptions;
  private readonly exposed: Gauge<'source'>;

  constructor(options: MetricsExpositionOptions) {
    if (options.registry.contentType !== TEXT_CONTENT_TYPE) {
      throw new TypeError(`MetricsExposition: the registry must use the Prometheus text format (${TEXT_CONTENT_TYPE}), not ${options.registry.contentType}`);
    }
    this.options = options;
    const { registry } = options;
    this.exposed =
      (registry.getSingleMetric('sentinel_export_series') as Gauge<'source'> | undefined) ??
      new Gauge({ name: 'sentinel_export_series', help: 'Series the last /metrics response carried from each exported source (the sample store, the compatibility names).', labelNames: ['source'], registers: [registry] });
  }

  async metrics(): Promise<string> {
    const nowMs = this.options.clock.nowMs();
    const claimed = new Set<string>();
    const families: ExposedFamily[] = [];
    for (const source of this.options.sources) {
      let count = 0;
      for (const f of source.collect(nowMs)) {
        // A family two sources produce is printed once, from the first (sources are listed by precedence).
        if (claimed.has(f.name)) continue;
        families.push(f);
        count += f.series.length;
      }
      for (const name of source.claimed()) claimed.add(name);
      for (const f of families) claimed.add(f.name);
      this.exposed.set({ source: source.name }, count);
    }
    const { registry } = this.options;
    const own: string[] = [];
    for (const metric of registry.getMetricsAsArray()) {
      const name = (metric as unknown as { readonly name: string }).name;
      if (claimed.has(name)) continue;
      own.push(await registry.getSingleMetricAsString(name));
    }
    const fromRegistry = own.length > 0 ? `${own.join('\n')}\n` : '';
    return fromRegistry + renderFamilies(families);
  }
}
