/**
 * remote_write to Debian's real `prometheus --web.enable-remote-write-receiver` on loopback:
 *
 * 1. Sustained throughput: one `RemoteWriter` (the daemon's, with its default queue settings:
 *    2000 samples per send, one request at a time, the durable SQLite queue) fed by a producer
 *    that commits rounds of RW_SERIES series (default 1000) as fast as the writer drains them
 *    (it pauses while more than 20 000 samples are pending, so the figure is what the writer
 *    sustains, not what the queue absorbs). Prints samples/s accepted by Prometheus over
 *    RW_SECONDS (default 20) after a 3 s warm-up, the largest pending count, failures and drops.
 * 2. The daemon's RSS: `sentinel run` as its own process against the lab (config/lab.yaml
 *    schedules), once with remote_write to the receiver and once without, RW_DAEMON_SECONDS each
 *    (default 60); RSS from /proc every 2 s (max and last), and with remote_write the samples
 *    sent and pending from its /metrics.
 *
 *   npm run bench -- remote-write
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { REPO_ROOT, startLabEnvironment } from '../../src/commands/lab-environment.js';
import { MemoryStore } from '../../src/store/index.js';
import { SystemClock } from '../../src/time/index.js';
import { freePort } from '../../test/helpers/prometheus-process.js';
import { startReceiverWriter, startRemoteWriteReceiver } from '../../test/helpers/remote-write-receiver.js';
import type { PrometheusProcess } from '../../test/helpers/prometheus-process.js';

const SERIES = Number(process.env.RW_SERIES ?? 1000);
const SECONDS = Number(process.env.RW_SECONDS ?? 20);
const DAEMON_SECONDS = Number(process.env.RW_DAEMON_SECONDS ?? 60);
const MAX_PENDING = 20_000;

async function throughput(prom: PrometheusProcess, dir: string): Promise<void> {
  const clock = new SystemClock();
  const store = new MemoryStore({ maxSeries: SERIES + 10 });
  const { writer, sink, metric: counter } = await startReceiverWriter(prom, {
    name: 'bench',
    timeoutMs: 30_000,
    externalLabels: { replica: 'bench' },
    queue: { capacity: 100_000, maxSamplesPerSend: 2000, batchSendDeadlineMs: 5000, minBackoffMs: 30, maxBackoffMs: 5000 },
    queueFile: join(dir, 'bench-queue.sqlite'),
    store,
    clock,
    userAgent: 'spacetime-sentinel/bench',
    logger: pino({ level: 'warn' }),
  });
  const labels = Array.from({ length: SERIES }, (_, i) => ({ __name__: `sentinel_bench_rw_${i % 20}`, probe: `probe-${i % 10}`, stream_id: `stream-${Math.floor(i / 20)}` }));
  let t = Date.now();
  let maxPending = 0;
  let stop = false;
  const producer = (async (): Promise<void> => {
    let round = 0;
    while (!stop) {
      if (writer.pending > MAX_PENDING) {
        await sleep(2);
        continue;
      }
      t = Math.max(t + 1, Date.now());
      const app = sink.appender();
      for (let i = 0; i < labels.length; i++) app.append(labels[i], t, round + i);
      app.commit();
      round++;
      maxPending = Math.max(maxPending, writer.pending);
      await new Promise((r) => setImmediate(r));
    }
  })();
  await sleep(3000);
  const sent0 = await counter('sentinel_remote_storage_samples_total');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  maxPending = 0;
  await sleep(SECONDS * 1000);
  const sent1 = await counter('sentinel_remote_storage_samples_total');
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  stop = true;
  await producer;
  await writer.stop(Date.now() + 10_000);
  const failed = await counter('sentinel_remote_storage_samples_failed_total');
  const dropped = await counter('sentinel_remote_storage_samples_dropped_total');
  const retried = await counter('sentinel_remote_storage_samples_retried_total');
  const bytes = await counter('sentinel_remote_storage_bytes_total');
  const sent = await counter('sentinel_remote_storage_samples_total');
  console.log(
    `throughput  ${SERIES} series, max_samples_per_send 2000: ${Math.round((sent1 - sent0) / elapsedS).toLocaleString('en-US')} samples/s sustained over ${elapsedS.toFixed(1)} s ` +
      `(pending <= ${maxPending.toLocaleString('en-US')}, ${(bytes / sent).toFixed(2)} compressed bytes/sample, bench process CPU ${(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100).toFixed(0)}% of a core incl. the producer; failed ${failed}, dropped ${dropped}, retried ${retried})`,
  );
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function daemonRss(prom: PrometheusProcess | undefined, dir: string): Promise<void> {
  const port = await freePort();
  const env = await startLabEnvironment({
    workDir: join(dir, prom ? 'with' : 'without'),
    evidenceDir: join(dir, 'evidence'),
    patchConfig: (doc) => {
      doc.setIn(['server', 'listen'], `127.0.0.1:${port}`);
      doc.setIn(['alerting', 'log'], false);
      if (prom) doc.setIn(['export', 'remote_write'], [{ url: `${prom.url}/api/v1/write`, name: 'bench', queue: { batch_send_deadline: '1s' } }]);
    },
  });
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli.ts'), 'run', '--config', env.configFile, '--log-level', 'warn'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4000)));
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}: ${stderr}`);
      const ready = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`the daemon was not ready within 90 s: ${stderr}`);
      await sleep(500);
    }
    let max = 0;
    let last = 0;
    const end = Date.now() + DAEMON_SECONDS * 1000;
    while (Date.now() < end) {
      last = rssKiB(child.pid!);
      max = Math.max(max, last);
      await sleep(2000);
    }
    let extra = '';
    if (prom) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      // A labelled counter has no line until its first increment: absent is 0.
      const value = (name: string): string => /^(\S+)\{[^}]*\} (\S+)$/m.exec(text.split('\n').filter((l) => l.startsWith(`${name}{`)).join('\n'))?.[2] ?? '0';
      extra = `; remote_write sent ${value('sentinel_remote_storage_samples_total')} samples, pending ${value('sentinel_remote_storage_samples_pending')}, failed ${value('sentinel_remote_storage_samples_failed_total')}`;
    }
    console.log(`daemon RSS  remote_write ${prom ? 'on ' : 'off'}: max ${(max / 1024).toFixed(1)} MB, last ${(last / 1024).toFixed(1)} MB over ${DAEMON_SECONDS} s after ready${extra}`);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await env.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sentinel-rw-bench-'));
let prom: PrometheusProcess | undefined;
try {
  prom = await startRemoteWriteReceiver(join(dir, 'prometheus'));
  await throughput(prom, dir);
  await daemonRss(prom, dir);
  await daemonRss(undefined, dir);
} finally {
  await prom?.stop();
  rmSync(dir, { recursive: true, force: true });
}
