/**
 * createMetricsRegistry: a fresh prom-client Registry (never the global one) with the default
 * process metrics and `sentinel_build_info`.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** MetricsRegistryOptions configures createMetricsRegistry. */
export interface MetricsRegistryOptions {
  readonly version: string;
  /** defaultMetrics adds prom-client's process_* and nodejs_* metrics (default true). */
  readonly defaultMetrics?: boolean;
}

/** createMetricsRegistry returns a new Registry holding `sentinel_build_info{version,node_version} 1`. */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const buildInfo = new Gauge({
    name: 'sentinel_build_info',
    help: 'A metric with a constant 1 value labelled by the version of the sentinel and of Node.js.',
    labelNames: ['version', 'node_version'] as const,
    registers: [registry],
  });
  buildInfo.set({ version: options.version, node_version: process.version }, 1);
  return registry;
}
