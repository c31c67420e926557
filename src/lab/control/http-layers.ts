/**
 * http-layers: the control service's outer layers, outermost first (OpenAgents
 * `apps/openagents.com/service/src/lib.rs:1474-1498`, `:2099-2145`, `:2274-2310` at 9b2b978949):
 * request id (set from the client's `x-request-id` or a new UUID v4, echoed on every response);
 * the API gate (for `/api` and `/api/*`: OPTIONS answered 204 before routing, CORS headers and
 * `cache-control: no-store` on every response); the compatibility-lane sunset headers. The
 * client-compatibility and maintenance gates are off by default and not modelled.
 */
import { randomUUID } from 'node:crypto';
import type { LabRequest, LabResponse, LabServiceHandler } from '../axum-router.js';
import { emptyResponse } from '../axum-router.js';

const CORS_ALLOW_METHODS = 'GET,POST,PATCH,DELETE,OPTIONS';
const CORS_ALLOW_HEADERS = 'authorization,content-type,x-request-id,x-xsrf-token,x-client';
const CORS_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

/** isApiPath is `is_api_request_path`. */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/** isSunsetPath is `compatibility_lane_is_sunset_path`. */
export function isSunsetPath(path: string): boolean {
  return (
    path.startsWith('/api/v1/control/') ||
    path.startsWith('/api/v1/auth/') ||
    path === '/api/chat/guest-session' ||
    path === '/api/chat/stream' ||
    path === '/api/chats' ||
    path.startsWith('/api/chats/')
  );
}

function apiHeaders(origin: string | undefined): Record<string, string> {
  return {
    'access-control-allow-origin': origin ?? '*',
    'access-control-allow-methods': CORS_ALLOW_METHODS,
    'access-control-allow-headers': CORS_ALLOW_HEADERS,
    'access-control-max-age': '600',
    vary: CORS_VARY,
  };
}

function header(req: LabRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** withControlLayers wraps the router in the layers above. */
export function withControlLayers(router: LabServiceHandler): LabServiceHandler {
  return async (req) => {
    const requestId = header(req, 'x-request-id') ?? randomUUID();
    const inner: LabRequest = { ...req, headers: { ...req.headers, 'x-request-id': requestId } };
    const api = isApiPath(req.path);
    const origin = header(req, 'origin');
    let res: LabResponse;
    if (api && req.method === 'OPTIONS') {
      res = emptyResponse(204, { ...apiHeaders(origin), 'cache-control': 'no-store' });
    } else {
      res = await router(inner);
      const headers = { ...res.headers };
      if (isSunsetPath(req.path)) {
        headers.sunset = 'Tue, 30 Jun 2026 00:00:00 GMT';
        headers['x-oa-compat-sunset-date'] = '2026-06-30';
        headers['x-oa-compat-migration-doc'] = 'docs/audits/2026-02-25-oa-audit-phase5-compatibility-lane-signoff.md';
      }
      if (api) {
        Object.assign(headers, apiHeaders(origin));
        headers['cache-control'] ??= 'no-store';
      }
      res = { ...res, headers };
    }
    return { ...res, headers: { ...res.headers, 'x-request-id': requestId } };
  };
}
