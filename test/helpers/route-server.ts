/**
 * The one way the suites serve a route module (the Prometheus API, drills, rollouts, SLO snapshot)
 * for a test: the daemon's own HTTP server on a loopback port the kernel picks, with a fresh
 * registry, a fixed status and readiness "ready"; a test overrides what it is about (e.g. the admin token).
 */
import { Registry } from 'prom-client';
import { createHttpServer } from '../../src/server/index.js';
import type { HttpServer, HttpServerOptions, StatusInfo } from '../../src/server/index.js';

/** TEST_STATUS is the status a route server reports (`GET /api/v1/status/buildinfo` and friends). */
export const TEST_STATUS: StatusInfo = { version: 't', startTimeMs: 0, uptimeSeconds: 0, environment: 'dev', configFile: '', targets: {}, schedules: [] };

/** routeServer creates (does not start) the server; routes are registered on it before `start`. */
export function routeServer(overrides: Partial<HttpServerOptions> = {}): HttpServer {
  return createHttpServer({
    listen: { host: '127.0.0.1', port: 0 },
    registry: new Registry(),
    status: () => TEST_STATUS,
    readiness: () => ({ ready: true, components: [] }),
    ...overrides,
  });
}
