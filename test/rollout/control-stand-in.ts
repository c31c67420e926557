/**
 * A stand-in for the control and runtime services' routes a rollout uses, answering as the real
 * services do (bodies shaped like test/fixtures/real/): runtime-routing status, evaluate and
 * override with the session bearer (401 `Unauthenticated.` otherwise), control status, and the
 * runtime's unauthenticated sync metrics. Knobs let a test change the canary percentages, make
 * evaluate fail, hide the status route, or disable overrides. For runner tests where the lab is
 * not the point.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const REAL = join(import.meta.dirname, '..', 'fixtures', 'real');
const UNAUTHENTICATED = readFileSync(join(REAL, 'error-401-unauthenticated.json'), 'utf8');
const CONTROL_STATUS = readFileSync(join(REAL, 'control-status.json'), 'utf8');
const RUNTIME_METRICS = readFileSync(join(REAL, 'runtime-metrics.json'), 'utf8');

/** StandInKnobs are what a test may change while the stand-in runs. */
export interface StandInKnobs {
  canaryUserPercent: number;
  canaryAutopilotPercent: number;
  /** evaluateStatus other than 200 makes evaluate fail with that status. */
  evaluateStatus: number;
  /** statusRoute: `ok`, or `missing` (404, as a control without the route) */
  statusRoute: 'ok' | 'missing';
  overridesEnabled: boolean;
  /** overrideStatus other than 200 makes override calls fail. */
  overrideStatus: number;
  /** overridesHonoured false accepts overrides (200) but decides without them (a broken rollback path). */
  overridesHonoured: boolean;
}

/** StandIn is a running stand-in. */
export interface StandIn {
  readonly url: string;
  readonly sessionToken: string;
  readonly userId: string;
  readonly knobs: StandInKnobs;
  readonly requests: Array<{ method: string; path: string; body: string; authorized: boolean }>;
  readonly overrides: Map<string, { driver: string; is_active: boolean }>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => resolve(body));
  });
}

/** inUserCanary is the control's bucketing: sha256(seed|user|<id>) first 4 bytes big-endian % 100 < percent. */
function inUserCanary(userId: string, percent: number): boolean {
  const digest = createHash('sha256').update(`runtime-canary-v1|user|${userId}`).digest();
  return digest.readUInt32BE(0) % 100 < percent;
}

/** startStandIn listens on 127.0.0.1:0. */
export async function startStandIn(init: Partial<StandInKnobs> = {}): Promise<StandIn> {
  const sessionToken = 'stand-in-session-token';
  const userId = 'user_3f6c1e0a9b2d4c7e8a5f1b0d2c4e6a8f';
  const knobs: StandInKnobs = { canaryUserPercent: 0, canaryAutopilotPercent: 0, evaluateStatus: 200, statusRoute: 'ok', overridesEnabled: true, overrideStatus: 200, overridesHonoured: true, ...init };
  const requests: StandIn['requests'] = [];
  const overrides = new Map<string, { driver: string; is_active: boolean }>();
  const statusBody = (): unknown => ({
    default_driver: 'control_service',
    forced_driver: null,
    force_control_service: false,
    overrides_enabled: knobs.overridesEnabled,
    canary_user_percent: knobs.canaryUserPercent,
    canary_autopilot_percent: knobs.canaryAutopilotPercent,
    shadow: { enabled: false, sample_rate: 1.0, max_capture_bytes: 200000 },
    overrides: [...overrides.entries()].map(([id, o]) => ({ scope_type: 'user', scope_id: id, driver: o.driver, is_active: o.is_active })),
  });
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const authorized = req.headers.authorization === `Bearer ${sessionToken}`;
      requests.push({ method: req.method ?? '', path, body, authorized });
      if (path === '/internal/v1/spacetime/sync/metrics' && req.method === 'GET') return send(res, 200, RUNTIME_METRICS);
      if (path === '/api/v1/control/status' && req.method === 'GET') return authorized ? send(res, 200, CONTROL_STATUS) : send(res, 401, UNAUTHENTICATED);
      if (path === '/api/v1/control/runtime-routing/status' && req.method === 'GET') {
        if (knobs.statusRoute === 'missing') return send(res, 404, '', 'text/plain');
        return authorized ? send(res, 200, JSON.stringify({ data: statusBody() })) : send(res, 401, UNAUTHENTICATED);
      }
      if (path === '/api/v1/control/runtime-routing/evaluate' && req.method === 'POST') {
        if (!authorized) return send(res, 401, UNAUTHENTICATED);
        if (knobs.evaluateStatus !== 200) return send(res, knobs.evaluateStatus, '{"message":"internal error","error":{"code":"internal","message":"internal error"}}');
        const parsed = JSON.parse(body || '{}') as { thread_id?: string };
        if (parsed.thread_id === undefined) return send(res, 422, 'Failed to deserialize the JSON body into the target type: missing field `thread_id` at line 1 column 2', 'text/plain; charset=utf-8');
        const o = overrides.get(userId);
        const data =
          knobs.overridesEnabled && knobs.overridesHonoured && o?.is_active
            ? { driver: o.driver, reason: 'user_override', default_driver: 'control_service', force_control_service: false, user_override: o.driver, shadow: { enabled: false, mirrored: false, sample_rate: 1.0 } }
            : inUserCanary(userId, knobs.canaryUserPercent)
              ? { driver: 'runtime_service', reason: 'user_canary', default_driver: 'control_service', force_control_service: false, canary_scope: 'user', shadow: { enabled: false, mirrored: false, sample_rate: 1.0 } }
              : { driver: 'control_service', reason: 'default_driver', default_driver: 'control_service', force_control_service: false, shadow: { enabled: false, mirrored: false, sample_rate: 1.0 } };
        return send(res, 200, JSON.stringify({ data }));
      }
      if (path === '/api/v1/control/runtime-routing/override' && req.method === 'POST') {
        if (!authorized) return send(res, 401, UNAUTHENTICATED);
        if (knobs.overrideStatus !== 200) return send(res, knobs.overrideStatus, '{"message":"nope","error":{"code":"forbidden","message":"nope"}}');
        const p = JSON.parse(body) as { scope_id: string; driver: string; is_active?: boolean };
        overrides.set(p.scope_id, { driver: p.driver, is_active: p.is_active ?? true });
        return send(res, 200, JSON.stringify({ data: { override: { scope_type: 'user', scope_id: p.scope_id, driver: p.driver, is_active: p.is_active ?? true }, status: statusBody() } }));
      }
      return send(res, 404, '', 'text/plain');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    sessionToken,
    userId,
    knobs,
    requests,
    overrides,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
