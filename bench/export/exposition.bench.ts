/**
 * The memory and time cost of /metrics over the sample store: the exposition keeps no copy of the
 * data (it reads each series' newest sample at scrape time), so its cost is per scrape. For
 * stores of 300, 3,000 and 30,000 probe series (an hour of 30 s samples each), prints the heap the
 * store holds, the heap the exposition objects add, and per scrape the time, the body size and
 * the transient heap it allocates.
 *
 *   npm run bench -- exposition
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { createMetricsExposition, RecordedNames, tapAppends } from '../../src/export/index.js';
import { MemoryStore, MetricMetadataRegistry } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const SAMPLES_PER_SERIES = 120; // an hour every 30 s: the exposition reads only the newest
const NAMES = 30;

async function run(seriesCount: number): Promise<void> {
  const clock = new ManualClock(1_700_000_000_000);
  const before = heapMiB();
  const store = new MemoryStore({ maxSeries: seriesCount + 10 });
  const names = new RecordedNames();
  const sink = tapAppends(store, [names]);
  const perName = Math.ceil(seriesCount / NAMES);
  const t0 = clock.nowMs() - SAMPLES_PER_SERIES * 30_000;
  for (let i = 0; i < SAMPLES_PER_SERIES; i++) {
    const app = sink.appender();
    for (let s = 0; s < seriesCount; s++) app.append({ __name__: `sentinel_bench_metric_${s % NAMES}`, stream_id: `stream-${Math.floor(s / NAMES)}`, client_id: `client-${s % perName}` }, t0 + i * 30_000 + 30_000, i + s);
    app.commit();
  }
  const withStore = heapMiB();
  const exposition = createMetricsExposition({ registry: new Registry(), store, names, metadata: new MetricMetadataRegistry(), lookbackDeltaMs: 300_000, clock, compat: { appVersion: 'bench' } });
  const withExposition = heapMiB();
  let body = '';
  const rounds = seriesCount >= 30_000 ? 5 : 20;
  let transient = 0;
  const t = performance.now();
  for (let i = 0; i < rounds; i++) {
    const h0 = process.memoryUsage().heapUsed;
    body = await exposition.metrics();
    transient = Math.max(transient, process.memoryUsage().heapUsed - h0);
  }
  const msPerScrape = (performance.now() - t) / rounds;
  const lines = body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  console.log(
    `${String(seriesCount).padStart(6)} series  store ${(withStore - before).toFixed(1).padStart(7)} MiB  exposition objects ${(withExposition - withStore).toFixed(2).padStart(5)} MiB  ` +
      `scrape ${msPerScrape.toFixed(1).padStart(7)} ms  body ${(body.length / 1024).toFixed(0).padStart(6)} KiB (${lines} lines)  transient heap <= ${(transient / 2 ** 20).toFixed(1)} MiB`,
  );
}

async function main(): Promise<void> {
  console.log(`exposition: node ${process.version}`);
  for (const n of [300, 3000, 30_000]) await run(n);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
