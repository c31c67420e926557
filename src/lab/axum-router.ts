/**
 * axum-router: the routing rules of axum 0.7.9, which both OpenAgents services use, so the lab's
 * stand-ins answer the way the real routers do where no handler is involved:
 * - an unknown path is the default fallback: 404, empty body, no content-type (neither service
 *   configures a fallback);
 * - a known path with a method it does not serve is 405 with an empty body and an `allow` header
 *   (`GET,HEAD` for a GET route: axum serves HEAD for GET routes and strips the body);
 * - a `route_layer` gate runs for every method of a matched route, wrong methods included, but
 *   never for unknown paths (axum `routing/path_router.rs:277-306`, `routing/mod.rs:715-733`).
 * Handlers and gates return a `LabResponse` value; `serveLab` writes it to node:http.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { readBody } from './http-helpers.js';
import { serdeJson } from './serde-json.js';

/** LabRequest is one request, its body already read. */
export interface LabRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** params are the `:name` segments of the matched route. */
  readonly params: Readonly<Record<string, string>>;
}

/** LabResponse is a complete answer; header names are lower case. */
export interface LabResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Handler answers a request. */
export type Handler = (req: LabRequest) => LabResponse | Promise<LabResponse>;

/** Gate is a route layer: a response refuses the request, `undefined` lets it through. */
export type Gate = (req: LabRequest) => LabResponse | undefined | Promise<LabResponse | undefined>;

/** RouteMethods are the methods a route serves, in registration order (the `allow` header keeps it). */
export type RouteMethods = Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', Handler>>;

/** RouteSpec is one `Router::route(path, method_router)`; `gates` are its route layers, outermost first. */
export interface RouteSpec {
  /** path uses axum 0.7 syntax: `/api/chats/:conversation_id`. */
  readonly path: string;
  readonly methods: RouteMethods;
  readonly gates?: readonly Gate[];
}

/** emptyResponse is a response without a body (axum's `StatusCode::into_response()`). */
export function emptyResponse(status: number, headers: Record<string, string> = {}): LabResponse {
  return { status, headers: { ...headers, 'content-length': '0' }, body: '' };
}

/** jsonResponse is axum's `Json(value)`: serialized as serde_json does (see serde-json.ts). */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): LabResponse {
  return { status, headers: { ...headers, 'content-type': 'application/json' }, body: serdeJson(value) };
}

/** textResponse is a `String` body, as axum's rejections answer. */
export function textResponse(status: number, text: string, headers: Record<string, string> = {}): LabResponse {
  return { status, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: text };
}

interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly segments: readonly string[];
  readonly allow: string;
}

function allowHeader(methods: RouteMethods): string {
  const out: string[] = [];
  for (const m of Object.keys(methods)) {
    out.push(m);
    if (m === 'GET') out.push('HEAD');
  }
  return out.join(',');
}

/** AxumRouter matches paths and methods the way axum's Router does. */
export class AxumRouter {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly RouteSpec[]) {
    this.routes = routes.map((spec) => ({ spec, segments: spec.path.split('/'), allow: allowHeader(spec.methods) }));
  }

  private match(path: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
    const parts = path.split('/');
    for (const route of this.routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i += 1) {
        const seg = route.segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith(':') && part !== '') params[seg.slice(1)] = decodeURIComponent(part);
        else ok = seg === part;
      }
      if (ok) return { route, params };
    }
    return undefined;
  }

  /** dispatch answers one request: 404 for an unknown path, gates, then the handler or 405. */
  async dispatch(req: LabRequest): Promise<LabResponse> {
    let found: { route: CompiledRoute; params: Record<string, string> } | undefined;
    try {
      found = this.match(req.path);
    } catch {
      found = undefined;
    }
    if (!found) return emptyResponse(404);
    const routed: LabRequest = { ...req, params: found.params };
    for (const gate of found.route.spec.gates ?? []) {
      const refused = await gate(routed);
      if (refused) return refused;
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = found.route.spec.methods[method as keyof RouteMethods];
    if (!handler) return emptyResponse(405, { allow: found.route.allow });
    return handler(routed);
  }
}

/** LabServiceHandler answers every request of one service (router plus its outer layers). */
export type LabServiceHandler = (req: LabRequest) => Promise<LabResponse>;

/** MAX_REQUEST_BODY_BYTES is axum's default body limit (`DefaultBodyLimit`, 2 MB). */
export const MAX_REQUEST_BODY_BYTES = 2 * 1024 * 1024;

/** serveLab is a node:http server that reads each body and writes the handler's LabResponse (HEAD without body). */
export function serveLab(handler: LabServiceHandler, logger: Logger, name: string): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const answer = async (): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://lab');
      let body: Buffer;
      try {
        body = await readBody(req, MAX_REQUEST_BODY_BYTES);
      } catch {
        const tooLarge = textResponse(413, 'Failed to buffer the request body: length limit exceeded');
        res.writeHead(tooLarge.status, { ...tooLarge.headers, connection: 'close' });
        res.end(tooLarge.body);
        return;
      }
      const out = await handler({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, params: {} });
      const headers: Record<string, string> = { ...out.headers };
      // hyper sends no content-length with a 204 (it can have no body); every other answer has one.
      if (out.status === 204) delete headers['content-length'];
      else if (headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(out.body));
      res.writeHead(out.status, headers);
      res.end(req.method === 'HEAD' ? undefined : out.body);
    };
    answer().catch((err: unknown) => {
      logger.error({ err }, `lab ${name}: request failed`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-length': 0 });
        res.end();
      } else {
        res.destroy();
      }
    });
  });
}
