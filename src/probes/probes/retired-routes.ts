/**
 * retired_routes: every route the OpenAgents services retired must keep answering as the real
 * services do at 9b2b978949. A retired route is simply absent from the axum router, so it gets
 * the library's default answer: 404 with an empty body, whatever the method and with no
 * credentials needed (unknown paths skip the auth gates). Requests therefore carry no token, and
 * anything else (a 401 from a gate, a 200, a 405, a 404 with a body from a handler) means a
 * router serves the path again. The one exception is `GET /api/chat/guest-session`, which still
 * has a handler that answers a session user 410 (`apps/openagents.com/service/src/lib.rs:12234-12274`);
 * it is asked with the session token and must answer 410 (or be gone: an empty 404).
 *
 * Sources: runtime `apps/runtime/src/server/tests.rs:2208-2229` (topics/messages, fanout/hooks),
 * `scripts/spacetime/verify-spacetime-only-symbols.sh:20-28` (`/sync/socket/websocket`), the
 * control's revocation target `apps/openagents.com/service/src/config.rs:39` (never routed in the
 * runtime), control tests `apps/openagents.com/service/src/tests.rs:6388-6482` (token aliases) and
 * `:8768-8781` (`/aui`).
 */
import { setMaxListeners } from 'node:events';
import type { ControlClient, RuntimeMetricsClient } from '../../spacetime/index.js';
import { reasonFromError } from '../reason-class.js';
import type { Probe, ProbeContext, ProbeResult, ProbeSample, ReasonClass } from '../types.js';
import { errorDetail } from './probe-failure.js';

/** RetiredAnswer is how a retired route must answer: axum's empty 404, or the guest-session 410. */
export type RetiredAnswer = 'empty_404' | 'gone_410';

/** RetiredRoute is one route that must stay retired. */
export interface RetiredRoute {
  readonly service: 'control' | 'runtime';
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly answer: RetiredAnswer;
}

/** DEFAULT_RETIRED_ROUTES are the retired routes of both services. */
export const DEFAULT_RETIRED_ROUTES: readonly RetiredRoute[] = [
  { service: 'control', method: 'POST', path: '/api/spacetime/token', answer: 'empty_404' },
  { service: 'control', method: 'POST', path: '/api/v1/sync/token', answer: 'empty_404' },
  { service: 'control', method: 'POST', path: '/api/v1/spacetime/token', answer: 'empty_404' },
  { service: 'control', method: 'GET', path: '/aui', answer: 'empty_404' },
  { service: 'control', method: 'GET', path: '/aui/threads', answer: 'empty_404' },
  { service: 'control', method: 'GET', path: '/sync/socket/websocket', answer: 'empty_404' },
  { service: 'control', method: 'GET', path: '/api/chat/guest-session', answer: 'gone_410' },
  { service: 'runtime', method: 'GET', path: '/internal/v1/spacetime/topics/runtime.fallback/messages?after_seq=0&limit=1', answer: 'empty_404' },
  { service: 'runtime', method: 'GET', path: '/internal/v1/spacetime/fanout/hooks', answer: 'empty_404' },
  { service: 'runtime', method: 'GET', path: '/sync/socket/websocket', answer: 'empty_404' },
  { service: 'runtime', method: 'POST', path: '/internal/v1/sync/sessions/revoke', answer: 'empty_404' },
];

/** RetiredRoutesProbeOptions configure the probe. */
export interface RetiredRoutesProbeOptions {
  readonly control: ControlClient;
  readonly runtime: RuntimeMetricsClient;
  /**
   * extraRoutes are more paths that must answer an empty 404: `/path` (control, GET), or prefixed
   * `runtime:/path`, `control:/path`, optionally with a method, `POST control:/path`.
   */
  readonly extraRoutes?: readonly string[];
}

/** parseRouteSpec reads an `extraRoutes` entry. */
export function parseRouteSpec(spec: string): RetiredRoute {
  const m = /^(?:(GET|POST)\s+)?(?:(control|runtime):)?(\/\S*)$/.exec(spec.trim());
  if (!m) throw new TypeError(`retired route ${JSON.stringify(spec)} must look like /path, runtime:/path or POST control:/path`);
  return { method: (m[1] as 'GET' | 'POST' | undefined) ?? 'GET', service: (m[2] as 'control' | 'runtime' | undefined) ?? 'control', path: m[3] as string, answer: 'empty_404' };
}

/** RouteAnswer is what a route said. */
interface RouteAnswer {
  readonly status: number;
  readonly body: string;
}

/** judgeRoute says whether an answer is the retired one, `undefined` when it proves nothing (our own session refused). */
export function judgeRoute(route: RetiredRoute, answer: RouteAnswer): { readonly retired: boolean; readonly why: string } | undefined {
  const emptyNotFound = answer.status === 404 && answer.body === '';
  if (route.answer === 'gone_410') {
    if (answer.status === 401) return undefined;
    if (answer.status === 410 || emptyNotFound) return { retired: true, why: answer.status === 410 ? 'answers 410 (retired)' : 'answers an empty 404 (removed)' };
    return { retired: false, why: `answers HTTP ${answer.status}, expected 410` };
  }
  if (emptyNotFound) return { retired: true, why: 'answers an empty 404' };
  if (answer.status === 404) return { retired: false, why: 'answers 404 with a body: a handler serves this path again (the router default is an empty 404)' };
  return { retired: false, why: `answers HTTP ${answer.status}, expected the router's empty 404` };
}

/** RetiredRoutesProbe is the `retired_routes` probe. */
export class RetiredRoutesProbe implements Probe {
  readonly name = 'retired_routes';
  private readonly routes: readonly RetiredRoute[];

  constructor(private readonly options: RetiredRoutesProbeOptions) {
    this.routes = [...DEFAULT_RETIRED_ROUTES, ...(options.extraRoutes ?? []).map(parseRouteSpec)];
  }

  private ask(r: RetiredRoute, signal: AbortSignal): Promise<RouteAnswer> {
    if (r.service === 'runtime') return this.options.runtime.route(r.path, { signal, method: r.method });
    return this.options.control.route(r.path, { signal, method: r.method, authenticated: r.answer === 'gone_410' });
  }

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    // Every route is asked at once on the run's signal, one abort listener each (removed when it
    // answers): more than Node's default of 10 is expected here, not a leak.
    setMaxListeners(Math.max(10, this.routes.length + 2), ctx.signal);
    const checks = await Promise.all(
      this.routes.map(async (r) => {
        try {
          return { route: r, answer: await this.ask(r, ctx.signal), error: undefined };
        } catch (err) {
          return { route: r, answer: undefined, error: err };
        }
      }),
    );
    const samples: ProbeSample[] = [];
    const results: Array<Record<string, unknown>> = [];
    let failedReason: ReasonClass | undefined;
    let alive = 0;
    for (const c of checks) {
      const where = { service: c.route.service, method: c.route.method, route: c.route.path };
      if (c.answer === undefined) {
        // Unknown is not "still alive": no sample, and the run fails with the transport's reason.
        failedReason ??= reasonFromError(c.error);
        results.push({ ...where, error: errorDetail(c.error) });
        continue;
      }
      const verdict = judgeRoute(c.route, c.answer);
      if (verdict === undefined) {
        failedReason ??= 'auth';
        results.push({ ...where, status: c.answer.status, error: 'the session token was refused, so the route could not be checked' });
        continue;
      }
      if (!verdict.retired) alive += 1;
      samples.push({ name: 'sentinel_retired_route_ok', labels: { route: c.route.path.split('?')[0] as string, service: c.route.service }, value: verdict.retired ? 1 : 0 });
      results.push({ ...where, status: c.answer.status, ok: verdict.retired, why: verdict.why });
    }
    const reason: ReasonClass = alive > 0 ? 'contract_violation' : (failedReason ?? 'ok');
    return { ok: reason === 'ok', reason, durationMs: ctx.clock.nowMs() - start, detail: { routes: results, still_answering: alive }, samples };
  }
}
