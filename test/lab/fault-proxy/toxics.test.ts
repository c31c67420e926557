import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import type { Proxy } from 'toxiproxy-node-client';
import { ManualClock } from '../../../src/time/index.js';
import type { TcpServer } from './helpers.js';
import { api, delay, Reader, roundTrip, startTcpServer, useFaultProxy } from './helpers.js';

const fx = useFaultProxy();

/** serverProxy puts a proxy in front of a server that hands its sockets to `onSocket`. */
async function serverProxy(onSocket: (s: Socket) => void, name = 'p'): Promise<{ proxy: Proxy; server: TcpServer }> {
  const server = await startTcpServer(onSocket, { allowHalfOpen: true });
  fx.servers.push(server);
  const proxy = await fx.tp.createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${server.port}` });
  return { proxy, server };
}

function addToxic(proxy: Proxy, name: string, type: string, stream: string, attributes: Record<string, number>, toxicity = 1): Promise<unknown> {
  return proxy.addToxic({ name, type, stream, toxicity, attributes } as never);
}

/** openThroughToxic opens a connection through an echo proxy `p` that carries one toxic. */
async function openThroughToxic(name: string, type: string, stream: string, attributes: Record<string, number>): Promise<{ p: Proxy; socket: Socket; reader: Reader }> {
  const p = await fx.echoProxy();
  await addToxic(p, name, type, stream, attributes);
  return { p, ...(await fx.open(p)) };
}

describe('latency', () => {
  it('delays each direction by its latency and chains toxics additively', async () => {
    const { p, socket, reader } = await openThroughToxic('down', 'latency', 'downstream', { latency: 100 });
    const one = await roundTrip(socket, reader);
    expect(one).toBeGreaterThanOrEqual(95);
    expect(one).toBeLessThan(250);
    await addToxic(p, 'up1', 'latency', 'upstream', { latency: 100 });
    await addToxic(p, 'up2', 'latency', 'upstream', { latency: 100 });
    const three = await roundTrip(socket, reader);
    expect(three).toBeGreaterThanOrEqual(290);
    expect(three).toBeLessThan(500);
  });

  it('keeps jitter within latency ± jitter', async () => {
    const { socket, reader } = await openThroughToxic('j', 'latency', 'downstream', { latency: 100, jitter: 50 });
    for (let i = 0; i < 4; i++) {
      const t = await roundTrip(socket, reader);
      expect(t).toBeGreaterThanOrEqual(45);
      expect(t).toBeLessThan(250);
    }
  });

  it('follows the injected clock: a chunk is held until read time + latency', async () => {
    const clock = new ManualClock(1_000_000);
    await fx.restart({ clock });
    const { socket, reader } = await openThroughToxic('lat', 'latency', 'downstream', { latency: 1000 });
    socket.write('tick');
    await delay(100);
    expect(reader.data.length).toBe(0);
    await clock.advance(999);
    await delay(50);
    expect(reader.data.length).toBe(0);
    await clock.advance(1);
    await reader.waitBytes(4, 2000);
    expect(reader.data.toString()).toBe('tick');
  });

  it('forwards a held chunk at once when the toxic is removed', async () => {
    const { socket, reader } = await openThroughToxic('lat', 'latency', 'downstream', { latency: 5000 });
    socket.write('held');
    await delay(100);
    expect(reader.data.length).toBe(0);
    await api(fx.fp.url, 'DELETE', '/proxies/p/toxics/lat');
    await reader.waitBytes(4, 1000);
    expect(reader.data.toString()).toBe('held');
  });
});

describe('bandwidth', () => {
  it('limits throughput to rate KB/s', async () => {
    const { socket, reader } = await openThroughToxic('bw', 'bandwidth', 'upstream', { rate: 100 });
    const start = Date.now();
    const payload = Buffer.alloc(50_000, 3);
    socket.write(payload);
    await reader.waitBytes(50_000, 3000);
    const took = Date.now() - start;
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(1200);
    expect(Buffer.compare(reader.data, payload)).toBe(0);
  });

  it('stalls completely at rate 0', async () => {
    const { socket, reader } = await openThroughToxic('bw', 'bandwidth', 'downstream', { rate: 0 });
    socket.write('stuck');
    await delay(300);
    expect(reader.data.length).toBe(0);
  });
});

describe('slow_close', () => {
  it('delays the EOF after the server closes', async () => {
    const { proxy } = await serverProxy((s) => s.end('bye'));
    await addToxic(proxy, 'sc', 'slow_close', 'downstream', { delay: 300 });
    const start = Date.now();
    const { reader } = await fx.open(proxy);
    await reader.waitEnd(2000);
    expect(reader.data.toString()).toBe('bye');
    expect(reader.endedAtMs - start).toBeGreaterThanOrEqual(280);
  });
});

describe('timeout', () => {
  it('swallows data and closes the connection after the timeout', async () => {
    const p = await fx.echoProxy();
    await addToxic(p, 'to', 'timeout', 'downstream', { timeout: 200 });
    const start = Date.now();
    const { socket, reader } = await fx.open(p);
    socket.write('lost');
    await reader.waitEnd(2000);
    expect(reader.data.length).toBe(0);
    expect(reader.endedAtMs - start).toBeGreaterThanOrEqual(180);
    expect(reader.endedAtMs - start).toBeLessThan(800);
  });

  it('with timeout 0 holds the connection open, and removal closes both sides', async () => {
    const { proxy, server } = await serverProxy(() => undefined);
    await addToxic(proxy, 'to', 'timeout', 'upstream', { timeout: 0 });
    const { socket, reader } = await fx.open(proxy);
    socket.write('into the void');
    await delay(200);
    expect(reader.outcome.kind).toBe('open');
    const serverSide = new Reader(server.sockets[0]);
    await api(fx.fp.url, 'DELETE', '/proxies/p/toxics/to');
    await Promise.all([reader.waitEnd(1000), serverSide.waitEnd(1000)]);
    expect(serverSide.data.length).toBe(0);
  });

  it('removing a latency toxic in front of a timeout 0 toxic does not hang', async () => {
    const p = await fx.echoProxy();
    await addToxic(p, 'lat', 'latency', 'upstream', { latency: 1000 });
    await addToxic(p, 'to', 'timeout', 'upstream', { timeout: 0 });
    const { socket } = await fx.open(p);
    socket.write('x');
    const start = Date.now();
    const r = await api(fx.fp.url, 'DELETE', '/proxies/p/toxics/lat');
    expect(r.status).toBe(204);
    expect(Date.now() - start).toBeLessThan(1000);
  });
});

describe('reset_peer', () => {
  for (const [stream, timeoutMs] of [['upstream', 0], ['upstream', 150], ['downstream', 150]] as const) {
    it(`resets the client (ECONNRESET) ~${timeoutMs} ms after data on ${stream}`, async () => {
      const { socket, reader } = await openThroughToxic('rp', 'reset_peer', stream, { timeout: timeoutMs });
      const start = Date.now();
      socket.write('boom');
      await reader.waitEnd(2000);
      expect(reader.outcome).toEqual({ kind: 'error', code: 'ECONNRESET' });
      expect(reader.endedAtMs - start).toBeGreaterThanOrEqual(timeoutMs - 10);
      expect(reader.endedAtMs - start).toBeLessThan(timeoutMs + 500);
    });
  }

  it('closes with a plain EOF on connections opened before it was added', async () => {
    const p = await fx.echoProxy();
    const { socket, reader } = await fx.open(p);
    await roundTrip(socket, reader);
    await addToxic(p, 'rp', 'reset_peer', 'upstream', { timeout: 0 });
    socket.write('x');
    await reader.waitEnd(2000);
    expect(reader.outcome.kind).toBe('eof');
  });

  it('does nothing while no data flows', async () => {
    const { reader } = await openThroughToxic('rp', 'reset_peer', 'upstream', { timeout: 0 });
    await delay(300);
    expect(reader.outcome.kind).toBe('open');
  });
});

describe('slicer', () => {
  it('delivers every byte in order, in many pieces', async () => {
    const { socket, reader } = await openThroughToxic('sl', 'slicer', 'downstream', { average_size: 1024, size_variation: 512, delay: 10 });
    const payload = Buffer.from(Array.from({ length: 480_000 }, (_, i) => i % 256));
    socket.write(payload);
    await reader.waitBytes(payload.length, 10_000);
    expect(Buffer.compare(reader.data, payload)).toBe(0);
    expect(reader.reads.length).toBeGreaterThan(50);
  });

  it('cuts 24 bytes into 24 pieces with average 1, variation 0', async () => {
    const { socket, reader } = await openThroughToxic('sl', 'slicer', 'downstream', { average_size: 1, size_variation: 0, delay: 5000 });
    socket.write('abcdefghijklmnopqrstuvwx');
    await reader.waitBytes(24, 3000);
    expect(reader.data.toString()).toBe('abcdefghijklmnopqrstuvwx');
    expect(reader.reads.length).toBe(24);
  });

  it('survives the settings that crash Toxiproxy (all zeros, negative variation)', async () => {
    const { socket, reader } = await openThroughToxic('sl', 'slicer', 'downstream', { average_size: 0, size_variation: -3, delay: 0 });
    socket.write('still here');
    await reader.waitBytes(10, 2000);
    expect(reader.data.toString()).toBe('still here');
  });
});

describe('limit_data', () => {
  async function limited(bytes: number): Promise<{ socket: Socket; server: Reader[]; proxy: Proxy }> {
    const server: Reader[] = [];
    const { proxy } = await serverProxy((s) => server.push(new Reader(s)));
    await addToxic(proxy, 'ld', 'limit_data', 'upstream', { bytes });
    const { socket } = await fx.open(proxy);
    await delay(30);
    return { socket, server, proxy };
  }

  for (const [writes, expected, closes] of [
    [[50], 50, false],
    [[100], 100, true],
    [[150], 100, true],
    [[25, 25, 25, 25], 100, true],
    [[90, 20], 100, true],
  ] as const) {
    it(`passes ${expected} of ${writes.join('+')} bytes with a 100-byte limit`, async () => {
      const { socket, server } = await limited(100);
      for (const n of writes) {
        socket.write(Buffer.alloc(n, 1));
        await delay(20);
      }
      const up = server[0];
      if (closes) await up.waitEnd(2000);
      else await delay(100);
      expect(up.data.length).toBe(expected);
      expect(up.outcome.kind === 'open').toBe(!closes);
    });
  }

  it('closes on the first chunk with a limit of 0, not at connect', async () => {
    const { socket, server } = await limited(0);
    await delay(100);
    expect(server[0].outcome.kind).toBe('open');
    socket.write('x');
    await server[0].waitEnd(2000);
    expect(server[0].data.length).toBe(0);
  });

  it('keeps its byte count across an update', async () => {
    const { socket, server } = await limited(12);
    socket.write(Buffer.alloc(10, 1));
    await server[0].waitBytes(10);
    await api(fx.fp.url, 'PATCH', '/proxies/p/toxics/ld', '{"attributes":{"bytes":15}}');
    socket.write(Buffer.alloc(10, 2));
    await server[0].waitEnd(2000);
    expect(server[0].data.length).toBe(15);
  });

  it('gets fresh per-link state when added to a live connection', async () => {
    const server: Reader[] = [];
    const { proxy } = await serverProxy((s) => server.push(new Reader(s)));
    const { socket } = await fx.open(proxy);
    socket.write(Buffer.alloc(40, 1));
    await delay(50);
    await addToxic(proxy, 'ld', 'limit_data', 'upstream', { bytes: 30 });
    socket.write(Buffer.alloc(40, 2));
    await server[0].waitEnd(2000);
    expect(server[0].data.length).toBe(70);
  });
});

describe('close races', () => {
  const holding: Array<[string, Record<string, number>]> = [
    ['latency', { latency: 500 }],
    // bandwidth and slicer drain what they hold before passing the EOF on (as Toxiproxy
    // does), so their settings keep that drain short.
    ['bandwidth', { rate: 5 }],
    ['slow_close', { delay: 500 }],
    ['timeout', { timeout: 0 }],
    ['reset_peer', { timeout: 500 }],
    ['slicer', { average_size: 200, size_variation: 0, delay: 20_000 }],
    ['limit_data', { bytes: 1_000_000 }],
    ['noop', {}],
  ];
  for (const [type, attributes] of holding) {
    it(`${type}: the client vanishing while the toxic holds data crashes nothing and leaks no socket`, async () => {
      const server: Reader[] = [];
      const { proxy } = await serverProxy((s) => server.push(new Reader(s)));
      await addToxic(proxy, 'up', type, 'upstream', attributes);
      await addToxic(proxy, 'down', type, 'downstream', attributes);
      for (let i = 0; i < 3; i++) {
        const { socket } = await fx.open(proxy);
        socket.write(Buffer.alloc(5000, 9));
        await delay(i * 10);
        socket.destroy();
      }
      // Every upstream socket the proxy opened gets closed.
      const deadline = Date.now() + 5000;
      while ((server.length < 3 || server.some((r) => r.outcome.kind === 'open')) && Date.now() < deadline) await delay(20);
      expect(server).toHaveLength(3);
      expect(server.filter((r) => r.outcome.kind === 'open')).toHaveLength(0);
      // The toxics can still be changed and removed afterwards.
      expect((await api(fx.fp.url, 'PATCH', '/proxies/p/toxics/up', '{"toxicity":0.5}')).status).toBe(200);
      expect((await api(fx.fp.url, 'DELETE', '/proxies/p/toxics/up')).status).toBe(204);
      expect((await api(fx.fp.url, 'POST', '/reset')).status).toBe(204);
    });
  }
});
