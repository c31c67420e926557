/**
 * http-api: the host's HTTP routes (SpacetimeDB 2.0.1 `client-api` `routes/database.rs`,
 * `routes/identity.rs`, `routes/health.rs`): ping, health, identities, database info, schema,
 * `/sql` and `/call/:reducer`, with SpacetimeDB's statuses and text/plain error bodies.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { readBody, sendEmpty, sendJson, sendText } from '../http-helpers.js';
import type { Fanout } from './fanout.js';
import type { HostIdentity } from './host-identity.js';
import type { AuthFailure, Authenticator, Caller } from './identities.js';
import { isAuthFailure } from './identities.js';
import type { ModuleDb } from './module-db.js';
import { rawModuleDefV9 } from './module-def.js';
import type { ReducerGateway } from './reducer-gateway.js';
import { algebraicType, stringifyJson, untypedValue } from './schema.js';
import type { Lifecycle } from './sessions.js';
import type { CompiledSql } from './sql-query.js';
import { SqlRejection, compileSql } from './sql-query.js';
import { ENERGY_PER_CALL, elapsedMicros } from './wire.js';

/** HttpApiOptions: what the routes read and run. */
export interface HttpApiOptions {
  readonly host: HostIdentity;
  readonly auth: Authenticator;
  /** authenticate applies the auth middleware to a request (and counts refusals). */
  readonly authenticate: (req: IncomingMessage, url: URL) => Promise<Caller | AuthFailure>;
  readonly db: ModuleDb;
  readonly reducers: ReducerGateway;
  readonly lifecycle: Lifecycle;
  readonly fanout: Fanout;
  readonly nowMs: () => number;
}

/** HttpApi answers the host's HTTP requests. */
export class HttpApi {
  constructor(private readonly opts: HttpApiOptions) {}

  private identityHeaders(caller: Caller): OutgoingHttpHeaders {
    return { 'spacetime-identity': caller.identityHex, 'spacetime-identity-token': caller.token };
  }

  /** handle routes one request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab');
    try {
      decodeURIComponent(url.pathname);
    } catch {
      return sendText(res, 400, 'Invalid URL: malformed percent-encoding in the path');
    }
    const method = req.method ?? 'GET';
    res.setHeader('access-control-allow-origin', '*');
    if (method === 'OPTIONS') {
      // CORS preflight: any origin and method, with the three headers SpacetimeDB allows.
      return sendEmpty(res, 200, { 'access-control-allow-methods': '*', 'access-control-allow-headers': 'authorization, accept, content-type' });
    }
    if (url.pathname === '/v1/ping') {
      if (method !== 'GET' && method !== 'HEAD') return sendEmpty(res, 405);
      if (req.headers.authorization !== undefined || url.searchParams.has('token')) {
        const a = await this.opts.authenticate(req, url);
        if (isAuthFailure(a)) return sendText(res, a.status, a.body);
      }
      return sendEmpty(res, 200);
    }
    if (url.pathname === '/v1/health') {
      if (method !== 'GET') return sendEmpty(res, 405);
      return sendJson(res, 200, { package_name: 'spacetimedb-client-api', version: '2.0.1', nodes: [{ id: 0, version: '2.0.1', unschedulable: false, state: 'Running' }], schedulable: true });
    }
    if (url.pathname === '/v1/identity') {
      if (method !== 'POST') return sendEmpty(res, 405);
      const caller = await this.opts.auth.mint();
      return sendJson(res, 200, { identity: caller.identityHex, token: caller.token });
    }
    if (url.pathname === '/v1/identity/websocket-token') {
      if (method !== 'POST') return sendEmpty(res, 405);
      if (req.headers.authorization === undefined) return sendText(res, 401, 'Authorization required');
      const a = await this.opts.authenticate(req, url);
      if (isAuthFailure(a)) return sendText(res, a.status, a.body);
      return sendJson(res, 200, { token: (await this.opts.auth.websocketToken(a.token)) ?? a.token });
    }
    const verify = /^\/v1\/identity\/([^/]+)\/verify$/.exec(url.pathname);
    if (verify) {
      if (method !== 'GET') return sendEmpty(res, 405);
      if (req.headers.authorization === undefined) return sendEmpty(res, 401);
      const a = await this.opts.authenticate(req, url);
      if (isAuthFailure(a)) return sendEmpty(res, a.status === 400 ? 400 : 401);
      return sendEmpty(res, (verify[1] as string).toLowerCase().replace(/^0x/, '') === a.identityHex ? 204 : 400);
    }
    const m = /^\/v1\/database\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return sendEmpty(res, 404);
    const dbName = decodeURIComponent(m[1] as string);
    const rest = m[2] ?? '';
    const caller = await this.opts.authenticate(req, url);
    if (isAuthFailure(caller)) return sendText(res, caller.status, caller.body);
    const headers = this.identityHeaders(caller);
    const host = this.opts.host;
    const notFound = host.resolve(dbName);
    if (notFound !== undefined) return sendText(res, 404, notFound, headers);
    if (rest === '' || rest === '/') {
      if (method !== 'GET') return sendEmpty(res, 405, headers);
      return sendJson(res, 200, {
        database_identity: { __identity__: `0x${host.databaseIdentity}` },
        owner_identity: { __identity__: `0x${host.ownerIdentity}` },
        host_type: { Wasm: [] },
        initial_program: `0x${createHash('sha256').update('autopilot-sync@9b2b978949').digest('hex')}`,
      }, headers);
    }
    if (rest === '/identity') {
      if (method !== 'GET') return sendEmpty(res, 405, headers);
      return sendText(res, 200, host.databaseIdentity, headers);
    }
    if (rest === '/schema') {
      if (method !== 'GET') return sendEmpty(res, 405, headers);
      const version = url.searchParams.get('version');
      if (version === null) return sendText(res, 400, 'Failed to deserialize query string: missing field `version`', headers);
      // 2.0.1 serves version 9 only; version 10 appeared in 2.0.5.
      if (version !== '9') return sendText(res, 400, `Failed to deserialize query string: unknown variant \`${version}\`, expected \`9\``, headers);
      return sendJson(res, 200, rawModuleDefV9(), headers);
    }
    if (rest === '/unstable/timestamp') {
      return sendJson(res, 200, { __timestamp_micros_since_unix_epoch__: this.opts.nowMs() * 1000 }, headers);
    }
    if (rest === '/sql') {
      if (method !== 'POST') return sendEmpty(res, 405, headers);
      return this.handleSql(req, res, caller, headers);
    }
    const call = /^\/call\/([^/]+)$/.exec(rest);
    if (call) {
      if (method !== 'POST') return sendEmpty(res, 405, headers);
      return this.handleCall(req, res, caller, headers, decodeURIComponent(call[1] as string));
    }
    if (rest === '/subscribe') return sendEmpty(res, method === 'GET' ? 426 : 405, headers);
    return sendEmpty(res, 404, headers);
  }

  private async handleSql(req: IncomingMessage, res: ServerResponse, caller: Caller, headers: OutgoingHttpHeaders): Promise<void> {
    const body = await readBody(req);
    const started = process.hrtime.bigint();
    let sql: string;
    try {
      sql = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      return sendText(res, 400, "Request body didn't contain valid UTF-8", headers);
    }
    let rows: unknown[][];
    let compiled: CompiledSql;
    try {
      compiled = compileSql(sql, caller.identityHex);
      const c = compiled;
      rows = this.opts.db.runSql(c).map((r) => r.map((v, i) => untypedValue(c.columns[i]?.type ?? 'String', v)));
    } catch (err) {
      if (err instanceof SqlRejection) return sendText(res, 400, err.message, headers);
      throw err;
    }
    const micros = elapsedMicros(started);
    const answer = [
      {
        schema: { elements: compiled.columns.map((c) => ({ name: { some: c.name }, algebraic_type: algebraicType(c.type) })) },
        rows,
        total_duration_micros: micros,
        stats: { rows_inserted: 0, rows_deleted: 0, rows_updated: 0 },
      },
    ];
    return sendJson(res, 200, stringifyJson(answer), { ...headers, 'spacetime-execution-duration-micros': String(micros) });
  }

  /**
   * handleCall runs connect, reducer, disconnect: three transactions under one fresh connection
   * id, each fanned out (2.0.1 `routes/database.rs` call). A reducer's return value never
   * reaches the caller: success is an empty 200.
   */
  private async handleCall(req: IncomingMessage, res: ServerResponse, caller: Caller, headers: OutgoingHttpHeaders, reducer: string): Promise<void> {
    const contentType = req.headers['content-type'];
    const body = await readBody(req);
    if (contentType === undefined) return sendText(res, 400, 'Header of type `content-type` was missing', headers);
    if (contentType.trim().toLowerCase() !== 'application/json') return sendText(res, 415, 'Expected request with `Content-Type: application/json`', headers);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      return sendText(res, 400, "Request body didn't contain valid UTF-8", headers);
    }
    const started = process.hrtime.bigint();
    this.opts.lifecycle.connect(caller.identityHex);
    const outcome = this.opts.reducers.call(reducer, text, caller);
    if (outcome.ok) this.opts.fanout.broadcast(outcome.tx, undefined);
    this.opts.lifecycle.disconnect(caller.identityHex, false);
    const micros = elapsedMicros(started);
    if (outcome.ok) {
      return sendEmpty(res, 200, { ...headers, 'spacetime-energy-used': String(ENERGY_PER_CALL), 'spacetime-execution-duration-micros': String(micros) });
    }
    switch (outcome.kind) {
      case 'no_such_reducer':
        return sendText(res, 404, 'No such procedure', headers);
      case 'invalid_arguments':
      case 'lifecycle':
        return sendText(res, 400, outcome.message, headers);
      case 'reducer_error':
        return sendText(res, 530, outcome.message, headers);
    }
  }
}
