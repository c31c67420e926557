/**
 * Stage execution: one stage of a drill, from adding its faults to judging what it claims.
 *
 * 1. Journal and add the faults (each a traced, journaled action).
 * 2. While they are in effect, probe rounds start every `probe_interval` (a probe still stuck in
 *    the fault is skipped, never run twice); `verify_fault` and `abort_when` are checked whenever
 *    a run finishes; the expectations are measured `count` times, spread evenly over the stage.
 *    At the stage's end, runs still in flight are cut off (recorded as such, not measured).
 *    Before removal, the fault proxy must still show every fault of the stage (else inconclusive).
 * 3. Remove the faults (always, whatever happened), then the recovery window (`recovery.ts`),
 *    where the expectations and the abort conditions are measured on every round.
 * 4. One more measurement of each expectation over the whole span since the drill's baseline,
 *    then each is judged over all its measurements and the probe runs it stands on (`judging.ts`).
 */
import type { Span } from '@opentelemetry/api';
import { FaultProxyError } from '../errors.js';
import { withSpan } from '../telemetry/index.js';
import { formatDurationMs } from '../time/index.js';
import type { Measurement } from './conditions.js';
import type { ExpectSpec, StageSpec } from './drill-file.js';
import { answeredRuns } from './exercise.js';
import type { FaultActions } from './fault-actions.js';
import { toFaultRecord } from './fault-actions.js';
import { expectationResult, judgeExpectation } from './judging.js';
import type { TimedMeasurement } from './judging.js';
import type { ConditionResult, ScenarioStatus } from './outcomes.js';
import { ProbeRounds } from './probe-rounds.js';
import { recoveryPhase, runRecovery } from './recovery.js';
import type { RunContext, StageWindow } from './run-context.js';
import { toConditionResult, windowText } from './run-context.js';
import { ownedToxicName } from './toxic-names.js';

/** StageOutcome is a finished stage. */
export interface StageOutcome {
  readonly status: ScenarioStatus;
  readonly reason?: string;
  readonly durationMs: number;
  readonly window: StageWindow;
  /** recovered is false when the steady state did not come back (later stages are not run). */
  readonly recovered: boolean;
}

/** AbortDrill ends a drill because an abort condition held. */
export class AbortDrill extends Error {}

const STATUS_RANK: Readonly<Record<ScenarioStatus, number>> = { passed: 0, inconclusive: 1, failed: 2, error: 3, aborted: 4 };

/** worseStatus returns the worse of two scenario statuses. */
export function worseStatus(a: ScenarioStatus, b: ScenarioStatus): ScenarioStatus {
  return STATUS_RANK[b] > STATUS_RANK[a] ? b : a;
}

function asScenario(status: ConditionResult['status']): ScenarioStatus {
  return status === 'passed' ? 'passed' : status === 'failed' ? 'failed' : status === 'error' ? 'error' : 'inconclusive';
}

/** usesStage tells whether a query reads one phase's labelled samples (`stage="$stage"`). */
function usesStage(query: string): boolean {
  return /\$stage\b/.test(query);
}

/** StageJudge collects a stage's measurements and judges them. */
class StageJudge {
  readonly expectations: TimedMeasurement[][];
  verified: boolean;
  verifyLast: Measurement | undefined;
  readonly abortLast: Array<Measurement | undefined>;

  constructor(
    private readonly ctx: RunContext,
    private readonly stage: StageSpec,
    private readonly stageStartMs: number,
  ) {
    this.expectations = stage.expect.map(() => []);
    this.verified = stage.verifyFault === undefined;
    this.abortLast = stage.abortWhen.map(() => undefined);
  }

  /** checkFault measures verify_fault (until it held) and abort_when at `t`; throws AbortDrill. */
  async checkFault(t: number, phase: string): Promise<void> {
    const v = this.ctx.vars(phase, t - this.stageStartMs);
    const verify = this.stage.verifyFault;
    if (!this.verified && verify && phase === this.stage.name) {
      this.verifyLast = await this.ctx.measureAt(verify, v, t);
      if (this.verifyLast.status === 'passed') this.verified = true;
    }
    await this.checkAbort(t, phase);
  }

  async checkAbort(t: number, phase: string): Promise<void> {
    const v = this.ctx.vars(phase, t - this.stageStartMs);
    for (const [k, cond] of this.stage.abortWhen.entries()) {
      const m = await this.ctx.measureAt(cond, v, t);
      this.abortLast[k] = m;
      if (m.status === 'passed') {
        this.ctx.record(toConditionResult(cond, 'abort_when', this.stage.name, m, v.window, 'failed'), this.stage);
        throw new AbortDrill(`abort condition '${cond.name}' held (observed ${m.observed})`);
      }
    }
  }

  /** measureExpectation takes one measurement of expectation `k` at `t`, looking back to the baseline. */
  async measureExpectation(k: number, t: number, phase: string, kind: TimedMeasurement['phase']): Promise<void> {
    const e = this.stage.expect[k];
    const m = await this.ctx.measureAt(e, this.ctx.vars(phase, t - this.ctx.baselineMs), t);
    this.expectations[k].push({ ...m, atMs: t, phase: kind });
  }

  /** recordFaultConditions writes the abort_when and verify_fault lines after the fault phase. */
  recordFaultConditions(): void {
    const stage = this.stage;
    stage.abortWhen.forEach((cond, k) => {
      const last = this.abortLast[k];
      // Passed means the abort condition never held; a query that never had data says so in detail.
      this.ctx.record(
        { name: cond.name, kind: 'abort_when', stage: stage.name, query: cond.query, op: cond.op, threshold: cond.threshold, observed: last?.observed ?? null, window: formatDurationMs(stage.durationMs), sampleCount: last?.sampleCount ?? 0, status: 'passed', detail: last?.status === 'failed' ? 'never held' : `never held (last check ${last?.status ?? 'not run'})` },
        stage,
      );
    });
    if (stage.verifyFault) {
      const last = this.verifyLast ?? { status: 'inconclusive' as const, observed: null, sampleCount: 0, detail: 'no probe run completed while the faults were in effect' };
      this.ctx.record(toConditionResult(stage.verifyFault, 'fault_in_effect', stage.name, last, formatDurationMs(stage.durationMs), this.verified ? 'passed' : last.status === 'error' ? 'error' : 'inconclusive'), stage);
    }
  }

  /** isExercised tells whether every expectation has the probe runs it stands on. */
  isExercised(removedAtMs: number, tMs: number): boolean {
    const w = { stageStartMs: this.stageStartMs, removedAtMs, endMs: tMs };
    return this.stage.expect.every((e) => e.exercised.every((req) => answeredRuns(req, this.ctx.probeRuns, w) >= req.runs));
  }

  /** judge records every expectation's result and returns the worst status with its reason. */
  judge(removedAtMs: number, endMs: number): { status: ScenarioStatus; reason?: string } {
    let status: ScenarioStatus = 'passed';
    let reason: string | undefined;
    this.stage.expect.forEach((e: ExpectSpec, k) => {
      const judgement = judgeExpectation(e, this.expectations[k], this.ctx.probeRuns, { stageStartMs: this.stageStartMs, removedAtMs, endMs });
      const result = expectationResult(e, this.stage.name, this.expectations[k], judgement, windowText(endMs - this.ctx.baselineMs));
      this.ctx.record(result, this.stage);
      if (judgement.status !== 'passed') {
        status = worseStatus(status, asScenario(judgement.status));
        reason ??= `expectation '${e.name}' ${judgement.status}${result.observed === null ? '' : ` (observed ${result.observed}, threshold ${e.op} ${e.threshold})`}: ${judgement.detail}`;
      }
    });
    return { status, reason };
  }
}

/** executeStage runs `stage` (the `index`-th) of the context's drill. */
export async function executeStage(ctx: RunContext, faults: FaultActions, stage: StageSpec, index: number): Promise<StageOutcome> {
  const attributes = { 'sentinel.drill': ctx.drill.name, 'sentinel.drill.run_id': ctx.runId, 'sentinel.drill.stage': stage.name, 'sentinel.drill.stage_index': index, 'sentinel.drill.faults': stage.faults.length, 'sentinel.drill.duration_ms': stage.durationMs };
  return withSpan(ctx.deps.tracer, 'drill.stage', attributes, async (span) => {
    const outcome = await runStage(ctx, faults, stage, index, span);
    span.setAttribute('sentinel.drill.stage_status', outcome.status);
    span.setAttribute('sentinel.drill.recovered', outcome.recovered);
    if (outcome.reason) span.setAttribute('sentinel.drill.reason', outcome.reason);
    return outcome;
  }, ctx.runSpan);
}

async function runStage(ctx: RunContext, faults: FaultActions, stage: StageSpec, index: number, span: Span): Promise<StageOutcome> {
  const { clock, probes } = ctx.deps;
  const labels = { drill: ctx.drill.name, stage: stage.name };
  const stageStart = clock.nowMs();
  ctx.emit((h) => h.stageStarted?.(stage, index));
  probes.setDrillLabels(labels);
  ctx.journal.append({ type: 'event', atMs: stageStart, event: 'stage_start', detail: { stage: stage.name } });

  const judge = new StageJudge(ctx, stage, stageStart);
  const expiresAtMs = stageStart + stage.durationMs + stage.recoveryMs + stage.recoveryHoldMs + 5 * 60_000;
  let status: ScenarioStatus = 'passed';
  let reason: string | undefined;
  let removedAtMs = stageStart;
  let recoveredAtMs: number | undefined;
  let recovered = true;
  const stageFaults = (): ReturnType<typeof toFaultRecord>[] => faults.all.filter((f) => f.stage === stage.name).map(toFaultRecord);
  try {
    try {
      for (let f = 0; f < stage.faults.length; f++) {
        const spec = stage.faults[f];
        await faults.add(spec, stage.name, spec.kind === 'toxic' ? ownedToxicName(ctx.runId, index, f, expiresAtMs) : undefined, span);
      }
      ctx.emit((h) => h.faultsAdded?.(stage, stageFaults()));
      await faultPhase(ctx, stage, judge, stageStart);
      judge.recordFaultConditions();
      if (!judge.verified) {
        status = 'inconclusive';
        reason = `the fault was never shown to be in effect ('${stage.verifyFault?.name ?? '?'}')`;
      }
      // The faults must still be in place at the stage's end: a toxic that vanished early held
      // for part of the stage only, however the first measurements looked.
      const missing = await faults.missingOnProxy(stage.name);
      if (missing.length > 0) {
        ctx.journal.append({ type: 'event', atMs: clock.nowMs(), event: 'faults_missing_before_removal', detail: { stage: stage.name, missing } });
        status = worseStatus(status, 'inconclusive');
        reason ??= `the fault proxy no longer showed ${missing.join(', ')} at the end of the stage: the fault was not in effect for the whole stage`;
      }
    } finally {
      await faults.removeAll(stage.name, span);
      removedAtMs = clock.nowMs();
      const at = removedAtMs;
      ctx.emit((h) => h.faultsRemoved?.(stage, stageFaults(), at));
    }
    if (!ctx.signal.aborted) {
      const recoveryAttributes = { 'sentinel.drill': ctx.drill.name, 'sentinel.drill.stage': stage.name, 'sentinel.drill.recovery_ms': stage.recoveryMs, 'sentinel.drill.recovery_hold_ms': stage.recoveryHoldMs };
      const recovery = await withSpan(ctx.deps.tracer, 'drill.recovery', recoveryAttributes, async (rs) => {
        const r = await runRecovery(ctx, stage, removedAtMs, {
          onData: async (t, phase) => {
            await judge.checkAbort(t, phase);
            for (const k of stage.expect.keys()) await judge.measureExpectation(k, t, phase, 'recovery');
          },
          isExercised: (t) => judge.isExercised(removedAtMs, t),
        });
        rs.setAttribute('sentinel.drill.recovery_status', r.result.status);
        if (r.recoveredAtMs !== undefined) rs.setAttribute('sentinel.drill.recovered_after_ms', r.recoveredAtMs - removedAtMs);
        return r;
      }, span);
      ctx.record(recovery.result, stage);
      recoveredAtMs = recovery.recoveredAtMs;
      if (recovery.result.status !== 'passed') {
        recovered = false;
        status = worseStatus(status, asScenario(recovery.result.status));
        reason ??= `recovery: ${recovery.result.detail ?? recovery.result.status}`;
      }
      const t = clock.nowMs();
      for (const [k, e] of stage.expect.entries()) {
        if (!usesStage(e.query)) await judge.measureExpectation(k, t, recoveryPhase(stage), 'final');
      }
      const judged = judge.judge(removedAtMs, t);
      status = worseStatus(status, judged.status);
      if (judged.reason) reason = status === judged.status || reason === undefined ? judged.reason : reason;
    }
  } catch (err) {
    if (err instanceof AbortDrill) {
      status = 'aborted';
      reason = err.message;
    } else if (err instanceof FaultProxyError) {
      status = 'error';
      reason = err.message;
    } else {
      throw err;
    }
  }
  if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(String(ctx.signal.reason));
  const endMs = clock.nowMs();
  ctx.journal.append({ type: 'event', atMs: endMs, event: 'stage_end', detail: { stage: stage.name, status } });
  const window: StageWindow = { name: stage.name, startMs: stageStart, faultsRemovedAtMs: removedAtMs, ...(recoveredAtMs === undefined ? {} : { recoveredAtMs }), endMs };
  return { status, ...(reason === undefined ? {} : { reason }), durationMs: endMs - stageStart, window, recovered: recovered && status !== 'aborted' && status !== 'error' };
}

/** faultPhase paces the probe rounds and measurements while the faults are in effect. */
async function faultPhase(ctx: RunContext, stage: StageSpec, judge: StageJudge, stageStart: number): Promise<void> {
  const { clock, probes } = ctx.deps;
  const labels = { drill: ctx.drill.name, stage: stage.name };
  const stageEnd = stageStart + stage.durationMs;
  const due = stage.expect.map((e) => Array.from({ length: e.count }, (_, k) => stageStart + Math.round(((k + 1) * stage.durationMs) / e.count)));
  const rounds = new ProbeRounds(probes, clock, (run) => ctx.recordRun(run, stage));
  let nextRound = stageStart;
  const measureDue = async (t: number, upTo: number): Promise<void> => {
    for (const [k, times] of due.entries()) {
      while (times.length > 0 && times[0] <= upTo) {
        times.shift();
        await judge.measureExpectation(k, t, stage.name, 'stage');
      }
    }
  };
  try {
    for (;;) {
      ctx.signal.throwIfAborted();
      const now = clock.nowMs();
      if (now >= stageEnd) break;
      if (now >= nextRound) {
        const { busy } = rounds.start(stage.probes, labels);
        if (busy.length > 0) ctx.journal.append({ type: 'event', atMs: now, event: 'probe_round_skipped', detail: { stage: stage.name, busy } });
        nextRound = stageStart + (Math.floor((now - stageStart) / stage.probeIntervalMs) + 1) * stage.probeIntervalMs;
      }
      if (rounds.takeFinished() > 0) await judge.checkFault(now, stage.name);
      await measureDue(now, Math.min(now, stageEnd - 1));
      const nextDue = Math.min(...due.map((d) => d[0] ?? Infinity));
      await rounds.wait(Math.min(nextRound, nextDue, stageEnd) - now, ctx.signal);
    }
  } finally {
    // Runs still stuck in the fault are cut off: they measured nothing, and the faults go next.
    await rounds.cutOff();
  }
  const t = clock.nowMs();
  if (rounds.takeFinished() > 0) await judge.checkFault(t, stage.name);
  await measureDue(t, Infinity);
}

/**
 * recheckAtEnd measures, at the end of the drill, every expectation that looks back over the
 * whole run (no `$stage`), so a bad outcome counted after its stage (in a later stage, or in the
 * steady state after) still fails it. It records a failed line for each that fails.
 */
export async function recheckAtEnd(ctx: RunContext, tMs: number): Promise<{ status: ScenarioStatus; reason?: string }> {
  let status: ScenarioStatus = 'passed';
  let reason: string | undefined;
  for (const stage of ctx.drill.stages) {
    for (const e of stage.expect) {
      if (usesStage(e.query)) continue;
      const vars = ctx.vars('after', tMs - ctx.baselineMs);
      const m = await ctx.measureAt(e, vars, tMs);
      if (m.status !== 'failed') continue;
      ctx.record({ ...toConditionResult(e, 'expect', stage.name, m, vars.window), detail: 'measured again at the end of the drill, over everything since its baseline: a bad outcome was counted after the stage' });
      status = 'failed';
      reason ??= `expectation '${e.name}' of stage ${stage.name} failed at the end of the drill (observed ${m.observed}, threshold ${e.op} ${e.threshold})`;
    }
  }
  return { status, ...(reason === undefined ? {} : { reason }) };
}
