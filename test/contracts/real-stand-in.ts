/**
 * A stand-in for the real OpenAgents runtime and control services that serves exactly the wire
 * bodies in test/fixtures/real/, with the real status codes and headers: axum's empty 404 for
 * every unknown or retired path, 405 with `allow` for a known path with another method (after the
 * auth gate on the control's protected routes), the control's /api CORS and sunset headers and
 * `x-request-id`. It knows nothing of the sentinel; faults are switched on by the test and each
 * is one real way these services break.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const REAL = new URL('../fixtures/real/', import.meta.url);

/** fixtureText is a fixture's bytes as text (bodies have no trailing newline). */
export function fixtureText(name: string): string {
  return readFileSync(new URL(name, REAL), 'utf8');
}

/** SESSION_TOKEN is the one live session the control stand-in knows. */
export const SESSION_TOKEN = 'stand-in-session-token';

/** FIXTURE_SIGNING_KEY is the key the fixture token was signed with. */
export const FIXTURE_SIGNING_KEY = (JSON.parse(fixtureText('sync-token-claims.json')) as { signing_key_used_for_this_example: string }).signing_key_used_for_this_example;

/** StandInFaults are the real failures a test can switch on. */
export interface StandInFaults {
  /** tokenIssueFails answers every mint with the issuer's 503 (`sync_token_unavailable`). */
  tokenIssueFails: boolean;
  /** revivedRoutes are retired paths (`service:/path`) that answer again, as a handler would. */
  revivedRoutes: string[];
  /** controlTransport replaces `syncCutover.defaultTransport` in the control status. */
  controlTransport: string | undefined;
}

interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

const json = (status: number, fixture: string, headers: Record<string, string> = {}): Answer => ({ status, headers: { 'content-type': 'application/json', ...headers }, body: fixtureText(fixture) });
const text = (status: number, fixture: string): Answer => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: fixtureText(fixture) });
const empty = (status: number, headers: Record<string, string> = {}): Answer => ({ status, headers });

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization?.trim();
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** route answers one (method, path) of a known route; wrong method → 405 with allow. */
function route(method: string, allowed: string, answer: () => Answer | Promise<Answer>): Answer | Promise<Answer> {
  const methods = allowed.split(',');
  const m = method === 'HEAD' ? 'GET' : method;
  return methods.includes(m) ? answer() : empty(405, { allow: allowed });
}

function runtimeAnswer(method: string, path: string, faults: StandInFaults): Answer | Promise<Answer> {
  if (faults.revivedRoutes.includes(`runtime:${path}`)) return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
  if (path === '/healthz') return route(method, 'GET,HEAD', () => json(200, 'runtime-healthz.json'));
  if (path === '/readyz') return route(method, 'GET,HEAD', () => json(200, 'runtime-readyz.json'));
  if (path === '/internal/v1/spacetime/sync/metrics') return route(method, 'GET,HEAD', () => json(200, 'runtime-metrics.json'));
  if (/^\/internal\/v1\/runs\/[0-9a-f-]{36}$/.test(path)) return route(method, 'GET,HEAD', () => json(404, 'runtime-error-404-not-found.json'));
  return empty(404);
}

async function controlAnswer(req: IncomingMessage, path: string, faults: StandInFaults): Promise<Answer> {
  const method = req.method ?? 'GET';
  if (faults.revivedRoutes.includes(`control:${path}`)) return json(200, 'sync-token-response.json');
  if (path === '/healthz') return route(method, 'GET,HEAD', () => json(200, 'control-healthz.json'));
  if (path === '/readyz') return route(method, 'GET,HEAD', () => json(200, 'control-readyz.json'));
  const protectedRoutes: Record<string, string> = {
    '/api/sync/token': 'POST',
    '/api/v1/control/status': 'GET,HEAD',
    '/api/v1/control/runtime-routing/status': 'GET,HEAD',
    '/api/v1/control/runtime-routing/evaluate': 'POST',
    '/api/chat/guest-session': 'GET,HEAD',
  };
  const allowed = protectedRoutes[path];
  if (allowed === undefined) return empty(404);
  // The protected router's gate: a live session (or a PAT, which this stand-in has none of).
  if (bearer(req) !== SESSION_TOKEN) return json(401, 'error-401-unauthenticated.json');
  const body = await readBody(req);
  return route(method, allowed, () => {
    switch (path) {
      case '/api/sync/token':
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return text(415, 'rejection-415-missing-content-type.txt');
        if (body === '') return text(400, 'rejection-400-empty-body.txt');
        if (faults.tokenIssueFails) return json(503, 'error-503-sync-token-signing-key-missing.json');
        return body === fixtureText('sync-token-request.all-scopes-ttl600.json') ? json(200, 'sync-token-response.all-scopes-ttl600.json') : json(200, 'sync-token-response.json');
      case '/api/v1/control/status': {
        const status = json(200, 'control-status.json');
        const transport = faults.controlTransport;
        return transport === undefined ? status : { ...status, body: status.body?.replace('"defaultTransport":"spacetime_ws"', `"defaultTransport":${JSON.stringify(transport)}`) };
      }
      case '/api/v1/control/runtime-routing/status':
        return json(200, 'control-runtime-routing-status.json');
      case '/api/v1/control/runtime-routing/evaluate':
        return body.includes('"thread_id"') ? json(200, 'runtime-routing-evaluate-response.json') : text(422, 'rejection-422-missing-thread-id.txt');
      default:
        return json(410, 'retired-410-chat-guest-session.json', { 'x-oa-chat-auth-policy': 'codex-auth-required' });
    }
  });
}

const CORS = {
  'access-control-allow-methods': 'GET,POST,PATCH,DELETE,OPTIONS',
  'access-control-allow-headers': 'authorization,content-type,x-request-id,x-xsrf-token,x-client',
  'access-control-max-age': '600',
  vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
};

function controlHeaders(req: IncomingMessage, path: string, answer: Answer): Record<string, string> {
  const headers: Record<string, string> = { ...answer.headers, 'x-request-id': (req.headers['x-request-id'] as string | undefined) ?? randomUUID() };
  if (path === '/api' || path.startsWith('/api/')) Object.assign(headers, CORS, { 'access-control-allow-origin': req.headers.origin ?? '*' }, headers['cache-control'] ? {} : { 'cache-control': 'no-store' });
  if (path.startsWith('/api/v1/control/') || path === '/api/chat/guest-session') {
    Object.assign(headers, { sunset: 'Tue, 30 Jun 2026 00:00:00 GMT', 'x-oa-compat-sunset-date': '2026-06-30', 'x-oa-compat-migration-doc': 'docs/audits/2026-02-25-oa-audit-phase5-compatibility-lane-signoff.md' });
  }
  return headers;
}

/** StandInService is one listening stand-in; `stop` and `start` simulate it going down and coming back. */
export class StandInService {
  private server: Server | undefined;
  private port = 0;
  url = '';

  constructor(private readonly answer: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.answer(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.url = `http://127.0.0.1:${this.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function send(req: IncomingMessage, res: ServerResponse, answer: Answer, headers: Record<string, string>): void {
  const body = answer.body ?? '';
  res.writeHead(answer.status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** RealStandIns are the runtime and control stand-ins sharing one set of faults. */
export interface RealStandIns {
  readonly runtime: StandInService;
  readonly control: StandInService;
  readonly faults: StandInFaults;
  close(): Promise<void>;
}

/** startRealStandIns starts both stand-ins on ephemeral loopback ports. */
export async function startRealStandIns(): Promise<RealStandIns> {
  const faults: StandInFaults = { tokenIssueFails: false, revivedRoutes: [], controlTransport: undefined };
  const runtime = new StandInService(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    await readBody(req);
    const answer = await runtimeAnswer(req.method ?? 'GET', path, faults);
    send(req, res, answer, answer.headers ?? {});
  });
  const control = new StandInService(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const answer = (path === '/api' || path.startsWith('/api/')) && req.method === 'OPTIONS' ? empty(204) : await controlAnswer(req, path, faults);
    if (answer.status === 204) {
      res.writeHead(204, controlHeaders(req, path, answer));
      res.end();
      return;
    }
    send(req, res, answer, controlHeaders(req, path, answer));
  });
  await runtime.start();
  await control.start();
  return {
    runtime,
    control,
    faults,
    async close(): Promise<void> {
      await Promise.all([runtime.stop(), control.stop()]);
    },
  };
}
