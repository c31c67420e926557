/**
 * spacetime-server: a SpacetimeDB 2.0.x-compatible host for one database running the
 * `autopilot-sync` module, on one node:http server. It composes the parts: the HTTP routes
 * (http-api), the v1.json WebSocket API (ws-api) over the open sessions (sessions), the
 * subscription answers (subscriptions), delta fan-out (fanout), the caller policy
 * (caller-policy) and the lab's one-shot snapshot faults (snapshot-faults). Reducers run on
 * ModuleDb.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Logger } from 'pino';
import { closeServer, listen, sendText } from '../http-helpers.js';
import { CallerPolicy } from './caller-policy.js';
import { Fanout } from './fanout.js';
import { HostIdentity } from './host-identity.js';
import { HttpApi } from './http-api.js';
import type { AuthFailure, AuthFailureReason, Caller } from './identities.js';
import { Authenticator, isAuthFailure } from './identities.js';
import type { CommittedTx, ModuleDb, ReducerOutcome } from './module-db.js';
import { ReducerGateway } from './reducer-gateway.js';
import type { ConnectionInfo } from './sessions.js';
import { Lifecycle, SessionRegistry } from './sessions.js';
import type { SnapshotFaultHooks } from './snapshot-faults.js';
import { SnapshotFaults } from './snapshot-faults.js';
import { SubscriptionService } from './subscriptions.js';
import { WebSocketApi } from './ws-api.js';

export type { ConnectionInfo } from './sessions.js';
export { V1_JSON } from './wire.js';

/** SpacetimeHooks lets the lab's knobs reach into the host without the host knowing the lab. */
export interface SpacetimeHooks extends SnapshotFaultHooks {
  /** isStreamingStopped: sessions stay open and answer, but no transaction updates are sent. */
  isStreamingStopped(): boolean;
  /** isLeakingConnectionRows: `client_disconnected` is skipped, so presence rows stay. */
  isLeakingConnectionRows(): boolean;
  /** isEnforcingCallerAuth: subscriptions and reducer calls need a valid sync token (caller-policy). */
  isEnforcingCallerAuth(): boolean;
  /** onAuthFailure counts refused credentials (by failure kind) for the runtime's counters. */
  onAuthFailure(reason: AuthFailureReason): void;
}

/** SpacetimeServerOptions configures the host. */
export interface SpacetimeServerOptions {
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  /** identityKey signs the identity tokens the host mints (and verifies them); read per use. */
  readonly identityKey: () => string;
  /** trustedKeys verify tokens of trusted issuers (the control's sync tokens); read per use. */
  readonly trustedKeys: () => readonly string[];
  readonly db: ModuleDb;
  readonly nowMs: () => number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly hooks: SpacetimeHooks;
  readonly logger: Logger;
}

/** SpacetimeServer is the running host. */
export class SpacetimeServer {
  private readonly server: Server;
  private readonly identity: HostIdentity;
  private readonly sessions: SessionRegistry;
  private readonly lifecycle: Lifecycle;
  private readonly fanout: Fanout;
  private readonly ws: WebSocketApi;

  constructor(private readonly opts: SpacetimeServerOptions) {
    const { db, hooks, nowMs, logger } = opts;
    const auth = new Authenticator(opts.identityKey, opts.trustedKeys, nowMs);
    const authenticate = async (req: IncomingMessage, url: URL): Promise<Caller | AuthFailure> => {
      const result = await auth.authenticate(req.headers.authorization, url.searchParams.get('token'));
      if (isAuthFailure(result)) hooks.onAuthFailure(result.reason);
      return result;
    };
    this.identity = new HostIdentity(opts.databaseName);
    this.sessions = new SessionRegistry({ nowMs, pingIntervalMs: opts.pingIntervalMs, idleTimeoutMs: opts.idleTimeoutMs, logger });
    this.fanout = new Fanout(this.sessions, () => hooks.isStreamingStopped());
    this.lifecycle = new Lifecycle({ db, publish: (tx) => this.fanout.broadcast(tx, undefined), isLeakingConnectionRows: () => hooks.isLeakingConnectionRows(), logger });
    const policy = new CallerPolicy({ isEnforcing: () => hooks.isEnforcingCallerAuth(), nowMs });
    const onAuthFailure = (reason: AuthFailureReason): void => hooks.onAuthFailure(reason);
    const reducers = new ReducerGateway(db, policy, onAuthFailure);
    const subscriptions = new SubscriptionService({ db, sessions: this.sessions, faults: new SnapshotFaults(hooks), policy, onAuthFailure, nowMs });
    const http = new HttpApi({ host: this.identity, auth, authenticate, db, reducers, lifecycle: this.lifecycle, fanout: this.fanout, nowMs });
    this.ws = new WebSocketApi({ host: this.identity, authenticate, sessions: this.sessions, lifecycle: this.lifecycle, subscriptions, reducers, fanout: this.fanout, nowMs, logger });
    this.server = createServer((req, res) => {
      http.handle(req, res).catch((err: unknown) => {
        logger.error({ err }, 'lab spacetimedb: request failed');
        if (!res.headersSent) sendText(res, 500, 'internal error');
        else res.destroy();
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.ws.handleUpgrade(req, socket, head).catch((err: unknown) => {
        logger.error({ err }, 'lab spacetimedb: upgrade failed');
        socket.destroy();
      });
    });
  }

  /** start listens and starts the keep-alive sweeper; resolves to the base URL. */
  async start(): Promise<string> {
    const url = await listen(this.server, this.opts.host, this.opts.port);
    this.sessions.startKeepAlive();
    return url;
  }

  /** databaseIdentityHex is the database's identity (64 hex, no `0x`). */
  get databaseIdentityHex(): string {
    return this.identity.databaseIdentity;
  }

  /** droppedMessages counts transaction updates withheld while streaming was stopped. */
  get droppedMessages(): number {
    return this.fanout.droppedMessages;
  }

  /** connections lists the open WebSocket sessions. */
  connections(): ConnectionInfo[] {
    return this.sessions.connections();
  }

  /** dropAllConnections cuts every WebSocket without a close frame (a restart); data stays. */
  dropAllConnections(): number {
    return this.sessions.terminateAll();
  }

  /** publish fans out a transaction committed outside any client call (traffic, retention, lab). */
  publish(tx: CommittedTx): void {
    this.fanout.broadcast(tx, undefined);
  }

  /** callInternal runs a reducer as the module's owner without lifecycle rows and fans out the delta. */
  callInternal(reducer: string, args: unknown[]): ReducerOutcome {
    const outcome = this.opts.db.callReducer(reducer, args, this.identity.ownerIdentity);
    if (outcome.ok) this.fanout.broadcast(outcome.tx, undefined);
    return outcome;
  }

  /** close drops every session, runs their disconnects, and stops the server. */
  async close(deadlineMs = 2000): Promise<void> {
    this.sessions.stopKeepAlive();
    this.sessions.terminateAll();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lifecycle.cancelPending();
    this.ws.close();
    await closeServer(this.server, deadlineMs);
  }
}
