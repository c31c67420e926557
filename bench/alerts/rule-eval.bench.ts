/**
 * Rule evaluation benchmark: evaluation time of each shipped rule group
 * (config/rules/spacetime-sync.rules.yaml) over 26 h of probe samples at a 15 s interval, at the
 * newest timestamp (what the daemon does every interval) and swept over the last hour at 1 m.
 * Run: npx tsx bench/alerts/rule-eval.bench.ts [--hours H] [--streams N]
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkPromqlExpr, loadRuleFiles, RuleGroup } from '../../src/alerts/index.js';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import type { Labels } from '../../src/store/index.js';
import { numberArg } from '../bench-cli.js';

const HOURS = numberArg('hours', 26);
const STREAMS = numberArg('streams', 20);
const STEP_MS = 15_000;
const POINTS = Math.floor((HOURS * 3600_000) / STEP_MS);
const START = 1_700_000_000_000;
const END = START + (POINTS - 1) * STEP_MS;
const PROBES = ['runtime_metrics', 'replay_lag', 'delivery', 'resume', 'connections', 'token', 'cutover_state', 'retired_routes', 'preflight'];
const BUCKETS = ['0.025', '0.05', '0.1', '0.25', '0.5', '0.6', '1', '2.5', '+Inf'];

/** series lists every series the shipped rules read, with a generator of its value at point p. */
function series(): Array<[Labels, (p: number) => number]> {
  const out: Array<[Labels, (p: number) => number]> = [];
  for (const probe of PROBES) {
    out.push([{ __name__: 'sentinel_probe_success', probe }, (p) => (p % 97 === 0 ? 0 : 1)]);
    for (const result of ['ok', 'auth', 'timeout']) out.push([{ __name__: 'sentinel_probe_runs_total', probe, result }, (p) => (result === 'ok' ? p : Math.floor(p / 50))]);
  }
  for (let s = 0; s < STREAMS; s++) out.push([{ __name__: 'sentinel_replay_lag_max_events', stream_id: `runtime.run.${s}.events` }, (p) => (p * 13 + s * 7) % 400]);
  for (const [name, f] of [
    ['openagents_spacetime_mirror_failed_total', (p: number) => Math.floor(p / 40)],
    ['openagents_spacetime_mirror_published_total', (p: number) => p * 10],
    ['openagents_spacetime_mirror_outbox_depth', (p: number) => p % 30],
    ['openagents_spacetime_mirror_auth_failures_total', (p: number) => Math.floor(p / 20)],
    ['openagents_spacetime_delivery_max_replay_lag', (p: number) => (p * 17) % 900],
    ['openagents_spacetime_delivery_stale_cursor_events_total', (p: number) => Math.floor(p / 3)],
    ['openagents_spacetime_auth_failures_unauthorized_total', (p: number) => Math.floor(p / 7)],
    ['openagents_spacetime_auth_failures_token_expired_total', (p: number) => Math.floor(p / 9)],
    ['sentinel_token_issue_attempts_total', (p: number) => p],
    ['sentinel_ordering_divergence_total', () => 0],
    ['sentinel_delivery_timeouts_total', (p: number) => Math.floor(p / 500)],
    ['sentinel_handshake_success', () => 1],
    ['sentinel_cutover_ok', () => 1],
    ['sentinel_ws_reconnects_total', (p: number) => p],
  ] as const) out.push([{ __name__: name }, f]);
  out.push([{ __name__: 'sentinel_token_issue_failures_total', reason: 'http_status' }, (p) => Math.floor(p / 60)]);
  for (const outcome of ['ok', 'gap', 'stale_rebootstrap_ok']) out.push([{ __name__: 'sentinel_resume_total', outcome }, (p) => (outcome === 'ok' ? p : Math.floor(p / 300))]);
  out.push([{ __name__: 'sentinel_retired_route_ok', route: '/api/v1/sync/token' }, () => 1]);
  BUCKETS.forEach((le, i) => out.push([{ __name__: 'sentinel_delivery_latency_seconds_bucket', le }, (p) => Math.floor(p * (i + 1) / BUCKETS.length)]));
  return out;
}

const store = new MemoryStore({ retentionMs: (HOURS + 1) * 3600_000, maxSeries: 100_000 });
const all = series();
let t0 = performance.now();
for (let p = 0; p < POINTS; p++) {
  const app = store.appender();
  for (const [labels, f] of all) app.append(labels, START + p * STEP_MS, f(p));
  app.commit();
}
const loadMs = performance.now() - t0;
console.log(`rule eval bench: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`);
console.log(`store: ${all.length} series × ${POINTS} points (${HOURS} h at 15 s) = ${(all.length * POINTS).toLocaleString('en-US')} samples, loaded in ${loadMs.toFixed(0)} ms`);

const engine = createEngine();
const files = await loadRuleFiles([path.join(import.meta.dirname, '..', '..', 'config', 'rules', 'spacetime-sync.rules.yaml')], { checkExpr: checkPromqlExpr });
// Rule output goes to a scratch store so the input history is not changed by repeated runs.
const scratch = new MemoryStore();
for (const def of files[0].groups) {
  const group = RuleGroup.fromDefinition(def, { query: (e, t, s) => engine.instantQuery(store, e, t, s), appendable: scratch, defaultIntervalMs: 60_000 });
  const rounds = 20;
  t0 = performance.now();
  let failures = 0;
  for (let r = 0; r < rounds; r++) failures += group.eval(END + r).failures.length;
  const atEndMs = (performance.now() - t0) / rounds;
  t0 = performance.now();
  let evals = 0;
  for (let t = END - 3600_000 + 60_000; t <= END; t += 60_000, evals++) failures += group.eval(t + rounds).failures.length;
  const sweepMs = (performance.now() - t0) / evals;
  console.log(`${def.name.padEnd(28)} ${String(def.rules.length).padStart(2)} rules  one evaluation: ${atEndMs.toFixed(2)} ms  (last hour at 1 m: ${sweepMs.toFixed(2)} ms/eval)${failures ? `  FAILURES: ${failures}` : ''}`);
}
