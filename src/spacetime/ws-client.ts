/**
 * SpacetimeWsClient speaks SpacetimeDB's `v1.json.spacetimedb` WebSocket protocol
 * (SpacetimeDB 2.0.x `crates/client-api/src/routes/subscribe.rs`,
 * `crates/client-api-messages/src/websocket.rs`): connect (anonymous or with a token), wait for
 * `IdentityToken`, subscribe in the three styles, one-off queries, and reducer calls whose
 * `TransactionUpdate` is matched to the caller.
 *
 * Replies to this client's own requests settle the request's promise. Everything else (updates
 * caused by others, re-evaluation errors, undecodable frames, and finally `Closed`) goes to one
 * ordered stream read with `next()`. Reconnecting is the caller's decision: a closed client stays
 * closed.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { ConfigError, ReducerError, RequestError } from '../errors.js';
import { callTimeout, checkPositive, DEFAULT_TIMEOUT_MS } from './call-options.js';
import type { CallOptions } from './call-options.js';
import { bodyExcerpt } from './http-request.js';
import { stringifyArgs } from './http-client.js';
import type { JsonValue } from './json.js';
import { MessageQueue } from './message-queue.js';
import { redactSecrets } from './redact.js';
import { decodeServerMessage, MessageDecodeError } from './ws-messages.js';
import type {
  ClosedMessage,
  IdentityTokenMessage,
  InitialSubscriptionMessage,
  OneOffQueryResponseMessage,
  ServerMessage,
  SubscribeAppliedMessage,
  SubscribeMultiAppliedMessage,
  TransactionUpdateMessage,
} from './ws-messages.js';

/** SUBPROTOCOL is the only protocol this client offers. */
export const SUBPROTOCOL = 'v1.json.spacetimedb';

/** DEFAULT_WEBSOCKET_PATH is SpacetimeDB's subscribe route; `{database}` is replaced. */
export const DEFAULT_WEBSOCKET_PATH = '/v1/database/{database}/subscribe';

/** SpacetimeWsClientOptions configure one connection. */
export interface SpacetimeWsClientOptions {
  /** baseUrl is the host as http(s) or ws(s); http becomes ws and https wss. */
  readonly baseUrl: string;
  readonly database: string;
  /** path is the WebSocket route template (default `/v1/database/{database}/subscribe`). */
  readonly path?: string;
  /** token authenticates the connection; absent means a fresh anonymous identity. */
  readonly token?: string;
  /** tokenVia picks `Authorization: Bearer` (default) or the `?token=` query parameter. */
  readonly tokenVia?: 'header' | 'query';
  /** timeoutMs is the default deadline of connect and each request. */
  readonly timeoutMs?: number;
  /** maxFrameBytes caps one incoming message; a bigger one closes the connection (1009). */
  readonly maxFrameBytes?: number;
  /** maxQueuedMessages bounds the unread stream; past it the client closes (1008). */
  readonly maxQueuedMessages?: number;
  /** light and confirmed are passed as query parameters when set. */
  readonly light?: boolean;
  readonly confirmed?: boolean;
}

/** CloseInfo is how a connection ended. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** SubscriptionHandle names a SubscribeSingle/SubscribeMulti query set for unsubscribing. */
export interface SubscriptionHandle {
  readonly queryId: number;
  readonly multi: boolean;
}

interface Pending<T> {
  readonly kind: 'subscribe' | 'single' | 'multi' | 'unsubscribe' | 'oneoff' | 'reducer';
  readonly requestId: number;
  readonly key: string;
  readonly reducer?: string;
  abandoned: boolean;
  settle(result: { ok: true; value: T } | { ok: false; error: Error }): void;
}

const NAME = 'SpacetimeWsClient';
const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 10_000;
const MAX_ABANDONED = 256;
/** UNREACHABLE_CODES are socket error codes meaning the server was never reached. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ETIMEDOUT']);

/** SpacetimeWsClient is one WebSocket connection to one database. */
export class SpacetimeWsClient {
  private readonly url: URL;
  private readonly options: SpacetimeWsClientOptions;
  private readonly timeoutMs: number;
  private readonly maxFrameBytes: number;
  private readonly queue: MessageQueue<ServerMessage>;
  private readonly secrets: string[];
  /** endpoint names the connection in messages: no query string, so no token. */
  readonly endpoint: string;
  private socket: WebSocket | undefined;
  private pending: Array<Pending<unknown>> = [];
  private nextRequestId = 1;
  private nextQueryId = 1;
  private closeInfo: CloseInfo | undefined;
  private lastError: string | undefined;
  /** lastErrorCode is the socket error's `code` (ECONNREFUSED, ...), to classify without reading messages. */
  private lastErrorCode: string | undefined;
  /** localClose is why this side failed the connection (the socket then reports 1006). */
  private localClose: CloseInfo | undefined;
  private resolveClosed: (info: CloseInfo) => void = () => undefined;
  /** closed resolves once, when the connection has ended for any reason. It never rejects. */
  readonly closed: Promise<CloseInfo>;
  /** hello is the IdentityToken of a connected client. */
  hello: IdentityTokenMessage | undefined;
  /** upgradeHeaders are the 101 response's headers (`spacetime-identity`, ...). */
  upgradeHeaders: Readonly<Record<string, string | string[] | undefined>> = {};

  constructor(options: SpacetimeWsClientOptions) {
    this.options = options;
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new ConfigError(`${NAME}: baseUrl ${JSON.stringify(options.baseUrl)} is not a URL; give an absolute http(s) or ws(s) URL`);
    }
    const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[base.protocol];
    if (!scheme) throw new ConfigError(`${NAME}: baseUrl must be http(s) or ws(s), got ${base.protocol}`);
    if (!options.database || /[/?#\s]/.test(options.database)) {
      throw new ConfigError(`${NAME}: database must be a database name or identity, got ${JSON.stringify(options.database)}`);
    }
    const template = options.path ?? DEFAULT_WEBSOCKET_PATH;
    if (!template.startsWith('/')) throw new ConfigError(`${NAME}: path must start with '/', got ${JSON.stringify(template)}`);
    if (options.token !== undefined && (options.token === '' || /\s/.test(options.token))) {
      throw new ConfigError(`${NAME}: token must be a non-empty string without whitespace`);
    }
    this.timeoutMs = checkPositive(NAME, 'timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.maxFrameBytes = checkPositive(NAME, 'maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
    this.queue = new MessageQueue(checkPositive(NAME, 'maxQueuedMessages', options.maxQueuedMessages, DEFAULT_MAX_QUEUED));
    this.secrets = options.token ? [options.token] : [];
    const url = new URL(base.href);
    url.protocol = scheme;
    url.pathname = base.pathname.replace(/\/+$/, '') + template.replace('{database}', encodeURIComponent(options.database));
    url.search = '';
    this.endpoint = `WS ${url.origin}${url.pathname}`;
    if (options.light !== undefined) url.searchParams.set('light', String(options.light));
    if (options.confirmed !== undefined) url.searchParams.set('confirmed', String(options.confirmed));
    if (options.token && options.tokenVia === 'query') url.searchParams.set('token', options.token);
    this.url = url;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** identity is the connection's identity (64 hex) once connected. */
  get identity(): string | undefined {
    return this.hello?.identity;
  }

  /** isOpen tells whether the socket is open and not closing. */
  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN && this.closeInfo === undefined;
  }

  /**
   * connect opens the socket and waits for `IdentityToken`, which the server sends only after
   * `client_connected` committed, so the presence row exists when this resolves.
   */
  async connect(opts?: CallOptions): Promise<IdentityTokenMessage> {
    if (this.socket) throw new ConfigError(`${NAME}: connect() may be called once; create a new client to reconnect`);
    const timeoutMs = callTimeout(NAME, opts, this.timeoutMs);
    const headers: Record<string, string> = {};
    if (this.options.token && this.options.tokenVia !== 'query') headers.Authorization = `Bearer ${this.options.token}`;
    const socket = new WebSocket(this.url, [SUBPROTOCOL], { headers, maxPayload: this.maxFrameBytes, perMessageDeflate: false });
    this.socket = socket;
    let handshakeError: RequestError | undefined;
    socket.on('upgrade', (res: IncomingMessage) => {
      this.upgradeHeaders = { ...res.headers };
    });
    socket.on('unexpected-response', (req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      const finish = (): void => {
        const excerpt = bodyExcerpt(Buffer.concat(chunks).toString('utf8'), this.secrets);
        const status = res.statusCode ?? 0;
        handshakeError = new RequestError('SENTINEL_HTTP_STATUS', this.endpoint, `${this.endpoint}: upgrade refused with HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`, { status, excerpt });
        req.destroy();
        socket.terminate();
      };
      res.on('end', finish);
      res.on('error', finish);
    });
    socket.on('error', (err: Error & { code?: string }) => {
      this.lastError = redactSecrets(err.code ? `${err.code}: ${err.message}` : err.message, this.secrets);
      this.lastErrorCode = err.code;
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.localClose = { code: 1009, reason: `a frame exceeded the ${this.maxFrameBytes}-byte cap (maxFrameBytes)` };
      }
    });
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    socket.on('close', (code: number, reason: Buffer) => this.onClose(code, reason.toString('utf8')));

    let first: ServerMessage;
    try {
      first = await this.queue.next(
        timeoutMs,
        opts?.signal,
        () => new RequestError('SENTINEL_TIMEOUT', this.endpoint, `${this.endpoint}: no IdentityToken within ${timeoutMs} ms`),
        () => new RequestError('SENTINEL_ABORTED', this.endpoint, `${this.endpoint}: connect aborted`),
      );
    } catch (err) {
      socket.terminate();
      throw err;
    }
    if (first.type === 'IdentityToken') {
      this.hello = first;
      return first;
    }
    socket.terminate();
    if (first.type === 'Closed') {
      await this.closed;
      if (handshakeError) throw handshakeError;
      const cause = this.lastError ?? `closed with code ${first.code}${first.reason ? ` (${first.reason})` : ''}`;
      const neverOpened = this.lastErrorCode !== undefined && UNREACHABLE_CODES.has(this.lastErrorCode) && !this.upgradeHeaders['sec-websocket-protocol'];
      if (neverOpened) {
        throw new RequestError('SENTINEL_UNREACHABLE', this.endpoint, `${this.endpoint}: cannot reach the service (${cause}); check the URL and that the service is running`);
      }
      throw new RequestError('SENTINEL_PROTOCOL', this.endpoint, `${this.endpoint}: connection ended before IdentityToken: ${cause}`);
    }
    throw new RequestError('SENTINEL_PROTOCOL', this.endpoint, `${this.endpoint}: expected IdentityToken as the first message, got ${describe(first)}`);
  }

  /** subscribe sends a legacy `Subscribe` (replacing the legacy query set) and resolves with `InitialSubscription`. */
  subscribe(queries: readonly string[], opts?: CallOptions): Promise<InitialSubscriptionMessage> {
    const requestId = this.takeRequestId();
    return this.request<InitialSubscriptionMessage>('subscribe', requestId, `r${requestId}`, { Subscribe: { query_strings: [...queries], request_id: requestId } }, opts);
  }

  /** subscribeSingle sends `SubscribeSingle`; resolves with `SubscribeApplied` or rejects with the SubscriptionError. */
  async subscribeSingle(query: string, opts?: CallOptions): Promise<SubscribeAppliedMessage & { readonly handle: SubscriptionHandle }> {
    const requestId = this.takeRequestId();
    const queryId = this.nextQueryId++;
    const msg = await this.request<SubscribeAppliedMessage>('single', requestId, `r${requestId}`, { SubscribeSingle: { query, request_id: requestId, query_id: { id: queryId } } }, opts);
    return { ...msg, handle: { queryId, multi: false } };
  }

  /** subscribeMulti sends `SubscribeMulti`; resolves with `SubscribeMultiApplied`. */
  async subscribeMulti(queries: readonly string[], opts?: CallOptions): Promise<SubscribeMultiAppliedMessage & { readonly handle: SubscriptionHandle }> {
    const requestId = this.takeRequestId();
    const queryId = this.nextQueryId++;
    const msg = await this.request<SubscribeMultiAppliedMessage>('multi', requestId, `r${requestId}`, { SubscribeMulti: { query_strings: [...queries], request_id: requestId, query_id: { id: queryId } } }, opts);
    return { ...msg, handle: { queryId, multi: true } };
  }

  /** unsubscribe ends a SubscribeSingle/Multi query set; its rows come back as deletes. */
  unsubscribe(handle: SubscriptionHandle, opts?: CallOptions): Promise<SubscribeAppliedMessage | SubscribeMultiAppliedMessage> {
    const requestId = this.takeRequestId();
    const body = { request_id: requestId, query_id: { id: handle.queryId } };
    return this.request('unsubscribe', requestId, `r${requestId}`, handle.multi ? { UnsubscribeMulti: body } : { Unsubscribe: body }, opts);
  }

  /** oneOffQuery runs a query in the subscription SQL subset once; an error reply rejects. */
  oneOffQuery(query: string, opts?: CallOptions): Promise<OneOffQueryResponseMessage> {
    const messageId = randomBytes(8).toString('hex');
    return this.request('oneoff', 0, `m${messageId}`, { OneOffQuery: { message_id: messageId, query_string: query } }, opts);
  }

  /**
   * callReducer calls a reducer as this connection (flags 0). Resolves with the caller's full
   * `TransactionUpdate` (Committed; its tables hold only this client's subscribed rows), rejects
   * with a `ReducerError` on Failed or OutOfEnergy. Failed replies carry request_id 0, so they
   * are matched to the oldest outstanding call of the same reducer: the server answers one
   * connection's messages in order.
   */
  callReducer(name: string, args: readonly JsonValue[] | Readonly<Record<string, JsonValue>>, opts?: CallOptions): Promise<TransactionUpdateMessage> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`${NAME}: reducer name ${JSON.stringify(name)} is not an identifier`);
    const requestId = this.takeRequestId();
    return this.request<TransactionUpdateMessage>('reducer', requestId, `r${requestId}`, { CallReducer: { reducer: name, args: stringifyArgs(args), request_id: requestId, flags: 0 } }, opts, name);
  }

  /** next resolves with the next stream message; after the connection ends it keeps returning `Closed`. */
  next(opts?: CallOptions): Promise<ServerMessage> {
    const timeoutMs = callTimeout(NAME, opts, this.timeoutMs);
    return this.queue
      .next(
        timeoutMs,
        opts?.signal,
        () => new RequestError('SENTINEL_TIMEOUT', this.endpoint, `${this.endpoint}: no message within ${timeoutMs} ms`),
        () => new RequestError('SENTINEL_ABORTED', this.endpoint, `${this.endpoint}: wait aborted`),
      )
      .then((m) => {
        if (m.type === 'Closed') this.queue.pushForce(m);
        return m;
      });
  }

  /** drain takes every stream message already received, without waiting (a `Closed` stays queued). */
  drain(): ServerMessage[] {
    const out: ServerMessage[] = [];
    for (let m = this.queue.tryShift(); m !== undefined; m = this.queue.tryShift()) {
      out.push(m);
      if (m.type === 'Closed') {
        this.queue.pushForce(m);
        break;
      }
    }
    return out;
  }

  /** pendingMessages is how many stream messages wait unread. */
  get pendingMessages(): number {
    return this.queue.size;
  }

  /** close sends a Close frame and waits (bounded) for the server's; then the socket is dropped. */
  async close(code = 1000, reason = '', opts?: CallOptions): Promise<CloseInfo> {
    const socket = this.socket;
    if (!socket || this.closeInfo) return this.closeInfo ?? { code: 1005, reason: 'never connected' };
    const timeoutMs = callTimeout(NAME, opts, this.timeoutMs);
    if (socket.readyState === WebSocket.OPEN) socket.close(code, reason);
    else socket.terminate();
    let timer: NodeJS.Timeout | undefined;
    const info = await Promise.race([
      this.closed,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (info) return info;
    socket.terminate();
    return this.closed;
  }

  /** terminate drops the TCP connection without a Close frame, like a crashed client. */
  terminate(): void {
    this.socket?.terminate();
  }

  private takeRequestId(): number {
    const id = this.nextRequestId;
    // request_id is a u32 on the wire; 0 is what the server uses for "no caller".
    this.nextRequestId = id >= 0xfffffffe ? 1 : id + 1;
    return id;
  }

  private request<T>(kind: Pending<T>['kind'], requestId: number, key: string, message: Record<string, JsonValue>, opts: CallOptions | undefined, reducer?: string): Promise<T> {
    const socket = this.socket;
    if (!socket || !this.isOpen) {
      return Promise.reject(new RequestError('SENTINEL_PROTOCOL', this.endpoint, `${this.endpoint}: connection is not open${this.closeInfo ? ` (closed with code ${this.closeInfo.code})` : ''}`));
    }
    const timeoutMs = callTimeout(NAME, opts, this.timeoutMs);
    const what = reducer ? `reducer ${reducer}` : kind;
    return new Promise<T>((resolve, reject) => {
      const signal = opts?.signal;
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const entry: Pending<T> = {
        kind,
        requestId,
        key,
        reducer,
        abandoned: false,
        settle: (r) => {
          if (entry.abandoned) return;
          cleanup();
          this.removePending(entry);
          if (r.ok) resolve(r.value);
          else reject(r.error);
        },
      };
      // A request that gave up stays listed (abandoned) so its late reply is not taken for the next one's.
      const abandon = (err: Error): void => {
        cleanup();
        entry.abandoned = true;
        reject(err);
        const abandoned = this.pending.filter((p) => p.abandoned);
        if (abandoned.length > MAX_ABANDONED) this.removePending(abandoned[0]);
      };
      const onAbort = (): void => abandon(new RequestError('SENTINEL_ABORTED', this.endpoint, `${this.endpoint}: ${what} aborted`));
      const timer = setTimeout(() => abandon(new RequestError('SENTINEL_TIMEOUT', this.endpoint, `${this.endpoint}: no reply to ${what} within ${timeoutMs} ms`)), timeoutMs);
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(entry as Pending<unknown>);
      socket.send(JSON.stringify(message), (err) => {
        if (err) entry.settle({ ok: false, error: new RequestError('SENTINEL_PROTOCOL', this.endpoint, `${this.endpoint}: could not send ${what}: ${redactSecrets(err.message, this.secrets)}`, { cause: err }) });
      });
    });
  }

  private removePending(entry: Pending<unknown>): void {
    this.pending = this.pending.filter((p) => p !== entry);
  }

  private onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.emit({ type: 'ProtocolError', reason: 'binary frame on the v1.json protocol' });
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let msg: ServerMessage;
    try {
      msg = decodeServerMessage(text);
    } catch (err) {
      if (err instanceof MessageDecodeError) {
        this.emit({ type: 'ProtocolError', reason: redactSecrets(err.message, this.secrets) });
        return;
      }
      throw err;
    }
    if (!this.route(msg)) this.emit(msg);
  }

  /** route settles the request a reply belongs to; false means the message is for the stream. */
  private route(msg: ServerMessage): boolean {
    const find = (pred: (p: Pending<unknown>) => boolean): Pending<unknown> | undefined => this.pending.find(pred);
    const settle = (p: Pending<unknown> | undefined, r: { ok: true; value: unknown } | { ok: false; error: Error }): boolean => {
      if (!p) return false;
      if (p.abandoned) {
        this.removePending(p);
        return false;
      }
      p.settle(r);
      return true;
    };
    switch (msg.type) {
      case 'InitialSubscription':
        return settle(find((p) => p.kind === 'subscribe' && p.requestId === msg.requestId), { ok: true, value: msg });
      case 'SubscribeApplied':
      case 'SubscribeMultiApplied':
        return settle(find((p) => (p.kind === 'single' || p.kind === 'multi') && p.requestId === msg.requestId), { ok: true, value: msg });
      case 'UnsubscribeApplied':
      case 'UnsubscribeMultiApplied':
        return settle(find((p) => p.kind === 'unsubscribe' && p.requestId === msg.requestId), { ok: true, value: msg });
      case 'SubscriptionError': {
        if (msg.requestId === undefined) return false;
        const err = new RequestError('SENTINEL_PROTOCOL', this.endpoint, `${this.endpoint}: subscription refused: ${msg.error}`, { excerpt: msg.error });
        return settle(find((p) => ['single', 'multi', 'unsubscribe'].includes(p.kind) && p.requestId === msg.requestId), { ok: false, error: err });
      }
      case 'OneOffQueryResponse': {
        const p = find((x) => x.kind === 'oneoff' && x.key === `m${msg.messageId}`);
        if (msg.error !== undefined) {
          return settle(p, { ok: false, error: new RequestError('SENTINEL_PROTOCOL', this.endpoint, `${this.endpoint}: one-off query failed: ${msg.error}`, { excerpt: msg.error }) });
        }
        return settle(p, { ok: true, value: msg });
      }
      case 'TransactionUpdate':
        return this.routeTransaction(msg, find, settle);
      default:
        return false;
    }
  }

  private routeTransaction(
    msg: TransactionUpdateMessage,
    find: (pred: (p: Pending<unknown>) => boolean) => Pending<unknown> | undefined,
    settle: (p: Pending<unknown> | undefined, r: { ok: true; value: unknown } | { ok: false; error: Error }) => boolean,
  ): boolean {
    if (msg.status === 'committed') {
      if (msg.requestId === 0) return false;
      return settle(find((p) => p.kind === 'reducer' && p.requestId === msg.requestId), { ok: true, value: msg });
    }
    const text = msg.status === 'failed' ? (msg.error ?? 'failed') : 'out of energy';
    // A failed legacy Subscribe comes back as a Failed update with no reducer name.
    if (msg.reducerName === '') {
      const sub = find((p) => p.kind === 'subscribe');
      if (sub) {
        return settle(sub, { ok: false, error: new RequestError('SENTINEL_PROTOCOL', this.endpoint, `${this.endpoint}: subscription refused: ${text}`, { excerpt: text }) });
      }
    }
    const p =
      (msg.requestId !== 0 ? find((x) => x.kind === 'reducer' && x.requestId === msg.requestId) : undefined) ??
      find((x) => x.kind === 'reducer' && x.reducer === msg.reducerName) ??
      find((x) => x.kind === 'reducer');
    return settle(p, { ok: false, error: new ReducerError(this.endpoint, p?.reducer ?? msg.reducerName, redactSecrets(text, this.secrets)) });
  }

  private emit(msg: ServerMessage): void {
    if (this.queue.push(msg)) return;
    this.lastError = `client message queue overflow (${this.queue.size} unread)`;
    this.localClose = { code: 1008, reason: this.lastError };
    // Dropping a message would fake a gap; closing makes the overflow visible.
    this.socket?.close(1008, 'client message queue overflow');
    setTimeout(() => this.socket?.terminate(), 1000).unref();
  }

  private onClose(code: number, reason: string): void {
    if (this.closeInfo) return;
    const local = code === 1006 ? this.localClose : undefined;
    const why = local?.reason ?? (reason || this.lastError || '');
    const info: CloseInfo = { code: local?.code ?? code, reason: redactSecrets(why, this.secrets) };
    this.closeInfo = info;
    const err = new RequestError('SENTINEL_PROTOCOL', this.endpoint, `${this.endpoint}: connection closed (code ${info.code}${info.reason ? `: ${info.reason}` : ''})`);
    for (const p of [...this.pending]) p.settle({ ok: false, error: err });
    this.pending = [];
    const closed: ClosedMessage = { type: 'Closed', code: info.code, reason: info.reason };
    this.queue.pushForce(closed);
    this.resolveClosed(info);
  }
}

function describe(m: ServerMessage): string {
  return m.type === 'ProtocolError' ? `an undecodable frame (${m.reason})` : m.type;
}
