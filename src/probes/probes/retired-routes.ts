/**
 * retired_routes: every retired token alias on the control service and every retired runtime
 * route must answer 404 (SYSTEM.md). Requests carry valid credentials, so a 404 means the route
 * is gone, not merely hidden behind auth; aliases that were POST routes are probed with POST.
 */
import type { ControlClient, RuntimeMetricsClient } from '../../spacetime/index.js';
import type { Probe, ProbeContext, ProbeResult, ProbeSample } from '../types.js';
import { errorDetail } from './probe-failure.js';
import { reasonFromError } from '../reason-class.js';
import type { ReasonClass } from '../types.js';

/** RetiredRoute is one route that must stay retired. */
export interface RetiredRoute {
  readonly service: 'control' | 'runtime';
  readonly method: 'GET' | 'POST';
  readonly path: string;
}

/** DEFAULT_RETIRED_ROUTES are the aliases and routes SYSTEM.md names. */
export const DEFAULT_RETIRED_ROUTES: readonly RetiredRoute[] = [
  { service: 'control', method: 'POST', path: '/api/spacetime/token' },
  { service: 'control', method: 'POST', path: '/api/v1/spacetime/token' },
  { service: 'control', method: 'POST', path: '/api/v1/sync/token' },
  { service: 'runtime', method: 'GET', path: '/internal/v1/spacetime/topics/runtime.codex_worker_events/messages' },
];

/** RetiredRoutesProbeOptions configure the probe. */
export interface RetiredRoutesProbeOptions {
  readonly control: ControlClient;
  readonly runtime: RuntimeMetricsClient;
  /**
   * extraRoutes are more paths to check: `/path` (control, GET), or prefixed `runtime:/path`,
   * `control:/path`, optionally with a method, `POST control:/path`.
   */
  readonly extraRoutes?: readonly string[];
}

/** parseRouteSpec reads an `extraRoutes` entry. */
export function parseRouteSpec(spec: string): RetiredRoute {
  const m = /^(?:(GET|POST)\s+)?(?:(control|runtime):)?(\/\S*)$/.exec(spec.trim());
  if (!m) throw new TypeError(`retired route ${JSON.stringify(spec)} must look like /path, runtime:/path or POST control:/path`);
  return { method: (m[1] as 'GET' | 'POST' | undefined) ?? 'GET', service: (m[2] as 'control' | 'runtime' | undefined) ?? 'control', path: m[3] };
}

/** RetiredRoutesProbe is the `retired_routes` probe. */
export class RetiredRoutesProbe implements Probe {
  readonly name = 'retired_routes';
  private readonly routes: readonly RetiredRoute[];

  constructor(private readonly options: RetiredRoutesProbeOptions) {
    this.routes = [...DEFAULT_RETIRED_ROUTES, ...(options.extraRoutes ?? []).map(parseRouteSpec)];
  }

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    const checks = await Promise.all(
      this.routes.map(async (r) => {
        try {
          const res =
            r.service === 'control'
              ? await this.options.control.rawGet(r.path, { signal: ctx.signal, method: r.method })
              : await this.options.runtime.rawGet(r.path, { signal: ctx.signal });
          return { route: r, status: res.status, error: undefined };
        } catch (err) {
          return { route: r, status: undefined, error: err };
        }
      }),
    );
    const samples: ProbeSample[] = [];
    const results: Array<Record<string, unknown>> = [];
    let failedReason: ReasonClass | undefined;
    let live = 0;
    for (const c of checks) {
      const label = `${c.route.service}:${c.route.path}`;
      if (c.status === undefined) {
        // Unknown is not "still live": no sample, and the run fails with the transport's reason.
        failedReason ??= reasonFromError(c.error);
        results.push({ route: label, method: c.route.method, error: errorDetail(c.error) });
        continue;
      }
      const gone = c.status === 404;
      if (!gone) live++;
      samples.push({ name: 'sentinel_retired_route_ok', labels: { route: c.route.path, service: c.route.service }, value: gone ? 1 : 0 });
      results.push({ route: label, method: c.route.method, status: c.status, ok: gone });
    }
    const reason: ReasonClass = live > 0 ? 'contract_violation' : (failedReason ?? 'ok');
    return { ok: reason === 'ok', reason, durationMs: ctx.clock.nowMs() - start, detail: { routes: results, still_answering: live }, samples };
  }
}
