/**
 * sessions: the host's open WebSocket sessions (one per connection), their keep-alive (a Ping
 * every `pingIntervalMs`, dropped after `idleTimeoutMs` of silence, as SpacetimeDB 2.0.1's
 * client actor does), and the module's connect/disconnect lifecycle around them.
 */
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { Caller } from './identities.js';
import type { CommittedTx, ModuleDb } from './module-db.js';
import type { SubscriptionQuery } from './sql-query.js';
import { stringifyJson } from './schema.js';

/** Session is one open WebSocket connection and its subscriptions. */
export interface Session {
  readonly id: number;
  readonly ws: WebSocket;
  readonly caller: Caller;
  readonly connectionId: bigint;
  readonly connectedAtMs: number;
  /** legacy is the query set of the last legacy `Subscribe` (each one replaces it). */
  legacy: SubscriptionQuery[];
  readonly byQueryId: Map<number, SubscriptionQuery[]>;
  lastHeardMs: number;
  lastPingMs: number;
  /** ready is set once `client_connected` committed and IdentityToken was sent. */
  ready: boolean;
  closed: boolean;
}

/** ConnectionInfo describes one open WebSocket session for `/lab/state`. */
export interface ConnectionInfo {
  readonly identity: string;
  readonly connection_id: string;
  readonly connected_at_unix_ms: number;
  readonly subscriptions: number;
}

/** SessionRegistryOptions: the clock and keep-alive periods. */
export interface SessionRegistryOptions {
  readonly nowMs: () => number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly logger: Logger;
}

/** SessionRegistry holds the open sessions, sends to them and keeps them alive. */
export class SessionRegistry {
  private readonly sessions = new Map<number, Session>();
  private nextId = 1;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SessionRegistryOptions) {}

  /** open registers a new session (not ready until its IdentityToken went out). */
  open(ws: WebSocket, caller: Caller, connectionId: bigint): Session {
    const now = this.opts.nowMs();
    const session: Session = { id: this.nextId++, ws, caller, connectionId, connectedAtMs: now, legacy: [], byQueryId: new Map(), lastHeardMs: now, lastPingMs: now, ready: false, closed: false };
    this.sessions.set(session.id, session);
    return session;
  }

  /** forget removes a closed session and its subscriptions (they go before client_disconnected runs). */
  forget(session: Session): void {
    session.closed = true;
    session.legacy = [];
    session.byQueryId.clear();
    this.sessions.delete(session.id);
  }

  /** heard records traffic from the client (any frame, Pong included). */
  heard(session: Session): void {
    session.lastHeardMs = this.opts.nowMs();
  }

  /** live lists the sessions that are open and ready. */
  live(): Session[] {
    return [...this.sessions.values()].filter((s) => !s.closed && s.ready);
  }

  /** send writes one message to a session if its socket is open. */
  send(session: Session, message: unknown): void {
    if (session.closed || session.ws.readyState !== session.ws.OPEN) return;
    session.ws.send(stringifyJson(message));
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

  /** terminateAll cuts every WebSocket without a close frame; returns how many were open. */
  terminateAll(): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (!s.closed) {
        s.ws.terminate();
        n += 1;
      }
    }
    return n;
  }

  /** startKeepAlive runs the ping/idle sweeper (unref'd) until stopKeepAlive. */
  startKeepAlive(): void {
    const sweepMs = Math.min(1000, Math.max(10, Math.floor(Math.min(this.opts.pingIntervalMs, this.opts.idleTimeoutMs) / 5)));
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  stopKeepAlive(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
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
}

/** LifecycleOptions: the module, where to publish its deltas, and the presence-leak fault. */
export interface LifecycleOptions {
  readonly db: ModuleDb;
  readonly publish: (tx: CommittedTx) => void;
  /** isLeakingConnectionRows is the `leak_connection_rows` fault: `client_disconnected` is skipped. */
  readonly isLeakingConnectionRows: () => boolean;
  readonly logger: Logger;
}

/**
 * Lifecycle runs the module's `client_connected` and `client_disconnected` reducers. After a
 * WebSocket closes, the disconnect runs asynchronously (2.0.1 `routes/subscribe.rs`: the client's
 * subscriptions go first, then the reducer), so a query right after a close may still see the row.
 */
export class Lifecycle {
  private readonly pending = new Set<NodeJS.Immediate>();

  constructor(private readonly opts: LifecycleOptions) {}

  connect(identityHex: string): void {
    this.opts.publish(this.opts.db.connect(identityHex));
  }

  /** disconnect runs `client_disconnected` now, or on the next turn when `deferred`. */
  disconnect(identityHex: string, deferred: boolean): void {
    const run = (): void => {
      if (this.opts.isLeakingConnectionRows()) return;
      this.opts.publish(this.opts.db.disconnect(identityHex));
    };
    if (!deferred) {
      run();
      return;
    }
    const handle = setImmediate(() => {
      this.pending.delete(handle);
      try {
        run();
      } catch (err) {
        this.opts.logger.error({ err }, 'lab spacetimedb: client_disconnected failed');
      }
    });
    this.pending.add(handle);
  }

  /** cancelPending drops the deferred disconnects not run yet (the host is closing). */
  cancelPending(): void {
    for (const i of this.pending) clearImmediate(i);
    this.pending.clear();
  }
}
