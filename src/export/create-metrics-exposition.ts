/**
 * createMetricsExposition: the daemon's /metrics body, composed from the registry, the probes'
 * series in the store and, when configured, the compatibility families.
 */
import type { Registry } from 'prom-client';
import type { LatestReader, MetricMetadataSource } from '../store/index.js';
import type { Clock } from '../time/index.js';
import { CompatFamilies, compatFamilyDefs } from './compat-families.js';
import { FamilyResolver } from './family-resolver.js';
import { MetricsExposition } from './metrics-exposition.js';
import type { FamilySource } from './metrics-exposition.js';
import { StoreFamilies } from './store-families.js';
import type { NameList } from './store-families.js';

/** CreateMetricsExpositionOptions are the daemon's collaborators the exposition reads. */
export interface CreateMetricsExpositionOptions {
  readonly registry: Registry;
  readonly store: LatestReader;
  /** names are the metric names the probes recorded (RecordedNames on the probes' sink). */
  readonly names: NameList;
  readonly metadata?: MetricMetadataSource;
  /** lookbackDeltaMs is `rules.lookback_delta`: a series leaves /metrics when it leaves instant queries. */
  readonly lookbackDeltaMs: number;
  readonly clock: Clock;
  /** compat, when given, adds the compatibility families; `appVersion` labels the sentinel as a client. */
  readonly compat?: { readonly appVersion: string };
}

/** createMetricsExposition builds the MetricsExposition the /metrics route serves. */
export function createMetricsExposition(options: CreateMetricsExpositionOptions): MetricsExposition {
  const { registry, store, names, metadata, lookbackDeltaMs, clock, compat } = options;
  const resolver = new FamilyResolver({ metadata, registry });
  const sources: FamilySource[] = [new StoreFamilies({ store, names, resolver, lookbackDeltaMs })];
  if (compat) sources.push(new CompatFamilies({ store, defs: compatFamilyDefs(compat.appVersion), lookbackDeltaMs }));
  return new MetricsExposition({ registry, sources, clock });
}
