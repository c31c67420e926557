/**
 * startTracing: OpenTelemetry tracing configured only from the standard `OTEL_*` environment
 * variables. Without an exporter configured, no SDK starts and the tracer is the API's no-op.
 */
import { trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';

/** TracingOptions configures startTracing. */
export interface TracingOptions {
  readonly serviceName: string;
  /** env is the process environment; only OTEL_* variables are read. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Tracing is a started tracer and the way to flush and stop it. */
export interface Tracing {
  readonly tracer: Tracer;
  /** enabled tells whether an SDK with an exporter is running. */
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

/** isExporterConfigured: NodeSDK would otherwise default to OTLP and try localhost:4318. */
function isExporterConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'none');
  if (exporters.length > 0) return true;
  if ((env.OTEL_TRACES_EXPORTER ?? '').trim() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * startTracing starts the NodeSDK when an exporter is configured and returns a tracer either
 * way. The SDK is imported only then: loading it costs most of a second of CLI startup.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (options.env.OTEL_SDK_DISABLED === 'true' || !isExporterConfigured(options.env)) {
    return { tracer: trace.getTracer(options.serviceName), enabled: false, shutdown: () => Promise.resolve() };
  }
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ serviceName: options.env.OTEL_SERVICE_NAME ?? options.serviceName, instrumentations: [] });
  sdk.start();
  return { tracer: trace.getTracer(options.serviceName), enabled: true, shutdown: () => sdk.shutdown() };
}
