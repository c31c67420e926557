/**
 * prometheus-api: the read side of Prometheus' HTTP API (v1) on the daemon's server, so Grafana
 * can use the sentinel itself as a Prometheus data source and on-call can ask it what fires:
 * `/api/v1/query`, `/api/v1/query_range` (GET and form POST), `/api/v1/labels`,
 * `/api/v1/label/:name/values`, `/api/v1/series`, `/api/v1/rules`, `/api/v1/alerts`. Success is
 * `{"status":"success","data":...}` (plus `warnings`), errors are A's `toHttpError` shape
 * `{"status":"error","errorType","error"}`. Handlers hold no state.
 */
import type { AlertView, RuleGroupView } from '../../alerts/index.js';
import { ApiError } from '../../errors.js';
import { formatFloatGo } from '../../go-strconv/index.js';
import { apiQueryResponse, parseExpr } from '../../promql/index.js';
import type { QueryResult } from '../../promql/index.js';
import type { Labels, LabelMatcher } from '../../store/types.js';
import type { Clock } from '../../time/index.js';
import { parseDurationMs } from '../../time/index.js';
import type { RouteResponse, RouteHandler, RouteOptions } from '../http-server.js';
import type { HttpMethod } from '../router.js';

/** ApiAlertView, ApiRuleView and ApiRuleGroupView are the rule manager's views, as the API lists them. */
export type { AlertView as ApiAlertView, RuleView as ApiRuleView, RuleGroupView as ApiRuleGroupView } from '../../alerts/index.js';

/** RulesSource is what the API needs of the rule manager. */
export interface RulesSource {
  ruleGroups(): readonly RuleGroupView[];
}

/**
 * ApiQueryAnswer is a query's answer: the engine's result, or the whole response body already
 * serialized (what the query worker sends back from its thread).
 */
export type ApiQueryAnswer = QueryResult | { readonly json: string };

/** PrometheusApiOptions are the collaborators of the routes. */
export interface PrometheusApiOptions {
  /** store answers series and label queries. */
  readonly store: {
    series(matchers: readonly LabelMatcher[], startMs: number, endMs: number): Labels[];
    labelNames(matchers?: readonly LabelMatcher[]): string[];
    labelValues(name: string, matchers?: readonly LabelMatcher[]): string[];
  };
  /** instantQuery and rangeQuery run queries: the engine in line, or the query worker off the event loop. */
  readonly instantQuery: (expr: string, tMs: number, signal: AbortSignal) => ApiQueryAnswer | Promise<ApiQueryAnswer>;
  readonly rangeQuery: (expr: string, startMs: number, endMs: number, stepMs: number, signal: AbortSignal) => ApiQueryAnswer | Promise<ApiQueryAnswer>;
  readonly rules?: RulesSource;
  readonly clock: Clock;
}

/** RouteTarget is the part of A's HttpServer the routes register on. */
export interface RouteTarget {
  route(method: HttpMethod, pattern: string, handler: RouteHandler, options?: RouteOptions): void;
}

/** MAX_POINTS is Prometheus' limit of points per series in a range query. */
const MAX_POINTS = 11_000;
const MIN_TIME_MS = -9_223_372_036_854; // Prometheus' minTime, in ms (math.MinInt64 / 2 in seconds, rounded)
const MAX_TIME_MS = 9_223_372_036_854;

/** parseApiTime parses a Prometheus API time: Unix seconds (with fraction) or RFC 3339. */
export function parseApiTime(text: string, param: string): number {
  const seconds = Number(text);
  if (text.trim() !== '' && Number.isFinite(seconds)) return Math.round(seconds * 1000);
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (Number.isFinite(ms)) return ms;
  throw new ApiError(400, 'bad_data', `invalid parameter "${param}": cannot parse "${text}" to a valid timestamp`);
}

/** parseApiDuration parses a step or timeout: float seconds or a Prometheus duration. */
export function parseApiDuration(text: string, param: string): number {
  const seconds = Number(text);
  if (text.trim() !== '' && Number.isFinite(seconds)) {
    if (seconds * 1000 > Number.MAX_SAFE_INTEGER) throw new ApiError(400, 'bad_data', `invalid parameter "${param}": cannot parse "${text}" to a valid duration. It overflows int64`);
    return Math.round(seconds * 1000);
  }
  const ms = parseDurationMs(text);
  if (ms !== undefined) return ms;
  throw new ApiError(400, 'bad_data', `invalid parameter "${param}": cannot parse "${text}" to a valid duration`);
}

function queryResponse(answer: ApiQueryAnswer): RouteResponse {
  return { headers: { 'content-type': 'application/json' }, body: 'json' in answer ? answer.json : apiQueryResponse(answer) };
}

function success(data: unknown, warnings: readonly string[] = []): RouteResponse {
  return { body: warnings.length > 0 ? { status: 'success', data, warnings } : { status: 'success', data } };
}

function formatTime(ms: number): string {
  // Never evaluated: Go's zero time, as Prometheus prints it.
  if (ms === 0) return '0001-01-01T00:00:00Z';
  // Go marshals time.Time with trailing zero fractions trimmed.
  return new Date(ms).toISOString().replace(/\.(\d*?)0+Z$/, (_m, d: string) => (d ? `.${d}Z` : 'Z'));
}

/** sortedLabels orders a label set by name, as Prometheus' labels.Labels marshals. */
function sortedLabels(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k];
  return out;
}

function alertJson(a: AlertView): Record<string, unknown> {
  return {
    labels: sortedLabels(a.labels),
    annotations: sortedLabels(a.annotations),
    state: a.state,
    activeAt: formatTime(a.activeAtMs),
    ...(a.keepFiringSinceMs ? { keepFiringSince: formatTime(a.keepFiringSinceMs) } : {}),
    value: formatFloatGo(a.value, 'e', -1),
  };
}

/** parseSeriesSelector parses a `match[]` value, which must be a plain vector selector. */
export function parseSeriesSelector(text: string): LabelMatcher[] {
  let expr;
  try {
    expr = parseExpr(text);
  } catch (err) {
    throw new ApiError(400, 'bad_data', `invalid parameter "match[]": ${(err as Error).message}`, { cause: err });
  }
  if (expr.kind !== 'vectorSelector') throw new ApiError(400, 'bad_data', `invalid parameter "match[]": ${text} is not a series selector like up{job="x"}`);
  return [...expr.matchers];
}

function matchersOf(form: URLSearchParams): LabelMatcher[][] {
  return form.getAll('match[]').map(parseSeriesSelector);
}

function timeRange(form: URLSearchParams): { startMs: number; endMs: number } {
  const start = form.get('start');
  const end = form.get('end');
  const startMs = start ? parseApiTime(start, 'start') : MIN_TIME_MS;
  const endMs = end ? parseApiTime(end, 'end') : MAX_TIME_MS;
  if (endMs < startMs) throw new ApiError(400, 'bad_data', 'invalid parameter "end": end timestamp must not be before start time');
  return { startMs, endMs };
}

function requireQuery(form: URLSearchParams): string {
  const q = form.get('query');
  if (q === null || q === '') throw new ApiError(400, 'bad_data', 'invalid parameter "query": query must not be empty');
  return q;
}

/**
 * registerPrometheusApi adds the routes to the server. Without `rules`, `/api/v1/rules` and
 * `/api/v1/alerts` answer with empty lists (a sentinel without rule files).
 */
export function registerPrometheusApi(server: RouteTarget, opts: PrometheusApiOptions): void {
  const query: RouteHandler = async (req) => {
    const form = req.form();
    const expr = requireQuery(form);
    const time = form.get('time');
    const tMs = time ? parseApiTime(time, 'time') : opts.clock.nowMs();
    return queryResponse(await opts.instantQuery(expr, tMs, req.signal));
  };
  const queryRange: RouteHandler = async (req) => {
    const form = req.form();
    const expr = requireQuery(form);
    const start = form.get('start');
    const end = form.get('end');
    const step = form.get('step');
    if (!start) throw new ApiError(400, 'bad_data', 'invalid parameter "start": cannot parse "" to a valid timestamp');
    if (!end) throw new ApiError(400, 'bad_data', 'invalid parameter "end": cannot parse "" to a valid timestamp');
    if (!step) throw new ApiError(400, 'bad_data', 'invalid parameter "step": cannot parse "" to a valid duration');
    const startMs = parseApiTime(start, 'start');
    const endMs = parseApiTime(end, 'end');
    if (endMs < startMs) throw new ApiError(400, 'bad_data', 'invalid parameter "end": end timestamp must not be before start time');
    const stepMs = parseApiDuration(step, 'step');
    if (stepMs <= 0) throw new ApiError(400, 'bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
    if ((endMs - startMs) / stepMs > MAX_POINTS) {
      throw new ApiError(400, 'bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    }
    return queryResponse(await opts.rangeQuery(expr, startMs, endMs, stepMs, req.signal));
  };
  const labels: RouteHandler = (req) => {
    const form = req.form();
    const sets = matchersOf(form);
    if (sets.length === 0) return success(opts.store.labelNames().sort());
    const names = new Set<string>();
    for (const m of sets) for (const n of opts.store.labelNames(m)) names.add(n);
    return success([...names].sort());
  };
  const labelValues: RouteHandler = (req) => {
    const name = req.params.name;
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new ApiError(400, 'bad_data', `invalid label name: "${name}"`);
    const form = req.form();
    const sets = matchersOf(form);
    if (sets.length === 0) return success(opts.store.labelValues(name).sort());
    const values = new Set<string>();
    for (const m of sets) for (const v of opts.store.labelValues(name, m)) values.add(v);
    return success([...values].sort());
  };
  const series: RouteHandler = (req) => {
    const form = req.form();
    const sets = matchersOf(form);
    if (sets.length === 0) throw new ApiError(400, 'bad_data', 'no match[] parameter provided');
    const { startMs, endMs } = timeRange(form);
    const seen = new Map<string, Labels>();
    for (const m of sets) {
      for (const l of opts.store.series(m, startMs, endMs)) seen.set(JSON.stringify(Object.entries(l).sort()), l);
    }
    return success([...seen.values()]);
  };
  const rules: RouteHandler = (req) => {
    const type = req.query.get('type');
    if (type !== null && type !== '' && type !== 'alert' && type !== 'record') {
      throw new ApiError(400, 'bad_data', `invalid parameter "type": not supported value "${type}"`);
    }
    const wantAlerts = type !== 'record';
    const wantRecords = type !== 'alert';
    const groups = (opts.rules?.ruleGroups() ?? []).map((g) => ({
      name: g.name,
      file: g.file,
      rules: g.rules
        .filter((r) => (r.kind === 'alerting' ? wantAlerts : wantRecords))
        .map((r) =>
          r.kind === 'alerting'
            ? {
                state: r.state,
                name: r.name,
                query: r.expr,
                duration: r.forMs / 1000,
                keepFiringFor: r.keepFiringForMs / 1000,
                labels: sortedLabels(r.labels),
                annotations: sortedLabels(r.annotations),
                alerts: r.alerts.map(alertJson),
                health: r.health,
                ...(r.lastError ? { lastError: r.lastError } : {}),
                evaluationTime: r.evaluationDurationMs / 1000,
                lastEvaluation: formatTime(r.lastEvaluationMs),
                type: 'alerting',
              }
            : {
                name: r.name,
                query: r.expr,
                labels: sortedLabels(r.labels),
                health: r.health,
                ...(r.lastError ? { lastError: r.lastError } : {}),
                evaluationTime: r.evaluationDurationMs / 1000,
                lastEvaluation: formatTime(r.lastEvaluationMs),
                type: 'recording',
              },
        ),
      interval: g.intervalMs / 1000,
      limit: g.limit,
      evaluationTime: g.evaluationDurationMs / 1000,
      lastEvaluation: formatTime(g.lastEvaluationMs),
    }));
    return success({ groups });
  };
  const alerts: RouteHandler = () => {
    const list: Record<string, unknown>[] = [];
    for (const g of opts.rules?.ruleGroups() ?? []) for (const r of g.rules) if (r.kind === 'alerting') for (const a of r.alerts) list.push(alertJson(a));
    return success({ alerts: list });
  };

  server.route('GET', '/api/v1/query', query);
  server.route('POST', '/api/v1/query', query);
  server.route('GET', '/api/v1/query_range', queryRange);
  server.route('POST', '/api/v1/query_range', queryRange);
  server.route('GET', '/api/v1/labels', labels);
  server.route('POST', '/api/v1/labels', labels);
  server.route('GET', '/api/v1/label/:name/values', labelValues);
  server.route('GET', '/api/v1/series', series);
  server.route('POST', '/api/v1/series', series);
  // Grafana asks for metric metadata to annotate its query editor; the sentinel keeps none.
  server.route('GET', '/api/v1/metadata', () => success({}));
  server.route('GET', '/api/v1/rules', rules);
  server.route('GET', '/api/v1/alerts', alerts);
}
