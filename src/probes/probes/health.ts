/**
 * health: are the watched services up and ready? The OpenAgents runtime and control service both
 * serve `GET /healthz` and `GET /readyz` at the root, without auth
 * (`apps/runtime/src/server/route_domains.rs:21-24`, `apps/runtime/src/server.rs:1325-1366`,
 * `apps/openagents.com/service/src/lib.rs:1474-1478`, `:1579-1592`, `:1667-1687` at 9b2b978949):
 * `/healthz` answers 200 `{"status":"ok",…}`; `/readyz` 200 `{"status":"ready",…}` or 503
 * `{"status":"not_ready",…}`. (The runtime's OpenAPI document advertises `/internal/v1/health`,
 * which does not exist.) SpacetimeDB, when included, must answer 2xx on `target.spacetimedb.health_path`.
 *
 * Samples, one per service on every run (unreachable counts as not healthy, not as unknown):
 * `sentinel_service_healthy{service}`, `sentinel_service_ready{service}` (runtime, control),
 * `sentinel_service_uptime_seconds{service}` (from `/healthz`; a drop means a restart), and
 * `sentinel_services_ready`: 1 only when every checked service is healthy and ready, the one
 * value a drill's preflight needs.
 */
import type { ControlClient, RawRouteResponse, RuntimeMetricsClient, SpacetimeHttpClient } from '../../spacetime/index.js';
import { isJsonObject, parseJsonBig } from '../../spacetime/index.js';
import { ResponseHeaders } from '../../net/index.js';
import { reasonFromError } from '../reason-class.js';
import type { Probe, ProbeContext, ProbeResult, ProbeSample, ReasonClass } from '../types.js';
import { errorDetail } from './probe-failure.js';

/** HEALTH_SERVICES are the services the probe can check. */
export const HEALTH_SERVICES = ['runtime', 'control', 'spacetimedb'] as const;
/** HealthService is one of HEALTH_SERVICES. */
export type HealthService = (typeof HEALTH_SERVICES)[number];

/** HealthProbeOptions configure the probe. */
export interface HealthProbeOptions {
  readonly runtime: RuntimeMetricsClient;
  readonly control: ControlClient;
  /** spacetimedb and its health path (`target.spacetimedb.health_path`). */
  readonly spacetimedb?: { readonly http: SpacetimeHttpClient; readonly healthPath: string };
  /** services to check (default: runtime and control, plus spacetimedb when its client is given). */
  readonly services?: readonly HealthService[];
}

/** CheckOutcome is one endpoint's verdict. */
interface CheckOutcome {
  readonly ok: boolean;
  readonly reason: ReasonClass;
  readonly detail: Record<string, unknown>;
  readonly body?: Record<string, unknown>;
}

function statusField(res: RawRouteResponse): Record<string, unknown> | undefined {
  try {
    const doc = parseJsonBig(res.body);
    return isJsonObject(doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** judgeHealthz: 200 with `status: "ok"`. */
export function judgeHealthz(res: RawRouteResponse): CheckOutcome {
  const body = statusField(res);
  if (res.status !== 200) return { ok: false, reason: 'http_status', detail: { status: res.status, excerpt: res.excerpt } };
  if (body?.status !== 'ok') return { ok: false, reason: 'bad_response', detail: { status: res.status, problem: 'expected {"status":"ok",...}', excerpt: res.excerpt } };
  return { ok: true, reason: 'ok', detail: { status: res.status }, body };
}

/** judgeReadyz: 200 `ready` is ready; 503 `not_ready` is a service saying it is not ready. */
export function judgeReadyz(res: RawRouteResponse): CheckOutcome {
  const body = statusField(res);
  if (res.status === 200 && body?.status === 'ready') return { ok: true, reason: 'ok', detail: { status: res.status }, body };
  if (res.status === 200) return { ok: false, reason: 'bad_response', detail: { status: res.status, problem: 'expected {"status":"ready",...}', excerpt: res.excerpt } };
  return { ok: false, reason: 'http_status', detail: { status: res.status, ...(body?.status !== undefined ? { state: body.status } : { excerpt: res.excerpt }) } };
}

/** HealthProbe is the `health` probe. */
export class HealthProbe implements Probe {
  readonly name = 'health';
  private readonly services: readonly HealthService[];

  constructor(private readonly options: HealthProbeOptions) {
    this.services = options.services ?? (options.spacetimedb ? HEALTH_SERVICES : ['runtime', 'control']);
    if (this.services.includes('spacetimedb') && !options.spacetimedb) throw new TypeError('health: checking spacetimedb needs its client and health path');
  }

  private async check(fetch: () => Promise<RawRouteResponse>, judge: (r: RawRouteResponse) => CheckOutcome): Promise<CheckOutcome> {
    try {
      return judge(await fetch());
    } catch (err) {
      return { ok: false, reason: reasonFromError(err), detail: { error: errorDetail(err) } };
    }
  }

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    const signal = ctx.signal;
    const results = await Promise.all(
      this.services.map(async (service) => {
        if (service === 'spacetimedb') {
          const st = this.options.spacetimedb as { http: SpacetimeHttpClient; healthPath: string };
          const healthy = await this.check(
            async () => {
              const r = await st.http.rawGet(st.healthPath, { signal });
              return { status: r.status, headers: new ResponseHeaders(), body: '', excerpt: r.excerpt };
            },
            (r) => (r.status >= 200 && r.status < 300 ? { ok: true, reason: 'ok', detail: { status: r.status } } : { ok: false, reason: 'http_status', detail: { status: r.status, excerpt: r.excerpt } }),
          );
          return { service, healthy, ready: undefined };
        }
        const client = service === 'runtime' ? this.options.runtime : this.options.control;
        const [healthy, ready] = await Promise.all([
          this.check(() => client.route('/healthz', { signal }), judgeHealthz),
          this.check(() => client.route('/readyz', { signal }), judgeReadyz),
        ]);
        return { service, healthy, ready };
      }),
    );
    const samples: ProbeSample[] = [];
    const detail: Record<string, unknown> = {};
    let reason: ReasonClass = 'ok';
    for (const r of results) {
      samples.push({ name: 'sentinel_service_healthy', labels: { service: r.service }, value: r.healthy.ok ? 1 : 0 });
      if (r.ready) samples.push({ name: 'sentinel_service_ready', labels: { service: r.service }, value: r.ready.ok ? 1 : 0 });
      const uptime = r.healthy.body?.uptime_seconds;
      if (typeof uptime === 'number' || typeof uptime === 'bigint') samples.push({ name: 'sentinel_service_uptime_seconds', labels: { service: r.service }, value: Number(uptime) });
      detail[r.service] = { healthz: r.healthy.detail, ...(r.ready ? { readyz: r.ready.detail } : {}) };
      for (const c of [r.healthy, r.ready]) if (c && !c.ok && reason === 'ok') reason = c.reason;
    }
    const ok = reason === 'ok';
    samples.push({ name: 'sentinel_services_ready', value: ok ? 1 : 0 });
    return { ok, reason, durationMs: ctx.clock.nowMs() - start, detail, samples };
  }
}
