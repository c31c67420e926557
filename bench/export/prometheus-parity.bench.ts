/**
 * The complete firing and resolving run of every alert of the shipped rules, in the daemon and in
 * Debian's real Prometheus scraping it (test/export/parity-harness.ts), against the lab: 5m and
 * 10m `for` durations, 10m windows and the auth-failure baseline's `[1h] offset 5m` all in real
 * time, about 26 minutes. Prints one row per alert: when each engine made it pending, fired and
 * resolved it (seconds since the daemon started) and the differences, and PASS/MISS against the
 * tolerance (one evaluation interval plus one scrape interval). The operators' deploy alerts on
 * the compatibility export are listed from Prometheus alone (the daemon does not load them).
 *
 *   BENCH_TIMEOUT_SECONDS=2400 npm run bench -- prometheus-parity
 */
import os from 'node:os';
import { compareTimelines, startParityHarness } from '../../test/export/parity-harness.js';
import type { Episode, ParityHarness } from '../../test/export/parity-harness.js';
import { EVAL_INTERVAL_MS, fastProbes, isGaugeWindow, LATENCY_TOXIC, replayBurst, SCRAPE_INTERVAL_MS, START_KNOBS, startTraffic } from '../../test/export/parity-scenario.js';

const TOLERANCE_MS = EVAL_INTERVAL_MS + SCRAPE_INTERVAL_MS;
const MINUTE_MS = 60_000;

function sleepUntil(h: ParityHarness, atMs: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, h.startedAtMs + atMs - Date.now())));
}

/** STEPS: when (ms after the daemon started) each lab change happens. */
const STEPS: ReadonlyArray<{ readonly atMs: number; readonly what: string; run(h: ParityHarness): Promise<void> }> = [
  { atMs: 0, what: 'traffic into a failing mirror (a replay burst behind a slow client came before the start)', run: (h) => startTraffic(h) },
  { atMs: 0.5 * MINUTE_MS, what: 'token failures, streaming stopped, stale cursors, replay gap', run: (h) => h.setKnobs({ token_failure_ratio: 1, streaming_stopped: true, stale_cursor_events_per_minute: 600, next_resume: 'gap' }) },
  {
    atMs: 6 * MINUTE_MS,
    what: 'faults off; auth failures above a 6-minute zero baseline; connection rows leak',
    run: (h) => h.setKnobs({ token_failure_ratio: 0, streaming_stopped: false, stale_cursor_events_per_minute: 0, auth_failures_per_minute: { unauthorized: 30, token_expired: 30 }, leak_connection_rows: true }),
  },
  { atMs: 9 * MINUTE_MS, what: 'leak off; SpacetimeDB answers 700 ms late', run: async (h) => {
      await h.setKnobs({ leak_connection_rows: false });
      await h.addToxic('spacetimedb', LATENCY_TOXIC);
    } },
  { atMs: 12 * MINUTE_MS, what: 'auth failures off; slow client catches up', run: (h) => h.setKnobs({ auth_failures_per_minute: { unauthorized: 0, token_expired: 0 }, slow_clients: [] }) },
  { atMs: 15 * MINUTE_MS, what: 'latency off; the mirror publishes again', run: async (h) => {
      await h.removeToxic('spacetimedb', LATENCY_TOXIC.name);
      await h.setKnobs({ publish_failures: 0 });
    } },
];
const END_MS = 26 * MINUTE_MS;

function rel(h: ParityHarness, t: number | undefined): string {
  return t === undefined ? '-' : ((t - h.startedAtMs) / 1000).toFixed(1);
}

function delta(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? '-' : ((a - b) / 1000).toFixed(1);
}

async function main(): Promise<void> {
  console.log(`prometheus-parity: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, scrape ${SCRAPE_INTERVAL_MS} ms, eval ${EVAL_INTERVAL_MS} ms, tolerance ${TOLERANCE_MS} ms`);
  const h = await startParityHarness({ scrapeIntervalMs: SCRAPE_INTERVAL_MS, evalIntervalMs: EVAL_INTERVAL_MS, knobs: START_KNOBS, patchConfig: fastProbes, prepareLab: replayBurst, operatorRules: true });
  try {
    await h.waitScraped();
    for (const step of STEPS) {
      await sleepUntil(h, step.atMs);
      console.log(`${rel(h, Date.now())} s: ${step.what}`);
      await step.run(h);
    }
    await sleepUntil(h, END_MS);
    const rss = process.memoryUsage().rss;
    const { sentinel, prometheus, endMs } = await h.timelines(h.startedAtMs);
    const rows = compareTimelines(sentinel, prometheus, TOLERANCE_MS, endMs, (id) => !id.startsWith('OpenAgents'), isGaugeWindow);
    const header = ['alert', 'sentinel pending', 'prom pending', 'sentinel fired', 'prom fired', 'fired delta', 'sentinel resolved', 'prom resolved', 'resolved delta', 'parity'];
    const lines = rows.map((r) => {
      const s: Episode | undefined = r.sentinel;
      const p: Episode | undefined = r.prometheus;
      return [r.identity, rel(h, s?.activeAtMs), rel(h, p?.activeAtMs), rel(h, s?.firedAtMs), rel(h, p?.firedAtMs), delta(s?.firedAtMs, p?.firedAtMs), rel(h, s?.resolvedAtMs), rel(h, p?.resolvedAtMs), delta(s?.resolvedAtMs, p?.resolvedAtMs), r.problems.length > 0 ? `MISS ${r.problems.join('; ')}` : isGaugeWindow(r.identity) ? 'PASS (resolution not judged: gauge window)' : 'PASS'];
    });
    const widths = header.map((_, i) => Math.max(header[i].length, ...lines.map((l) => l[i].length)));
    const fmt = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
    console.log(`\nalerts of config/rules/*.rules.yaml (times in s since the daemon started; deltas sentinel - prometheus)`);
    console.log(fmt(header));
    for (const l of lines) console.log(fmt(l));
    console.log(`\nthe operators' deploy rules in Prometheus over the compatibility export`);
    for (const [id, episodes] of [...prometheus].filter(([id]) => id.startsWith('OpenAgents'))) {
      for (const e of episodes) console.log(`${id}: pending ${rel(h, e.activeAtMs)} s, fired ${rel(h, e.firedAtMs)} s, resolved ${rel(h, e.resolvedAtMs)} s`);
    }
    const exposition = await fetch(`${h.sentinelUrl}/metrics`).then((r) => r.text());
    console.log(`\n/metrics: ${exposition.length} bytes, ${exposition.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length} series; test process RSS ${(rss / 2 ** 20).toFixed(0)} MiB (lab + daemon)`);
  } finally {
    await h.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
