/**
 * RemoteWriter against a receiver on a real loopback socket that decodes what it gets exactly as
 * a remote-write receiver does (snappy block, protobuf WriteRequest), with the ManualClock driving
 * batching deadlines and backoff: the wire format (headers, sorted labels, external labels, the
 * exact stale-marker bits), batches bounded by max_samples_per_send and batch_send_deadline,
 * exponential backoff on 5xx, Retry-After on 429, a 4xx dropped and counted, one request at a
 * time in order, the queue surviving a restart, the capacity bound, samples the store refused
 * never sent, and the metrics of each case.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import snappy from 'snappyjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createRemoteWriteMetrics, decodeWriteRequest, RemoteWriter, tapAppends } from '../../src/export/index.js';
import type { DecodedSeries, RemoteWriteQueueSettings } from '../../src/export/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';

/** Received is one request as the receiver decoded it. */
interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly series: DecodedSeries[];
  readonly atMs: number;
}

/** Receiver answers each request with the next scripted status (default 204) and records it. */
class Receiver {
  readonly received: Received[] = [];
  /** script holds the answers for the next requests: a status, optionally with headers, a body, a delay (default 5 ms). */
  script: Array<{ status: number; headers?: Record<string, string>; body?: string; delayMs?: number }> = [];
  /** abandoned counts requests whose connection the sender closed before the answer. */
  abandoned = 0;
  inFlight = 0;
  maxInFlight = 0;
  attempts = 0;
  private server: Server | undefined;

  constructor(private readonly clock: ManualClock) {}

  async start(): Promise<string> {
    return this.listenOn(0);
  }

  async listenOn(port: number): Promise<string> {
    this.server = createServer((req, res) => {
      this.inFlight += 1;
      this.attempts += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.script.shift() ?? { status: 204 };
        const body = new Uint8Array(Buffer.concat(chunks));
        if (answer.status >= 200 && answer.status < 300) this.received.push({ headers: req.headers, series: decodeWriteRequest(snappy.uncompress(body)), atMs: this.clock.nowMs() });
        res.on('close', () => {
          if (!res.writableFinished) this.abandoned += 1;
        });
        // Answer on a later turn, so a sender that overlapped requests would show in maxInFlight.
        setTimeout(() => {
          this.inFlight -= 1;
          if (res.destroyed) return;
          res.writeHead(answer.status, answer.headers ?? {});
          res.end(answer.body ?? '');
        }, answer.delayMs ?? 5);
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v1/write`;
  }

  samples(): Array<{ labels: Record<string, string>; t: number; v: number; isStale: boolean }> {
    return this.received.flatMap((r) => r.series.flatMap((s) => s.samples.map((x) => ({ labels: Object.fromEntries(s.labels.map((l) => [l.name, l.value])), ...x }))));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const dirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** settle lets in-flight I/O finish while the manual clock stands still. */
async function settle(ms = 100): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

const QUEUE: RemoteWriteQueueSettings = { capacity: 10_000, maxSamplesPerSend: 100, batchSendDeadlineMs: 1000, minBackoffMs: 100, maxBackoffMs: 800 };

interface Setup {
  readonly clock: ManualClock;
  readonly receiver: Receiver;
  readonly writer: RemoteWriter;
  readonly store: MemoryStore;
  readonly registry: Registry;
  readonly queueFile: string;
  readonly url: string;
  /** write commits samples through the tap, as the probes do. */
  write(samples: Array<{ labels: Record<string, string>; t: number; v?: number; stale?: boolean }>): void;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** untilMetric waits until a metric reaches `value` (the loop updates it before it pauses). */
  untilMetric(name: string, value: number): Promise<void>;
  newWriter(queue?: RemoteWriteQueueSettings): RemoteWriter;
}

interface SetupOptions {
  queue?: RemoteWriteQueueSettings;
  externalLabels?: Record<string, string>;
  queueFile?: string;
  clock?: ManualClock;
  receiver?: Receiver;
  url?: string;
  credentials?: { basicAuth?: { username: string; password: string }; bearerToken?: string };
  /** logLines receives every log line (JSON text) the writer writes. */
  logLines?: string[];
  /** timeoutMs bounds each request (default 5000). */
  timeoutMs?: number;
}

async function setup(options: SetupOptions = {}): Promise<Setup> {
  const clock = options.clock ?? new ManualClock(1_700_000_000_000);
  const receiver = options.receiver ?? new Receiver(clock);
  const url = options.url ?? (await receiver.start());
  if (!options.receiver) cleanups.push(() => receiver.close());
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-rw-'));
  dirs.push(dir);
  const queueFile = options.queueFile ?? join(dir, 'queue.sqlite');
  const store = new MemoryStore();
  const registry = new Registry();
  const metrics = createRemoteWriteMetrics(registry);
  const newWriter = (queue = options.queue ?? QUEUE): RemoteWriter => {
    const lines = options.logLines;
    const logger = lines ? pino({ level: 'debug' }, { write: (line: string) => lines.push(line) }) : process.env.RW_DEBUG ? pino({ level: 'debug' }) : pino({ level: 'silent' });
    const w = new RemoteWriter({ ...options.credentials, logger, name: 'test', url, timeoutMs: options.timeoutMs ?? 5000, externalLabels: options.externalLabels ?? {}, queue, queueFile, store, clock, metrics, userAgent: 'spacetime-sentinel/test' });
    cleanups.push(() => w.stop(clock.nowMs() + 500));
    return w;
  };
  const writer = newWriter();
  await writer.start();
  let current = writer;
  const sink = () => tapAppends(store, [current]);
  return {
    clock,
    receiver,
    writer,
    store,
    registry,
    queueFile,
    url,
    write(samples) {
      const app = sink().appender();
      for (const s of samples) {
        if (s.stale) app.appendStale(s.labels, s.t);
        else app.append(s.labels, s.t, s.v ?? 1);
      }
      app.commit();
    },
    async metric(name, labels = {}) {
      const m = (await registry.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
      return m?.value ?? 0;
    },
    async untilMetric(name, value) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const m = (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
        if (m === value) return;
        if (Date.now() > deadline) throw new Error(`${name} stayed at ${m}, expected ${value}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    newWriter: (queue) => {
      current = newWriter(queue);
      return current;
    },
  };
}

describe('RemoteWriter', () => {
  it('sends remote-write 1.0: snappy protobuf with the protocol headers, labels sorted, external labels added, exact values and stale markers', async () => {
    const s = await setup({ externalLabels: { replica: 'a', job: 'from-config' } });
    const t0 = s.clock.nowMs();
    s.write([
      { labels: { zeta: '1', __name__: 'm', job: 'own' }, t: t0, v: 0.1 + 0.2 },
      { labels: { __name__: 'm', job: 'own', zeta: '1' }, t: t0 + 1000, v: -Infinity },
      { labels: { __name__: 'm', job: 'own', zeta: '1' }, t: t0 + 2000, stale: true },
      { labels: { __name__: 'n' }, t: t0, v: 5e-324 },
    ]);
    await s.clock.advance(1000);
    await until(() => s.receiver.received.length === 1, 'the first request');
    await s.untilMetric('sentinel_remote_storage_samples_total', 4);
    const [req] = s.receiver.received;
    expect(req.headers['content-encoding']).toBe('snappy');
    expect(req.headers['content-type']).toBe('application/x-protobuf');
    expect(req.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
    expect(req.headers['user-agent']).toBe('spacetime-sentinel/test');
    // Labels sorted by name; the series' own job wins over the external one; replica added.
    expect(req.series.map((x) => x.labels.map((l) => `${l.name}=${l.value}`).join(','))).toEqual(['__name__=m,job=own,replica=a,zeta=1', '__name__=n,job=from-config,replica=a']);
    expect(req.series[0].samples).toEqual([
      { t: t0, v: 0.1 + 0.2, isStale: false },
      { t: t0 + 1000, v: -Infinity, isStale: false },
      { t: t0 + 2000, v: NaN, isStale: true },
    ]);
    expect(req.series[1].samples).toEqual([{ t: t0, v: 5e-324, isStale: false }]);
    expect(await s.metric('sentinel_remote_storage_samples_total', { remote_name: 'test' })).toBe(4);
    expect(await s.metric('sentinel_remote_storage_queue_highest_sent_timestamp_seconds')).toBe((t0 + 2000) / 1000);
    expect(await s.metric('sentinel_remote_storage_samples_pending')).toBe(0);
  });

  it('waits batch_send_deadline for a batch to fill, sends a full batch at once, never more than max_samples_per_send', async () => {
    const s = await setup();
    const t0 = s.clock.nowMs();
    s.write([{ labels: { __name__: 'a' }, t: t0 }]);
    await s.clock.advance(999);
    await settle();
    expect(s.receiver.received).toHaveLength(0);
    await s.clock.advance(1);
    await until(() => s.receiver.received.length === 1, 'the deadline send');
    // 250 samples in one commit: sent at once as 100 + 100, then 50 at the deadline.
    s.write(Array.from({ length: 250 }, (_, i) => ({ labels: { __name__: 'b', i: String(i) }, t: t0 + 5000 })));
    await until(() => s.receiver.received.length === 3, 'two full batches');
    await settle();
    expect(s.receiver.received.slice(1).map((r) => r.series.length)).toEqual([100, 100]);
    await s.clock.advance(1000);
    await until(() => s.receiver.received.length === 4, 'the remainder at its deadline');
    expect(s.receiver.received[3].series).toHaveLength(50);
    expect(s.receiver.maxInFlight).toBe(1);
  });

  it('retries 5xx with doubling backoff up to max_backoff, then delivers in order', async () => {
    const s = await setup();
    s.receiver.script = [{ status: 500 }, { status: 502 }, { status: 503 }, { status: 500 }, { status: 500 }];
    const t0 = s.clock.nowMs();
    s.write([{ labels: { __name__: 'a' }, t: t0, v: 1 }]);
    await s.clock.advance(1000);
    // Backoffs 100, 200, 400, 800, 800 (capped): each retry happens only once its pause passed.
    const backoffs = [100, 200, 400, 800, 800];
    for (let i = 0; i < backoffs.length; i++) {
      await s.untilMetric('sentinel_remote_storage_samples_retried_total', i + 1);
      await s.clock.advance(backoffs[i] - 1);
      await settle(30);
      expect(s.receiver.attempts).toBe(i + 1);
      await s.clock.advance(1);
      await until(() => s.receiver.attempts === i + 2, `the retry after ${backoffs[i]} ms`);
    }
    await until(() => s.receiver.received.length === 1, 'the delivery');
    await s.untilMetric('sentinel_remote_storage_samples_pending', 0);
    s.write([{ labels: { __name__: 'a' }, t: t0 + 1, v: 2 }]);
    await s.clock.advance(1000);
    await until(() => s.receiver.received.length === 2, 'the next batch');
    expect(s.receiver.samples().map((x) => x.v)).toEqual([1, 2]);
    expect(await s.metric('sentinel_remote_storage_samples_retried_total')).toBe(5);
    expect(await s.metric('sentinel_remote_storage_samples_failed_total')).toBe(0);
  });

  it('drops a batch the receiver refuses with a 4xx, counts it as failed, and carries on', async () => {
    const s = await setup();
    s.receiver.script = [{ status: 400, body: 'out of order sample' }];
    const t0 = s.clock.nowMs();
    s.write([{ labels: { __name__: 'bad' }, t: t0 }]);
    await s.clock.advance(1000);
    await s.untilMetric('sentinel_remote_storage_samples_failed_total', 1);
    s.write([{ labels: { __name__: 'good' }, t: t0 + 1 }]);
    await s.clock.advance(1000);
    await until(() => s.receiver.received.length === 1, 'the next batch');
    expect(s.receiver.samples().map((x) => x.labels.__name__)).toEqual(['good']);
    expect(await s.metric('sentinel_remote_storage_samples_failed_total')).toBe(1);
    expect(await s.metric('sentinel_remote_storage_samples_retried_total')).toBe(0);
    await s.untilMetric('sentinel_remote_storage_samples_pending', 0);
  });

  it('logs a refusal once per status and never a credential, even when the receiver echoes it back', async () => {
    const logLines: string[] = [];
    const token = 'bearer-secret-4711';
    const s = await setup({ logLines, credentials: { bearerToken: token } });
    const echo = { status: 401, body: `unauthorized: Authorization: Bearer ${token}` };
    s.receiver.script = [echo, echo, { status: 503, body: `busy, Bearer ${token}` }, { status: 503 }, { status: 503 }];
    const t0 = s.clock.nowMs();
    s.write([{ labels: { __name__: 'a' }, t: t0 }]);
    await s.clock.advance(1000);
    await s.untilMetric('sentinel_remote_storage_samples_failed_total', 1);
    s.write([{ labels: { __name__: 'a' }, t: t0 + 1 }]);
    await s.clock.advance(1000);
    await s.untilMetric('sentinel_remote_storage_samples_failed_total', 2);
    s.write([{ labels: { __name__: 'a' }, t: t0 + 2 }]);
    await s.clock.advance(1000);
    for (const [i, backoff] of [100, 200, 400].entries()) {
      await s.untilMetric('sentinel_remote_storage_samples_retried_total', i + 1);
      await s.clock.advance(backoff);
    }
    await until(() => s.receiver.received.length === 1, 'the delivery after the 503s');
    await until(() => logLines.some((l) => l.includes('remote write recovered')), 'the recovery line');
    expect(s.receiver.received[0].headers.authorization).toBe(`Bearer ${token}`);
    const entries = logLines.map((l) => JSON.parse(l) as { level: number; msg: string; status?: number });
    expect(entries.filter((e) => e.msg.startsWith('remote storage refused samples'))).toHaveLength(1);
    // The outage's first failure warns (40), its retries are debug lines (20).
    expect(entries.filter((e) => e.msg.startsWith('remote write failed')).map((e) => e.level)).toEqual([40, 20, 20]);
    expect(logLines.join('\n')).not.toContain(token);
    expect(logLines.join('\n')).toContain('<redacted>');
  });

  it("honours a 429's Retry-After instead of its own backoff, however long its body: the log quotes the start, and no part of an echoed credential", async () => {
    const logLines: string[] = [];
    const token = 'bearer-secret-4711';
    const s = await setup({ logLines, credentials: { bearerToken: token } });
    // Only the first 1024 bytes are read, and they end inside the echoed token (its first 13 bytes): that part is a credential too.
    const body = `overloaded${' '.repeat(1024 - 'overloaded'.length - 'Bearer '.length - 13)}Bearer ${token}${' and more'.repeat(20_000)}`;
    s.receiver.script = [{ status: 429, headers: { 'retry-after': '7' }, body }];
    s.write([{ labels: { __name__: 'a' }, t: s.clock.nowMs() }]);
    await s.clock.advance(1000);
    await s.untilMetric('sentinel_remote_storage_samples_retried_total', 1);
    await s.clock.advance(6999);
    await settle();
    expect(s.receiver.received).toHaveLength(0);
    await s.clock.advance(1);
    await until(() => s.receiver.received.length === 1, 'the send after Retry-After');
    const failed = logLines.map((l) => JSON.parse(l) as { msg: string; reason?: string }).find((e) => e.msg.startsWith('remote write failed'));
    expect(failed?.reason).toBe('HTTP 429: overloaded Bearer…');
    expect(logLines.join('\n')).not.toContain('bearer-secret');
  });

  it('retries a request the receiver does not answer within the timeout', async () => {
    const logLines: string[] = [];
    const s = await setup({ logLines, timeoutMs: 200 });
    s.receiver.script = [{ status: 204, delayMs: 3000 }];
    s.write([{ labels: { __name__: 'a' }, t: s.clock.nowMs() }]);
    await s.clock.advance(1000);
    await s.untilMetric('sentinel_remote_storage_samples_retried_total', 1);
    expect(logLines.some((l) => (JSON.parse(l) as { reason?: string }).reason === 'no answer within 200 ms')).toBe(true);
    await until(() => s.receiver.abandoned === 1, 'the timed-out request closed');
    await s.clock.advance(100);
    await until(() => s.receiver.attempts === 2, 'the retry');
    await s.untilMetric('sentinel_remote_storage_samples_pending', 0);
    expect(await s.metric('sentinel_remote_storage_samples_failed_total')).toBe(0);
  });

  it('stop aborts the request in flight instead of waiting for its answer', async () => {
    const s = await setup();
    s.receiver.script = [{ status: 204, delayMs: 4000 }];
    s.write([{ labels: { __name__: 'a' }, t: s.clock.nowMs() }]);
    await s.clock.advance(1000);
    await until(() => s.receiver.inFlight === 1, 'the request in flight');
    await s.writer.stop(s.clock.nowMs() + 400);
    await until(() => s.receiver.abandoned === 1, 'the request closed by the stop', 2000);
  });

  it('sends basic auth credentials and keeps them out of the log', async () => {
    const logLines: string[] = [];
    const s = await setup({ logLines, credentials: { basicAuth: { username: 'sentinel', password: 'pa55-secret' } } });
    s.receiver.script = [{ status: 403, body: 'denied' }];
    s.write([{ labels: { __name__: 'a' }, t: s.clock.nowMs() }]);
    await s.clock.advance(1000);
    await s.untilMetric('sentinel_remote_storage_samples_failed_total', 1);
    s.write([{ labels: { __name__: 'a' }, t: s.clock.nowMs() + 1 }]);
    await s.clock.advance(1000);
    await until(() => s.receiver.received.length === 1, 'the accepted request');
    expect(s.receiver.received[0].headers.authorization).toBe(`Basic ${Buffer.from('sentinel:pa55-secret').toString('base64')}`);
    expect(logLines.join('\n')).not.toMatch(/pa55-secret|c2VudGluZWw6cGE1NS1zZWNyZXQ/);
  });

  it('keeps the queue across a restart: what was not accepted before the stop is sent after, in order', async () => {
    const s = await setup();
    s.receiver.script = Array.from({ length: 50 }, () => ({ status: 503 }));
    const t0 = s.clock.nowMs();
    s.write([{ labels: { __name__: 'a' }, t: t0, v: 1 }]);
    s.write([{ labels: { __name__: 'a' }, t: t0 + 1000, v: 2 }]);
    await s.clock.advance(1000);
    await s.untilMetric('sentinel_remote_storage_samples_retried_total', 2);
    await s.writer.stop(s.clock.nowMs() + 200);
    expect(s.receiver.received).toHaveLength(0);
    s.receiver.script = [];
    const again = s.newWriter();
    await again.start();
    expect(again.pending).toBe(2);
    s.write([{ labels: { __name__: 'a' }, t: t0 + 2000, v: 3 }]);
    await s.clock.advance(1000);
    await until(() => s.receiver.samples().length === 3, 'all three samples');
    expect(s.receiver.samples().map((x) => [x.t - t0, x.v])).toEqual([
      [0, 1],
      [1000, 2],
      [2000, 3],
    ]);
  });

  it('drops the oldest samples past its capacity, counted as queue_full', async () => {
    const s = await setup({ queue: { ...QUEUE, capacity: 150, maxSamplesPerSend: 50 } });
    s.receiver.script = Array.from({ length: 1000 }, () => ({ status: 503 }));
    const t0 = s.clock.nowMs();
    for (let i = 0; i < 4; i++) s.write(Array.from({ length: 50 }, (_, j) => ({ labels: { __name__: 'a', j: String(j) }, t: t0 + i * 1000, v: i })));
    expect(s.writer.pending).toBe(150);
    expect(await s.metric('sentinel_remote_storage_samples_dropped_total', { reason: 'queue_full' })).toBe(50);
    expect(await s.metric('sentinel_remote_storage_samples_in_total')).toBe(200);
    s.receiver.script = [];
    await s.clock.advance(60_000);
    await until(() => s.receiver.samples().length === 150, 'the 150 kept');
    expect(new Set(s.receiver.samples().map((x) => x.v))).toEqual(new Set([1, 2, 3]));
  });

  it('sends only what the store took: an out-of-order sample the store refused never leaves', async () => {
    const s = await setup();
    const t0 = s.clock.nowMs();
    s.write([{ labels: { __name__: 'a' }, t: t0 + 1000, v: 1 }]);
    s.write([
      { labels: { __name__: 'a' }, t: t0, v: 99 },
      { labels: { __name__: 'b' }, t: t0, v: 2 },
    ]);
    await s.clock.advance(1000);
    await until(() => s.receiver.samples().length === 2, 'the stored samples');
    await settle();
    expect(s.receiver.samples().map((x) => [x.labels.__name__, x.v])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('keeps retrying while the receiver is unreachable, and delivers once it listens again', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const receiver = new Receiver(clock);
    const url = await receiver.start();
    await receiver.close();
    const logLines: string[] = [];
    const s = await setup({ clock, receiver, url, logLines });
    s.write([{ labels: { __name__: 'a' }, t: clock.nowMs() }]);
    await clock.advance(1000);
    await s.untilMetric('sentinel_remote_storage_samples_retried_total', 1);
    expect(logLines.map((l) => (JSON.parse(l) as { reason?: string }).reason)).toContain('cannot reach the endpoint (ECONNREFUSED)');
    await clock.advance(100);
    await s.untilMetric('sentinel_remote_storage_samples_retried_total', 2);
    expect(s.writer.pending).toBe(1);
    // The same port again (another listener may have taken it: then skip the delivery check).
    const port = Number(new URL(url).port);
    const again = new Receiver(clock);
    const listening = await again.listenOn(port).then(
      () => true,
      () => false,
    );
    cleanups.push(() => again.close());
    if (!listening) return;
    await clock.advance(200);
    await until(() => again.received.length === 1, 'the delivery after the outage');
    expect(await s.metric('sentinel_remote_storage_samples_failed_total')).toBe(0);
  });

  it('flushes on stop: partial batches leave without waiting for their deadline', async () => {
    const s = await setup();
    s.write([{ labels: { __name__: 'a' }, t: s.clock.nowMs() }]);
    await s.writer.stop(s.clock.nowMs() + 2000);
    expect(s.receiver.received).toHaveLength(1);
  });
});
