/**
 * createHttpServer: the daemon's HTTP server on node:http. Built-in routes: /metrics,
 * /healthz, /readyz, /api/v1/status. Every other route is added with `route()`. Handlers hold
 * no state: everything they need is closed over at registration or passed in the request.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { ApiError, ConfigError } from '../errors.js';
import { SystemClock } from '../time/index.js';
import { BodyAbortedError, BodyTooLargeError, readCapped } from '../net/index.js';
import type { Clock } from '../time/index.js';
import type { ReadinessReport } from '../daemon/index.js';
import { requireAdmin } from './require-admin.js';
import type { AdminToken } from './require-admin.js';
import { Router } from './router.js';
import type { HttpMethod } from './router.js';
import type { StatusInfo } from './status-info.js';
import { toHttpError } from './to-http-error.js';

/** RouteRequest is what a handler sees of a request; the body is already read and capped. */
export interface RouteRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** signal aborts when the client goes away or the server's shutdown deadline passes. */
  readonly signal: AbortSignal;
  text(): string;
  /** json parses the body; invalid JSON is a 400 bad_data. */
  json(): unknown;
  /** form merges the query string and an `application/x-www-form-urlencoded` body, as Prometheus' API does. */
  form(): URLSearchParams;
}

/** RouteResponse is what a handler returns. A string or Buffer body is sent as is; anything else as JSON. */
export interface RouteResponse {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** RouteHandler serves one route. Throw a SentinelError (e.g. ApiError) to answer with an error. */
export type RouteHandler = (req: RouteRequest) => RouteResponse | Promise<RouteResponse>;

/** RouteOptions: `admin` puts the route behind requireAdmin; `maxBodyBytes` overrides the server's cap. */
export interface RouteOptions {
  readonly admin?: boolean;
  readonly maxBodyBytes?: number;
}

/** BoundAddress is where the server listens once started. */
export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  /** url is `http://host:port` with IPv6 hosts bracketed. */
  readonly url: string;
}

/** MetricsBody is what `GET /metrics` serves; a prom-client Registry is one. */
export interface MetricsBody {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** HttpServerOptions configures createHttpServer. */
export interface HttpServerOptions {
  readonly listen: { readonly host: string; readonly port: number };
  /** registry receives the server's own metrics, and is served on /metrics unless `metrics` is given. */
  readonly registry: Registry;
  /** metrics is the /metrics body (the sentinel's exposition: registry plus stored series). */
  readonly metrics?: MetricsBody;
  readonly logger?: Logger;
  /** adminToken guards admin routes; a function is asked at every request (a reload may change or remove it). */
  readonly adminToken?: AdminToken | (() => AdminToken | undefined);
  readonly status: () => StatusInfo;
  readonly readiness: () => ReadinessReport;
  /** maxBodyBytes caps request bodies (default 1 MiB); larger requests get 413. */
  readonly maxBodyBytes?: number;
  /** requestTimeoutMs bounds receiving a whole request (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** clock measures the shutdown deadline (default SystemClock). */
  readonly clock?: Clock;
}

/** HttpServer is the daemon's HTTP server; it is also a daemon Component. */
export interface HttpServer {
  readonly name: string;
  route(method: HttpMethod, pattern: string, handler: RouteHandler, options?: RouteOptions): void;
  start(): Promise<void>;
  stop(deadlineMs: number): Promise<void>;
  isReady(): boolean;
  /** address is where the server listens; undefined before start and after stop. */
  address(): BoundAddress | undefined;
}

interface Registered {
  readonly handler: RouteHandler;
  readonly options: RouteOptions;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLarge extends ApiError {
  constructor(limit: number) {
    super(413, 'too_large', `request body is larger than ${limit} bytes`);
  }
}

/** readBody reads a request body under the route's limit; over it is a 413, the client gone a 503. */
async function readBody(req: IncomingMessage, limit: number, signal: AbortSignal): Promise<Buffer> {
  try {
    return await readCapped(req, limit, signal);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new BodyTooLarge(limit);
    if (err instanceof BodyAbortedError) throw new ApiError(503, 'canceled', 'request canceled');
    throw err;
  }
}

function makeRequest(req: IncomingMessage, url: URL, params: Readonly<Record<string, string>>, body: Buffer, signal: AbortSignal): RouteRequest {
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    params,
    query: url.searchParams,
    headers: req.headers,
    body,
    signal,
    text: () => body.toString('utf8'),
    json: () => {
      try {
        return JSON.parse(body.toString('utf8')) as unknown;
      } catch {
        throw new ApiError(400, 'bad_data', 'request body is not valid JSON');
      }
    },
    form: () => {
      const merged = new URLSearchParams(url.searchParams);
      const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type === 'application/x-www-form-urlencoded') for (const [k, v] of new URLSearchParams(body.toString('utf8'))) merged.append(k, v);
      return merged;
    },
  };
}

function send(res: ServerResponse, isHead: boolean, out: RouteResponse): void {
  const headers: Record<string, string> = { ...(out.headers ?? {}) };
  const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  let payload: Buffer;
  if (out.body === undefined) payload = Buffer.alloc(0);
  else if (typeof out.body === 'string' || Buffer.isBuffer(out.body)) {
    payload = Buffer.isBuffer(out.body) ? out.body : Buffer.from(out.body, 'utf8');
    if (!hasType) headers['content-type'] = 'text/plain; charset=utf-8';
  } else {
    payload = Buffer.from(JSON.stringify(out.body), 'utf8');
    if (!hasType) headers['content-type'] = 'application/json';
  }
  headers['content-length'] = String(payload.length);
  res.writeHead(out.status ?? 200, headers);
  res.end(isHead ? undefined : payload);
}

/** createHttpServer builds the server; call `start()` to listen. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const logger = options.logger ?? pino({ level: 'silent' });
  const clock = options.clock ?? new SystemClock();
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const router = new Router<Registered>();
  const inFlight = new Set<AbortController>();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let bound: BoundAddress | undefined;
  let startedAtMs = 0;
  let isStopping = false;

  const requests = new Counter({
    name: 'sentinel_http_requests_total',
    help: 'HTTP requests served by the sentinel, by route pattern, method and status code.',
    labelNames: ['route', 'method', 'code'] as const,
    registers: [options.registry],
  });
  const durations = new Histogram({
    name: 'sentinel_http_request_duration_seconds',
    help: 'Time to serve an HTTP request, by route pattern.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.registry],
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const controller = new AbortController();
    inFlight.add(controller);
    // The client going away aborts whatever the handler is waiting on.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
      inFlight.delete(controller);
    });
    let routeLabel = 'unmatched';
    let status = 500;
    try {
      const url = new URL(req.url ?? '/', 'http://sentinel.invalid');
      let out: RouteResponse;
      try {
        const found = router.match(method, url.pathname);
        routeLabel = found.pattern;
        if (found.handler.options.admin) requireAdmin(req.headers, typeof options.adminToken === 'function' ? options.adminToken() : options.adminToken);
        const hasBody = method !== 'GET' && method !== 'HEAD';
        const body = hasBody ? await readBody(req, found.handler.options.maxBodyBytes ?? maxBodyBytes, controller.signal) : Buffer.alloc(0);
        out = await found.handler.handler(makeRequest(req, url, found.params, body, controller.signal));
      } catch (err) {
        const mapped = toHttpError(err);
        if (mapped.isInternal) logger.error({ err, method, route: routeLabel }, 'request failed');
        const headers: Record<string, string> = {};
        if (mapped.status === 405) headers.allow = router.allowedMethods(url.pathname).join(', ');
        if (mapped.status === 401) headers['www-authenticate'] = 'Bearer';
        // A body we refused to read stays unread; close the connection rather than drain it.
        if (mapped.status === 413) headers.connection = 'close';
        out = { status: mapped.status, headers, body: mapped.body };
      }
      status = out.status ?? 200;
      // During shutdown, keep-alive would hold the server open until the client's idle timeout.
      if (isStopping) res.shouldKeepAlive = false;
      if (!res.headersSent && !res.destroyed) send(res, method === 'HEAD', out);
    } catch (err) {
      logger.error({ err, method, route: routeLabel }, 'could not write the response');
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    } finally {
      const seconds = (performance.now() - started) / 1000;
      requests.inc({ route: routeLabel, method, code: String(status) });
      durations.observe({ route: routeLabel }, seconds);
      logger.debug({ method, route: routeLabel, status, durationSeconds: seconds }, 'http request');
    }
  };

  const api: HttpServer = {
    name: 'http-server',
    route(method, pattern, handler, routeOptions = {}) {
      router.add(method, pattern, { handler, options: routeOptions });
    },
    async start() {
      if (server) throw new Error('http server already started');
      startedAtMs = clock.nowMs();
      const s = createServer({ requestTimeout: options.requestTimeoutMs ?? 30_000, headersTimeout: Math.min(options.requestTimeoutMs ?? 30_000, 10_000) }, (req, res) => {
        void handle(req, res);
      });
      s.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(options.listen.port, options.listen.host, () => {
          s.off('error', reject);
          resolve();
        });
      }).catch((err: NodeJS.ErrnoException) => {
        const line = `server.listen: cannot listen on ${options.listen.host}:${options.listen.port} (${err.code ?? err.message}); choose a free address in server.listen`;
        throw new ConfigError(line, [line], { cause: err });
      });
      s.on('error', (err) => logger.error({ err }, 'http server error'));
      const addr = s.address() as AddressInfo;
      const host = addr.address;
      bound = { host, port: addr.port, url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}` };
      server = s;
      logger.info({ address: bound.url, startedAtMs }, 'http server listening');
    },
    async stop(deadlineMs) {
      const s = server;
      if (!s) return;
      server = undefined;
      isStopping = true;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeIdleConnections();
      const remaining = Math.max(0, deadlineMs - clock.nowMs());
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), remaining);
      });
      const outcome = await Promise.race([closed.then(() => 'closed' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn({ inFlight: inFlight.size }, 'http server shutdown deadline passed; aborting in-flight requests');
        for (const c of inFlight) c.abort(new Error('server shutting down'));
        s.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      bound = undefined;
      isStopping = false;
    },
    isReady() {
      return server !== undefined;
    },
    address() {
      return bound;
    },
  };

  const healthz: RouteHandler = () => ({ body: 'ok\n' });
  const readyz: RouteHandler = () => {
    const report = options.readiness();
    const notReady = report.components.filter((c) => !c.ready).map((c) => c.name);
    return { status: report.ready ? 200 : 503, body: { ready: report.ready, notReady, components: report.components } };
  };
  api.route('GET', '/healthz', healthz);
  api.route('GET', '/readyz', readyz);
  // Prometheus' names for the same probes, so existing health checks work unchanged.
  api.route('GET', '/-/healthy', healthz);
  api.route('GET', '/-/ready', readyz);
  const exposition: MetricsBody = options.metrics ?? options.registry;
  api.route('GET', '/metrics', async () => ({ headers: { 'content-type': exposition.contentType }, body: await exposition.metrics() }));
  api.route('GET', '/api/v1/status', () => ({ body: { status: 'success', data: options.status() } }));
  return api;
}
