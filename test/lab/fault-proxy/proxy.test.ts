import { describe, expect, it } from 'vitest';
import { api, delay, dial, portOf, Reader, roundTrip, startTcpServer, useFaultProxy } from './helpers.js';

const fx = useFaultProxy();

describe('fault proxy: plain proxying', () => {
  it('relays a small message, a 64 KiB message and two writes concatenated', async () => {
    const p = await fx.echoProxy('echo');
    const { socket, reader } = await fx.open(p);
    socket.write('hello world');
    await reader.waitBytes(11);
    expect(reader.data.toString()).toBe('hello world');
    const big = Buffer.alloc(64 * 1024, 0).map((_, i) => i % 251);
    socket.write(big);
    await reader.waitBytes(11 + big.length);
    expect(Buffer.compare(reader.data.subarray(11), big)).toBe(0);
    socket.write('ab');
    socket.write('cd');
    await reader.waitBytes(11 + big.length + 4);
    expect(reader.data.subarray(-4).toString()).toBe('abcd');
  });

  it('closes the client at once when the upstream is down', async () => {
    const dead = await startTcpServer(() => undefined);
    await dead.close();
    const p = await fx.tp.createProxy({ name: 'down', listen: '127.0.0.1:0', upstream: `127.0.0.1:${dead.port}` });
    const { reader } = await fx.open(p);
    await reader.waitEnd(500);
    expect(reader.outcome.kind).toBe('eof');
  });

  it('drops open connections on disable, refuses new ones, and applies kept toxics after re-enable on the same port', async () => {
    const p = await fx.echoProxy('toggle');
    await p.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 150, jitter: 0 } });
    const { reader } = await fx.open(p);
    await api(fx.fp.url, 'PATCH', '/proxies/toggle', '{"enabled":false}');
    await reader.waitEnd(1000);
    expect(reader.outcome.kind).toBe('eof');
    await expect(dial(portOf(p.listen))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const on = JSON.parse((await api(fx.fp.url, 'PATCH', '/proxies/toggle', '{"enabled":true}')).text);
    expect(on.listen).toBe(p.listen);
    const again = await fx.open(p);
    expect(await roundTrip(again.socket, again.reader)).toBeGreaterThanOrEqual(140);
  });

  it('keeps connections through an update to an equivalent listen, drops them on a real change', async () => {
    const p = await fx.echoProxy('upd');
    const { socket, reader } = await fx.open(p);
    await roundTrip(socket, reader);
    const same = JSON.parse((await api(fx.fp.url, 'PATCH', '/proxies/upd', JSON.stringify({ listen: `localhost:${portOf(p.listen)}` }))).text);
    expect(same.listen).toBe(p.listen);
    await roundTrip(socket, reader);
    expect(reader.outcome.kind).toBe('open');
    const moved = JSON.parse((await api(fx.fp.url, 'PATCH', '/proxies/upd', '{"listen":"localhost:0"}')).text);
    expect(moved.listen).not.toBe(p.listen);
    expect(moved.listen.startsWith('127.0.0.1:')).toBe(true);
    await reader.waitEnd(1000);
    const again = await dial(portOf(moved.listen));
    fx.sockets.push(again);
    const r2 = new Reader(again);
    await roundTrip(again, r2);
  });

  it('does not half-close: a client FIN tears the whole connection down', async () => {
    const p = await fx.echoProxy('half');
    const { socket, reader } = await fx.open(p);
    socket.end('bye');
    await reader.waitEnd(2000);
    expect(reader.outcome.kind).toBe('eof');
  });

  it('closes the upstream socket when the client goes away', async () => {
    const server = await startTcpServer(() => undefined, { allowHalfOpen: true });
    try {
      const p = await fx.tp.createProxy({ name: 'srv', listen: '127.0.0.1:0', upstream: `127.0.0.1:${server.port}` });
      const { socket } = await fx.open(p);
      await new Promise<void>((r) => setTimeout(r, 50));
      const upstreamSide = new Reader(server.sockets[0]);
      socket.destroy();
      await upstreamSide.waitEnd(2000);
      expect(upstreamSide.outcome.kind).toBe('eof');
    } finally {
      await server.close();
    }
  });
});

describe('fault proxy: shutdown', () => {
  it('close() stops the API, every proxy and every open connection', async () => {
    const p = await fx.echoProxy('bye');
    await p.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 10_000, jitter: 0 } });
    const { socket, reader } = await fx.open(p);
    socket.write('pending');
    await fx.fp.close();
    await reader.waitEnd(2000);
    await expect(dial(portOf(p.listen))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(fetch(`${fx.fp.url}/version`)).rejects.toThrow();
  });
});

describe('fault proxy: live toxic changes', () => {
  it('applies a toxic added to an already-open connection to the next round trip', async () => {
    const p = await fx.echoProxy('live');
    const { socket, reader } = await fx.open(p);
    expect(await roundTrip(socket, reader)).toBeLessThan(200);
    await p.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 300, jitter: 0 } });
    expect(await roundTrip(socket, reader)).toBeGreaterThanOrEqual(290);
    await api(fx.fp.url, 'DELETE', '/proxies/live/toxics/lat');
    expect(await roundTrip(socket, reader)).toBeLessThan(200);
  });

  it('treats toxicity 0 as never and an update to 1 as immediate on the same connection', async () => {
    const p = await fx.echoProxy('tox');
    const t = await p.addToxic({ name: 'to', type: 'timeout', stream: 'downstream', toxicity: 0, attributes: { timeout: 100 } });
    const { socket, reader } = await fx.open(p);
    await roundTrip(socket, reader);
    await delay(150);
    expect(reader.outcome.kind).toBe('open');
    const startedAt = Date.now();
    await t.update({ toxicity: 1 } as never);
    await reader.waitEnd(1000);
    expect(reader.outcome.kind).toBe('eof');
    expect(reader.endedAtMs - startedAt).toBeLessThan(600);
  });

  it('rolls toxicity per connection: 0.5 affects some connections and spares others', async () => {
    const p = await fx.echoProxy('half');
    await p.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 0.5, attributes: { latency: 200, jitter: 0 } });
    const conns = await Promise.all(Array.from({ length: 24 }, () => fx.open(p)));
    const rtts = await Promise.all(conns.map((c) => roundTrip(c.socket, c.reader)));
    const slow = rtts.filter((r) => r >= 190).length;
    expect(slow).toBeGreaterThan(0);
    expect(slow).toBeLessThan(24);
  });

  it('drops and reorders nothing while toxics are added and removed in a loop (5,000 sequenced writes)', async () => {
    const received: Buffer[] = [];
    let ended = false;
    const sink = await startTcpServer((s) => {
      s.on('data', (d: Buffer) => received.push(d));
      s.on('end', () => {
        ended = true;
      });
    });
    try {
      const p = await fx.tp.createProxy({ name: 'churn', listen: '127.0.0.1:0', upstream: `127.0.0.1:${sink.port}` });
      const { socket } = await fx.open(p);
      let churning = true;
      let i = 0;
      const churn = (async () => {
        while (churning) {
          const type = ['noop', 'latency', 'slicer', 'bandwidth'][i % 4];
          const attributes = { noop: {}, latency: { latency: 1 }, slicer: { average_size: 3, size_variation: 1, delay: 10 }, bandwidth: { rate: 100000 } }[type];
          await api(fx.fp.url, 'POST', '/proxies/churn/toxics', JSON.stringify({ name: `t${i}`, type, stream: 'upstream', attributes }));
          if (i % 3 === 0) await api(fx.fp.url, 'PATCH', `/proxies/churn/toxics/t${i}`, '{"toxicity":0.5}');
          await api(fx.fp.url, 'DELETE', `/proxies/churn/toxics/t${i}`);
          i++;
        }
      })();
      for (let n = 0; n < 5000; n++) {
        const b = Buffer.alloc(2);
        b.writeUInt16BE(n);
        if (!socket.write(b)) await new Promise((r) => socket.once('drain', r));
        if (n % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      socket.end();
      const deadline = Date.now() + 15_000;
      while (!ended && Date.now() < deadline) await delay(20);
      churning = false;
      await churn;
      const all = Buffer.concat(received);
      expect(all.length).toBe(10_000);
      for (let n = 0; n < 5000; n++) {
        if (all.readUInt16BE(n * 2) !== n) throw new Error(`write ${n} out of place`);
      }
      expect(ended).toBe(true);
      // The churn really overlapped the writes.
      expect(i).toBeGreaterThan(5);
    } finally {
      await sink.close();
    }
  });

  it('does not hang when a stalled bandwidth toxic (rate 0) is removed from a busy link', async () => {
    const p = await fx.echoProxy('bw0');
    await p.addToxic({ name: 'stall', type: 'bandwidth', stream: 'upstream', toxicity: 1, attributes: { rate: 0 } });
    const { socket, reader } = await fx.open(p);
    socket.write(Buffer.alloc(100_000, 7));
    await delay(250);
    expect(reader.data.length).toBe(0);
    const r = await api(fx.fp.url, 'DELETE', '/proxies/bw0/toxics/stall');
    expect(r.status).toBe(204);
    await reader.waitBytes(100_000, 3000);
  });
});
