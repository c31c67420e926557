/**
 * PromQL benchmark: instant-query latency over 26 h of 15 s samples for 100 series held in the
 * in-memory store (624,000 samples): rate, sum by, histogram_quantile, a 1 d window and a 1 h
 * range query. Prints median and p95 per query.
 * Run: npx tsx bench/promql/instant-query.bench.ts [--rounds N]
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import type { Labels } from '../../src/store/index.js';
import { numberArg } from '../bench-cli.js';

const ROUNDS = numberArg('rounds', 30);
const STEP_MS = 15_000;
const POINTS = Math.floor((26 * 3600_000) / STEP_MS);
const START = 1_700_000_000_000;
const END = START + (POINTS - 1) * STEP_MS;
const LES = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];

// 50 counters (5 jobs × 10 instances) + 50 histogram buckets (5 instances × 10 le) = 100 series.
const series: Array<{ labels: Labels; inc: (p: number) => number }> = [];
for (let i = 0; i < 50; i++) series.push({ labels: { __name__: 'http_requests_total', job: `job-${i % 5}`, instance: `i-${i}` }, inc: (p) => (p % 97 === 0 ? 0 : 1 + (i % 3)) });
for (let i = 0; i < 5; i++) {
  LES.forEach((le, b) => series.push({ labels: { __name__: 'latency_seconds_bucket', instance: `h-${i}`, le }, inc: () => b + 1 }));
}

const store = new MemoryStore();
const loadStart = performance.now();
const values = series.map(() => 0);
for (let p = 0; p < POINTS; p++) {
  const app = store.appender();
  const t = START + p * STEP_MS;
  series.forEach((s, idx) => {
    const inc = s.inc(p);
    // A zero increment stands for a counter reset.
    values[idx] = inc === 0 ? 0 : values[idx] + inc;
    app.append(s.labels, t, values[idx]);
  });
  app.commit();
}
const loadMs = performance.now() - loadStart;

const engine = createEngine();
const queries: Array<{ name: string; run: () => void }> = [
  { name: 'rate(http_requests_total[5m])', run: () => engine.instantQuery(store, 'rate(http_requests_total[5m])', END) },
  { name: 'sum by (job) (rate(http_requests_total[5m]))', run: () => engine.instantQuery(store, 'sum by (job) (rate(http_requests_total[5m]))', END) },
  {
    name: 'histogram_quantile(0.99, sum by (le) (rate(latency_seconds_bucket[5m])))',
    run: () => engine.instantQuery(store, 'histogram_quantile(0.99, sum by (le) (rate(latency_seconds_bucket[5m])))', END),
  },
  { name: 'sum(increase(http_requests_total[1d]))', run: () => engine.instantQuery(store, 'sum(increase(http_requests_total[1d]))', END) },
  { name: 'max_over_time(sum(rate(http_requests_total[5m]))[1h:1m])', run: () => engine.instantQuery(store, 'max_over_time(sum(rate(http_requests_total[5m]))[1h:1m])', END) },
  { name: 'range 1h/15s: sum by (job) (rate(http_requests_total[5m]))', run: () => engine.rangeQuery(store, 'sum by (job) (rate(http_requests_total[5m]))', END - 3600_000, END, STEP_MS) },
];

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${os.platform()}`);
console.log(`loaded ${series.length} series × ${POINTS} samples (${(series.length * POINTS).toLocaleString()}) in ${loadMs.toFixed(0)} ms`);
for (const q of queries) {
  q.run(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    q.run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${q.name.padEnd(72)} median ${pct(times, 0.5).toFixed(2)} ms  p95 ${pct(times, 0.95).toFixed(2)} ms`);
}
