/**
 * Query jitter: do heavy `/api/v1/query_range` queries hold up the daemon's probes and rule
 * groups? In one process, as the daemon wires them: a sample store holding `--series` (default
 * 50 000) counters over 26 h (one sample every `--spacing` s, default 600), a ProbeScheduler
 * running 4 probes every second (the daemon's cron trigger, no configured jitter), a RuleManager evaluating a
 * group every second, and the HTTP server with the Prometheus API. Three windows of `--seconds`
 * (default 30) each:
 *
 *   idle     no query
 *   inline   a client sends the heavy range query back to back, evaluated on the event loop
 *   worker   the same through the QueryWorker (the daemon's wiring: its own thread)
 *
 * Heavy query: `sum by (job) (rate(bench_requests_total[1h]))` over the whole 26 h at a 5 m step
 * (the engine limits of Prometheus' defaults, 2 m and 50M samples, so it runs to the end).
 * Printed per window: probe start jitter (run start minus its cron slot) and rule-group slot
 * lateness (evaluation start minus its slot time), p50 / p99 / max, and the heavy queries
 * answered. Target: probe jitter and rule lateness under 100 ms with the worker.
 *
 * The process sets the V8 flags `sentinel run` sets for itself (src/daemon/v8-flags.ts, from
 * SENTINEL_V8_FLAGS or the daemon's default list), so queries take the time they take in the daemon.
 *
 * Run: npx tsx bench/daemon/query-jitter.bench.ts [--series N] [--spacing S] [--seconds S]
 *      (SENTINEL_V8_FLAGS= for V8's defaults)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { RuleManager } from '../../src/alerts/index.js';
import { applyV8Flags, daemonV8Flags } from '../../src/daemon/index.js';
import { createEngine, parseExpr } from '../../src/promql/index.js';
import { ProbeScheduler } from '../../src/probes/index.js';
import type { Probe } from '../../src/probes/index.js';
import { createHttpServer, QueryWorker, registerPrometheusApi } from '../../src/server/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { cronTrigger, SystemClock } from '../../src/time/index.js';
import type { CronTrigger } from '../../src/time/index.js';
import { figure } from '../figure.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
  return v;
}

const V8_CHOICE = daemonV8Flags(process.env, process.execArgv);
if (!V8_CHOICE.ok) throw new Error(V8_CHOICE.error);
const V8_FLAGS = V8_CHOICE.flags;
applyV8Flags(V8_FLAGS);

const SERIES = arg('series', 50_000);
const SPACING_MS = arg('spacing', 600) * 1000;
const WINDOW_MS = arg('seconds', 30) * 1000;
const RANGE_MS = 26 * 3_600_000;
const HEAVY = 'sum by (job) (rate(bench_requests_total[1h]))';
const HEAVY_STEP_S = 300;
const TARGET_MS = 100;
const ENGINE = { timeoutMs: 120_000, maxSamples: 50_000_000 };

interface Stats {
  probe: number[];
  rule: number[];
  queries: number[];
  failures: string[];
  /** missedTicks counts cron firings the trigger missed because the event loop was busy. */
  missedTicks: number;
  /** longestStallMs is the longest event-loop delay in the window. */
  longestStallMs: number;
}

// The trigger reports each firing it had to miss; count them.
let missedTicks = 0;
const countingTrigger: CronTrigger = (expression, onTick, hooks) =>
  cronTrigger(expression, onTick, {
    ...hooks,
    onMissed: (firings) => {
      missedTicks += firings;
      hooks?.onMissed?.(firings);
    },
  });

const pct = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (xs: readonly number[]): string => (xs.length === 0 ? 'no runs' : `p50 ${pct(xs, 50).toFixed(1)}  p99 ${pct(xs, 99).toFixed(1)}  max ${Math.max(...xs).toFixed(1)} ms  (${xs.length} runs)`);

async function main(): Promise<void> {
  console.log(`query jitter: ${SERIES} series x 26 h at ${SPACING_MS / 1000} s, windows of ${WINDOW_MS / 1000} s; V8 flags '${V8_FLAGS.join(' ')}'; load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const dir = mkdtempSync(join(os.tmpdir(), 'sentinel-query-jitter-'));
  const clock = new SystemClock();
  const store = new MemoryStore({ sharedBuffers: true, maxSeries: SERIES + 1000 });
  const now = Date.now();
  const t0 = performance.now();
  const points = Math.floor(RANGE_MS / SPACING_MS);
  const labels = Array.from({ length: SERIES }, (_, i) => ({ __name__: 'bench_requests_total', job: `job-${i % 20}`, instance: `i-${i}` }));
  for (let p = 0; p < points; p++) {
    const app = store.appender();
    const t = now - RANGE_MS + p * SPACING_MS;
    for (let i = 0; i < SERIES; i++) app.append(labels[i], t, p * (1 + (i % 7)));
    app.commit();
  }
  console.log(`filled ${SERIES * points} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB, shared sample buffers ${(process.memoryUsage().arrayBuffers / 2 ** 20).toFixed(0)} MB`);

  let stats: Stats = { probe: [], rule: [], queries: [], failures: [], missedTicks: 0, longestStallMs: 0 };
  const probes = Array.from({ length: 4 }, (_, i): Probe => ({
    name: `bench_${i}`,
    run: async (ctx) => {
      stats.probe.push(Date.now() - ctx.scheduledAtMs);
      return { ok: true, durationMs: 0, detail: {}, samples: [] };
    },
  }));
  const scheduler = new ProbeScheduler({ probes: probes.map((probe) => ({ probe, schedule: '* * * * * *', timeoutMs: 900 })), store, clock, registry: new Registry(), random: () => 0, trigger: countingTrigger });

  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, 'groups:\n  - name: bench\n    interval: 1s\n    rules:\n      - alert: BenchProbeDown\n        expr: sentinel_probe_up == 0\n');
  const engine = createEngine();
  const manager = new RuleManager({
    resolveFiles: () => [rulesFile],
    store,
    query: (expr, t, signal) => {
      stats.rule.push(Date.now() - t);
      return engine.instantQuery(store, expr, t, signal);
    },
    checkExpr: (expr) => {
      try {
        parseExpr(expr);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
    clock,
    defaultIntervalMs: 1000,
    registry: new Registry(),
  });

  const inlineEngine = createEngine(ENGINE);
  const worker = new QueryWorker({ store, engine: ENGINE });
  let mode: 'inline' | 'worker' = 'inline';
  const server = createHttpServer({
    listen: { host: '127.0.0.1', port: 0 },
    registry: new Registry(),
    status: () => ({ version: 'bench', startTimeMs: 0, uptimeSeconds: 0, environment: 'dev', configFile: '', targets: {}, schedules: [] }),
    readiness: () => ({ ready: true, components: [] }),
  });
  registerPrometheusApi(server, {
    store,
    instantQuery: (expr, t, signal) => (mode === 'worker' ? worker.instantQuery(expr, t, signal) : inlineEngine.instantQuery(store, expr, t, signal)),
    rangeQuery: (expr, s, e, step, signal) => (mode === 'worker' ? worker.rangeQuery(expr, s, e, step, signal) : inlineEngine.rangeQuery(store, expr, s, e, step, signal)),
    clock,
  });
  await server.start();
  await worker.start();
  await manager.start();
  await scheduler.start();
  const url = `${server.address()!.url}/api/v1/query_range?query=${encodeURIComponent(HEAVY)}&start=${(now - RANGE_MS) / 1000}&end=${now / 1000}&step=${HEAVY_STEP_S}`;

  const window = async (name: string, heavy: boolean): Promise<Stats> => {
    stats = { probe: [], rule: [], queries: [], failures: [], missedTicks: 0, longestStallMs: 0 };
    missedTicks = 0;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const elu0 = performance.eventLoopUtilization();
    const until = performance.now() + WINDOW_MS;
    const client = heavy
      ? (async () => {
          while (performance.now() < until) {
            const q0 = performance.now();
            try {
              const res = await fetch(url, { signal: AbortSignal.timeout(ENGINE.timeoutMs + 30_000) });
              const body = (await res.json()) as { status: string; error?: string };
              if (res.status === 200) stats.queries.push(performance.now() - q0);
              else stats.failures.push(`${res.status} ${body.error ?? ''}`);
            } catch (err) {
              stats.failures.push((err as Error).message);
            }
          }
        })()
      : new Promise((r) => setTimeout(r, WINDOW_MS));
    await client;
    const s = stats;
    s.missedTicks = missedTicks;
    delay.disable();
    s.longestStallMs = delay.max / 1e6;
    const elu = performance.eventLoopUtilization(elu0);
    const verdict = (xs: readonly number[]): string => (heavy && name === 'worker' ? (Math.max(...xs) < TARGET_MS ? `PASS (< ${TARGET_MS} ms)` : `MISS (target < ${TARGET_MS} ms)`) : '');
    console.log(`\n${name}${heavy ? `: heavy query back to back, ${s.queries.length} answered${s.queries.length ? ` in ${fmt(s.queries).replace(/ \(.*/, '')}` : ''}${s.failures.length ? `, ${s.failures.length} failed (${s.failures[0]})` : ''}` : ': no query'}`);
    console.log(`  probe start jitter   ${fmt(s.probe)}  ${verdict(s.probe)}`);
    console.log(`  probe ticks skipped  ${s.missedTicks} (the loop was busy at the firing)`);
    console.log(`  rule slot lateness   ${fmt(s.rule)}  ${verdict(s.rule)}`);
    console.log(`  event loop           delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)}  max ${(delay.max / 1e6).toFixed(1)} ms, utilization ${(elu.utilization * 100).toFixed(1)}%`);
    return s;
  };

  try {
    // Let the first cron ticks and rule slots settle.
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await window('idle', false);
    mode = 'inline';
    const inline = await window('inline', true);
    mode = 'worker';
    const worker = await window('worker', true);
    const maxOf = (xs: readonly number[]): number => (xs.length ? Math.max(...xs) : NaN);
    // On the event loop, the firings that do run are the few between queries; the stall itself
    // is what the skipped ticks and the loop's longest delay show.
    const stall = (w: Stats): string => `loop stalled up to ${(w.longestStallMs / 1000).toFixed(1)} s`;
    const peer = (w: Stats): string => `idle ${maxOf(idle.probe).toFixed(0)} ms; heavy query on the event loop: ${stall(w)}, ${w.missedTicks} ticks skipped, ${maxOf(w.probe).toFixed(0)} ms for those that ran`;
    const ok = (xs: readonly number[]): 'PASS' | 'MISS' => (xs.length > 0 && maxOf(xs) < TARGET_MS ? 'PASS' : 'MISS');
    figure(`probe start jitter, heavy query (${SERIES} series x 26 h)`, `max ${maxOf(worker.probe).toFixed(0)} ms, p99 ${pct(worker.probe, 99).toFixed(0)} ms, ${worker.missedTicks} skipped`, peer(inline), `< ${TARGET_MS} ms`, worker.missedTicks === 0 ? ok(worker.probe) : 'MISS');
    figure('rule group slot lateness, heavy query', `max ${maxOf(worker.rule).toFixed(0)} ms, p99 ${pct(worker.rule, 99).toFixed(0)} ms`, `idle ${maxOf(idle.rule).toFixed(0)} ms; on the event loop: ${stall(inline)}, ${inline.rule.length} of ${worker.rule.length} evaluations ran, ${maxOf(inline.rule).toFixed(0)} ms late at most`, `< ${TARGET_MS} ms`, ok(worker.rule));
  } finally {
    await scheduler.stop(Date.now() + 2000);
    await manager.stop(Date.now() + 2000);
    await server.stop(Date.now() + 2000);
    await worker.stop(Date.now() + 2000);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nload avg at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores shared: timings include other work on the machine)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
