/**
 * Router: method + path-pattern matching for the daemon's HTTP server. Patterns are literal
 * segments and `:name` parameters (`/api/v1/probes/:name`).
 */
import { ApiError } from '../errors.js';

/** HTTP_METHODS are the methods routes can be registered for (HEAD is served by GET routes). */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** HttpMethod is one of HTTP_METHODS. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

type Segment = { readonly literal: string } | { readonly param: string };

interface Entry<H> {
  readonly method: HttpMethod;
  readonly pattern: string;
  readonly segments: readonly Segment[];
  readonly handler: H;
}

/** RouteMatch is a found route with its decoded path parameters. */
export interface RouteMatch<H> {
  readonly pattern: string;
  readonly params: Readonly<Record<string, string>>;
  readonly handler: H;
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Router holds routes; it is filled at startup and only read while serving. */
export class Router<H> {
  private readonly entries: Entry<H>[] = [];

  /** add registers a route; a duplicate method + pattern is a programming error. */
  add(method: HttpMethod, pattern: string, handler: H): void {
    if (!(HTTP_METHODS as readonly string[]).includes(method)) throw new TypeError(`route: unsupported method ${method}`);
    if (!pattern.startsWith('/')) throw new TypeError(`route: pattern must start with /: ${pattern}`);
    const segments = split(pattern).map((s): Segment => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s }));
    const shape = (segs: readonly Segment[]): string => segs.map((s) => ('param' in s ? ':' : s.literal)).join('/');
    if (this.entries.some((e) => e.method === method && shape(e.segments) === shape(segments))) {
      throw new TypeError(`route: ${method} ${pattern} is already registered`);
    }
    this.entries.push({ method, pattern, segments, handler });
  }

  /**
   * match finds the route for a request. Literal segments win over parameters. A path that
   * exists for other methods is a 405; no route at all is a 404 (both ApiErrors).
   */
  match(method: string, path: string): RouteMatch<H> {
    const parts = split(path);
    const lookupMethod = method === 'HEAD' ? 'GET' : method;
    const candidates: { entry: Entry<H>; params: Record<string, string>; literals: number }[] = [];
    for (const entry of this.entries) {
      if (entry.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let literals = 0;
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = entry.segments[i];
        if ('literal' in seg) {
          ok = seg.literal === parts[i];
          literals++;
        } else {
          try {
            params[seg.param] = decodeURIComponent(parts[i]);
          } catch {
            throw new ApiError(400, 'bad_data', `malformed percent-encoding in path segment ${JSON.stringify(parts[i])}`);
          }
        }
      }
      if (ok) candidates.push({ entry, params, literals });
    }
    const forMethod = candidates.filter((c) => c.entry.method === lookupMethod).sort((a, b) => b.literals - a.literals);
    const best = forMethod[0];
    if (best) return { pattern: best.entry.pattern, params: best.params, handler: best.entry.handler };
    if (candidates.length > 0) {
      const allowed = [...new Set(candidates.map((c) => c.entry.method))].join(', ');
      throw new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${path} (allowed: ${allowed})`);
    }
    throw new ApiError(404, 'not_found', `no endpoint ${path}; see /api/v1/status for what this daemon serves`);
  }

  /** allowedMethods lists the methods registered for a path (for the Allow header). */
  allowedMethods(path: string): HttpMethod[] {
    const methods: HttpMethod[] = [];
    for (const m of HTTP_METHODS) {
      try {
        this.match(m, path);
        methods.push(m);
      } catch {
        // not allowed for this method
      }
    }
    return methods;
  }
}
