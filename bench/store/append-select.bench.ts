/**
 * Store benchmark: append throughput (memory and SQLite-backed), range-read throughput, and
 * restart load time for 26 h × 500 series at a 15 s interval (3.12 M samples).
 * Run: npx tsx bench/store/append-select.bench.ts [--series N] [--hours H]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryStore, openSampleStore } from '../../src/store/index.js';
import type { Appender, Labels } from '../../src/store/index.js';
import { numberArg } from '../bench-cli.js';

const SERIES = numberArg('series', 500);
const HOURS = numberArg('hours', 26);
const STEP_MS = 15_000;
const POINTS = Math.floor((HOURS * 3600_000) / STEP_MS);
const START = 1_700_000_000_000;

const labels: Labels[] = Array.from({ length: SERIES }, (_, i) => ({ __name__: `bench_metric_${i % 10}`, instance: `i-${i}`, job: 'bench' }));

/** fill appends one commit per 15 s "scrape" of every series, as the probe scheduler does. */
function fill(store: { appender(): Appender }): number {
  const t0 = performance.now();
  for (let p = 0; p < POINTS; p++) {
    const app = store.appender();
    const t = START + p * STEP_MS;
    for (let s = 0; s < SERIES; s++) app.append(labels[s], t, (p * 7 + s) % 1000);
    app.commit();
  }
  return performance.now() - t0;
}

function reads(store: MemoryStore | ReturnType<typeof openSampleStore>): { hourAllMs: number; dayOneMs: number; samplesPerSec: number } {
  const end = START + (POINTS - 1) * STEP_MS;
  let samples = 0;
  const rounds = 20;
  let t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const s of store.select([{ name: 'job', type: '=', value: 'bench' }], end - 3600_000, end)) samples += s.samples.length;
  }
  const hourAllMs = (performance.now() - t0) / rounds;
  t0 = performance.now();
  for (let r = 0; r < rounds; r++) store.select([{ name: 'instance', type: '=', value: 'i-7' }], START, end);
  const dayOneMs = (performance.now() - t0) / rounds;
  return { hourAllMs, dayOneMs, samplesPerSec: samples / ((hourAllMs * rounds) / 1000) };
}

const total = SERIES * POINTS;
const fmtRate = (n: number, ms: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;
console.log(`store bench: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${SERIES} series × ${HOURS} h at 15 s = ${total.toLocaleString('en-US')} samples`);

const mem = new MemoryStore();
const memMs = fill(mem);
console.log(`memory append:        ${memMs.toFixed(0)} ms  (${fmtRate(total, memMs)}; process RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB holding them)`);
const mr = reads(mem);
console.log(`memory range read:    last 1 h of all series ${mr.hourAllMs.toFixed(2)} ms (${Math.round(mr.samplesPerSec).toLocaleString('en-US')} samples/s), 26 h of one series ${mr.dayOneMs.toFixed(2)} ms`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sentinel-store-bench-'));
try {
  const disk = openSampleStore({ dataDir: dir });
  const diskMs = fill(disk);
  console.log(`sqlite append:        ${diskMs.toFixed(0)} ms  (${fmtRate(total, diskMs)}, one transaction per ${SERIES}-sample scrape)`);
  await disk.close();
  const size = fs.statSync(path.join(dir, 'samples.db')).size;
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const reopened = openSampleStore({ dataDir: dir });
  const loadMs = performance.now() - t0;
  console.log(`restart load:         ${loadMs.toFixed(0)} ms for ${reopened.seriesCount} series (${(size / 1e6).toFixed(1)} MB on disk, rss +${((process.memoryUsage().rss - rssBefore) / 1e6).toFixed(0)} MB)`);
  const dr = reads(reopened);
  console.log(`reopened range read:  last 1 h of all series ${dr.hourAllMs.toFixed(2)} ms, 26 h of one series ${dr.dayOneMs.toFixed(2)} ms`);
  await reopened.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
