/**
 * ws-api: the host's v1.json WebSocket API: the upgrade on `/v1/database/:db/subscribe` (auth,
 * database, subprotocol, connection id; SpacetimeDB 2.0.1 `routes/subscribe.rs`), the connect
 * lifecycle (`client_connected` commits before IdentityToken is sent), and the dispatch of client
 * messages to reducer calls and subscriptions. An undecodable message closes the socket with 1011.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { Fanout } from './fanout.js';
import type { HostIdentity } from './host-identity.js';
import type { AuthFailure, Caller } from './identities.js';
import { isAuthFailure } from './identities.js';
import type { ReducerGateway } from './reducer-gateway.js';
import type { Lifecycle, Session, SessionRegistry } from './sessions.js';
import type { SubscriptionService } from './subscriptions.js';
import { CLIENT_VARIANTS, ProtocolViolation, V1_JSON, asU32, elapsedMicros, failedTransactionUpdate, hexToBigInt, requireField } from './wire.js';

/** WebSocketApiOptions: what the WebSocket side reads and runs. */
export interface WebSocketApiOptions {
  readonly host: HostIdentity;
  readonly authenticate: (req: IncomingMessage, url: URL) => Promise<Caller | AuthFailure>;
  readonly sessions: SessionRegistry;
  readonly lifecycle: Lifecycle;
  readonly subscriptions: SubscriptionService;
  readonly reducers: ReducerGateway;
  readonly fanout: Fanout;
  readonly nowMs: () => number;
  readonly logger: Logger;
}

/** WebSocketApi accepts upgrades and runs sessions. */
export class WebSocketApi {
  private readonly wss: WebSocketServer;
  private readonly upgradeCallers = new WeakMap<IncomingMessage, Caller>();

  constructor(private readonly opts: WebSocketApiOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: 32 * 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has(V1_JSON) ? V1_JSON : false),
    });
    this.wss.on('headers', (headers, req) => {
      const caller = this.upgradeCallers.get(req);
      if (caller) headers.push(`spacetime-identity: ${caller.identityHex}`, `spacetime-identity-token: ${caller.token}`);
    });
  }

  /** close stops accepting upgrades. */
  close(): void {
    this.wss.close();
  }

  private rejectUpgrade(socket: Duplex, status: number, reason: string, body: string, headers: OutgoingHttpHeaders = {}): void {
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${String(v)}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
  }

  /** handleUpgrade answers an HTTP upgrade request. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
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
    const caller = await this.opts.authenticate(req, url);
    if (isAuthFailure(caller)) return this.rejectUpgrade(socket, caller.status, caller.status === 400 ? 'Bad Request' : 'Unauthorized', caller.body);
    const headers: OutgoingHttpHeaders = { 'spacetime-identity': caller.identityHex, 'spacetime-identity-token': caller.token };
    const dbRef = decodeURIComponent(m[1] as string);
    const notFound = this.opts.host.resolve(dbRef);
    if (notFound !== undefined) {
      // Standalone authorizes before the existence check for a hex identity, hence a 500.
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

  private onConnection(ws: WebSocket, caller: Caller, connectionId: bigint): void {
    const { sessions, lifecycle } = this.opts;
    const session = sessions.open(ws, caller, connectionId);
    ws.on('pong', () => sessions.heard(session));
    ws.on('ping', () => sessions.heard(session));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      sessions.heard(session);
      this.onMessage(session, data, isBinary);
    });
    ws.on('error', (err) => this.opts.logger.debug({ err }, 'lab spacetimedb: websocket error'));
    ws.on('close', () => {
      // Subscriptions go first, then client_disconnected runs asynchronously.
      sessions.forget(session);
      lifecycle.disconnect(caller.identityHex, true);
    });
    lifecycle.connect(caller.identityHex);
    session.ready = true;
    sessions.send(session, { IdentityToken: { identity: { __identity__: `0x${caller.identityHex}` }, token: caller.token, connection_id: { __connection_id__: connectionId } } });
  }

  private onMessage(session: Session, data: RawData, isBinary: boolean): void {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    const subs = this.opts.subscriptions;
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
          return subs.onSubscribe(session, fields);
        case 'SubscribeSingle':
          return subs.onSubscribeSingle(session, fields);
        case 'SubscribeMulti':
          return subs.onSubscribeMulti(session, fields);
        case 'Unsubscribe':
          return subs.onUnsubscribe(session, fields, 'Unsubscribe');
        case 'UnsubscribeMulti':
          return subs.onUnsubscribe(session, fields, 'UnsubscribeMulti');
        case 'OneOffQuery':
          return subs.onOneOffQuery(session, fields);
        case 'CallProcedure':
          throw new ProtocolViolation('CallProcedure: the autopilot-sync module has no procedures');
        default:
          throw new ProtocolViolation(`unknown variant \`${variant}\``);
      }
    } catch (err) {
      if (err instanceof ProtocolViolation) {
        // A decode error on v1.json closes with 1011 and the error text as reason.
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
    const outcome = this.opts.reducers.call(reducer, args, session.caller);
    if (outcome.ok) {
      this.opts.fanout.broadcast(outcome.tx, { session, requestId, reducerName: reducer, reducerId: outcome.reducerId, args, flags }, elapsedMicros(started));
      return;
    }
    if (this.opts.fanout.withhold()) return;
    // A failed call is reported to the caller only, with request_id 0.
    this.opts.sessions.send(session, failedTransactionUpdate({ message: outcome.message, nowMs: this.opts.nowMs(), callerHex: session.caller.identityHex, connectionId: session.connectionId, reducerName: reducer, reducerId: outcome.reducerId, args, micros: elapsedMicros(started) }));
  }
}
