/**
 * DrillRunner: runs one staged drill against the watched system and writes its evidence.
 *
 * Order of a run (Chaos Toolkit's experiment, made crash-safe):
 *   preflight: environment allowed, lock, fault proxy reachable (version recorded), allowlisted
 *   proxies exist, no leftover owned toxics, no firing critical alert, steady state holds;
 *   each stage: journal intent → add faults → prove the fault is in effect → observe with probes
 *   at the stage's cadence (abort_when checked every round, expectations measured `count` times)
 *   → remove faults and verify they are gone → wait for the steady state within `recovery`;
 *   then the steady state again, evidence, manifest.
 * Faults are removed in `finally` whatever happens (abort, SIGINT/SIGTERM through `signal`, a
 * failed call); a crash is covered by the journal and `reconcileFaults` at the next start.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import type { SampleStore } from '../store/index.js';
import type { Clock } from '../time/index.js';
import { formatDurationMs } from '../time/index.js';
import { DrillValidationError, FaultProxyError } from '../errors.js';
import { judgeExpect, measure } from './conditions.js';
import type { Measurement, QueryFn } from './conditions.js';
import type { ConditionSpec, DrillSpec, Environment, FaultSpec, StageSpec } from './drill-file.js';
import { substituteQueryVariables } from './drill-file.js';
import { acquireDrillLock } from './drill-lock.js';
import { createEvidenceDir, evidenceDirName, finishEvidence, writeJsonFile } from './evidence.js';
import type { FaultDriver } from './fault-driver.js';
import { Journal } from './journal.js';
import type { ConditionResult, DecisionReport, FaultRecord, RunStatus, ScenarioResult, ScenarioStatus } from './outcomes.js';
import { reconcileFaults } from './reconcile.js';
import { ownedToxicName, parseOwnedToxicName } from './toxic-names.js';

/** DrillLabels mark samples and alerts taken while a drill stage runs. */
export interface DrillLabels {
  readonly drill: string;
  readonly stage: string;
}

/** DrillProbes is what the runner needs of the probe framework. */
export interface DrillProbes {
  /** runProbes runs the named probes once now and stores their samples (labelled with `labels`). */
  runProbes(names: readonly string[], labels: DrillLabels, signal: AbortSignal): Promise<void>;
  /** setDrillLabels labels every scheduled probe run (and alerts) until cleared with undefined. */
  setDrillLabels(labels: DrillLabels | undefined): void;
}

/** EvidenceSources capture what the evidence shows besides results (secrets removed by the source). */
export interface EvidenceSources {
  /** snapshot returns named JSON documents, e.g. `{ 'runtime-metrics': {...}, 'control-status': {...} }`. */
  snapshot(signal: AbortSignal): Promise<Record<string, unknown>>;
  /** targetIdentity returns the target's identity (database identity, versions reported). */
  targetIdentity(signal: AbortSignal): Promise<Record<string, unknown>>;
}

/** DrillEventHandler observes a run (progress view, metrics); every callback is optional. */
export interface DrillEventHandler {
  runStarted?(drill: DrillSpec, runId: string, dir: string): void;
  stageStarted?(stage: StageSpec, index: number): void;
  faultsAdded?(stage: StageSpec, faults: readonly FaultRecord[]): void;
  measured?(stage: StageSpec, condition: ConditionResult): void;
  stageFinished?(stage: StageSpec, status: ScenarioStatus, reason?: string): void;
  runFinished?(result: DrillRunResult): void;
}

/** StageWindow is when a stage ran, for the report's shading. */
export interface StageWindow {
  readonly name: string;
  readonly startMs: number;
  readonly faultsRemovedAtMs: number;
  readonly endMs: number;
}

/** ReportInput is everything report.html shows. */
export interface ReportInput {
  readonly drill: DrillSpec;
  readonly runId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly stages: readonly StageWindow[];
  readonly scenario: ScenarioResult;
  readonly decision: DecisionReport;
  readonly query: QueryFn;
}

/** DrillRunnerOptions wire the runner. */
export interface DrillRunnerOptions {
  readonly driver: FaultDriver;
  readonly store: Pick<SampleStore, 'select'>;
  readonly query: QueryFn;
  /** alertsQuery reads firing alerts (the rule manager's ALERTS series); defaults to `query`. */
  readonly alertsQuery?: QueryFn;
  readonly probes: DrillProbes;
  readonly clock: Clock;
  readonly environment: Environment;
  readonly allowProd: boolean;
  readonly evidenceRoot: string;
  readonly version: string;
  readonly hmacKey?: string;
  readonly logger?: Logger;
  readonly sources?: EvidenceSources;
  readonly events?: readonly DrillEventHandler[];
  readonly renderReport?: (input: ReportInput) => string;
  /** removalAttempts bounds retries of a failed fault removal (default 3). */
  readonly removalAttempts?: number;
}

/** DrillRunResult is a finished run. */
export interface DrillRunResult {
  readonly runId: string;
  readonly dir: string;
  readonly scenario: ScenarioResult;
  readonly decision: DecisionReport;
  readonly runStatus: RunStatus;
}

interface ActiveFault {
  readonly spec: FaultSpec;
  readonly stage: string;
  readonly toxicName?: string;
  readonly addedAtMs: number;
  removedAtMs?: number;
  removed: boolean;
}

const STATUS_RANK: Readonly<Record<ScenarioStatus, number>> = { passed: 0, inconclusive: 1, failed: 2, error: 3, aborted: 4 };
function worse(a: ScenarioStatus, b: ScenarioStatus): ScenarioStatus {
  return STATUS_RANK[b] > STATUS_RANK[a] ? b : a;
}

class AbortDrill extends Error {}

/** DrillRunner runs drills one at a time. */
export class DrillRunner {
  private readonly logger: Logger;

  constructor(private readonly options: DrillRunnerOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  /** run executes `drill`; `signal` (SIGINT/SIGTERM) interrupts it, faults still removed. */
  async run(drill: DrillSpec, signal: AbortSignal): Promise<DrillRunResult> {
    const { clock, environment } = this.options;
    if (!drill.environments.includes(environment)) {
      throw new DrillValidationError(`drill '${drill.name}' is not allowed in environment '${environment}' (it allows ${drill.environments.join(', ')})`);
    }
    if (environment === 'prod' && !this.options.allowProd) {
      throw new DrillValidationError(`drill '${drill.name}' refuses to run in prod: set drills.allow_prod: true in the configuration to allow it`);
    }
    const startMs = clock.nowMs();
    const runId = `${evidenceDirName(startMs).toLowerCase()}-${randomBytes(2).toString('hex')}`;
    const release = acquireDrillLock(this.options.evidenceRoot, { pid: process.pid, runId, drill: drill.name, startedAtMs: startMs });
    try {
      return await this.runLocked(drill, runId, startMs, signal);
    } finally {
      release();
    }
  }

  private async runLocked(drill: DrillSpec, runId: string, startMs: number, signal: AbortSignal): Promise<DrillRunResult> {
    const { clock, driver } = this.options;
    const dir = createEvidenceDir(this.options.evidenceRoot, startMs);
    const journal = new Journal(join(dir, 'journal.jsonl'));
    journal.append({ type: 'run_start', atMs: startMs, runId, drills: [drill.name], faultProxy: driver.endpoint });
    for (const h of this.options.events ?? []) h.runStarted?.(drill, runId, dir);

    const conditions: ConditionResult[] = [];
    const reasons: string[] = [];
    const stageResults: Array<{ name: string; status: ScenarioStatus; duration_seconds: number; reason?: string }> = [];
    const windows: StageWindow[] = [];
    const allFaults: ActiveFault[] = [];
    let status: ScenarioStatus = 'passed';
    let runStatus: RunStatus = 'completed';
    const vars = (stage: string, windowMs: number): { window: string; drill: string; stage: string; run: string } => ({
      window: formatDurationMs(Math.max(1000, Math.ceil(windowMs / 1000) * 1000)),
      drill: drill.name,
      stage,
      run: runId,
    });

    try {
      // --- preflight -------------------------------------------------------------------------
      const pre = await this.preflight(drill, runId, dir, journal, signal, conditions);
      if (pre) {
        status = pre.status;
        reasons.push(pre.reason);
        if (pre.status === 'error') runStatus = 'failed';
      } else {
        // --- stages ------------------------------------------------------------------------
        for (let i = 0; i < drill.stages.length; i++) {
          const stage = drill.stages[i];
          const outcome = await this.runStage(drill, stage, i, runId, journal, signal, conditions, allFaults, vars);
          stageResults.push({ name: stage.name, status: outcome.status, duration_seconds: outcome.durationMs / 1000, ...(outcome.reason ? { reason: outcome.reason } : {}) });
          windows.push(outcome.window);
          status = worse(status, outcome.status);
          if (outcome.reason) reasons.push(`${stage.name}: ${outcome.reason}`);
          for (const h of this.options.events ?? []) h.stageFinished?.(stage, outcome.status, outcome.reason);
          if (outcome.status === 'aborted') {
            runStatus = 'aborted';
            break;
          }
          if (outcome.status === 'error') {
            runStatus = 'failed';
            break;
          }
        }
        if (runStatus === 'completed') {
          const after = this.checkAll(drill.steadyState, 'steady_state_after', undefined, clock.nowMs(), vars('after', 60_000));
          conditions.push(...after);
          const bad = after.find((c) => c.status !== 'passed');
          if (bad) {
            status = worse(status, bad.status === 'failed' ? 'failed' : 'inconclusive');
            reasons.push(`steady state after the drill: '${bad.name}' ${bad.status}${bad.observed === null ? '' : ` (observed ${bad.observed})`}`);
          }
        }
      }
    } catch (err) {
      if (signal.aborted) {
        runStatus = 'interrupted';
        status = worse(status, 'aborted');
        reasons.push(`interrupted: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}`);
      } else {
        runStatus = 'failed';
        status = worse(status, 'error');
        reasons.push(`error: ${(err as Error).message}`);
        this.logger.error({ err, drill: drill.name }, 'drill failed with an error');
      }
    } finally {
      // Faults are always removed, whatever ended the run.
      await this.removeFaults(allFaults.filter((f) => !f.removed), journal, 'cleanup');
      this.options.probes.setDrillLabels(undefined);
    }

    const unremoved = allFaults.filter((f) => !f.removed);
    const removalProven = unremoved.length === 0 && (await this.verifyRemoved(allFaults));
    if (unremoved.length > 0) reasons.push(`faults not removed: ${unremoved.map((f) => describeFault(f)).join(', ')}`);
    else if (!removalProven) reasons.push('fault removal could not be verified on the fault proxy');

    const endMs = clock.nowMs();
    const faults: FaultRecord[] = allFaults.map((f) => toRecord(f));
    const scenario: ScenarioResult = {
      scenario: drill.name,
      status,
      duration_seconds: (endMs - startMs) / 1000,
      started_at: new Date(startMs).toISOString(),
      faults,
      faults_removed: removalProven,
      conditions,
      stages: stageResults,
      reasons,
    };

    const finishSignal = AbortSignal.timeout(15_000);
    if (this.options.sources) {
      try {
        const after = await this.options.sources.snapshot(finishSignal);
        for (const [name, doc] of Object.entries(after)) await writeJsonFile(dir, `${name}-after.json`, doc);
      } catch (err) {
        journal.append({ type: 'event', atMs: clock.nowMs(), event: 'snapshot_after_failed', detail: { error: (err as Error).message } });
      }
    }
    await this.writeSamples(dir, drill, startMs, endMs);
    journal.append({ type: 'run_end', atMs: endMs, status: runStatus });
    journal.close();

    const decision = await finishEvidence({
      dir,
      run: { run_id: runId, drills: [drill.name], environment: this.options.environment, started_at: new Date(startMs).toISOString(), finished_at: new Date(endMs).toISOString(), status: runStatus, deviated: status !== 'passed', sentinel_version: this.options.version },
      scenarios: [scenario],
      facts: [
        ['Environment', this.options.environment],
        ['Fault proxy', this.options.driver.endpoint],
        ['Drill file', drill.file],
      ],
      hmacKey: this.options.hmacKey,
      beforeManifest: async (report) => {
        if (this.options.renderReport) {
          const html = this.options.renderReport({ drill, runId, startMs, endMs, stages: windows, scenario, decision: report, query: this.options.query });
          await writeFile(join(dir, 'report.html'), html);
        }
      },
    });
    const result: DrillRunResult = { runId, dir, scenario, decision, runStatus };
    for (const h of this.options.events ?? []) h.runFinished?.(result);
    return result;
  }

  /** preflight returns undefined when the drill may start, else why not. */
  private async preflight(
    drill: DrillSpec,
    runId: string,
    dir: string,
    journal: Journal,
    signal: AbortSignal,
    conditions: ConditionResult[],
  ): Promise<{ status: ScenarioStatus; reason: string } | undefined> {
    const { driver, clock } = this.options;
    let version: string;
    try {
      version = await driver.version();
    } catch (err) {
      return { status: 'error', reason: `preflight: fault proxy unreachable: ${(err as Error).message}` };
    }
    journal.append({ type: 'event', atMs: clock.nowMs(), event: 'fault_proxy_version', detail: { version } });
    try {
      await driver.ensureProxies(drill.proxies);
      const cleaned = await reconcileFaults({ driver, evidenceRoot: this.options.evidenceRoot, nowMs: clock.nowMs(), mode: 'startup' });
      if (cleaned.removed.length > 0) journal.append({ type: 'event', atMs: clock.nowMs(), event: 'leftover_faults_removed', detail: { removed: cleaned.removed } });
      const allow = new Set(drill.proxies.map((p) => p.name));
      const leftovers = (await driver.listProxies())
        .filter((p) => allow.has(p.name))
        .flatMap((p) => p.toxics.filter((t) => parseOwnedToxicName(t.name) !== undefined).map((t) => `${p.name}/${t.name}`));
      if (leftovers.length > 0) return { status: 'error', reason: `preflight: leftover sentinel toxics could not be removed: ${leftovers.join(', ')}` };
      const disabled = (await driver.listProxies()).filter((p) => allow.has(p.name) && !p.enabled).map((p) => p.name);
      if (disabled.length > 0) return { status: 'error', reason: `preflight: proxies disabled before the drill: ${disabled.join(', ')}` };
    } catch (err) {
      return { status: 'error', reason: `preflight: ${(err as Error).message}` };
    }
    if (this.options.sources) {
      try {
        const identity = await this.options.sources.targetIdentity(signal);
        await writeJsonFile(dir, 'target.json', { ...identity, fault_proxy: { endpoint: driver.endpoint, version } });
        const before = await this.options.sources.snapshot(signal);
        for (const [name, doc] of Object.entries(before)) await writeJsonFile(dir, `${name}-before.json`, doc);
      } catch (err) {
        journal.append({ type: 'event', atMs: clock.nowMs(), event: 'snapshot_before_failed', detail: { error: (err as Error).message } });
      }
    }
    const firing = this.criticalAlerts(clock.nowMs());
    conditions.push({ name: 'no firing critical alert', kind: 'alerts', query: CRITICAL_ALERTS, observed: firing.length, sampleCount: firing.length, status: firing.length === 0 ? 'passed' : 'failed', ...(firing.length ? { detail: firing.join(', ') } : {}) });
    if (firing.length > 0) return { status: 'aborted', reason: `preflight: critical alerts firing: ${firing.join(', ')}` };

    const probes = [...new Set(drill.stages.flatMap((s) => s.probes))];
    await this.options.probes.runProbes(probes, { drill: drill.name, stage: 'preflight' }, signal);
    const steady = this.checkAll(drill.steadyState, 'steady_state_before', undefined, clock.nowMs(), { window: '1m', drill: drill.name, stage: 'preflight', run: runId });
    conditions.push(...steady);
    const bad = steady.find((c) => c.status !== 'passed');
    if (bad) {
      return { status: bad.status === 'failed' ? 'failed' : 'inconclusive', reason: `preflight: steady state '${bad.name}' ${bad.status}${bad.observed === null ? ' (no data)' : ` (observed ${bad.observed})`}` };
    }
    return undefined;
  }

  private async runStage(
    drill: DrillSpec,
    stage: StageSpec,
    index: number,
    runId: string,
    journal: Journal,
    signal: AbortSignal,
    conditions: ConditionResult[],
    allFaults: ActiveFault[],
    vars: (stage: string, windowMs: number) => { window: string; drill: string; stage: string; run: string },
  ): Promise<{ status: ScenarioStatus; reason?: string; durationMs: number; window: StageWindow }> {
    const { clock } = this.options;
    const labels: DrillLabels = { drill: drill.name, stage: stage.name };
    const stageStart = clock.nowMs();
    for (const h of this.options.events ?? []) h.stageStarted?.(stage, index);
    this.options.probes.setDrillLabels(labels);
    journal.append({ type: 'event', atMs: stageStart, event: 'stage_start', detail: { stage: stage.name } });

    const expiresAtMs = stageStart + stage.durationMs + stage.recoveryMs + 5 * 60_000;
    const stageFaults: ActiveFault[] = [];
    let status: ScenarioStatus = 'passed';
    let reason: string | undefined;
    let faultsRemovedAtMs = stageStart;
    try {
      for (let f = 0; f < stage.faults.length; f++) {
        const spec = stage.faults[f];
        const toxicName = spec.kind === 'toxic' ? ownedToxicName(runId, index, f, expiresAtMs) : undefined;
        const fault: ActiveFault = { spec, stage: stage.name, toxicName, addedAtMs: clock.nowMs(), removed: false };
        // Recorded before the call: if the call's effect lands but its answer is lost, cleanup still tries.
        allFaults.push(fault);
        stageFaults.push(fault);
        await this.applyFault(fault, journal);
      }
      for (const h of this.options.events ?? []) h.faultsAdded?.(stage, stageFaults.map(toRecord));

      const expectMeasurements = stage.expect.map(() => [] as Measurement[]);
      const dueAt = stage.expect.map((e) => Array.from({ length: e.count }, (_, k) => stageStart + Math.round(((k + 1) * stage.durationMs) / e.count)));
      const abortLast: Array<Measurement | undefined> = stage.abortWhen.map(() => undefined);
      let faultVerified = stage.verifyFault === undefined;
      let verifyLast: Measurement | undefined;
      const stageEnd = stageStart + stage.durationMs;
      for (;;) {
        // A slow probe round leaves no time to sleep, so the signal is checked here, not only in sleep.
        signal.throwIfAborted();
        const roundStart = clock.nowMs();
        await this.options.probes.runProbes(stage.probes, labels, signal);
        const t = clock.nowMs();
        const v = vars(stage.name, t - stageStart);
        if (!faultVerified && stage.verifyFault) {
          verifyLast = measure(this.options.query, stage.verifyFault, substituteQueryVariables(stage.verifyFault.query, v), t);
          if (verifyLast.status === 'passed') faultVerified = true;
        }
        for (const [k, cond] of stage.abortWhen.entries()) {
          const m = measure(this.options.query, cond, substituteQueryVariables(cond.query, v), t);
          abortLast[k] = m;
          if (m.status === 'passed') {
            const result = toResult(cond, 'abort_when', stage.name, m, v.window, 'failed');
            conditions.push(result);
            this.emitMeasured(stage, result);
            throw new AbortDrill(`abort condition '${cond.name}' held (observed ${m.observed})`);
          }
        }
        stage.expect.forEach((e, k) => {
          while (dueAt[k].length > 0 && dueAt[k][0] <= t) {
            dueAt[k].shift();
            expectMeasurements[k].push(measure(this.options.query, e, substituteQueryVariables(e.query, v), t));
          }
        });
        if (t >= stageEnd) break;
        const wait = Math.min(stageEnd, roundStart + stage.probeIntervalMs) - clock.nowMs();
        if (wait > 0) await clock.sleep(wait, signal);
      }
      stage.abortWhen.forEach((cond, k) => {
        const last = abortLast[k];
        // Passed means the abort condition never held; a query that never had data says so in detail.
        conditions.push({ name: cond.name, kind: 'abort_when', stage: stage.name, query: cond.query, op: cond.op, threshold: cond.threshold, observed: last?.observed ?? null, window: formatDurationMs(stage.durationMs), sampleCount: last?.sampleCount ?? 0, status: 'passed', detail: last?.status === 'failed' ? 'never held' : `never held (last check ${last?.status ?? 'not run'})` });
      });
      if (stage.verifyFault) {
        const result = toResult(stage.verifyFault, 'fault_in_effect', stage.name, verifyLast ?? { status: 'inconclusive', observed: null, sampleCount: 0 }, formatDurationMs(stage.durationMs), faultVerified ? 'passed' : verifyLast?.status === 'error' ? 'error' : 'inconclusive');
        conditions.push(result);
        this.emitMeasured(stage, result);
        if (!faultVerified) {
          status = worse(status, 'inconclusive');
          reason = `the fault was never shown to be in effect ('${stage.verifyFault.name}')`;
        }
      }
      stage.expect.forEach((e, k) => {
        const ms = expectMeasurements[k];
        const judged = judgeExpect(e, ms);
        const last = [...ms].reverse().find((m) => m.status === 'failed') ?? ms[ms.length - 1];
        const result: ConditionResult = {
          name: e.name,
          kind: 'expect',
          stage: stage.name,
          query: e.query,
          op: e.op,
          threshold: e.threshold,
          observed: last?.observed ?? null,
          window: formatDurationMs(stage.durationMs),
          sampleCount: ms.reduce((n, m) => n + m.sampleCount, 0),
          status: judged,
          detail: `${ms.filter((m) => m.status === 'passed').length}/${ms.length} measurements passed (failure_limit ${e.failureLimit}, consecutive_error_limit ${e.consecutiveErrorLimit})`,
        };
        conditions.push(result);
        this.emitMeasured(stage, result);
        // Expectations judged while the fault was not shown to be in effect prove nothing either way.
        if (judged !== 'passed' && faultVerified) {
          status = worse(status, judged === 'failed' ? 'failed' : judged === 'error' ? 'error' : 'inconclusive');
          reason ??= `expectation '${e.name}' ${judged}${result.observed === null ? '' : ` (observed ${result.observed}, threshold ${e.op} ${e.threshold})`}`;
        }
      });
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
    } finally {
      await this.removeFaults(stageFaults.filter((f) => !f.removed), journal, stage.name);
      faultsRemovedAtMs = clock.nowMs();
    }

    // Recovery: the steady state must return within `recovery` once the faults are gone.
    if (status !== 'aborted' && status !== 'error' && !signal.aborted) {
      const recovery = await this.awaitRecovery(drill, stage, labels, runId, signal, faultsRemovedAtMs);
      conditions.push(recovery.result);
      this.emitMeasured(stage, recovery.result);
      if (recovery.result.status !== 'passed') {
        status = worse(status, recovery.result.status === 'failed' ? 'failed' : 'inconclusive');
        reason ??= `steady state did not return within ${formatDurationMs(stage.recoveryMs)} of removing the faults`;
      }
    }
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    const endMs = clock.nowMs();
    journal.append({ type: 'event', atMs: endMs, event: 'stage_end', detail: { stage: stage.name, status } });
    return { status, reason, durationMs: endMs - stageStart, window: { name: stage.name, startMs: stageStart, faultsRemovedAtMs, endMs } };
  }

  private async awaitRecovery(drill: DrillSpec, stage: StageSpec, labels: DrillLabels, runId: string, signal: AbortSignal, removedAtMs: number): Promise<{ result: ConditionResult }> {
    const { clock } = this.options;
    const deadline = removedAtMs + stage.recoveryMs;
    const recoveryLabels: DrillLabels = { drill: labels.drill, stage: `${labels.stage}-recovery` };
    this.options.probes.setDrillLabels(recoveryLabels);
    const probes = [...new Set(drill.stages.flatMap((s) => s.probes))];
    let last: ConditionResult[] = [];
    for (;;) {
      signal.throwIfAborted();
      const roundStart = clock.nowMs();
      await this.options.probes.runProbes(probes, recoveryLabels, signal);
      const t = clock.nowMs();
      last = this.checkAll(drill.steadyState, 'recovery', stage.name, t, { window: formatDurationMs(Math.max(1000, Math.ceil((t - removedAtMs) / 1000) * 1000)), drill: drill.name, stage: stage.name, run: runId });
      if (last.every((c) => c.status === 'passed')) {
        return { result: { name: `steady state within ${formatDurationMs(stage.recoveryMs)}`, kind: 'recovery', stage: stage.name, query: drill.steadyState.map((c) => c.query).join(' ; '), observed: (t - removedAtMs) / 1000, threshold: stage.recoveryMs / 1000, op: '<=', window: formatDurationMs(stage.recoveryMs), sampleCount: last.reduce((n, c) => n + c.sampleCount, 0), status: 'passed', detail: `recovered after ${((t - removedAtMs) / 1000).toFixed(1)}s` } };
      }
      if (t >= deadline) break;
      const wait = Math.min(deadline, roundStart + stage.probeIntervalMs) - clock.nowMs();
      if (wait > 0) await clock.sleep(wait, signal);
    }
    const bad = last.find((c) => c.status !== 'passed');
    return {
      result: {
        name: `steady state within ${formatDurationMs(stage.recoveryMs)}`,
        kind: 'recovery',
        stage: stage.name,
        query: drill.steadyState.map((c) => c.query).join(' ; '),
        observed: bad?.observed ?? null,
        threshold: stage.recoveryMs / 1000,
        op: '<=',
        window: formatDurationMs(stage.recoveryMs),
        sampleCount: last.reduce((n, c) => n + c.sampleCount, 0),
        status: bad?.status === 'inconclusive' || bad?.status === 'error' ? 'inconclusive' : 'failed',
        detail: bad ? `'${bad.name}' still ${bad.status}` : undefined,
      },
    };
  }

  private checkAll(specs: readonly ConditionSpec[], kind: ConditionResult['kind'], stage: string | undefined, tMs: number, vars: { window: string; drill: string; stage: string; run: string }): ConditionResult[] {
    return specs.map((c) => toResult(c, kind, stage, measure(this.options.query, c, substituteQueryVariables(c.query, vars), tMs), vars.window));
  }

  private criticalAlerts(tMs: number): string[] {
    try {
      const value = (this.options.alertsQuery ?? this.options.query)(CRITICAL_ALERTS, tMs).value;
      if (value.type !== 'vector') return [];
      return value.samples.map((s) => s.labels.alertname ?? '?');
    } catch (err) {
      this.logger.warn({ err }, 'could not check firing critical alerts');
      return [];
    }
  }

  private async applyFault(fault: ActiveFault, journal: Journal): Promise<void> {
    const { driver, clock } = this.options;
    const spec = fault.spec;
    const toxic = spec.kind === 'toxic' ? { name: fault.toxicName ?? '', type: spec.type, stream: spec.stream, toxicity: spec.toxicity, attributes: spec.attributes } : undefined;
    const seq = toxic ? journal.intent(clock.nowMs(), 'add_toxic', spec.proxy, fault.stage, fault.toxicName, toxic) : journal.intent(clock.nowMs(), 'disable_proxy', spec.proxy, fault.stage);
    try {
      if (toxic) await driver.addToxic(spec.proxy, toxic);
      else await driver.setProxyEnabled(spec.proxy, false);
      journal.outcome(clock.nowMs(), seq, true);
    } catch (err) {
      journal.outcome(clock.nowMs(), seq, false, (err as Error).message);
      throw err;
    }
  }


  /** removeFaults removes each fault with bounded retries; a fault that stays is left `removed: false`. */
  private async removeFaults(faults: readonly ActiveFault[], journal: Journal, stage: string): Promise<void> {
    const { driver, clock } = this.options;
    const attempts = this.options.removalAttempts ?? 3;
    // In reverse order of addition, as rollbacks are played.
    for (const fault of [...faults].reverse()) {
      const spec = fault.spec;
      for (let attempt = 1; attempt <= attempts && !fault.removed; attempt++) {
        const seq = journal.intent(clock.nowMs(), spec.kind === 'toxic' ? 'remove_toxic' : 'enable_proxy', spec.proxy, stage, fault.toxicName);
        try {
          if (spec.kind === 'toxic') await driver.removeToxic(spec.proxy, fault.toxicName ?? '');
          else await driver.setProxyEnabled(spec.proxy, true);
          journal.outcome(clock.nowMs(), seq, true);
          fault.removed = true;
          fault.removedAtMs = clock.nowMs();
        } catch (err) {
          journal.outcome(clock.nowMs(), seq, false, (err as Error).message);
          this.logger.error({ err, proxy: spec.proxy, toxic: fault.toxicName, attempt }, 'fault removal failed');
          // Real timers on purpose: a retry must not wait on a test's manual clock.
          if (attempt < attempts) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        }
      }
    }
  }

  /** verifyRemoved asks the fault proxy whether any of the run's faults is still in effect. */
  private async verifyRemoved(faults: readonly ActiveFault[]): Promise<boolean> {
    if (faults.length === 0) return true;
    try {
      const proxies = new Map((await this.options.driver.listProxies()).map((p) => [p.name, p]));
      return faults.every((f) => {
        const p = proxies.get(f.spec.proxy);
        // A proxy that vanished proves nothing about its toxics.
        if (!p) return false;
        if (f.spec.kind === 'down') return p.enabled;
        return !p.toxics.some((t) => t.name === f.toxicName);
      });
    } catch (err) {
      this.logger.error({ err }, 'could not verify fault removal');
      return false;
    }
  }

  private async writeSamples(dir: string, drill: DrillSpec, startMs: number, endMs: number): Promise<void> {
    // Every series of the run's window, not only the drill-labelled ones: counters and histograms
    // are stored without drill labels (splitting them would hide increases from rate()).
    const series = this.options.store.select([{ name: '__name__', type: '=~', value: '.+' }], startMs, endMs);
    const lines: string[] = [];
    for (const s of series) {
      for (const p of s.samples) lines.push(JSON.stringify({ labels: s.labels, t: p.t, v: p.stale ? 'stale' : Number.isFinite(p.v) ? p.v : String(p.v) }));
    }
    await writeFile(join(dir, 'samples.jsonl'), lines.join('\n') + (lines.length ? '\n' : ''));
  }

  private emitMeasured(stage: StageSpec, result: ConditionResult): void {
    for (const h of this.options.events ?? []) h.measured?.(stage, result);
  }
}

/** CRITICAL_ALERTS is the query preflight uses: the rule manager writes ALERTS into the store. */
const CRITICAL_ALERTS = 'ALERTS{alertstate="firing",severity="critical"}';

function toResult(c: ConditionSpec, kind: ConditionResult['kind'], stage: string | undefined, m: Measurement, window: string, statusOverride?: ConditionResult['status']): ConditionResult {
  return {
    name: c.name,
    kind,
    ...(stage === undefined ? {} : { stage }),
    query: c.query,
    op: c.op,
    threshold: c.threshold,
    observed: m.observed,
    window,
    sampleCount: m.sampleCount,
    status: statusOverride ?? m.status,
    ...(m.detail ? { detail: m.detail } : {}),
  };
}

function describeFault(f: ActiveFault): string {
  return f.spec.kind === 'toxic' ? `${f.spec.proxy}/${f.toxicName ?? f.spec.type}` : `${f.spec.proxy} (disabled)`;
}

function toRecord(f: ActiveFault): FaultRecord {
  const spec = f.spec;
  return {
    stage: f.stage,
    proxy: spec.proxy,
    ...(f.toxicName ? { toxic: f.toxicName } : {}),
    type: spec.kind === 'toxic' ? spec.type : 'down',
    ...(spec.kind === 'toxic' ? { stream: spec.stream, toxicity: spec.toxicity, attributes: spec.attributes } : {}),
    addedAtMs: f.addedAtMs,
    ...(f.removedAtMs === undefined ? {} : { removedAtMs: f.removedAtMs }),
    removed: f.removed,
  };
}
