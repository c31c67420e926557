import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { Toxiproxy } from 'toxiproxy-node-client';
import type { Proxy } from 'toxiproxy-node-client';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startFaultProxy } from '../../../src/lab/fault-proxy/index.js';
import type { FaultProxyOptions, FaultProxyServer } from '../../../src/lab/fault-proxy/index.js';

/** TcpServer is a loopback test server with the sockets it accepted. */
export interface TcpServer {
  readonly port: number;
  readonly sockets: Socket[];
  close(): Promise<void>;
}

/** startTcpServer listens on 127.0.0.1:0 and hands each socket to `onSocket`. */
export async function startTcpServer(onSocket: (s: Socket) => void, opts: { allowHalfOpen?: boolean } = {}): Promise<TcpServer> {
  const sockets: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: opts.allowHalfOpen ?? false }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return {
    port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** startEchoServer echoes every byte back. */
export function startEchoServer(): Promise<TcpServer> {
  return startTcpServer((s) => s.pipe(s));
}

/** dial connects to 127.0.0.1:port and waits for the connection. */
export async function dial(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** Outcome is how a socket ended: EOF, an error code (ECONNRESET), or still open at the deadline. */
export type Outcome = { kind: 'eof' } | { kind: 'error'; code: string } | { kind: 'open' };

/** Reader collects what a socket receives and how it ended. */
export class Reader {
  data = Buffer.alloc(0);
  reads: Buffer[] = [];
  outcome: Outcome = { kind: 'open' };
  endedAtMs = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.reads.push(d);
      this.data = Buffer.concat([this.data, d]);
      this.notify();
    });
    socket.on('end', () => this.finish({ kind: 'eof' }));
    socket.on('error', (err: NodeJS.ErrnoException) => this.finish({ kind: 'error', code: err.code ?? 'unknown' }));
    socket.on('close', () => this.finish({ kind: 'eof' }));
  }

  private finish(o: Outcome): void {
    if (this.outcome.kind !== 'open') return;
    this.outcome = o;
    this.endedAtMs = Date.now();
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** waitFor resolves once `cond` holds, or rejects after `timeoutMs`. */
  async waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${timeoutMs} ms (have ${this.data.length} bytes, ${this.outcome.kind})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitBytes(n: number, timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.data.length >= n, timeoutMs);
  }

  waitEnd(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.outcome.kind !== 'open', timeoutMs);
  }
}

/** delay sleeps for real (only for letting sockets settle around a measured effect). */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** portOf extracts the port of a `host:port` listen address. */
export function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

/** api calls the fault proxy's HTTP API with raw fetch (for what the client cannot express). */
export async function api(base: string, method: string, path: string, body?: string, headers?: Record<string, string>): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(base + path, { method, body, headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** roundTrip writes `payload` and waits for it to come back; the time it took, in ms. */
export async function roundTrip(socket: Socket, reader: Reader, payload = 'ping'): Promise<number> {
  const before = reader.data.length;
  const start = Date.now();
  socket.write(payload);
  await reader.waitBytes(before + payload.length, 5000);
  return Date.now() - start;
}

/**
 * FaultProxyFixture is what `useFaultProxy` gives a test file: an echo server for the whole file
 * and, per test, a fresh fault proxy with a Toxiproxy client on it. The proxy, the sockets opened
 * through `open` and the servers pushed on `servers` close after each test.
 */
export interface FaultProxyFixture {
  readonly echo: TcpServer;
  /** upstream is the echo server's `127.0.0.1:port`. */
  readonly upstream: string;
  readonly fp: FaultProxyServer;
  readonly tp: Toxiproxy;
  readonly sockets: Socket[];
  readonly servers: TcpServer[];
  /** restart closes this test's fault proxy and starts another with `options` (a ManualClock). */
  restart(options: FaultProxyOptions): Promise<void>;
  /** open dials a proxy's listen address and reads what comes back. */
  open(proxy: Proxy): Promise<{ socket: Socket; reader: Reader }>;
  /** echoProxy creates proxy `name` in front of the echo server. */
  echoProxy(name?: string): Promise<Proxy>;
}

/** useFaultProxy registers the hooks that set up and tear down a FaultProxyFixture. */
export function useFaultProxy(): FaultProxyFixture {
  let echo: TcpServer | undefined;
  let running: { fp: FaultProxyServer; tp: Toxiproxy } | undefined;
  const inTest = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useFaultProxy: ${what} exists only while a test runs`);
    return value;
  };
  const start = async (options: FaultProxyOptions = {}): Promise<void> => {
    const fp = await startFaultProxy(options);
    running = { fp, tp: new Toxiproxy(fp.url) };
  };
  const fx: FaultProxyFixture = {
    get echo() {
      return inTest(echo, 'the echo server');
    },
    get upstream() {
      return `127.0.0.1:${fx.echo.port}`;
    },
    get fp() {
      return inTest(running, 'the fault proxy').fp;
    },
    get tp() {
      return inTest(running, 'the fault proxy').tp;
    },
    sockets: [],
    servers: [],
    async restart(options) {
      await running?.fp.close();
      await start(options);
    },
    async open(proxy) {
      const socket = await dial(portOf(proxy.listen));
      fx.sockets.push(socket);
      return { socket, reader: new Reader(socket) };
    },
    echoProxy(name = 'p') {
      return fx.tp.createProxy({ name, listen: '127.0.0.1:0', upstream: fx.upstream });
    },
  };
  beforeAll(async () => {
    echo = await startEchoServer();
  });
  afterAll(async () => {
    await echo?.close();
  });
  beforeEach(() => start());
  afterEach(async () => {
    for (const s of fx.sockets.splice(0)) s.destroy();
    await running?.fp.close();
    running = undefined;
    for (const s of fx.servers.splice(0)) await s.close();
  });
  return fx;
}
