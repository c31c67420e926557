import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../time/index.js';
import { AddrError, formatAddr, listenErrorText, resolveTcpAddr, splitHostPort } from './go-addr.js';
import { goJsonString } from './go-json.js';
import { apiError, ToxicCollection } from './toxic-collection.js';
import { ToxicLink } from './toxic-link.js';
import { toxicToJson } from './toxic-wrapper.js';

/** How long an upstream dial may take before the client is dropped. */
const UPSTREAM_DIAL_TIMEOUT_MS = 10_000;
/** How long stop() waits for the listener to release its port. */
const LISTENER_CLOSE_DEADLINE_MS = 2_000;

/** ProxyOptions are what every proxy shares with its server. */
export interface ProxyOptions {
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Connection is one accepted client, its upstream socket and the two links between them. */
interface Connection {
  readonly client: Socket;
  upstream: Socket | null;
  readonly links: ToxicLink[];
  isLingerZero: boolean;
}

/**
 * Proxy is one named TCP proxy (Toxiproxy's Proxy): a listener, one upstream dial per accepted
 * client, and the toxics applied to both directions of every connection.
 */
export class Proxy {
  /** listen is as given until the proxy binds, then the bound address (`127.0.0.1:43117`). */
  listen: string;
  upstream: string;
  enabled = false;
  readonly toxics = new ToxicCollection();
  private server: Server | null = null;
  private readonly connections = new Set<Connection>();

  constructor(
    readonly name: string,
    listen: string,
    upstream: string,
    private readonly opts: ProxyOptions,
  ) {
    this.listen = listen;
    this.upstream = upstream;
  }

  /** toJson renders the proxy as Toxiproxy 2.12.0 does, `"Logger":{}` quirk included. */
  toJson(): string {
    const toxics = this.toxics.list().map(toxicToJson).join(',');
    return `{"name":${goJsonString(this.name)},"listen":${goJsonString(this.listen)},"upstream":${goJsonString(this.upstream)},"enabled":${this.enabled},"Logger":{},"toxics":[${toxics}]}`;
  }

  /** start binds the listener; a no-op when already started. Bind failures are 500s with Go's text. */
  async start(): Promise<void> {
    if (this.enabled) return;
    let resolved;
    try {
      resolved = await resolveTcpAddr(this.listen);
    } catch (err) {
      if (err instanceof AddrError) throw apiError(`listen tcp: ${err.message}`, 500);
      throw err;
    }
    // Go listens dual-stack for any wildcard host and then reports `[::]:<port>`.
    const isWildcard = resolved.host === '' || resolved.host === '0.0.0.0' || resolved.host === '::';
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: isWildcard ? undefined : resolved.host, port: resolved.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw apiError(listenErrorText(resolved, err as NodeJS.ErrnoException), 500);
    }
    server.on('error', (err) => this.opts.logger.warn({ err, proxy: this.name }, 'fault-proxy: listener error'));
    const bound = server.address();
    if (bound && typeof bound === 'object') {
      this.listen = isWildcard ? `[::]:${bound.port}` : formatAddr({ host: bound.address, port: bound.port });
    }
    this.server = server;
    this.enabled = true;
    this.opts.logger.info({ proxy: this.name, listen: this.listen, upstream: this.upstream }, 'fault-proxy: proxy started');
  }

  /** stop closes the listener and every client and upstream socket; toxics are kept. */
  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    const server = this.server;
    this.server = null;
    for (const conn of [...this.connections]) this.dropConnection(conn);
    if (server) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, LISTENER_CLOSE_DEADLINE_MS);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.opts.logger.info({ proxy: this.name }, 'fault-proxy: proxy stopped');
  }

  /**
   * update applies `{listen, upstream, enabled}` (already defaulted to the current values): a
   * different resolved listen or upstream restarts the proxy, dropping its connections.
   */
  async update(input: { listen: string; upstream: string; enabled: boolean }): Promise<void> {
    let resolvedListen: string;
    try {
      resolvedListen = formatAddr(await resolveTcpAddr(input.listen));
    } catch (err) {
      if (err instanceof AddrError) throw apiError(err.message, 500);
      throw err;
    }
    if (this.listen !== resolvedListen || this.upstream !== input.upstream) {
      await this.stop();
      this.listen = input.listen;
      this.upstream = input.upstream;
    }
    if (input.enabled !== this.enabled) {
      if (input.enabled) await this.start();
      else await this.stop();
    }
  }

  /** connectionCount is the number of open client connections (for tests and the lab's state). */
  connectionCount(): number {
    return this.connections.size;
  }

  private accept(client: Socket): void {
    const conn: Connection = { client, upstream: null, links: [], isLingerZero: false };
    this.connections.add(conn);
    client.on('error', () => undefined);
    client.once('close', () => this.maybeFinish(conn));
    let target: { host: string; port: number };
    try {
      const { host, port } = splitHostPort(this.upstream);
      target = { host: host === '' ? 'localhost' : host, port: Number(port) };
      if (!Number.isInteger(target.port) || target.port < 0 || target.port > 65535) throw new AddrError('invalid port');
    } catch (err) {
      this.opts.logger.warn({ err, proxy: this.name }, 'fault-proxy: bad upstream address; closing client');
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true, autoSelectFamily: true, timeout: UPSTREAM_DIAL_TIMEOUT_MS });
    conn.upstream = upstream;
    upstream.on('error', () => undefined);
    const failDial = (): void => {
      // Toxiproxy accepted first, so the client sees a connection that ends at once (EOF).
      upstream.destroy();
      client.destroy();
    };
    upstream.once('timeout', failDial);
    upstream.once('error', failDial);
    upstream.once('close', () => this.maybeFinish(conn));
    upstream.once('connect', () => {
      upstream.off('timeout', failDial);
      upstream.off('error', failDial);
      upstream.setTimeout(0);
      if (client.destroyed || !this.connections.has(conn)) {
        upstream.destroy();
        return;
      }
      upstream.setNoDelay(true);
      client.setNoDelay(true);
      conn.isLingerZero = this.toxics.has('reset_peer');
      const isLingerZero = (): boolean => conn.isLingerZero;
      const { clock, logger } = this.opts;
      const up = new ToxicLink({ direction: 'upstream', source: client, dest: upstream, clock, logger, isLingerZero });
      const down = new ToxicLink({ direction: 'downstream', source: upstream, dest: client, clock, logger, isLingerZero });
      conn.links.push(up, down);
      up.start(this.toxics.chain('upstream'));
      down.start(this.toxics.chain('downstream'));
      this.toxics.addLink(up);
      this.toxics.addLink(down);
      client.resume();
    });
  }

  private dropConnection(conn: Connection): void {
    for (const socket of [conn.client, conn.upstream]) {
      if (!socket || socket.destroyed) continue;
      if (conn.isLingerZero) socket.resetAndDestroy();
      else socket.destroy();
    }
    this.finish(conn);
  }

  private maybeFinish(conn: Connection): void {
    if (conn.client.destroyed && (!conn.upstream || conn.upstream.destroyed)) this.finish(conn);
    else if (conn.client.destroyed && conn.links.length === 0) conn.upstream?.destroy();
  }

  private finish(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    for (const link of conn.links) {
      link.kill();
      this.toxics.removeLink(link);
    }
  }
}
