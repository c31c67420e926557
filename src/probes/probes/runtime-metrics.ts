/**
 * runtime_metrics: scrape the runtime's sync metrics JSON (no auth: the real route has none).
 * Every numeric field present becomes `openagents_spacetime_<section>_<field>` (dots become
 * underscores); a field the endpoint does not publish yields no sample, never a 0, so an alert on
 * a documented-but-absent field stays silent instead of lying. `transport` becomes an info metric.
 * The control service publishes no counters anywhere (its `sync.token.*` counters live in its
 * process memory and logs: `apps/openagents.com/service/src/observability.rs:97-151` at
 * 9b2b978949), so there is nothing to read there.
 */
import type { RuntimeMetricsClient } from '../../spacetime/index.js';
import type { Probe, ProbeContext, ProbeResult, ProbeSample } from '../types.js';
import { probeFailure } from './probe-failure.js';

/** RUNTIME_METRIC_PREFIX prefixes every scraped field. */
export const RUNTIME_METRIC_PREFIX = 'openagents_spacetime_';

/** RuntimeMetricsProbeOptions configure the probe. */
export interface RuntimeMetricsProbeOptions {
  readonly runtime: RuntimeMetricsClient;
}

/** runtimeMetricName maps a dotted field path to its Prometheus name. */
export function runtimeMetricName(path: string): string {
  return RUNTIME_METRIC_PREFIX + path.replace(/[^A-Za-z0-9_]/g, '_');
}

/** RuntimeMetricsProbe is the `runtime_metrics` probe. */
export class RuntimeMetricsProbe implements Probe {
  readonly name = 'runtime_metrics';

  constructor(private readonly options: RuntimeMetricsProbeOptions) {}

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    try {
      const m = await this.options.runtime.fetchMetrics({ signal: ctx.signal });
      const samples: ProbeSample[] = [];
      for (const [path, value] of m.fields) samples.push({ name: runtimeMetricName(path), value });
      if (m.transport !== undefined) samples.push({ name: `${RUNTIME_METRIC_PREFIX}transport_info`, labels: { transport: m.transport }, value: 1 });
      return {
        ok: true,
        durationMs: ctx.clock.nowMs() - start,
        detail: { fields: m.fields.size, transport: m.transport ?? 'absent', generated_at: m.generatedAt ?? 'absent' },
        samples,
      };
    } catch (err) {
      return probeFailure(err, ctx.clock.nowMs() - start);
    }
  }
}
