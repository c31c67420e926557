/**
 * Drill fault timing: how fast the drills' `ToxiproxyFaultDriver` puts a fault into
 * effect and takes a stage's faults away again, measured on real sockets through the lab's fault
 * proxy in front of a local echo server.
 *
 *  (a) addToxic → in effect on an already open connection (target <= 50 ms): a 1-byte ping every
 *      millisecond; the effect time is the send time of the first ping after which every ping was
 *      delayed (latency toxic) or never answered (timeout toxic), minus the start of `addToxic`:
 *      from then on the connection's traffic is affected. A ping sent a moment before the proxy
 *      installs the toxic can still be caught by it, so this can precede the API's answer; the
 *      API call's own duration (GET + POST; the toxic is certainly in place once it returns) is
 *      printed beside it as the upper bound.
 *  (b) abort → every toxic gone (target <= 200 ms): a stage of 4 toxics on 2 proxies is removed
 *      as the runner does (`removeToxic` one by one, newest first); done when `listProxies()`
 *      shows none of them and the path works again (a fresh connection through each proxy echoes
 *      within 50 ms, and the open connection gets every byte it sent back).
 *  (c) latency-toxic accuracy at 50 and 200 ms (the lab bench covers 50 ms only).
 *
 * The fault proxy runs in its own process (fault-proxy-process.ts), as Toxiproxy or `sentinel
 * lab` does beside a drill runner; `--in-process` runs it inside the bench instead, where its
 * work and the pings share one event loop.
 *
 * Run: npx tsx bench/drills/fault-timing.bench.ts [--rounds 50] [--samples 30] [--in-process]
 */
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFaultProxy } from '../../src/lab/fault-proxy/index.js';
import { spawnFaultProxy } from './spawn-fault-proxy.js';
import type { RunningProxy } from './spawn-fault-proxy.js';
import type { ToxicSpec } from '../../src/drills/fault-driver.js';
import { ToxiproxyFaultDriver } from '../../src/drills/index.js';
import { numberArg } from '../bench-cli.js';

const IN_PROCESS = process.argv.includes('--in-process');
const ROUNDS = numberArg('rounds', 50);
const SAMPLES = numberArg('samples', 30);
const EFFECT_TARGET_MS = 50;
const ABORT_TARGET_MS = 200;
/** Latency the effect rounds inject; a ping counts as delayed at half of it. */
const EFFECT_LATENCY_MS = 100;
/** How long a round watches for its effect or removal before giving up. */
const ROUND_DEADLINE_MS = 3000;

const now = (): number => performance.now();

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const a = server.address();
  if (!a || typeof a !== 'object') throw new Error('server has no address');
  return a.port;
}

async function dial(port: number, timeoutMs = 2000): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.setTimeout(timeoutMs);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
    s.once('timeout', () => reject(new Error(`connect to 127.0.0.1:${port} timed out`)));
  });
  s.setTimeout(0);
  s.setNoDelay(true);
  s.on('error', () => undefined);
  return s;
}

function portOf(listenAddr: string): number {
  return Number(listenAddr.slice(listenAddr.lastIndexOf(':') + 1));
}

/** waitFor polls `done` every millisecond until it is true or `deadlineMs` (performance.now) passes. */
async function waitFor(done: () => boolean | Promise<boolean>, deadlineMs: number): Promise<boolean> {
  for (;;) {
    if (await done()) return true;
    if (now() >= deadlineMs) return false;
    await sleep(1);
  }
}

/** Pinger sends one byte per tick on an open connection and timestamps every echo it gets back. */
class Pinger {
  readonly sentAt: number[] = [];
  readonly receivedAt: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      const t = now();
      for (let i = 0; i < d.length; i++) this.receivedAt.push(t);
    });
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.send(), intervalMs);
  }

  send(): void {
    if (this.socket.destroyed) return;
    this.sentAt.push(now());
    this.socket.write('p');
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** lastFastIndex is the last ping answered faster than `thresholdMs`, or -1. */
  lastFastIndex(thresholdMs: number): number {
    for (let i = this.receivedAt.length - 1; i >= 0; i--) if (this.receivedAt[i] - this.sentAt[i] < thresholdMs) return i;
    return -1;
  }

  destroy(): void {
    this.stop();
    this.socket.destroy();
  }
}

interface Stats {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

/** stats uses nearest-rank percentiles (no interpolation), as a reader would count them. */
function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
  return { n: s.length, p50: rank(50), p95: rank(95), max: s[s.length - 1] };
}

function fmt(st: Stats): string {
  return `n=${st.n} p50 ${st.p50.toFixed(2)} ms, p95 ${st.p95.toFixed(2)} ms, max ${st.max.toFixed(2)} ms`;
}

function verdict(label: string, values: readonly number[], targetMs: number, failures: number): void {
  const st = stats(values);
  const ok = failures === 0 && st.n > 0 && st.p95 <= targetMs;
  const over = values.filter((v) => v > targetMs).length;
  const notes = [over ? `${over} of ${st.n} rounds over ${targetMs} ms` : '', failures ? `${failures} rounds never saw it` : ''].filter(Boolean).join(', ');
  console.log(`${label}: ${fmt(st)}; target p95 <= ${targetMs} ms: ${ok ? 'PASS' : 'MISS'}${notes ? ` (${notes})` : ''}`);
}

/** echoRoundTrip opens a fresh connection through `port` and times one 16-byte echo; undefined on timeout. */
async function echoRoundTrip(port: number, timeoutMs: number): Promise<number | undefined> {
  const t0 = now();
  let s: Socket | undefined;
  try {
    s = await dial(port, timeoutMs);
    const sock = s;
    const payload = Buffer.alloc(16, 0x61);
    let got = 0;
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      sock.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= payload.length) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      sock.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    sock.write(payload);
    return (await done) ? now() - t0 : undefined;
  } catch {
    return undefined;
  } finally {
    s?.destroy();
  }
}

async function main(): Promise<void> {
  const echo = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const echoPort = await listen(echo);
  const fp: RunningProxy = IN_PROCESS ? await startFaultProxy() : await spawnFaultProxy();
  const driver = new ToxiproxyFaultDriver({ url: fp.url, timeoutMs: 5000 });
  const sockets = new Set<Pinger>();
  try {
    console.log(`fault proxy ${await driver.version()} at ${fp.url} (${IN_PROCESS ? 'in this process' : 'own process'}); echo server 127.0.0.1:${echoPort}; ${ROUNDS} rounds per measurement`);
    const upstream = `127.0.0.1:${echoPort}`;
    await driver.ensureProxies([
      { name: 'echo-a', listen: '127.0.0.1:0', upstream },
      { name: 'echo-b', listen: '127.0.0.1:0', upstream },
    ]);
    const ports = new Map((await driver.listProxies()).map((p) => [p.name, portOf(p.listen)]));
    const portA = ports.get('echo-a') ?? 0;
    const portB = ports.get('echo-b') ?? 0;

    // (a) addToxic → effect, for a latency toxic and a timeout toxic.
    for (const kind of ['latency', 'timeout'] as const) {
      const effects: number[] = [];
      const apiTimes: number[] = [];
      let failures = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const pinger = new Pinger(await dial(portA));
        sockets.add(pinger);
        pinger.start(1);
        await sleep(20);
        const toxic: ToxicSpec =
          kind === 'latency'
            ? { name: `sentinel-bench-${round}-latency`, type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: EFFECT_LATENCY_MS, jitter: 0 } }
            : { name: `sentinel-bench-${round}-timeout`, type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } };
        const t0 = now();
        await driver.addToxic('echo-a', toxic);
        apiTimes.push(now() - t0);
        // Keep pinging long enough that the effect is unambiguous, then let answers drain.
        await sleep(kind === 'latency' ? 150 : 100);
        pinger.stop();
        await sleep(kind === 'latency' ? EFFECT_LATENCY_MS + 100 : 100);
        // Every ping after the effect is delayed (latency) or unanswered (timeout); the first
        // such ping's send time bounds the moment the toxic took hold from above by one tick.
        const first = kind === 'latency' ? pinger.lastFastIndex(EFFECT_LATENCY_MS / 2) + 1 : pinger.receivedAt.length;
        if (first >= pinger.sentAt.length) failures++;
        else effects.push(pinger.sentAt[first] - t0);
        await driver.removeToxic('echo-a', toxic.name);
        pinger.destroy();
        sockets.delete(pinger);
      }
      console.log(`(a) addToxic API call (${kind}; GET /proxies/echo-a + POST toxics): ${fmt(stats(apiTimes))}`);
      verdict(`(a) addToxic start -> ${kind} toxic in effect on an open connection`, effects, EFFECT_TARGET_MS, failures);
    }

    // (b) abort: remove a 4-toxic stage one toxic at a time, newest first, as the runner does.
    const removalApi: number[] = [];
    const listedGone: number[] = [];
    const pathBack: number[] = [];
    let abortFailures = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const stage: Array<{ proxy: string; toxic: ToxicSpec }> = [
        { proxy: 'echo-a', toxic: { name: `sentinel-bench-${round}-lat`, type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } } },
        { proxy: 'echo-a', toxic: { name: `sentinel-bench-${round}-bw`, type: 'bandwidth', stream: 'upstream', toxicity: 1, attributes: { rate: 1 } } },
        { proxy: 'echo-b', toxic: { name: `sentinel-bench-${round}-slice`, type: 'slicer', stream: 'downstream', toxicity: 1, attributes: { average_size: 1, size_variation: 0, delay: 10_000 } } },
        { proxy: 'echo-b', toxic: { name: `sentinel-bench-${round}-to`, type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } } },
      ];
      const open = new Pinger(await dial(portA));
      sockets.add(open);
      for (const { proxy, toxic } of stage) await driver.addToxic(proxy, toxic);
      // Traffic is in flight under the faults when the abort comes.
      for (let i = 0; i < 20; i++) open.send();
      await sleep(30);

      const t0 = now();
      for (const { proxy, toxic } of [...stage].reverse()) await driver.removeToxic(proxy, toxic.name);
      const tRemoved = now();
      const names = new Set(stage.map((s) => s.toxic.name));
      const deadline = t0 + ROUND_DEADLINE_MS;
      const gone = await waitFor(async () => (await driver.listProxies()).every((p) => p.toxics.every((t) => !names.has(t.name))), deadline);
      const tListed = now();
      // The path works again: a fresh connection through each proxy echoes quickly, and the
      // open connection gets back every byte it sent (the latency queue was flushed, not lost).
      open.send();
      const [rttA, rttB, drained] = await Promise.all([
        waitFor(async () => ((await echoRoundTrip(portA, 200)) ?? Infinity) < 50, deadline),
        waitFor(async () => ((await echoRoundTrip(portB, 200)) ?? Infinity) < 50, deadline),
        waitFor(() => open.receivedAt.length >= open.sentAt.length, deadline),
      ]);
      const tPath = now();
      open.destroy();
      sockets.delete(open);
      if (!gone || !rttA || !rttB || !drained) {
        abortFailures++;
        console.log(`(b) round ${round}: listed gone ${gone}, echo-a ${rttA}, echo-b ${rttB}, open connection drained ${drained} (${open.receivedAt.length}/${open.sentAt.length})`);
        continue;
      }
      removalApi.push(tRemoved - t0);
      listedGone.push(tListed - t0);
      pathBack.push(tPath - t0);
    }
    console.log(`(b) abort: 4 x removeToxic calls: ${fmt(stats(removalApi))}`);
    console.log(`(b) abort -> listProxies() shows none of the stage's toxics: ${fmt(stats(listedGone))}`);
    verdict('(b) abort start -> every toxic removed and the path working again', pathBack, ABORT_TARGET_MS, abortFailures);

    // (c) latency accuracy on one connection: RTT minus the proxy's own baseline minus the toxic.
    const rtt = async (s: Socket): Promise<number> => {
      const t0 = now();
      const got = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('echo did not return within 5 s')), 5000);
        s.once('data', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      s.write('x');
      await got;
      return now() - t0;
    };
    const sock = await dial(portA);
    try {
      const base: number[] = [];
      for (let i = 0; i < SAMPLES; i++) base.push(await rtt(sock));
      const baseline = stats(base).p50;
      console.log(`(c) baseline round trip through the proxy: ${fmt(stats(base))}`);
      for (const latency of [50, 200]) {
        const name = `sentinel-bench-accuracy-${latency}`;
        await driver.addToxic('echo-a', { name, type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency, jitter: 0 } });
        const errors: number[] = [];
        for (let i = 0; i < SAMPLES; i++) errors.push((await rtt(sock)) - baseline - latency);
        await driver.removeToxic('echo-a', name);
        const st = stats(errors);
        const min = Math.min(...errors);
        console.log(`(c) latency ${latency} ms, RTT error (RTT - baseline - ${latency}): min ${min.toFixed(2)} ms, ${fmt(st)}; relative p50 ${((100 * st.p50) / latency).toFixed(1)}%`);
      }
    } finally {
      sock.destroy();
    }

    const leftovers = (await driver.listProxies()).flatMap((p) => p.toxics.map((t) => `${p.name}/${t.name}`));
    if (leftovers.length > 0) {
      console.error(`bench left toxics behind: ${leftovers.join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    for (const s of sockets) s.destroy();
    await fp.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
