/**
 * Recovery: after a stage's faults are removed, probe rounds run every `probe_interval` (all the
 * drill's probes, labelled `<stage>-recovery`) until the system came back AND kept holding:
 *
 * - the steady state is measured only once every probe feeding it completed a run after the
 *   removal (a sample from before the fault, or from a run cut off in it, proves nothing);
 * - it "came back" at the first such measurement where every condition passed, within `recovery`;
 * - it must then keep passing on every measurement for `recovery_hold` (one lucky round is not a
 *   recovery); any later failure (or error) is a relapse and fails the recovery. A measurement
 *   without data proves neither (e.g. `increase()` over the time since the removal before a
 *   second run of its probe): the hold ends only on a measurement where every condition passed,
 *   and one that never comes within the window leaves the recovery inconclusive;
 * - the rounds go on (within the window) until the stage's expectations have the probe runs they
 *   stand on; the caller measures them and the abort conditions on every round (`onData`).
 */
import { formatDurationMs } from '../time/index.js';
import type { StageSpec } from './drill-file.js';
import type { ConditionResult } from './outcomes.js';
import { feedingRunsSince } from './preflight.js';
import { ProbeRounds } from './probe-rounds.js';
import type { RunContext } from './run-context.js';
import { toConditionResult } from './run-context.js';

/** RecoveryHooks let the stage judge its own conditions on the way back. */
export interface RecoveryHooks {
  /** onData runs after new probe results arrived; it may throw to abort the drill. */
  onData(tMs: number, phase: string): Promise<void>;
  /** isExercised tells whether every expectation has the runs it stands on, as of `tMs`. */
  isExercised(tMs: number): boolean;
}

/** RecoveryOutcome is the recovery's result line and when the steady state returned. */
export interface RecoveryOutcome {
  readonly result: ConditionResult;
  readonly recoveredAtMs?: number;
}

/** recoveryPhase is the `stage` label of a stage's recovery window. */
export function recoveryPhase(stage: StageSpec): string {
  return `${stage.name}-recovery`;
}

/** runRecovery runs the recovery window of `stage`, whose faults were removed at `removedAtMs`. */
export async function runRecovery(ctx: RunContext, stage: StageSpec, removedAtMs: number, hooks: RecoveryHooks): Promise<RecoveryOutcome> {
  const { clock, probes } = ctx.deps;
  const phase = recoveryPhase(stage);
  const labels = { drill: ctx.drill.name, stage: phase };
  probes.setDrillLabels(labels);
  ctx.emit((h) => h.recoveryStarted?.(stage, removedAtMs));
  const rounds = new ProbeRounds(probes, clock, (run) => ctx.recordRun(run, stage));
  const deadline = removedAtMs + stage.recoveryMs;
  let cameBackAt: number | undefined;
  let relapse: ConditionResult | undefined;
  /** lastPassed: the newest steady-state measurement had every condition passed. */
  let lastPassed = false;
  let last: ConditionResult[] = [];
  let measurements = 0;
  let nextRound = removedAtMs;

  const onData = async (t: number): Promise<void> => {
    await hooks.onData(t, phase);
    const vars = ctx.vars(phase, t - removedAtMs);
    if (!ctx.drill.steadyState.every((c) => feedingRunsSince(ctx, c.query, vars, removedAtMs))) return;
    const measured: ConditionResult[] = [];
    for (const c of ctx.drill.steadyState) measured.push(toConditionResult(c, 'recovery', stage.name, await ctx.measureAt(c, vars, t), vars.window));
    last = measured;
    measurements += 1;
    const bad = last.find((c) => c.status !== 'passed');
    const broken = last.find((c) => c.status === 'failed' || c.status === 'error');
    lastPassed = bad === undefined;
    if (!bad && cameBackAt === undefined && t <= deadline) {
      cameBackAt = t;
      const at = t;
      ctx.emit((h) => h.recovered?.(stage, at));
    } else if (broken && cameBackAt !== undefined) {
      relapse = broken;
    }
  };

  try {
    for (;;) {
      ctx.signal.throwIfAborted();
      const now = clock.nowMs();
      // New results, or a round's tick (a drill whose steady state needs no probe has only ticks).
      if (rounds.takeFinished() > 0 || now >= nextRound) await onData(now);
      if (relapse) break;
      const end = cameBackAt === undefined ? deadline : Math.max(deadline, cameBackAt + stage.recoveryHoldMs);
      const settled = cameBackAt !== undefined && now >= cameBackAt + stage.recoveryHoldMs && lastPassed && hooks.isExercised(now);
      if (settled && rounds.running === 0) break;
      if (now >= end) break;
      if (!settled && now >= nextRound) {
        rounds.start(ctx.drill.probes, labels);
        nextRound = removedAtMs + (Math.floor((now - removedAtMs) / stage.probeIntervalMs) + 1) * stage.probeIntervalMs;
      }
      await rounds.wait((settled ? end : Math.min(nextRound, end)) - now, ctx.signal);
    }
  } finally {
    await rounds.cutOff();
  }
  if (!relapse && rounds.takeFinished() > 0) await onData(clock.nowMs());

  const base = {
    name: `steady state within ${formatDurationMs(stage.recoveryMs)}`,
    kind: 'recovery' as const,
    stage: stage.name,
    query: ctx.drill.steadyState.map((c) => c.query).join(' ; '),
    threshold: stage.recoveryMs / 1000,
    op: '<=',
    window: formatDurationMs(stage.recoveryMs),
    sampleCount: last.reduce((n, c) => n + c.sampleCount, 0),
  };
  if (relapse !== undefined && cameBackAt !== undefined) {
    const r: ConditionResult = relapse;
    return {
      recoveredAtMs: cameBackAt,
      result: { ...base, observed: r.observed, status: 'failed', detail: `the steady state returned ${seconds(cameBackAt - removedAtMs)} after the faults were removed, then '${r.name}' was ${r.status} again${r.observed === null ? '' : ` (observed ${r.observed})`}: it did not hold` },
    };
  }
  if (cameBackAt !== undefined && !lastPassed) {
    const open = last.find((c) => c.status !== 'passed');
    return {
      recoveredAtMs: cameBackAt,
      result: { ...base, observed: null, status: 'inconclusive', detail: `the steady state returned ${seconds(cameBackAt - removedAtMs)} after the faults were removed, but its last measurement had no answer for '${open?.name ?? '?'}' (${open?.detail ?? 'no data'}): holding was not shown` },
    };
  }
  if (cameBackAt !== undefined) {
    return {
      recoveredAtMs: cameBackAt,
      result: { ...base, observed: (cameBackAt - removedAtMs) / 1000, status: 'passed', detail: `returned after ${seconds(cameBackAt - removedAtMs)} and held for ${seconds(clock.nowMs() - cameBackAt)} (${measurements} steady-state measurements after the removal)` },
    };
  }
  const bad = last.find((c) => c.status === 'failed') ?? last.find((c) => c.status !== 'passed');
  if (measurements === 0) {
    return { result: { ...base, observed: null, status: 'inconclusive', detail: `the steady state's probes completed no run that measured anything within ${formatDurationMs(stage.recoveryMs)} of removing the faults` } };
  }
  return {
    result: { ...base, observed: bad?.observed ?? null, status: bad?.status === 'failed' ? 'failed' : 'inconclusive', detail: `'${bad?.name ?? '?'}' still ${bad?.status ?? '?'} ${formatDurationMs(stage.recoveryMs)} after removing the faults` },
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * runSteadyStateAfter: after the last stage, one more round of every drill probe (labelled
 * `after`, bounded by `maxWaitMs`, stragglers cut off), then the steady state measured on it,
 * looking back to `sinceMs` (the last removal of faults).
 */
export async function runSteadyStateAfter(ctx: RunContext, sinceMs: number, maxWaitMs: number): Promise<ConditionResult[]> {
  const { clock, probes } = ctx.deps;
  const labels = { drill: ctx.drill.name, stage: 'after' };
  probes.setDrillLabels(labels);
  const startMs = clock.nowMs();
  const rounds = new ProbeRounds(probes, clock, (run) => ctx.recordRun(run));
  rounds.start(ctx.drill.probes, labels);
  try {
    while (rounds.running > 0 && clock.nowMs() < startMs + maxWaitMs) {
      rounds.takeFinished();
      await rounds.wait(startMs + maxWaitMs - clock.nowMs(), ctx.signal);
    }
  } finally {
    await rounds.cutOff();
  }
  const t = clock.nowMs();
  const vars = ctx.vars('after', t - sinceMs);
  const results: ConditionResult[] = [];
  for (const c of ctx.drill.steadyState) {
    results.push(
      feedingRunsSince(ctx, c.query, vars, startMs)
        ? toConditionResult(c, 'steady_state_after', undefined, await ctx.measureAt(c, vars, t), vars.window)
        : toConditionResult(c, 'steady_state_after', undefined, { status: 'inconclusive', observed: null, sampleCount: 0, detail: 'its probes completed no run that measured anything after the last stage' }, vars.window),
    );
  }
  return results;
}
