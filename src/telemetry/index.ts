/**
 * telemetry: the daemon's logs (pino), metrics registry (prom-client) and traces (OpenTelemetry).
 * Each is built once in the composition root and passed down as a parameter.
 */
export { createLogger, silentLogger, REDACT_PATHS } from './create-logger.js';
export type { LoggerOptions } from './create-logger.js';
export { createMetricsRegistry } from './create-metrics-registry.js';
export type { MetricsRegistryOptions } from './create-metrics-registry.js';
export { startTracing } from './start-tracing.js';
export type { TracingOptions, Tracing } from './start-tracing.js';
export { withSpan } from './with-span.js';
export { registeredMetric } from './registered-metric.js';
