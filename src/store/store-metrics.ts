/**
 * The store's own metrics. Reused when already registered, so a store reopened on the same
 * registry (restart in tests, `rules test` runs) does not throw on duplicate registration.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** RefusalReasons is the closed vocabulary of `sentinel_store_samples_refused_total{reason}`. */
export const RefusalReasons = ['out_of_order', 'duplicate_timestamp', 'series_limit', 'persist_failed'] as const;
export type RefusalReason = (typeof RefusalReasons)[number];

/** StoreMetrics are the instruments a store updates. */
export interface StoreMetrics {
  readonly series: Gauge;
  readonly appended: Counter;
  readonly refused: Counter<'reason'>;
}

/** createStoreMetrics registers (or finds) the store metrics in `registry`; none when absent. */
export function createStoreMetrics(registry: Registry | undefined): StoreMetrics | undefined {
  if (!registry) return undefined;
  const existing = registry.getSingleMetric('sentinel_store_series');
  if (existing) {
    return {
      series: existing as Gauge,
      appended: registry.getSingleMetric('sentinel_store_samples_appended_total') as Counter,
      refused: registry.getSingleMetric('sentinel_store_samples_refused_total') as Counter<'reason'>,
    };
  }
  return {
    series: new Gauge({ name: 'sentinel_store_series', help: 'Series currently held by the sample store.', registers: [registry] }),
    appended: new Counter({ name: 'sentinel_store_samples_appended_total', help: 'Samples (including stale markers) stored.', registers: [registry] }),
    refused: new Counter({
      name: 'sentinel_store_samples_refused_total',
      help: 'Samples the store refused, by reason (out_of_order, duplicate_timestamp, series_limit, persist_failed).',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
