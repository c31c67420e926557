/**
 * TargetEvidenceSources: the snapshots a drill's evidence carries from the watched system
 * (runtime sync metrics and control status, before and after) and the target's identity. Every
 * call is bounded; a part that fails is recorded as its error text, never as a made-up value.
 * The clients already strip secrets from what they return.
 */
import type { ControlClient, RuntimeMetricsClient, SpacetimeHttpClient } from '../spacetime/index.js';
import type { EvidenceSources } from './run-evidence.js';

/** TargetEvidenceSourcesOptions are the three clients and a per-call timeout. */
export interface TargetEvidenceSourcesOptions {
  readonly spacetime: SpacetimeHttpClient;
  readonly runtime: RuntimeMetricsClient;
  readonly control: ControlClient;
  readonly timeoutMs?: number;
}

async function attempt<T>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** TargetEvidenceSources implements EvidenceSources over the spacetime clients. */
export class TargetEvidenceSources implements EvidenceSources {
  constructor(private readonly options: TargetEvidenceSourcesOptions) {}

  async snapshot(signal: AbortSignal): Promise<Record<string, unknown>> {
    const call = { signal, timeoutMs: this.options.timeoutMs ?? 5000 };
    const [runtime, control] = await Promise.all([
      attempt(async () => {
        const m = await this.options.runtime.fetchMetrics(call);
        return { transport: m.transport ?? null, generated_at: m.generatedAt ?? null, fields: Object.fromEntries(m.fields) };
      }),
      attempt(async () => (await this.options.control.status(call)).data),
    ]);
    return { 'runtime-metrics': runtime, 'control-status': control };
  }

  async targetIdentity(signal: AbortSignal): Promise<Record<string, unknown>> {
    const call = { signal, timeoutMs: this.options.timeoutMs ?? 5000 };
    const [database, health] = await Promise.all([
      attempt(() => this.options.spacetime.databaseInfo(call)),
      attempt(async () => {
        const h = await this.options.spacetime.health(call);
        return { package_name: h.packageName ?? null, version: h.version ?? null };
      }),
    ]);
    return { spacetimedb: { database, health } };
  }
}
