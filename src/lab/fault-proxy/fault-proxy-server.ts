import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { FaultProxyError } from '../../errors.js';
import type { Clock } from '../../time/index.js';
import { SystemClock } from '../../time/index.js';
import type { GoField, JsonValue } from './go-json.js';
import { decodeGoStruct, goJsonString, goValueTypeError } from './go-json.js';
import { ProxyCollection } from './proxy-collection.js';
import type { ProxyInput } from './proxy-collection.js';
import type { Proxy } from './proxy.js';
import { createRequestIdSource } from './request-id.js';
import { apiError, badRequestBody } from './toxic-collection.js';
import { BodyTooLargeError, readBody } from '../http-helpers.js';
import { toxicToJson } from './toxic-wrapper.js';
import { parseGoJson } from './go-json.js';

/** FAULT_PROXY_VERSION is the Toxiproxy version this server imitates. */
export const FAULT_PROXY_VERSION = '2.12.0';

/** Request bodies larger than this are refused (Toxiproxy has no limit; the lab needs one). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Like Toxiproxy's ReadTimeout: a client that dribbles its request is cut off. */
const REQUEST_TIMEOUT_MS = 15_000;

/** FaultProxyOptions configures `startFaultProxy`. */
export interface FaultProxyOptions {
  /** host to bind the HTTP API on; default 127.0.0.1 (the lab is loopback only). */
  readonly host?: string;
  /** port for the HTTP API; 0 (the default) picks a free one. */
  readonly port?: number;
  readonly logger?: Logger;
  /** clock stamps chunks and times toxics; default SystemClock. */
  readonly clock?: Clock;
}

/** FaultProxyServer is a running fault proxy. */
export interface FaultProxyServer {
  /** url is the API base, `http://127.0.0.1:<port>`, as `new Toxiproxy(url)` wants it. */
  readonly url: string;
  readonly port: number;
  /** close stops the API and every proxy, closing all their connections. */
  close(): Promise<void>;
}

const PROXY_FIELDS: readonly GoField[] = [
  { key: 'name', kind: 'string' },
  { key: 'listen', kind: 'string' },
  { key: 'upstream', kind: 'string' },
  { key: 'enabled', kind: 'bool' },
  { key: 'Logger', kind: { struct: 'zerolog.Logger' } },
];
const POPULATE_FIELDS: readonly GoField[] = [
  { key: 'name', kind: 'string' },
  { key: 'listen', kind: 'string' },
  { key: 'upstream', kind: 'string' },
  { key: 'Logger', kind: { struct: 'zerolog.Logger' } },
  { key: 'enabled', kind: 'ptrbool' },
];
const POPULATE_ELEMENT_TYPE = 'struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }';

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], body: Buffer) => Promise<void>;
interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
}

function send(res: ServerResponse, status: number, body: string, contentType?: string, extra?: Record<string, string>): void {
  const headers: Record<string, string | number> = { 'Content-Length': Buffer.byteLength(body), ...extra };
  if (contentType) headers['Content-Type'] = contentType;
  res.writeHead(status, headers);
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  send(res, status, body, 'application/json');
}

/** sendHttpError is Go's http.Error: text/plain, nosniff, body plus a newline. */
function sendHttpError(res: ServerResponse, status: number, text: string): void {
  send(res, status, `${text}\n`, 'text/plain; charset=utf-8', { 'X-Content-Type-Options': 'nosniff' });
}

/** sendApiError is Toxiproxy's apiError: a JSON body served through http.Error. */
function sendApiError(res: ServerResponse, err: FaultProxyError): void {
  const status = err.status ?? 500;
  sendHttpError(res, status, `{"error":${goJsonString(err.message)},"status":${status}}`);
}

function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

function decodeProxy(value: JsonValue, out: Record<string, unknown>): void {
  if (value.t === 'null') return;
  if (value.t !== 'object') throw apiError(`bad request body: ${goValueTypeError(value, 'toxiproxy.Proxy')}`, 400);
  const ctx = { structName: 'Proxy', path: [] as string[], firstError: undefined as string | undefined };
  decodeGoStruct(value, PROXY_FIELDS, ctx, out);
  if (ctx.firstError !== undefined) throw apiError(`bad request body: ${ctx.firstError}`, 400);
}

function parseBody(body: Buffer): JsonValue {
  try {
    return parseGoJson(body);
  } catch (err) {
    throw badRequestBody(err);
  }
}

/** cleanPath is gorilla/mux's cleanPath: Go's path.Clean, keeping a trailing slash. */
function cleanPath(p: string): string {
  if (p === '') return '/';
  if (p[0] !== '/') p = `/${p}`;
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  let np = `/${parts.join('/')}`;
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

function proxiesJson(list: readonly Proxy[] | null): string {
  return list === null || list.length === 0 ? 'null' : `[${list.map((p) => p.toJson()).join(',')}]`;
}

/**
 * startFaultProxy starts a Toxiproxy-2.12.0-compatible server: the HTTP API (statuses, bodies,
 * content types and check order of the real one) and real TCP proxies with live toxics, so
 * `toxiproxy-node-client` works against it unchanged.
 */
export async function startFaultProxy(options: FaultProxyOptions = {}): Promise<FaultProxyServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino({ level: 'silent' });
  const clock = options.clock ?? new SystemClock();
  const collection = new ProxyCollection({ clock, logger });
  const nextRequestId = createRequestIdSource(() => clock.nowMs());
  // Toxiproxy locks its collections per operation; one queue for all API calls keeps every
  // change (and the link rewiring it triggers) atomic with respect to the others.
  let queue: Promise<void> = Promise.resolve();
  const serialized = (fn: () => Promise<void>): Promise<void> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const proxyCreate: Handler = async (_req, res, _params, body) => {
    const fields: Record<string, unknown> = { name: '', listen: '', upstream: '', enabled: true };
    decodeProxy(parseBody(body), fields);
    if (fields.name === '') throw apiError('missing required field: name', 400);
    if (fields.upstream === '') throw apiError('missing required field: upstream', 400);
    const proxy = await collection.add(fields as unknown as ProxyInput);
    sendJson(res, 201, proxy.toJson());
  };

  const populate: Handler = async (_req, res, _params, body) => {
    const done: Proxy[] = [];
    try {
      const value = parseBody(body);
      const inputs: ProxyInput[] = [];
      if (value.t === 'array') {
        const ctx = { structName: '', path: [] as string[], firstError: undefined as string | undefined };
        for (const item of value.items) {
          const fields: Record<string, unknown> = { name: '', listen: '', upstream: '', enabled: undefined };
          if (item.t === 'object') decodeGoStruct(item, POPULATE_FIELDS, ctx, fields);
          else if (item.t !== 'null' && ctx.firstError === undefined) ctx.firstError = goValueTypeError(item, POPULATE_ELEMENT_TYPE);
          inputs.push({ name: String(fields.name), listen: String(fields.listen), upstream: String(fields.upstream), enabled: fields.enabled !== false });
        }
        if (ctx.firstError !== undefined) throw apiError(`bad request body: ${ctx.firstError}`, 400);
      } else if (value.t !== 'null') {
        throw apiError(`bad request body: ${goValueTypeError(value, `[]${POPULATE_ELEMENT_TYPE}`)}`, 400);
      }
      inputs.forEach((p, i) => {
        if (p.name === '') throw apiError(`missing required field: name at proxy ${i + 1}`, 400);
        if (p.upstream === '') throw apiError(`missing required field: upstream at proxy ${i + 1}`, 400);
      });
      for (const input of inputs) done.push(await collection.addOrReplace(input));
      sendJson(res, 201, `{"proxies":${proxiesJson(done)}}`);
    } catch (err) {
      if (!(err instanceof FaultProxyError)) throw err;
      const status = err.status ?? 500;
      sendJson(res, status, `{"error":${goJsonString(err.message)},"status":${status},"proxies":${proxiesJson(done)}}`);
    }
  };

  const proxyUpdate: Handler = async (req, res, [name], body) => {
    if (req.method === 'POST') logger.warn('fault-proxy: ProxyUpdate: HTTP method POST is deprecated. Use HTTP PATCH instead.');
    const proxy = collection.get(name);
    const fields: Record<string, unknown> = { name: proxy.name, listen: proxy.listen, upstream: proxy.upstream, enabled: proxy.enabled };
    decodeProxy(parseBody(body), fields);
    await proxy.update({ listen: String(fields.listen), upstream: String(fields.upstream), enabled: fields.enabled === true });
    sendJson(res, 200, proxy.toJson());
  };

  const routes: Route[] = [
    {
      pattern: /^\/reset$/,
      methods: {
        POST: async (_req, res) => {
          for (const proxy of collection.sorted()) {
            if (!proxy.enabled) await proxy.start();
            await proxy.toxics.reset();
          }
          sendNoContent(res);
        },
      },
    },
    {
      pattern: /^\/proxies$/,
      methods: {
        GET: async (_req, res) => {
          const entries = collection.sorted().map((p) => `${goJsonString(p.name)}:${p.toJson()}`);
          sendJson(res, 200, `{${entries.join(',')}}`);
        },
        POST: proxyCreate,
      },
    },
    { pattern: /^\/populate$/, methods: { POST: populate } },
    {
      pattern: /^\/proxies\/([^/]+)$/,
      methods: {
        GET: async (_req, res, [name]) => sendJson(res, 200, collection.get(name).toJson()),
        POST: proxyUpdate,
        PATCH: proxyUpdate,
        DELETE: async (_req, res, [name]) => {
          await collection.remove(name);
          sendNoContent(res);
        },
      },
    },
    {
      pattern: /^\/proxies\/([^/]+)\/toxics$/,
      methods: {
        GET: async (_req, res, [name]) => sendJson(res, 200, `[${collection.get(name).toxics.list().map(toxicToJson).join(',')}]`),
        POST: async (_req, res, [name], body) => {
          const proxy = collection.get(name);
          const toxic = await proxy.toxics.addToxicJson(body);
          sendJson(res, 200, toxicToJson(toxic));
        },
      },
    },
    {
      pattern: /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
      methods: {
        GET: async (_req, res, [name, toxicName]) => {
          const toxic = collection.get(name).toxics.find(toxicName);
          if (!toxic) throw apiError('toxic not found', 404);
          sendJson(res, 200, toxicToJson(toxic));
        },
        POST: async (req, res, [name, toxicName], body) => {
          if (req.method === 'POST') logger.warn('fault-proxy: ToxicUpdate: HTTP method POST is deprecated. Use HTTP PATCH instead.');
          const toxic = await collection.get(name).toxics.updateToxicJson(toxicName, body);
          sendJson(res, 200, toxicToJson(toxic));
        },
        DELETE: async (_req, res, [name, toxicName]) => {
          await collection.get(name).toxics.removeToxic(toxicName);
          sendNoContent(res);
        },
      },
    },
    {
      pattern: /^\/version$/,
      methods: {
        GET: async (_req, res) => send(res, 200, `{"version": "${FAULT_PROXY_VERSION}"}\n`, 'application/json;charset=utf-8'),
      },
    },
  ];
  const toxicRoute = routes[5];
  (toxicRoute.methods as Record<string, Handler>).PATCH = toxicRoute.methods.POST;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt >= 0 ? rawUrl.slice(0, queryAt) : rawUrl;
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      sendHttpError(res, 400, '400 Bad Request');
      return;
    }
    const clean = cleanPath(path);
    if (clean !== path) {
      // gorilla/mux redirects non-canonical paths (`//proxies`, `/a/../proxies`) before routing.
      send(res, 301, '', undefined, { Location: encodeURI(clean) + (queryAt >= 0 ? rawUrl.slice(queryAt) : '') });
      return;
    }
    const route = routes.find((r) => r.pattern.test(path));
    if (!route) {
      // gorilla/mux answers unmatched paths before any middleware: no request id here.
      sendHttpError(res, 404, '404 page not found');
      return;
    }
    const handler = route.methods[req.method ?? ''];
    if (!handler) {
      send(res, 405, '');
      return;
    }
    res.setHeader('X-Toxiproxy-Request-Id', nextRequestId());
    if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
      sendHttpError(res, 403, 'User agent not allowed');
      return;
    }
    const params = (route.pattern.exec(path) ?? []).slice(1);
    const fail = (err: unknown): void => {
      if (err instanceof FaultProxyError) {
        sendApiError(res, err);
        return;
      }
      logger.error({ err }, 'fault-proxy: API handler failed');
      sendApiError(res, apiError(err instanceof Error ? err.message : String(err), 500));
    };
    let body: Buffer;
    try {
      // Read before queueing, so a slow client cannot hold up every other API call.
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      fail(err instanceof BodyTooLargeError ? apiError('bad request body: http: request body too large', 400) : err);
      return;
    }
    await serialized(async () => {
      try {
        await handler(req, res, params, body);
      } catch (err) {
        fail(err);
      }
    });
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'fault-proxy: request failed');
      if (!res.headersSent) sendHttpError(res, 500, 'internal error');
      else res.destroy();
    });
  });
  http.requestTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen({ host, port: options.port ?? 0 }, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  logger.info({ port }, 'fault-proxy: API listening');

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await serialized(() => collection.closeAll());
        await closed;
      })();
      return closing;
    },
  };
}
