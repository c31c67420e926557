/**
 * Fault-proxy benchmark: throughput through the proxy vs direct loopback (ratio), latency-toxic
 * accuracy, and the time from addToxic to its effect on an open connection.
 * Run: npx tsx bench/lab/fault-proxy.bench.ts [--mb N] [--samples N]
 */
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startFaultProxy } from '../../src/lab/fault-proxy/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const MB = arg('mb', 256);
const SAMPLES = arg('samples', 40);

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return a && typeof a === 'object' ? a.port : 0;
}

async function dial(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  s.setNoDelay(true);
  return s;
}

/** pushThrough writes `MB` MiB to `port` and resolves when the sink has counted them all. */
async function pushThrough(port: number, sinkDone: () => Promise<number>): Promise<number> {
  const socket = await dial(port);
  const block = Buffer.alloc(64 * 1024, 1);
  const total = MB * 1024 * 1024;
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += block.length) {
    if (!socket.write(block)) await new Promise((r) => socket.once('drain', r));
  }
  await sinkDone();
  const ms = performance.now() - t0;
  socket.destroy();
  return (total / (1024 * 1024)) / (ms / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}`);
  // Sink: counts bytes; resolves the current waiter once MB MiB arrived.
  let received = 0;
  let waiter: ((n: number) => void) | null = null;
  const target = MB * 1024 * 1024;
  const sink = createServer((s) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= target && waiter) {
        const w = waiter;
        waiter = null;
        w(received);
      }
    });
    s.on('error', () => undefined);
  });
  const sinkPort = await listen(sink);
  const sinkDone = (): Promise<number> => new Promise((r) => (received >= target ? r(received) : (waiter = r)));

  const echo = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const echoPort = await listen(echo);

  const fp = await startFaultProxy();
  const tp = new Toxiproxy(fp.url);
  try {
    // 1. Throughput.
    received = 0;
    const direct = await pushThrough(sinkPort, sinkDone);
    const viaSink = await tp.createProxy({ name: 'sink', listen: '127.0.0.1:0', upstream: `127.0.0.1:${sinkPort}` });
    received = 0;
    const proxied = await pushThrough(Number(viaSink.listen.split(':')[1]), sinkDone);
    await viaSink.addToxic({ name: 'lat', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    received = 0;
    const withLatency = await pushThrough(Number(viaSink.listen.split(':')[1]), sinkDone);
    console.log(`throughput (${MB} MiB): direct ${direct.toFixed(0)} MiB/s, via proxy ${proxied.toFixed(0)} MiB/s (ratio ${(proxied / direct).toFixed(2)}), via proxy + 100 ms latency ${withLatency.toFixed(0)} MiB/s`);

    // 2. Latency accuracy: round trips with 50 ms downstream latency.
    const viaEcho = await tp.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` });
    const echoProxyPort = Number(viaEcho.listen.split(':')[1]);
    const rttOnce = async (socket: Socket): Promise<number> => {
      const t0 = performance.now();
      socket.write('x');
      await new Promise((r) => socket.once('data', r));
      return performance.now() - t0;
    };
    const plain = await dial(echoProxyPort);
    const base: number[] = [];
    for (let i = 0; i < SAMPLES; i++) base.push(await rttOnce(plain));
    plain.destroy();
    await viaEcho.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 50, jitter: 0 } });
    const delayed = await dial(echoProxyPort);
    const errors: number[] = [];
    for (let i = 0; i < SAMPLES; i++) errors.push((await rttOnce(delayed)) - 50);
    base.sort((a, b) => a - b);
    errors.sort((a, b) => a - b);
    console.log(`proxy overhead per round trip: p50 ${percentile(base, 50).toFixed(3)} ms, p99 ${percentile(base, 99).toFixed(3)} ms`);
    console.log(`latency 50 ms, error of RTT: min ${errors[0].toFixed(2)} ms, p50 ${percentile(errors, 50).toFixed(2)} ms, p99 ${percentile(errors, 99).toFixed(2)} ms`);

    // 3. addToxic to effect: pings every 2 ms on an open connection; the first ping sent after
    // the API call started that comes back ≥ 100 ms late marks the effect.
    const live = await dial(echoProxyPort);
    await (await tp.get('echo')).getToxic('lat').then((t) => t.remove());
    const sentAt: number[] = [];
    let firstSlowSentAt = -1;
    let pending = 0;
    live.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i++) {
        const s = sentAt[pending++];
        if (firstSlowSentAt < 0 && performance.now() - s >= 100) firstSlowSentAt = s;
      }
    });
    const timer = setInterval(() => {
      sentAt.push(performance.now());
      live.write('p');
    }, 2);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await viaEcho.addToxic({ name: 'late', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    const apiMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 400));
    clearInterval(timer);
    live.destroy();
    console.log(`addToxic: API call ${apiMs.toFixed(2)} ms; effect on the open connection from ${(firstSlowSentAt - t0).toFixed(2)} ms after the call started`);
  } finally {
    await fp.close();
    sink.close();
    echo.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
