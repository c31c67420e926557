/**
 * The store's own metrics. Reused when already registered, so a store reopened on the same
 * registry (restart in tests, `rules test` runs) does not throw on duplicate registration.
 * prom-client (and the OpenTelemetry API it pulls in) is loaded only when a store is given a
 * registry: `rules test` and the other one-shot commands keep their start-up short without it.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Registry } from 'prom-client';

const require = createRequire(import.meta.url);

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
  const prom = require('prom-client') as typeof PromClient;
  return {
    series: new prom.Gauge({ name: 'sentinel_store_series', help: 'Series currently held by the sample store.', registers: [registry] }),
    appended: new prom.Counter({ name: 'sentinel_store_samples_appended_total', help: 'Samples (including stale markers) stored.', registers: [registry] }),
    refused: new prom.Counter({
      name: 'sentinel_store_samples_refused_total',
      help: 'Samples the store refused, by reason (out_of_order, duplicate_timestamp, series_limit, persist_failed).',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
