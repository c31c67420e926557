/**
 * runtime_metrics: scrape the runtime's sync metrics JSON. Every numeric field present becomes
 * `openagents_spacetime_<section>_<field>` (SYSTEM.md's naming: dots become underscores); a field
 * the endpoint does not publish yields no sample, never a 0, so an alert on a documented-but-absent
 * field stays silent instead of lying. `transport` becomes an info metric. Control-plane token
 * counters are read too where the control status exposes them.
 */
import type { ControlClient, JsonObject, RuntimeMetricsClient } from '../../spacetime/index.js';
import { isJsonObject } from '../../spacetime/index.js';
import type { Probe, ProbeContext, ProbeResult, ProbeSample } from '../types.js';
import { errorDetail, probeFailure } from './probe-failure.js';

/** RUNTIME_METRIC_PREFIX prefixes every scraped field. */
export const RUNTIME_METRIC_PREFIX = 'openagents_spacetime_';

/** CONTROL_METRIC_PREFIX prefixes control-plane counters (`sync.token.issued` → `openagents_control_sync_token_issued`). */
export const CONTROL_METRIC_PREFIX = 'openagents_control_';

/** RuntimeMetricsProbeOptions configure the probe. */
export interface RuntimeMetricsProbeOptions {
  readonly runtime: RuntimeMetricsClient;
  /**
   * control, when given, is asked for its status, and any `sync.token.*` counters it exposes
   * (top level of `data` or under `data.counters`) become samples. The published status carries
   * none, so this usually adds nothing; a failure here never fails the run.
   */
  readonly control?: ControlClient;
}

/** controlCounters picks the numeric `sync.token.*` counters out of a control status `data` object. */
export function controlCounters(data: JsonObject): Map<string, number> {
  const out = new Map<string, number>();
  const scan = (o: JsonObject): void => {
    for (const [k, v] of Object.entries(o)) if (k.startsWith('sync.token.') && typeof v === 'number' && Number.isFinite(v)) out.set(k, v);
  };
  scan(data);
  if (isJsonObject(data.counters)) scan(data.counters);
  return out;
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
      let control: Record<string, unknown> | undefined;
      if (this.options.control) {
        try {
          const counters = controlCounters((await this.options.control.status({ signal: ctx.signal })).data);
          for (const [k, v] of counters) samples.push({ name: CONTROL_METRIC_PREFIX + k.replace(/[^A-Za-z0-9_]/g, '_'), value: v });
          control = { counters: counters.size };
        } catch (err) {
          control = { error: errorDetail(err) };
        }
      }
      return {
        ok: true,
        durationMs: ctx.clock.nowMs() - start,
        detail: { fields: m.fields.size, transport: m.transport ?? 'absent', generated_at: m.generatedAt ?? 'absent', control: control ?? 'not configured' },
        samples,
      };
    } catch (err) {
      return probeFailure(err, ctx.clock.nowMs() - start);
    }
  }
}
