/**
 * Preflight: what must hold before the first fault, checked in this order, each failing closed
 * (an error in a check refuses the drill with status `error`, never lets it pass):
 *
 * 1. the fault proxy answers (its version is recorded), the allowlisted proxies exist (or are
 *    created), faults left behind by a crashed run are removed and none of ours remain, no
 *    allowlisted proxy is disabled;
 * 2. the target's identity and the "before" snapshots (best effort: a failure is journaled);
 * 3. the runtime and the control service are healthy and ready: one run of the `health` probe,
 *    answered, every service in it ready (`service-readiness.ts`); no answer refuses the drill;
 * 4. no critical alert is firing (unless the operator explicitly skipped the check, which the
 *    evidence then says);
 * 5. the steady state holds: at least two probe rounds (every counter then has the two samples
 *    `increase()` and `rate()` need, the baseline the stages' expectations look back to), more
 *    until every steady-state condition has an answer, at most PREFLIGHT_ROUNDS; the first round
 *    in which any condition fails decides `failed`; no answer at all is `inconclusive`.
 */
import { withSpan } from '../telemetry/index.js';
import { checkCriticalAlerts, CRITICAL_ALERTS_QUERY } from './critical-alerts.js';
import { writeJsonFile } from './evidence.js';
import type { EvidenceSources } from './run-evidence.js';
import { feedingProbes, isMeasured } from './exercise.js';
import { ProbeRounds } from './probe-rounds.js';
import { reconcileFaults } from './reconcile.js';
import { checkServiceReadiness } from './service-readiness.js';
import type { QueryVars, RunContext } from './run-context.js';
import { toConditionResult } from './run-context.js';
import type { ConditionResult, ScenarioStatus } from './outcomes.js';
import { parseOwnedToxicName } from './toxic-names.js';
import type { ProxyState } from './fault-driver.js';
import { substituteQueryVariables } from './drill-file.js';

/** PREFLIGHT_ROUNDS bounds the probe rounds spent waiting for the steady state to have data. */
export const PREFLIGHT_ROUNDS = 5;
/** IDLE_WAIT_MS bounds the wait for scheduled runs of the drill's probes to end before the preflight rounds. */
const IDLE_WAIT_MS = 120_000;
/** MIN_PREFLIGHT_ROUNDS: two samples of every counter before the first fault. */
const MIN_PREFLIGHT_ROUNDS = 2;
/** LEFTOVER_PASSES bounds the remove-and-re-list passes over leftover sentinel toxics. */
const LEFTOVER_PASSES = 3;

/** PreflightRefusal says why the drill must not start. */
export interface PreflightRefusal {
  readonly status: ScenarioStatus;
  readonly reason: string;
}

/** runPreflight returns undefined when the first stage may start, else why not. */
export async function runPreflight(ctx: RunContext, sources: EvidenceSources | undefined): Promise<PreflightRefusal | undefined> {
  return withSpan(ctx.deps.tracer, 'drill.preflight', { 'sentinel.drill': ctx.drill.name, 'sentinel.drill.run_id': ctx.runId }, async (span) => {
    const refusal = (await checkFaultProxy(ctx, sources)) ?? (await checkServiceReadiness(ctx, 'preflight', span)) ?? (await checkAlerts(ctx)) ?? (await checkSteadyState(ctx));
    span.setAttribute('sentinel.drill.preflight', refusal ? refusal.status : 'passed');
    if (refusal) span.setAttribute('sentinel.drill.reason', refusal.reason);
    return refusal;
  }, ctx.runSpan);
}

async function checkFaultProxy(ctx: RunContext, sources: EvidenceSources | undefined): Promise<PreflightRefusal | undefined> {
  const { driver, clock, evidenceRoot } = ctx.deps;
  let version: string;
  try {
    version = await driver.version();
  } catch (err) {
    return { status: 'error', reason: `preflight: fault proxy unreachable: ${(err as Error).message}` };
  }
  ctx.journal.append({ type: 'event', atMs: clock.nowMs(), event: 'fault_proxy_version', detail: { version } });
  try {
    await driver.ensureProxies(ctx.drill.proxies);
    const allow = new Set(ctx.drill.proxies.map((p) => p.name));
    // Remove, then re-list: a toxic that lands after the listing (a dead or frozen holder's
    // request still in flight) is caught by the next pass; none may remain before a fault is added.
    const removed: string[] = [];
    let proxies: ProxyState[] = [];
    let leftovers: string[] = [];
    for (let pass = 1; pass <= LEFTOVER_PASSES; pass++) {
      const cleaned = await reconcileFaults({ driver, evidenceRoot, nowMs: clock.nowMs(), mode: 'startup', ownRunId: ctx.runId });
      removed.push(...cleaned.removed);
      if (cleaned.failed.length > 0) {
        journalRemoved(ctx, removed);
        return { status: 'error', reason: `preflight: leftover faults could not be removed: ${cleaned.failed.join('; ')}` };
      }
      proxies = (await driver.listProxies()).filter((p) => allow.has(p.name));
      leftovers = proxies.flatMap((p) => p.toxics.filter((t) => parseOwnedToxicName(t.name) !== undefined).map((t) => `${p.name}/${t.name}`));
      if (leftovers.length === 0) break;
    }
    journalRemoved(ctx, removed);
    const missing = [...allow].filter((name) => !proxies.some((p) => p.name === name));
    if (missing.length > 0) return { status: 'error', reason: `preflight: allowlisted proxies missing on ${driver.endpoint}: ${missing.join(', ')}` };
    if (leftovers.length > 0) return { status: 'error', reason: `preflight: leftover sentinel toxics could not be removed: ${leftovers.join(', ')}` };
    const disabled = proxies.filter((p) => !p.enabled).map((p) => p.name);
    if (disabled.length > 0) return { status: 'error', reason: `preflight: proxies disabled before the drill: ${disabled.join(', ')}` };
  } catch (err) {
    return { status: 'error', reason: `preflight: ${(err as Error).message}` };
  }
  if (sources) {
    try {
      const identity = await sources.targetIdentity(ctx.signal);
      await writeJsonFile(ctx.dir, 'target.json', { ...identity, fault_proxy: { endpoint: driver.endpoint, version } });
      const before = await sources.snapshot(ctx.signal);
      for (const [name, doc] of Object.entries(before)) await writeJsonFile(ctx.dir, `${name}-before.json`, doc);
    } catch (err) {
      ctx.journal.append({ type: 'event', atMs: clock.nowMs(), event: 'snapshot_before_failed', detail: { error: (err as Error).message } });
    }
  }
  return undefined;
}

function journalRemoved(ctx: RunContext, removed: readonly string[]): void {
  if (removed.length > 0) ctx.journal.append({ type: 'event', atMs: ctx.deps.clock.nowMs(), event: 'leftover_faults_removed', detail: { removed: [...removed] } });
}

async function checkAlerts(ctx: RunContext): Promise<PreflightRefusal | undefined> {
  const alerts = ctx.deps.alerts;
  const name = 'no firing critical alert';
  if ('skipped' in alerts) {
    ctx.skippedChecks.push(`firing critical alerts (${alerts.skipped})`);
    ctx.journal.append({ type: 'event', atMs: ctx.deps.clock.nowMs(), event: 'alert_check_skipped', detail: { why: alerts.skipped } });
    return undefined;
  }
  const check = await checkCriticalAlerts(alerts.source, ctx.deps.clock.nowMs(), ctx.signal);
  const base = { name, kind: 'alerts' as const, query: `${CRITICAL_ALERTS_QUERY} (${check.source})` };
  if (check.status === 'error') {
    ctx.record({ ...base, observed: null, sampleCount: 0, status: 'error', detail: check.reason });
    return { status: 'error', reason: `preflight: ${check.reason}` };
  }
  if (check.status === 'firing') {
    ctx.record({ ...base, observed: check.alerts.length, sampleCount: check.alerts.length, status: 'failed', detail: check.alerts.join(', ') });
    return { status: 'aborted', reason: `preflight: critical alerts firing: ${check.alerts.join(', ')}` };
  }
  ctx.record({ ...base, observed: 0, sampleCount: 0, status: 'passed' });
  return undefined;
}

async function checkSteadyState(ctx: RunContext): Promise<PreflightRefusal | undefined> {
  const { clock } = ctx.deps;
  const labels = { drill: ctx.drill.name, stage: 'preflight' };
  const startMs = clock.nowMs();
  ctx.baselineMs = startMs;
  const rounds = new ProbeRounds(ctx.deps.probes, clock, (run) => ctx.recordRun(run));
  const pauseMs = Math.min(1000, ...ctx.drill.stages.map((s) => s.probeIntervalMs));
  // A scheduled run that started before the drill reserved its probes finishes first (bounded).
  await ctx.deps.probes.whenIdle?.(ctx.drill.probes, AbortSignal.any([ctx.signal, AbortSignal.timeout(IDLE_WAIT_MS)]));
  ctx.signal.throwIfAborted();
  let last: ConditionResult[] = [];
  for (let round = 1; round <= PREFLIGHT_ROUNDS; round++) {
    ctx.signal.throwIfAborted();
    rounds.start(ctx.drill.probes, labels);
    await rounds.settle();
    const t = clock.nowMs();
    const vars = ctx.vars('preflight', t - startMs);
    last = [];
    for (const c of ctx.drill.steadyState) {
      const fed = feedingRunsSince(ctx, c.query, vars, startMs);
      const m = fed ? await ctx.measureAt(c, vars, t) : { status: 'inconclusive' as const, observed: null, sampleCount: 0, detail: 'its probes have not completed a run that measured anything yet (cut off, or disabled)' };
      last.push({ ...toConditionResult(c, 'steady_state_before', undefined, m, vars.window), detail: `${m.detail ? `${m.detail}; ` : ''}after ${round} probe round${round === 1 ? '' : 's'}` });
    }
    if (last.some((c) => c.status === 'failed' || c.status === 'error')) break;
    if (round >= MIN_PREFLIGHT_ROUNDS && last.every((c) => c.status === 'passed')) break;
    await clock.sleep(pauseMs, ctx.signal);
  }
  for (const c of last) ctx.record(c);
  const bad = last.find((c) => c.status === 'failed') ?? last.find((c) => c.status === 'error') ?? last.find((c) => c.status !== 'passed');
  if (!bad) return undefined;
  const status: ScenarioStatus = bad.status === 'failed' ? 'failed' : bad.status === 'error' ? 'error' : 'inconclusive';
  return { status, reason: `preflight: steady state '${bad.name}' ${bad.status}${bad.observed === null ? ` (${bad.detail ?? 'no data'})` : ` (observed ${bad.observed})`}` };
}

/**
 * feedingRunsSince tells whether every probe feeding `query` completed a run since `sinceMs` that
 * measured something (cut-off runs and runs of a disabled probe do not count), so a measurement
 * reads this phase's data, not an older sample or a success that checked nothing.
 */
export function feedingRunsSince(ctx: RunContext, query: string, vars: QueryVars, sinceMs: number): boolean {
  let probes: readonly string[];
  try {
    const fed = feedingProbes(substituteQueryVariables(query, vars));
    probes = fed.probes.length > 0 ? fed.probes.filter((p) => ctx.drill.probes.includes(p)) : ctx.drill.probes;
  } catch {
    probes = ctx.drill.probes;
  }
  return probes.every((p) => ctx.probeRuns.some((r) => r.probe === p && isMeasured(r) && r.startedAtMs >= sinceMs));
}
