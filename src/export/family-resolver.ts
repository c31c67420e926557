/**
 * FamilyResolver: which family a stored series belongs to on /metrics, with its TYPE and HELP.
 * Sources, first match wins:
 * 1. metadata the probes declared (counters and histograms describe themselves, per-run gauges
 *    through `ProbeInstruments.describe`);
 * 2. the prom-client registry, where the probe framework's own instruments live
 *    (`sentinel_probe_success`, `sentinel_probe_runs_total`, ...);
 * 3. Prometheus naming conventions: `_total` is a counter; anything else a probe reports per run
 *    is a gauge (the `ProbeSample` contract), with a generic HELP text.
 * A `_bucket`, `_sum` or `_count` series of a family known as a histogram joins that family.
 */
import type { Registry } from 'prom-client';
import type { MetricMetadata, MetricMetadataSource, MetricType } from '../store/index.js';

/** FamilyInfo is a series' family on /metrics. */
export interface FamilyInfo {
  readonly family: string;
  readonly type: MetricType;
  readonly help: string;
}

/** FamilyResolverOptions name the metadata sources; both are optional. */
export interface FamilyResolverOptions {
  readonly metadata?: MetricMetadataSource;
  readonly registry?: Registry;
}

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** UNDESCRIBED_HELP is the HELP of a series no probe described. */
export const UNDESCRIBED_HELP = 'Measured by a sentinel probe; the probe declares no description.';

/** FamilyResolver resolves series names to families (cheap map lookups; call it per scrape). */
export class FamilyResolver {
  private readonly options: FamilyResolverOptions;

  constructor(options: FamilyResolverOptions) {
    this.options = options;
  }

  resolve(seriesName: string): FamilyInfo {
    for (const suffix of HISTOGRAM_SUFFIXES) {
      if (!seriesName.endsWith(suffix)) continue;
      const base = seriesName.slice(0, -suffix.length);
      const meta = this.declared(base);
      if (meta?.type === 'histogram') return { family: base, type: 'histogram', help: meta.help };
    }
    const meta = this.declared(seriesName);
    if (meta && meta.type !== 'histogram') return { family: seriesName, ...meta };
    return { family: seriesName, type: seriesName.endsWith('_total') ? 'counter' : 'gauge', help: UNDESCRIBED_HELP };
  }

  private declared(name: string): MetricMetadata | undefined {
    const described = this.options.metadata?.metadata(name);
    if (described) return described;
    const metric = this.options.registry?.getSingleMetric(name) as unknown as { readonly type?: string; readonly help?: string } | undefined;
    if (!metric || typeof metric.help !== 'string') return undefined;
    const type: MetricType = metric.type === 'counter' || metric.type === 'gauge' || metric.type === 'histogram' ? metric.type : 'untyped';
    return { type, help: metric.help };
  }
}
