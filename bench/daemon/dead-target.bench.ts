/**
 * Daemon memory with a dead target: the whole daemon (`buildDaemon`: SQLite store, every probe
 * of config/lab.yaml, the shipped rules and their notifier, the HTTP server) against addresses
 * nothing listens on, for an hour of simulated time on a ManualClock. Every probe runs every
 * 15 s (`ProbeScheduler.runOnce`, as the lab's schedules would), the rule groups evaluate as the
 * clock moves, /metrics is scraped once a simulated minute. RSS and V8 heap (after a full GC) are
 * printed at the start (after 5 warm-up minutes), every 10 minutes and at the end.
 *
 * Target: the heap after GC grows by less than 5 MB over the hour (samples of an hour of a few
 * hundred series are part of that; the probes' failures, sockets and timers must not be).
 *
 * Options: --minutes N (default 60), --cadence-seconds N (default 15).
 * Run: npm run bench -- dead-target
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseDocument } from 'yaml';
import { buildDaemon } from '../../src/commands/run.js';
import type { Daemon } from '../../src/commands/run.js';
import { loadConfig } from '../../src/config/index.js';
import { startComponents, stopComponents } from '../../src/daemon/index.js';
import type { Component } from '../../src/daemon/index.js';
import { ManualClock } from '../../src/time/index.js';
import { freePort } from '../../test/helpers/free-port.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NEVER = '0 0 1 1 *';
const HEAP_GROWTH_TARGET_MB = 5;

const { values: args } = parseArgs({ options: { minutes: { type: 'string', default: '60' }, 'cadence-seconds': { type: 'string', default: '15' } } });
const MINUTES = Number(args.minutes);
const CADENCE_MS = Number(args['cadence-seconds']) * 1000;
if (!(MINUTES > 0) || !(CADENCE_MS > 0)) throw new Error('--minutes and --cadence-seconds must be positive numbers');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Memory {
  readonly rssMb: number;
  readonly heapMb: number;
  readonly externalMb: number;
}

/** memory reads the process' memory after two full collections (what is still referenced). */
function memory(): Memory {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20, externalMb: m.external / 2 ** 20 };
}

const fmt = (m: Memory): string => `RSS ${m.rssMb.toFixed(1)} MB, heap used ${m.heapMb.toFixed(1)} MB, external ${m.externalMb.toFixed(1)} MB`;

/** writeConfig is config/lab.yaml with every target at the dead port, probes run by hand, temp data. */
function writeConfig(tmp: string, port: number): string {
  const doc = parseDocument(readFileSync(path.join(ROOT, 'config', 'lab.yaml'), 'utf8'));
  const secrets = path.join(tmp, 'secrets');
  mkdirSync(secrets);
  writeFileSync(path.join(secrets, 'session'), 'dead-target-session-token', { mode: 0o600 });
  writeFileSync(path.join(secrets, 'jwt'), 'dead-target-signing-key-0123456789abcdef', { mode: 0o600 });
  for (const service of ['spacetimedb', 'runtime', 'control']) doc.setIn(['target', service, 'base_url'], `http://127.0.0.1:${port}`);
  doc.setIn(['target', 'control', 'session_token'], `\${file:${path.join(secrets, 'session')}}`);
  doc.setIn(['target', 'control', 'jwt_signing_key'], `\${file:${path.join(secrets, 'jwt')}}`);
  const probes = doc.get('probes', true) as { items: Array<{ key: { value: string } }> };
  for (const item of probes.items) {
    const name = item.key.value;
    if (doc.hasIn(['probes', name, 'schedule'])) doc.setIn(['probes', name, 'schedule'], NEVER);
  }
  doc.setIn(['rules', 'files'], [path.join(ROOT, 'config', 'rules', '*.rules.yaml')]);
  doc.setIn(['drills', 'files'], []);
  doc.setIn(['drills', 'schedules'], []);
  doc.setIn(['drills', 'evidence_dir'], path.join(tmp, 'evidence'));
  doc.setIn(['storage', 'data_dir'], path.join(tmp, 'data'));
  doc.setIn(['server', 'listen'], '127.0.0.1:0');
  doc.deleteIn(['lab']);
  const file = path.join(tmp, 'sentinel.yaml');
  writeFileSync(file, String(doc));
  return file;
}

async function seriesCount(url: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('count({__name__=~".+"})')}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return Number(body.data.result[0]?.value[1] ?? 0);
}

function realSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<number> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sentinel-dead-target-'));
  const logger = pino({ level: 'silent' });
  const clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000);
  let daemon: Daemon | undefined;
  let started: Component[] = [];
  try {
    // A port nothing listens on (bound, then closed): every connect is refused.
    const port = await freePort();
    const config = loadConfig(writeConfig(tmp, port));
    daemon = await buildDaemon(config, { clock, logger, registry: new Registry(), tracer: trace.getTracer('dead-target'), version: 'bench', env: {} });
    started = await startComponents(daemon.components, { signal: new AbortController().signal, logger, clock, deadlineMs: () => clock.nowMs() + 5000 });
    const url = daemon.server.address()?.url ?? '';
    const scheduler = daemon.generation().probeScheduler;
    console.log(`dead-target: ${MINUTES} simulated minutes, every probe (${scheduler.probeNames().join(', ')}) every ${CADENCE_MS / 1000} s against 127.0.0.1:${port} (refused); rules every ${config.rules.evaluationIntervalMs / 1000} s; work dir ${tmp}`);

    const results = new Map<string, number>();
    let runs = 0;
    const t0 = performance.now();
    const step = async (): Promise<void> => {
      await clock.advance(CADENCE_MS);
      for (const report of await scheduler.runOnce('all')) {
        runs++;
        results.set(report.outcome.reason, (results.get(report.outcome.reason) ?? 0) + 1);
      }
      if (clock.nowMs() % 60_000 < CADENCE_MS) await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    };

    const warmupSteps = Math.ceil((5 * 60_000) / CADENCE_MS);
    for (let i = 0; i < warmupSteps; i++) await step();
    const start = memory();
    const startSeries = await seriesCount(url);
    console.log(`  start (after 5 min warm-up): ${fmt(start)}; ${startSeries} series`);

    const steps = Math.ceil((MINUTES * 60_000) / CADENCE_MS);
    const everyTen = Math.round((10 * 60_000) / CADENCE_MS);
    for (let i = 1; i <= steps; i++) {
      await step();
      if (i % everyTen === 0 && i !== steps) console.log(`  t+${String((i * CADENCE_MS) / 60_000).padStart(3)} min: ${fmt(memory())}`);
    }
    const end = memory();
    const endSeries = await seriesCount(url);
    const wallS = (performance.now() - t0) / 1000;
    console.log(`  end   (t+${MINUTES} min): ${fmt(end)}; ${endSeries} series`);
    console.log(`  ${runs} probe runs in ${wallS.toFixed(1)} s of wall time; results: ${[...results].map(([r, n]) => `${r}=${n}`).join(', ')}`);
    const growth = end.heapMb - start.heapMb;
    console.log(`heap growth over ${MINUTES} min of a dead target: ${growth.toFixed(2)} MB (RSS ${(end.rssMb - start.rssMb).toFixed(1)} MB) ${growth < HEAP_GROWTH_TARGET_MB ? 'PASS' : 'MISS'} (target < ${HEAP_GROWTH_TARGET_MB} MB)`);
    return 0;
  } finally {
    // Stop on a real-time bound: a component waiting out a deadline on the manual clock must not hang the bench.
    if (started.length > 0) await Promise.race([stopComponents(started, { deadlineMs: clock.nowMs() + 2000, clock, logger }), realSleep(15_000)]);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('dead-target: FAILED:', err);
    process.exit(1);
  },
);
