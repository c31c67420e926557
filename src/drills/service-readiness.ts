/**
 * Service readiness before the first fault: the `health` probe (`src/probes/probes/health.ts`:
 * `GET /healthz` and `GET /readyz` of the runtime and the control service, and SpacetimeDB's
 * health path when configured) runs once in the drill's preflight, labelled with the drill and
 * `stage="preflight"`, and the drill starts only when that very run answered and its samples say
 * every service it checked is healthy and ready. A service's `/readyz` answers 503 `not_ready`
 * when its own dependencies are unavailable (OpenAgents `apps/runtime/src/server.rs:1348-1366`,
 * `apps/openagents.com/service/src/lib.rs:1667-1687` at 9b2b978949): injecting faults into such a
 * system would measure the outage, not the fault.
 *
 * After the last stage the same check runs again (`stage="after"`): a service that is not ready
 * once the faults are gone did not recover, and the drill fails.
 *
 * Fail closed: a health probe that is not configured, that did not complete (timeout, cut off,
 * error) or whose run left no readiness sample for the runtime and the control service refuses
 * the drill; only an answered run in which every service was healthy and ready lets it start.
 */
import type { Span } from '@opentelemetry/api';
import type { LabelMatcher } from '../store/index.js';
import { withSpan } from '../telemetry/index.js';
import type { ConditionResult, ScenarioStatus } from './outcomes.js';
import { ProbeRounds } from './probe-rounds.js';
import type { RunContext } from './run-context.js';

/** HEALTH_PROBE is the probe whose run decides readiness. */
export const HEALTH_PROBE = 'health';
/** REQUIRED_SERVICES must each report healthy and ready in the run (SpacetimeDB, when checked, healthy). */
export const REQUIRED_SERVICES = ['runtime', 'control'] as const;
/** HEALTH_WAIT_MS bounds the wait for the health run (and for a scheduled one in flight before it). */
const HEALTH_WAIT_MS = 60_000;
/** START_ATTEMPTS bounds how often a scheduled run may slip in before ours starts. */
const START_ATTEMPTS = 3;

/** ReadinessRefusal says why the services are not known to be ready. */
export interface ReadinessRefusal {
  readonly status: ScenarioStatus;
  readonly reason: string;
}

/** ReadinessPhase is when the check runs: before the first fault, or after the last stage. */
export type ReadinessPhase = 'preflight' | 'after';

/**
 * checkServiceReadiness runs the health probe once (labelled `stage="<phase>"`) and returns why
 * the drill must not pass unless every service answered healthy and ready in that run: a service
 * not ready is `aborted` before the drill (nothing was injected) and `failed` after it.
 */
export async function checkServiceReadiness(ctx: RunContext, phase: ReadinessPhase = 'preflight', parent?: Span): Promise<ReadinessRefusal | undefined> {
  return withSpan(ctx.deps.tracer, 'drill.health_check', { 'sentinel.drill': ctx.drill.name, 'sentinel.drill.run_id': ctx.runId, 'sentinel.drill.phase': phase }, async (span) => {
    const refusal = await checkReadiness(ctx, phase);
    span.setAttribute('sentinel.drill.health', refusal ? refusal.status : 'passed');
    if (refusal) span.setAttribute('sentinel.drill.reason', refusal.reason);
    return refusal;
  }, parent ?? ctx.runSpan);
}

async function checkReadiness(ctx: RunContext, phase: ReadinessPhase): Promise<ReadinessRefusal | undefined> {
  const { clock, probes } = ctx.deps;
  const labels = { drill: ctx.drill.name, stage: phase };
  const prefix = phase === 'preflight' ? 'preflight' : 'after the drill';
  const base = {
    name: phase === 'preflight' ? 'runtime and control healthy and ready' : 'runtime and control healthy and ready after the drill',
    kind: 'health' as const,
    query: `sentinel_service_healthy, sentinel_service_ready (health probe, stage="${phase}")`,
  };
  const rounds = new ProbeRounds(probes, clock, (r) => ctx.recordRun(r));
  const startedAtMs = clock.nowMs();
  const deadline = startedAtMs + HEALTH_WAIT_MS;
  const refuse = (status: 'error' | 'inconclusive', detail: string): ReadinessRefusal => {
    ctx.record({ ...base, observed: null, sampleCount: 0, status: status === 'error' ? 'error' : 'inconclusive', detail });
    return { status, reason: `${prefix}: ${detail}` };
  };
  try {
    let started = false;
    for (let attempt = 0; attempt < START_ATTEMPTS && !started; attempt++) {
      await probes.whenIdle?.([HEALTH_PROBE], AbortSignal.any([ctx.signal, AbortSignal.timeout(HEALTH_WAIT_MS)]));
      ctx.signal.throwIfAborted();
      started = rounds.start([HEALTH_PROBE], labels).started.length > 0;
    }
    if (!started) return refuse('inconclusive', `service readiness unknown: the ${HEALTH_PROBE} probe stayed busy with scheduled runs`);
    while (rounds.running > 0 && clock.nowMs() < deadline) {
      rounds.takeFinished();
      await rounds.wait(deadline - clock.nowMs(), ctx.signal);
    }
  } finally {
    await rounds.cutOff();
  }
  const run = [...ctx.probeRuns].reverse().find((r) => r.probe === HEALTH_PROBE && r.phase === phase && r.startedAtMs >= startedAtMs);
  if (!run) return refuse('inconclusive', `service readiness unknown: the ${HEALTH_PROBE} probe did not report a run`);
  if (run.cutOff) return refuse('inconclusive', `service readiness unknown: the ${HEALTH_PROBE} probe did not complete within ${HEALTH_WAIT_MS / 1000}s`);
  if (run.reason.startsWith('error: ')) return refuse('error', `service readiness unknown: the ${HEALTH_PROBE} probe could not run (${run.reason.slice('error: '.length)}); configure probes.${HEALTH_PROBE}`);
  if (run.reason === 'timeout' || run.reason === 'error') return refuse('inconclusive', `service readiness unknown: the ${HEALTH_PROBE} probe did not complete (${run.reason})`);

  const read = (metric: string): Map<string, number> => {
    const matchers: LabelMatcher[] = [
      { name: '__name__', type: '=', value: metric },
      { name: 'drill', type: '=', value: labels.drill },
      { name: 'stage', type: '=', value: labels.stage },
    ];
    const out = new Map<string, number>();
    for (const s of ctx.deps.store.select(matchers, run.startedAtMs, run.endedAtMs)) {
      const last = s.samples.filter((x) => !x.stale).at(-1);
      if (last && s.labels.service) out.set(s.labels.service, last.v);
    }
    return out;
  };
  let healthy: Map<string, number>;
  let ready: Map<string, number>;
  try {
    healthy = read('sentinel_service_healthy');
    ready = read('sentinel_service_ready');
  } catch (err) {
    return refuse('error', `service readiness unknown: reading the ${HEALTH_PROBE} probe's samples failed: ${(err as Error).message}`);
  }
  const missing = REQUIRED_SERVICES.filter((s) => !healthy.has(s) || !ready.has(s));
  if (missing.length > 0) {
    return refuse('inconclusive', `service readiness unknown: the ${HEALTH_PROBE} probe's run (${run.reason}) reported no health or readiness for ${missing.join(' and ')} (probes.${HEALTH_PROBE}.params.services must include runtime and control)`);
  }
  const problems = [...healthy].filter(([, v]) => v !== 1).map(([s]) => `${s} not healthy (/healthz)`);
  problems.push(...[...ready].filter(([, v]) => v !== 1).map(([s]) => `${s} not ready (/readyz)`));
  const sampleCount = healthy.size + ready.size;
  if (problems.length > 0) {
    ctx.record({ ...base, observed: 0, sampleCount, status: 'failed', detail: `${problems.join(', ')} (health probe: ${run.reason})` });
    return { status: phase === 'preflight' ? 'aborted' : 'failed', reason: `${prefix}: services not ready: ${problems.join(', ')}` };
  }
  if (!run.ok) {
    // Every service said ready, yet the run failed: something the samples do not show; not a pass.
    return refuse('inconclusive', `service readiness unknown: the ${HEALTH_PROBE} probe's run failed (${run.reason}) although every service reported ready`);
  }
  const passed: ConditionResult = { ...base, observed: 1, sampleCount, status: 'passed', detail: `${[...healthy.keys()].sort().join(', ')} healthy; ${[...ready.keys()].sort().join(', ')} ready` };
  ctx.record(passed);
  return undefined;
}
