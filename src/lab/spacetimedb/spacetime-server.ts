/**
 * spacetime-server: a SpacetimeDB 2.0.x-compatible host for one database running the
 * `autopilot-sync` module: the HTTP API (PROTOCOLS §1) and the v1.json WebSocket API (§2, §3)
 * on one node:http server. Reducers run on ModuleDb; each committed delta is fanned out to
 * subscribers exactly as 2.0.1 does for a V10 module (caller: full update; others: Light).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { RebootstrapFault, ResumeFault } from '../knobs.js';
import { closeServer, listen, readBody, sendEmpty, sendJson, sendText } from '../http-helpers.js';
import type { AuthFailure, AuthFailureReason, Caller } from './identities.js';
import { Authenticator, isAuthFailure } from './identities.js';
import type { CommittedTx, ModuleDb, ReducerOutcome } from './module-db.js';
import { NO_SUCH_REDUCER_ID, reducerId } from './module-db.js';
import { rawModuleDefV9 } from './module-def.js';
import type { Row, TableDef } from './schema.js';
import { algebraicType, rowAsArray, rowAsObject, stringifyJson, untypedValue } from './schema.js';
import type { CompiledSql, SubscriptionQuery } from './sql-query.js';
import { SqlRejection, compileSql, compileSubscription } from './sql-query.js';

/** V1_JSON is the only WebSocket subprotocol the lab speaks. */
export const V1_JSON = 'v1.json.spacetimedb';

/** SpacetimeHooks lets the lab's knobs reach into the host without the host knowing the lab. */
export interface SpacetimeHooks {
  /** isStreamingStopped: sessions stay open and answer, but no transaction updates are sent. */
  isStreamingStopped(): boolean;
  /** isLeakingConnectionRows: `client_disconnected` keeps the presence row. */
  isLeakingConnectionRows(): boolean;
  /** takeResumeFault returns the pending `next_resume` fault without clearing it. */
  peekResumeFault(): ResumeFault | null;
  /** resumeFaultApplied clears the knob once a resuming subscription was altered. */
  resumeFaultApplied(fault: ResumeFault, afterSeq: number): void;
  /** peekRebootstrapFault returns the pending `next_rebootstrap` fault without clearing it. */
  peekRebootstrapFault(): RebootstrapFault | null;
  /** rebootstrapFaultApplied clears the knob once a re-bootstrapping subscription was altered or refused. */
  rebootstrapFaultApplied(fault: RebootstrapFault, streamId: string): void;
  /** onAuthFailure counts refused credentials (by JWT failure kind) for the runtime's counters. */
  onAuthFailure(reason: AuthFailureReason): void;
}

/** SpacetimeServerOptions configures the host. */
export interface SpacetimeServerOptions {
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  readonly signingKey: string;
  readonly db: ModuleDb;
  readonly nowMs: () => number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly hooks: SpacetimeHooks;
  readonly logger: Logger;
}

/** ConnectionInfo describes one open WebSocket session for `/lab/state`. */
export interface ConnectionInfo {
  readonly identity: string;
  readonly connection_id: string;
  readonly connected_at_unix_ms: number;
  readonly subscriptions: number;
}

interface CallerCall {
  readonly session: Session;
  readonly requestId: number;
  readonly reducerName: string;
  readonly reducerId: number;
  readonly args: string;
  readonly flags: number;
}

interface Session {
  readonly id: number;
  readonly ws: WebSocket;
  readonly caller: Caller;
  readonly connectionId: bigint;
  readonly connectedAtMs: number;
  legacy: SubscriptionQuery[];
  readonly byQueryId: Map<number, SubscriptionQuery[]>;
  lastHeardMs: number;
  lastPingMs: number;
  ready: boolean;
  closed: boolean;
}

class ProtocolViolation extends Error {}

const ENERGY_PER_CALL = 1_843_200;

function hexToBigInt(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

function elapsedMicros(start: bigint): number {
  return Math.max(1, Number((process.hrtime.bigint() - start) / 1000n));
}

function tableUpdate(table: TableDef, deletes: string[], inserts: string[]): Record<string, unknown> {
  return { table_id: table.id, table_name: table.name, num_rows: deletes.length + inserts.length, updates: [{ deletes, inserts }] };
}

function requireField(obj: Record<string, unknown>, field: string, variant: string): unknown {
  if (!(field in obj)) throw new ProtocolViolation(`invalid ${variant} message: missing field \`${field}\``);
  return obj[field];
}

function asU32(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ProtocolViolation(`invalid type for ${what}: expected u32`);
  return v;
}

function queryIdOf(v: unknown, variant: string): number {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolViolation(`invalid ${variant} message: query_id must be {"id": n}`);
  return asU32((v as Record<string, unknown>).id, 'query_id.id');
}

function messageIdHex(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Buffer.from(v as number[]).toString('hex');
  throw new ProtocolViolation('invalid OneOffQuery message: message_id must be bytes');
}

const CLIENT_VARIANTS = ['CallReducer', 'Subscribe', 'OneOffQuery', 'SubscribeSingle', 'SubscribeMulti', 'Unsubscribe', 'UnsubscribeMulti', 'CallProcedure'] as const;

/** SpacetimeServer is the running host. */
export class SpacetimeServer {
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly auth: Authenticator;
  private readonly sessions = new Map<number, Session>();
  private readonly upgradeCallers = new WeakMap<IncomingMessage, Caller>();
  private readonly databaseIdentity: string;
  private readonly ownerIdentity: string;
  private nextSessionId = 1;
  private droppedMessageCount = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private pendingDisconnects = new Set<NodeJS.Immediate>();
  private url = '';

  constructor(private readonly opts: SpacetimeServerOptions) {
    this.auth = new Authenticator(opts.signingKey, opts.nowMs);
    this.databaseIdentity = `c200${createHash('sha256').update(`database|${opts.databaseName}`).digest('hex').slice(0, 60)}`;
    this.ownerIdentity = `c200${createHash('sha256').update(`owner|${opts.databaseName}`).digest('hex').slice(0, 60)}`;
    this.server = createServer((req, res) => {
      this.handleHttp(req, res).catch((err: unknown) => {
        opts.logger.error({ err }, 'lab spacetimedb: request failed');
        if (!res.headersSent) sendText(res, 500, 'internal error');
        else res.destroy();
      });
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: 32 * 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has(V1_JSON) ? V1_JSON : false),
    });
    this.wss.on('headers', (headers, req) => {
      const caller = this.upgradeCallers.get(req);
      if (caller) headers.push(`spacetime-identity: ${caller.identityHex}`, `spacetime-identity-token: ${caller.token}`);
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.handleUpgrade(req, socket, head).catch((err: unknown) => {
        opts.logger.error({ err }, 'lab spacetimedb: upgrade failed');
        socket.destroy();
      });
    });
  }

  /** start listens and starts the keep-alive sweeper; resolves to the base URL. */
  async start(): Promise<string> {
    this.url = await listen(this.server, this.opts.host, this.opts.port);
    const sweepMs = Math.min(1000, Math.max(10, Math.floor(Math.min(this.opts.pingIntervalMs, this.opts.idleTimeoutMs) / 5)));
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
    return this.url;
  }

  /** databaseIdentityHex is the database's identity (64 hex, no `0x`). */
  get databaseIdentityHex(): string {
    return this.databaseIdentity;
  }

  /** droppedMessages counts transaction updates withheld while streaming was stopped. */
  get droppedMessages(): number {
    return this.droppedMessageCount;
  }

  /** connections lists the open WebSocket sessions. */
  connections(): ConnectionInfo[] {
    return [...this.sessions.values()]
      .filter((s) => !s.closed)
      .map((s) => ({
        identity: s.caller.identityHex,
        connection_id: s.connectionId.toString(),
        connected_at_unix_ms: s.connectedAtMs,
        subscriptions: s.legacy.length + [...s.byQueryId.values()].reduce((n, q) => n + q.length, 0),
      }));
  }

  /** dropAllConnections cuts every WebSocket without a close frame (a restart); data stays. */
  dropAllConnections(): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (!s.closed) {
        s.ws.terminate();
        n += 1;
      }
    }
    return n;
  }

  /** publish fans out a transaction committed outside any client call (traffic, retention, lab). */
  publish(tx: CommittedTx): void {
    this.broadcast(tx, undefined);
  }

  /** callInternal runs a reducer as the module's owner without lifecycle rows and fans out the delta. */
  callInternal(reducer: string, args: unknown[]): ReducerOutcome {
    const outcome = this.opts.db.callReducer(reducer, args, this.ownerIdentity);
    if (outcome.ok) this.broadcast(outcome.tx, undefined);
    return outcome;
  }

  /** close drops every session, runs their disconnects, and stops the server. */
  async close(deadlineMs = 2000): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const s of this.sessions.values()) s.ws.terminate();
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const i of this.pendingDisconnects) clearImmediate(i);
    this.pendingDisconnects.clear();
    this.wss.close();
    await closeServer(this.server, deadlineMs);
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  private identityHeaders(caller: Caller): OutgoingHttpHeaders {
    return { 'spacetime-identity': caller.identityHex, 'spacetime-identity-token': caller.token };
  }

  private async authenticate(req: IncomingMessage, url: URL): Promise<Caller | AuthFailure> {
    const result = await this.auth.authenticate(req.headers.authorization, url.searchParams.get('token'));
    if (isAuthFailure(result)) {
      this.opts.hooks.onAuthFailure(result.reason);
    }
    return result;
  }

  /** resolveDatabase answers the 404 bodies of §1.1 for unknown names and identities. */
  private resolveDatabase(nameOrIdentity: string): string | undefined {
    if (/^[0-9a-fA-F]{64}$/.test(nameOrIdentity)) return nameOrIdentity.toLowerCase() === this.databaseIdentity ? undefined : 'No such database.';
    return nameOrIdentity === this.opts.databaseName ? undefined : `\`${nameOrIdentity}\` not found`;
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
        const a = await this.authenticate(req, url);
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
      const caller = await this.auth.mint();
      return sendJson(res, 200, { identity: caller.identityHex, token: caller.token });
    }
    if (url.pathname === '/v1/identity/websocket-token') {
      if (method !== 'POST') return sendEmpty(res, 405);
      if (req.headers.authorization === undefined) return sendText(res, 401, 'Authorization required');
      const a = await this.authenticate(req, url);
      if (isAuthFailure(a)) return sendText(res, a.status, a.body);
      return sendJson(res, 200, { token: (await this.auth.websocketToken(a.token)) ?? a.token });
    }
    const verify = /^\/v1\/identity\/([^/]+)\/verify$/.exec(url.pathname);
    if (verify) {
      if (method !== 'GET') return sendEmpty(res, 405);
      if (req.headers.authorization === undefined) return sendEmpty(res, 401);
      const a = await this.authenticate(req, url);
      if (isAuthFailure(a)) return sendEmpty(res, a.status === 400 ? 400 : 401);
      return sendEmpty(res, (verify[1] as string).toLowerCase().replace(/^0x/, '') === a.identityHex ? 204 : 400);
    }
    const m = /^\/v1\/database\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return sendEmpty(res, 404);
    const dbName = decodeURIComponent(m[1] as string);
    const rest = m[2] ?? '';
    const caller = await this.authenticate(req, url);
    if (isAuthFailure(caller)) return sendText(res, caller.status, caller.body);
    const headers = this.identityHeaders(caller);
    const notFound = this.resolveDatabase(dbName);
    if (notFound !== undefined) return sendText(res, 404, notFound, headers);
    if (rest === '' || rest === '/') {
      if (method !== 'GET') return sendEmpty(res, 405, headers);
      return sendJson(res, 200, {
        database_identity: { __identity__: `0x${this.databaseIdentity}` },
        owner_identity: { __identity__: `0x${this.ownerIdentity}` },
        host_type: { Wasm: [] },
        initial_program: `0x${createHash('sha256').update('autopilot-sync@9b2b978949').digest('hex')}`,
      }, headers);
    }
    if (rest === '/identity') {
      if (method !== 'GET') return sendEmpty(res, 405, headers);
      return sendText(res, 200, this.databaseIdentity, headers);
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
    const text = new TextDecoder('utf-8', { fatal: true });
    let sql: string;
    try {
      sql = text.decode(body);
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
    const db = this.opts.db;
    // §3.2: connect, reducer, disconnect: three transactions under one fresh connection id.
    this.broadcast(db.connect(caller.identityHex), undefined);
    let outcome: ReducerOutcome;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      outcome = db.callReducer(reducer, parsed, caller.identityHex);
    } catch (err) {
      outcome = reducerId(reducer) === undefined
        ? { ok: false, kind: 'no_such_reducer', message: 'no such reducer', reducerId: NO_SUCH_REDUCER_ID }
        : { ok: false, kind: 'invalid_arguments', message: `invalid arguments for reducer ${reducer}: ${(err as Error).message}`, reducerId: reducerId(reducer) ?? 0 };
    }
    if (outcome.ok) this.broadcast(outcome.tx, undefined);
    this.runDisconnect(caller.identityHex, false);
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

  private runDisconnect(identityHex: string, deferred: boolean): void {
    const run = (): void => {
      if (this.opts.hooks.isLeakingConnectionRows()) return;
      this.broadcast(this.opts.db.disconnect(identityHex), undefined);
    };
    if (!deferred) {
      run();
      return;
    }
    const handle = setImmediate(() => {
      this.pendingDisconnects.delete(handle);
      try {
        run();
      } catch (err) {
        this.opts.logger.error({ err }, 'lab spacetimedb: client_disconnected failed');
      }
    });
    this.pendingDisconnects.add(handle);
  }

  // ---------------------------------------------------------------------------------------------
  // WebSocket

  private rejectUpgrade(socket: Duplex, status: number, reason: string, body: string, headers: OutgoingHttpHeaders = {}): void {
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${String(v)}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
  }

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://lab');
    try {
      decodeURIComponent(url.pathname);
    } catch {
      return this.rejectUpgrade(socket, 400, 'Bad Request', 'Invalid URL: malformed percent-encoding in the path');
    }
    const m = /^\/v1\/database\/([^/]+)\/subscribe$/.exec(url.pathname);
    if (!m) return this.rejectUpgrade(socket, 404, 'Not Found', '');
    if (req.method !== 'GET') return this.rejectUpgrade(socket, 405, 'Method Not Allowed', '');
    const caller = await this.authenticate(req, url);
    if (isAuthFailure(caller)) return this.rejectUpgrade(socket, caller.status, caller.status === 400 ? 'Bad Request' : 'Unauthorized', caller.body);
    const headers = this.identityHeaders(caller);
    const dbRef = decodeURIComponent(m[1] as string);
    const notFound = this.resolveDatabase(dbRef);
    if (notFound !== undefined) {
      // §2.1: standalone authorizes before the existence check for a hex identity, hence a 500.
      if (notFound === 'No such database.') return this.rejectUpgrade(socket, 500, 'Internal Server Error', `Unable to authorize ${caller.identityHex} for SQL: database ${dbRef.toLowerCase()} not found`, headers);
      return this.rejectUpgrade(socket, 404, 'Not Found', notFound, headers);
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(V1_JSON)) return this.rejectUpgrade(socket, 400, 'Bad Request', 'no valid protocol selected', headers);
    let connectionId: bigint;
    const cid = url.searchParams.get('connection_id');
    if (cid !== null) {
      if (!/^[0-9a-fA-F]{32}$/.test(cid)) return this.rejectUpgrade(socket, 400, 'Bad Request', 'Failed to deserialize query string: invalid connection_id', headers);
      connectionId = hexToBigInt(cid);
      if (connectionId === 0n) return this.rejectUpgrade(socket, 400, 'Bad Request', 'Invalid connection ID: the all-zeros ConnectionId is reserved.', headers);
    } else {
      connectionId = hexToBigInt(randomBytes(16).toString('hex')) || 1n;
    }
    this.upgradeCallers.set(req, caller);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, caller, connectionId));
  }

  private send(session: Session, message: unknown): void {
    if (session.closed || session.ws.readyState !== session.ws.OPEN) return;
    session.ws.send(stringifyJson(message));
  }

  private onConnection(ws: WebSocket, caller: Caller, connectionId: bigint): void {
    const now = this.opts.nowMs();
    const session: Session = {
      id: this.nextSessionId++,
      ws,
      caller,
      connectionId,
      connectedAtMs: now,
      legacy: [],
      byQueryId: new Map(),
      lastHeardMs: now,
      lastPingMs: now,
      ready: false,
      closed: false,
    };
    this.sessions.set(session.id, session);
    const heard = (): void => {
      session.lastHeardMs = this.opts.nowMs();
    };
    ws.on('pong', heard);
    ws.on('ping', heard);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      heard();
      this.onMessage(session, data, isBinary);
    });
    ws.on('error', (err) => this.opts.logger.debug({ err }, 'lab spacetimedb: websocket error'));
    ws.on('close', () => {
      session.closed = true;
      this.sessions.delete(session.id);
      // §3.1 step 5: subscriptions go first, then client_disconnected runs asynchronously.
      session.legacy = [];
      session.byQueryId.clear();
      this.runDisconnect(caller.identityHex, true);
    });
    // §3.1: client_connected commits before IdentityToken is sent.
    this.broadcast(this.opts.db.connect(caller.identityHex), undefined);
    session.ready = true;
    this.send(session, { IdentityToken: { identity: { __identity__: `0x${caller.identityHex}` }, token: caller.token, connection_id: { __connection_id__: connectionId } } });
  }

  private sweep(): void {
    const now = this.opts.nowMs();
    for (const s of this.sessions.values()) {
      if (s.closed) continue;
      if (now - s.lastHeardMs >= this.opts.idleTimeoutMs) {
        this.opts.logger.debug({ identity: s.caller.identityHex }, 'lab spacetimedb: idle websocket dropped');
        s.ws.terminate();
        continue;
      }
      if (now - s.lastPingMs >= this.opts.pingIntervalMs) {
        s.lastPingMs = now;
        s.ws.ping();
      }
    }
  }

  private onMessage(session: Session, data: RawData, isBinary: boolean): void {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    try {
      // 2.0.1 decodes a binary frame as BSATN whatever the protocol; the lab speaks no BSATN, so
      // a binary frame is a decode error, as nearly any non-BSATN payload is on a real server.
      if (isBinary) throw new ProtocolViolation('binary messages are decoded as BSATN, which this server does not accept; send text frames on v1.json');
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch (err) {
        throw new ProtocolViolation(`invalid JSON message: ${(err as Error).message}`);
      }
      if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || Object.keys(msg).length !== 1) throw new ProtocolViolation('invalid message: expected an object with exactly one variant');
      const [key, body] = Object.entries(msg as Record<string, unknown>)[0] as [string, unknown];
      const variant = /^\d+$/.test(key) ? (CLIENT_VARIANTS[Number(key)] ?? key) : key;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ProtocolViolation(`invalid ${variant} message: expected an object`);
      const fields = body as Record<string, unknown>;
      switch (variant) {
        case 'CallReducer':
          return this.onCallReducer(session, fields);
        case 'Subscribe':
          return this.onSubscribe(session, fields);
        case 'SubscribeSingle':
          return this.onSubscribeSingle(session, fields);
        case 'SubscribeMulti':
          return this.onSubscribeMulti(session, fields);
        case 'Unsubscribe':
          return this.onUnsubscribe(session, fields, 'Unsubscribe');
        case 'UnsubscribeMulti':
          return this.onUnsubscribe(session, fields, 'UnsubscribeMulti');
        case 'OneOffQuery':
          return this.onOneOffQuery(session, fields);
        case 'CallProcedure':
          throw new ProtocolViolation('CallProcedure: the autopilot-sync module has no procedures');
        default:
          throw new ProtocolViolation(`unknown variant \`${variant}\``);
      }
    } catch (err) {
      if (err instanceof ProtocolViolation) {
        // §2.2: a decode error on v1.json closes with 1011 and the error text as reason.
        const reason = Buffer.from(err.message).subarray(0, 120).toString('utf8');
        session.ws.close(1011, reason);
        return;
      }
      this.opts.logger.error({ err }, 'lab spacetimedb: message handling failed');
      session.ws.close(1011, 'internal error');
    }
  }

  private onCallReducer(session: Session, f: Record<string, unknown>): void {
    const reducer = requireField(f, 'reducer', 'CallReducer');
    const args = requireField(f, 'args', 'CallReducer');
    const requestId = asU32(requireField(f, 'request_id', 'CallReducer'), 'request_id');
    const flags = asU32(requireField(f, 'flags', 'CallReducer'), 'flags');
    if (typeof reducer !== 'string' || typeof args !== 'string') throw new ProtocolViolation('invalid CallReducer message: reducer and args must be strings');
    const started = process.hrtime.bigint();
    let outcome: ReducerOutcome;
    try {
      outcome = this.opts.db.callReducer(reducer, JSON.parse(args), session.caller.identityHex);
    } catch (err) {
      const id = reducerId(reducer);
      outcome = id === undefined
        ? { ok: false, kind: 'no_such_reducer', message: 'no such reducer', reducerId: NO_SUCH_REDUCER_ID }
        : { ok: false, kind: 'invalid_arguments', message: `invalid arguments for reducer ${reducer}: ${(err as Error).message}`, reducerId: id };
    }
    const call: CallerCall = { session, requestId, reducerName: reducer, reducerId: outcome.reducerId, args, flags };
    if (outcome.ok) {
      this.broadcast(outcome.tx, call, elapsedMicros(started));
      return;
    }
    if (this.opts.hooks.isStreamingStopped()) {
      this.droppedMessageCount += 1;
      return;
    }
    // §2.5: a failed call is reported to the caller only, with request_id 0.
    this.send(session, {
      TransactionUpdate: {
        status: { Failed: outcome.message },
        timestamp: { __timestamp_micros_since_unix_epoch__: this.opts.nowMs() * 1000 },
        caller_identity: { __identity__: `0x${session.caller.identityHex}` },
        caller_connection_id: { __connection_id__: session.connectionId },
        reducer_call: { reducer_name: reducer, reducer_id: outcome.reducerId, args, request_id: 0 },
        energy_quanta_used: { quanta: 0 },
        total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) },
      },
    });
  }

  private compileAll(session: Session, queries: unknown, variant: string): SubscriptionQuery[] {
    if (!Array.isArray(queries) || queries.some((q) => typeof q !== 'string')) throw new ProtocolViolation(`invalid ${variant} message: query_strings must be an array of strings`);
    return (queries as string[]).map((q) => compileSubscription(q, session.caller.identityHex));
  }

  /** scan reads a query's rows from committed state in storage order, narrowed by its equality. */
  private scan(q: SubscriptionQuery): Row[] {
    const rows = q.equality ? this.opts.db.rows(q.table.name, `WHERE "${q.equality.column}" = ?`, [q.equality.value]) : this.opts.db.rows(q.table.name);
    return rows.filter((r) => q.matches(r));
  }

  /** initialTables builds the TableUpdates of a fresh subscription: object rows, empty tables omitted. */
  private initialTables(queries: readonly SubscriptionQuery[], asDeletes = false): Array<Record<string, unknown>> {
    const tables = new Map<string, { table: TableDef; queries: SubscriptionQuery[] }>();
    for (const q of queries) {
      const entry = tables.get(q.table.name) ?? { table: q.table, queries: [] };
      entry.queries.push(q);
      tables.set(q.table.name, entry);
    }
    const out: Array<Record<string, unknown>> = [];
    for (const { table, queries: qs } of tables.values()) {
      if (this.opts.db.count(table.name) === 0) continue;
      let rows: Row[];
      if (qs.length === 1) rows = this.scan(qs[0] as SubscriptionQuery);
      else rows = this.opts.db.rows(table.name).filter((r) => qs.some((q) => q.matches(r)));
      if (!asDeletes) rows = this.applyRebootstrapFault(qs, this.applyResumeFault(qs, rows));
      const strings = rows.map((r) => stringifyJson(rowAsObject(table, r)));
      out.push(asDeletes ? tableUpdate(table, strings, []) : tableUpdate(table, [], strings));
    }
    return out;
  }

  /** applyResumeFault alters the replay of the first resuming query per the `next_resume` knob. */
  private applyResumeFault(queries: readonly SubscriptionQuery[], rows: Row[]): Row[] {
    const fault = this.opts.hooks.peekResumeFault();
    if (fault === null) return rows;
    const q = queries.find((x) => x.resumeAfterSeq !== undefined);
    if (!q) return rows;
    const idx = rows.map((r, i) => (q.matches(r) ? i : -1)).filter((i) => i >= 0);
    const out = [...rows];
    const i0 = idx[0];
    const i1 = idx[1];
    if (i0 === undefined) return rows;
    if (fault === 'gap') out.splice(i0, 1);
    else if (fault === 'duplicate') out.splice(i0 + 1, 0, out[i0] as Row);
    else {
      if (i1 === undefined) return rows;
      out[i0] = rows[i1] as Row;
      out[i1] = rows[i0] as Row;
    }
    this.opts.hooks.resumeFaultApplied(fault, q.resumeAfterSeq as number);
    return out;
  }

  /**
   * applyRebootstrapFault alters the fresh snapshot of the first re-bootstrapping query per the
   * `next_rebootstrap` knob (`fail` is answered before any rows are read: see refusedRebootstrap).
   */
  private applyRebootstrapFault(queries: readonly SubscriptionQuery[], rows: Row[]): Row[] {
    const fault = this.opts.hooks.peekRebootstrapFault();
    if (fault === null || fault === 'fail') return rows;
    const q = queries.find((x) => x.rebootstrapStream !== undefined);
    if (!q) return rows;
    const idx = rows.map((r, i) => (q.matches(r) ? i : -1)).filter((i) => i >= 0);
    const out = [...rows];
    const i0 = idx[0];
    const i1 = idx[1];
    if (i0 === undefined) return rows;
    if (fault === 'gap') out.splice(i1 ?? i0, 1);
    else if (fault === 'duplicate') out.splice(i0 + 1, 0, out[i0] as Row);
    else {
      if (i1 === undefined) return rows;
      out[i0] = rows[i1] as Row;
      out[i1] = rows[i0] as Row;
    }
    this.opts.hooks.rebootstrapFaultApplied(fault, q.rebootstrapStream as string);
    return out;
  }

  /**
   * refusedRebootstrap consumes a pending `next_rebootstrap: fail` when one of `queries`
   * re-bootstraps a stream, and returns the error SpacetimeDB's row-limit check gives
   * (`crates/core/src/vm.rs` check_row_limit, wrapped with the query's SQL by DBError::WithSql).
   */
  private refusedRebootstrap(queries: readonly SubscriptionQuery[]): string | undefined {
    if (this.opts.hooks.peekRebootstrapFault() !== 'fail') return undefined;
    const q = queries.find((x) => x.rebootstrapStream !== undefined);
    if (!q) return undefined;
    const estimate = this.scan(q).length;
    this.opts.hooks.rebootstrapFaultApplied('fail', q.rebootstrapStream as string);
    return `Estimated cardinality (${estimate} rows) exceeds limit (${Math.max(0, estimate - 1)} rows), executing: \`${q.sql}\``;
  }

  private onSubscribe(session: Session, f: Record<string, unknown>): void {
    const queries = requireField(f, 'query_strings', 'Subscribe');
    const requestId = asU32(requireField(f, 'request_id', 'Subscribe'), 'request_id');
    const started = process.hrtime.bigint();
    let compiled: SubscriptionQuery[];
    try {
      compiled = this.compileAll(session, queries, 'Subscribe');
    } catch (err) {
      if (!(err instanceof SqlRejection)) throw err;
      const failing = (queries as string[]).find((q) => {
        try {
          compileSubscription(q, session.caller.identityHex);
          return false;
        } catch {
          return true;
        }
      });
      // §2.5: a legacy Subscribe compile error is a Failed TransactionUpdate, not fatal.
      this.send(session, {
        TransactionUpdate: {
          status: { Failed: `${err.message}, executing: \`${failing ?? ''}\`` },
          timestamp: { __timestamp_micros_since_unix_epoch__: this.opts.nowMs() * 1000 },
          caller_identity: { __identity__: `0x${session.caller.identityHex}` },
          caller_connection_id: { __connection_id__: session.connectionId },
          reducer_call: { reducer_name: '', reducer_id: NO_SUCH_REDUCER_ID, args: '', request_id: 0 },
          energy_quanta_used: { quanta: 0 },
          total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) },
        },
      });
      return;
    }
    const refused = this.refusedRebootstrap(compiled);
    if (refused !== undefined) {
      this.send(session, {
        TransactionUpdate: {
          status: { Failed: refused },
          timestamp: { __timestamp_micros_since_unix_epoch__: this.opts.nowMs() * 1000 },
          caller_identity: { __identity__: `0x${session.caller.identityHex}` },
          caller_connection_id: { __connection_id__: session.connectionId },
          reducer_call: { reducer_name: '', reducer_id: NO_SUCH_REDUCER_ID, args: '', request_id: 0 },
          energy_quanta_used: { quanta: 0 },
          total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) },
        },
      });
      return;
    }
    session.legacy = compiled;
    this.send(session, {
      InitialSubscription: {
        database_update: { tables: this.initialTables(compiled) },
        request_id: requestId,
        total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) },
      },
    });
  }

  private subscriptionError(session: Session, started: bigint, requestId: number, queryId: number, message: string): void {
    this.send(session, {
      SubscriptionError: {
        total_host_execution_duration_micros: elapsedMicros(started),
        request_id: { some: requestId },
        query_id: { some: queryId },
        table_id: { none: [] },
        error: message,
      },
    });
  }

  private onSubscribeSingle(session: Session, f: Record<string, unknown>): void {
    const query = requireField(f, 'query', 'SubscribeSingle');
    const requestId = asU32(requireField(f, 'request_id', 'SubscribeSingle'), 'request_id');
    const queryId = queryIdOf(requireField(f, 'query_id', 'SubscribeSingle'), 'SubscribeSingle');
    if (typeof query !== 'string') throw new ProtocolViolation('invalid SubscribeSingle message: query must be a string');
    const started = process.hrtime.bigint();
    if (session.byQueryId.has(queryId)) return this.subscriptionError(session, started, requestId, queryId, `Query ID ${queryId} is already in use`);
    let q: SubscriptionQuery;
    try {
      q = compileSubscription(query, session.caller.identityHex);
    } catch (err) {
      if (err instanceof SqlRejection) return this.subscriptionError(session, started, requestId, queryId, err.message);
      throw err;
    }
    const refused = this.refusedRebootstrap([q]);
    if (refused !== undefined) return this.subscriptionError(session, started, requestId, queryId, refused);
    session.byQueryId.set(queryId, [q]);
    const rows = this.applyRebootstrapFault([q], this.applyResumeFault([q], this.scan(q)));
    const strings = rows.map((r) => stringifyJson(rowAsObject(q.table, r)));
    this.send(session, {
      SubscribeApplied: {
        request_id: requestId,
        total_host_execution_duration_micros: elapsedMicros(started),
        query_id: { id: queryId },
        rows: { table_id: q.table.id, table_name: q.table.name, table_rows: tableUpdate(q.table, [], strings) },
      },
    });
  }

  private onSubscribeMulti(session: Session, f: Record<string, unknown>): void {
    const queries = requireField(f, 'query_strings', 'SubscribeMulti');
    const requestId = asU32(requireField(f, 'request_id', 'SubscribeMulti'), 'request_id');
    const queryId = queryIdOf(requireField(f, 'query_id', 'SubscribeMulti'), 'SubscribeMulti');
    const started = process.hrtime.bigint();
    if (session.byQueryId.has(queryId)) return this.subscriptionError(session, started, requestId, queryId, `Query ID ${queryId} is already in use`);
    let compiled: SubscriptionQuery[];
    try {
      compiled = this.compileAll(session, queries, 'SubscribeMulti');
    } catch (err) {
      if (err instanceof SqlRejection) return this.subscriptionError(session, started, requestId, queryId, err.message);
      throw err;
    }
    const refused = this.refusedRebootstrap(compiled);
    if (refused !== undefined) return this.subscriptionError(session, started, requestId, queryId, refused);
    session.byQueryId.set(queryId, compiled);
    this.send(session, {
      SubscribeMultiApplied: {
        request_id: requestId,
        total_host_execution_duration_micros: elapsedMicros(started),
        query_id: { id: queryId },
        update: { tables: this.initialTables(compiled) },
      },
    });
  }

  private onUnsubscribe(session: Session, f: Record<string, unknown>, variant: 'Unsubscribe' | 'UnsubscribeMulti'): void {
    const requestId = asU32(requireField(f, 'request_id', variant), 'request_id');
    const queryId = queryIdOf(requireField(f, 'query_id', variant), variant);
    const started = process.hrtime.bigint();
    const queries = session.byQueryId.get(queryId);
    if (!queries) return this.subscriptionError(session, started, requestId, queryId, `No subscription with query ID ${queryId}`);
    session.byQueryId.delete(queryId);
    if (variant === 'Unsubscribe') {
      const q = queries[0] as SubscriptionQuery;
      const strings = this.scan(q).map((r) => stringifyJson(rowAsObject(q.table, r)));
      this.send(session, {
        UnsubscribeApplied: {
          request_id: requestId,
          total_host_execution_duration_micros: elapsedMicros(started),
          query_id: { id: queryId },
          rows: { table_id: q.table.id, table_name: q.table.name, table_rows: tableUpdate(q.table, strings, []) },
        },
      });
      return;
    }
    this.send(session, {
      UnsubscribeMultiApplied: {
        request_id: requestId,
        total_host_execution_duration_micros: elapsedMicros(started),
        query_id: { id: queryId },
        update: { tables: this.initialTables(queries, true) },
      },
    });
  }

  private onOneOffQuery(session: Session, f: Record<string, unknown>): void {
    const messageId = messageIdHex(requireField(f, 'message_id', 'OneOffQuery'));
    const query = requireField(f, 'query_string', 'OneOffQuery');
    if (typeof query !== 'string') throw new ProtocolViolation('invalid OneOffQuery message: query_string must be a string');
    const started = process.hrtime.bigint();
    try {
      const q = compileSubscription(query, session.caller.identityHex);
      const rows = this.scan(q).map((r) => stringifyJson(rowAsObject(q.table, r)));
      this.send(session, {
        OneOffQueryResponse: { message_id: messageId, error: { none: [] }, tables: [{ table_name: q.table.name, rows }], total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) } },
      });
    } catch (err) {
      if (!(err instanceof SqlRejection)) throw err;
      this.send(session, {
        OneOffQueryResponse: { message_id: messageId, error: { some: err.message }, tables: [], total_host_execution_duration: { __time_duration_micros__: elapsedMicros(started) } },
      });
    }
  }

  /** deltaTables is the part of a transaction a session subscribed to, rows as arrays. */
  private deltaTables(session: Session, tx: CommittedTx): Array<Record<string, unknown>> {
    const queries = [...session.legacy, ...[...session.byQueryId.values()].flat()];
    const out: Array<Record<string, unknown>> = [];
    for (const d of tx.deltas) {
      const qs = queries.filter((q) => q.table.name === d.table.name);
      if (qs.length === 0) continue;
      const deletes = d.deletes.filter((r) => qs.some((q) => q.matches(r))).map((r) => stringifyJson(rowAsArray(d.table, r)));
      const inserts = d.inserts.filter((r) => qs.some((q) => q.matches(r))).map((r) => stringifyJson(rowAsArray(d.table, r)));
      if (deletes.length + inserts.length > 0) out.push(tableUpdate(d.table, deletes, inserts));
    }
    return out;
  }

  /**
   * broadcast fans a committed transaction out (§2.5): the WebSocket caller gets a full
   * TransactionUpdate with only its subscribed rows; every other affected subscriber gets
   * TransactionUpdateLight carrying the caller's request id (0 without a WebSocket caller).
   */
  private broadcast(tx: CommittedTx, call: CallerCall | undefined, micros = 1): void {
    if (tx.deltas.length === 0 && !call) return;
    const stopped = this.opts.hooks.isStreamingStopped();
    for (const s of this.sessions.values()) {
      if (s.closed || !s.ready) continue;
      const tables = this.deltaTables(s, tx);
      if (stopped) {
        // streaming_stopped: count what this session would have received (ground truth).
        if (tables.length > 0 || (call && s === call.session)) this.droppedMessageCount += 1;
        continue;
      }
      if (call && s === call.session) {
        if (call.flags === 1 && tables.length === 0) continue;
        this.send(s, {
          TransactionUpdate: {
            status: { Committed: { tables } },
            timestamp: { __timestamp_micros_since_unix_epoch__: tx.timestampMicros },
            caller_identity: { __identity__: `0x${s.caller.identityHex}` },
            caller_connection_id: { __connection_id__: s.connectionId },
            reducer_call: { reducer_name: call.reducerName, reducer_id: call.reducerId, args: call.args, request_id: call.requestId },
            energy_quanta_used: { quanta: ENERGY_PER_CALL },
            total_host_execution_duration: { __time_duration_micros__: micros },
          },
        });
        continue;
      }
      if (tables.length === 0) continue;
      this.send(s, { TransactionUpdateLight: { request_id: call?.requestId ?? 0, update: { tables } } });
    }
  }
}

