/**
 * health: the control service's `/healthz` and `/readyz` (OpenAgents
 * `apps/openagents.com/service/src/lib.rs:473-486`, `:1579-1592`, `:1667-1687` at 9b2b978949),
 * no auth: `{"status":"ok","service":…,"version":"0.1.0","uptime_seconds":u64,"auth_provider":…}`
 * and `{"status":"ready"|"not_ready","static_dir":…}` (200 or 503).
 */
import type { LabResponse } from '../axum-router.js';
import { jsonResponse } from '../axum-router.js';

/** CONTROL_SERVICE_NAME is `SERVICE_NAME`. */
export const CONTROL_SERVICE_NAME = 'openagents-control-service';

/** CONTROL_STATIC_DIR is the default `static_dir` the readiness check reports. */
export const CONTROL_STATIC_DIR = 'apps/openagents.com/service/static';

/** controlHealthz is the health body. */
export function controlHealthz(uptimeSeconds: number): LabResponse {
  return jsonResponse(200, { status: 'ok', service: CONTROL_SERVICE_NAME, version: '0.1.0', uptime_seconds: Math.max(0, Math.floor(uptimeSeconds)), auth_provider: 'workos' });
}

/** controlReadyz is ready while the static directory exists (`ready` here), else 503. */
export function controlReadyz(ready: boolean): LabResponse {
  return jsonResponse(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', static_dir: CONTROL_STATIC_DIR });
}
