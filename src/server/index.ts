/**
 * server: the daemon's HTTP server (metrics, health, readiness, status, and the routes other
 * modules register), its error mapping and admin guard.
 */
export { createHttpServer } from './http-server.js';
export type { HttpServer, HttpServerOptions, MetricsBody, RouteHandler, RouteRequest, RouteResponse, RouteOptions, BoundAddress } from './http-server.js';
export { HTTP_METHODS } from './router.js';
export type { HttpMethod } from './router.js';
export { toHttpError } from './to-http-error.js';
export type { HttpErrorBody, HttpErrorResponse } from './to-http-error.js';
export { requireAdmin } from './require-admin.js';
export type { AdminToken } from './require-admin.js';
export { buildStatusInfo } from './status-info.js';
export type { StatusInfo, TargetStatus, ScheduleStatus, StatusSource, ConfigStatus } from './status-info.js';
export { registerDrillsApi } from './routes/drills-api.js';
export { registerSloSnapshotRoute, SLO_SNAPSHOT_PATH } from './routes/slo-snapshot-api.js';
export type { SloSnapshotRouteDeps } from './routes/slo-snapshot-api.js';
export { registerRolloutsApi } from './routes/rollouts-api.js';
export type { RolloutsApiDeps } from './routes/rollouts-api.js';
export type { DrillsApiDeps } from './routes/drills-api.js';
export { registerPrometheusApi, parseSeriesSelector, parseApiTime, parseApiDuration } from './routes/prometheus-api.js';
export type { ApiQueryAnswer, PrometheusApiOptions, RulesSource, RouteTarget, ApiRuleGroupView, ApiRuleView, ApiAlertView } from './routes/prometheus-api.js';
export { registerReloadRoute } from './routes/reload-api.js';
export type { ConfigReloader, ReloadAnswer } from './routes/reload-api.js';
export { QueryWorker } from './query-worker.js';
export type { QueryAnswer, QueryEngineOptions, QueryWorkerOptions, ReplicableStore } from './query-worker.js';
