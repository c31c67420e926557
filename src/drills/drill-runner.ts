/**
 * DrillRunner: runs one staged drill against the watched system and writes its evidence.
 *
 * Order of a run (Chaos Toolkit's experiment, made crash-safe and fail-closed):
 *   evidence directory and journal first, so even a refused run leaves a record; the drill lease
 *   (`drill-lease.ts`: the file lock, or a lease shared by an HA pair; a scheduler claims it before
 *   the run so a refusal names the holder at once);
 *   the preflight (`preflight.ts`: fault proxy, leftovers, firing critical alerts, steady state);
 *   each stage (`stage-execution.ts`: faults, paced probe rounds, removal, recovery, judging);
 *   the steady state and service readiness after the last stage and a last look over the whole
 *   run; evidence, manifest.
 * A safety check that errors refuses the drill (status `error`), never lets it pass. Faults are
 * removed in `finally` whatever happens (abort, SIGINT/SIGTERM through `signal`, a lease lost
 * mid-run, a failed call);
 * a crash is covered by the journal and `reconcileFaults` at the next start.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import pino from 'pino';
import type { Logger } from 'pino';
import type { SampleStore } from '../store/index.js';
import { credentialOf } from '../spacetime/index.js';
import type { CredentialInput } from '../spacetime/index.js';
import { withSpan } from '../telemetry/index.js';
import type { Clock } from '../time/index.js';
import { DrillValidationError } from '../errors.js';
import type { ConditionQueryFn, QueryFn } from './conditions.js';
import { queryAlertsSource } from './critical-alerts.js';
import type { DrillSpec, Environment } from './drill-file.js';
import { fileDrillLease } from './drill-lease.js';
import type { DrillLease, HeldLease } from './drill-lease.js';
import type { DrillEventHandler } from './drill-events.js';
import type { DrillProbes } from './drill-probes.js';
import { createEvidenceDir, evidenceDirName, finishEvidence } from './evidence.js';
import { describeFault, FaultActions, toFaultRecord } from './fault-actions.js';
import type { FaultDriver } from './fault-driver.js';
import { Journal } from './journal.js';
import type { DecisionReport, RunStatus, ScenarioResult, ScenarioStatus } from './outcomes.js';
import { runPreflight } from './preflight.js';
import type { PreflightRefusal } from './preflight.js';
import { runSteadyStateAfter } from './recovery.js';
import { checkServiceReadiness } from './service-readiness.js';
import type { ReportInput } from './report.js';
import type { EvidenceSources } from './run-evidence.js';
import { writeProbeRuns, writeSamples, writeSnapshotsAfter } from './run-evidence.js';
import { RunContext } from './run-context.js';
import type { AlertCheck } from './run-context.js';
import { executeStage, recheckAtEnd, worseStatus } from './stage-execution.js';

/** DrillRunnerOptions wire the runner. */
export interface DrillRunnerOptions {
  readonly driver: FaultDriver;
  readonly store: Pick<SampleStore, 'select'>;
  /** query reads the sentinel's own samples (the report's panels, the default alert source). */
  readonly query: QueryFn;
  /**
   * conditionQuery judges the drill's conditions (default: `query`); an external query source
   * goes here, and a query it cannot answer is an `error` measurement, never a pass.
   */
  readonly conditionQuery?: ConditionQueryFn;
  /**
   * alerts is where the preflight reads firing critical alerts (default: the ALERTS series through
   * `query`), or `{ skipped: why }` when the operator explicitly skipped the check; the evidence
   * then says so.
   */
  readonly alerts?: AlertCheck;
  readonly probes: DrillProbes;
  readonly clock: Clock;
  readonly environment: Environment;
  readonly allowProd: boolean;
  readonly evidenceRoot: string;
  readonly version: string;
  /** hmacKey signs the evidence manifest; read when the manifest is written (a rotated key file is in effect). */
  readonly hmacKey?: CredentialInput;
  readonly logger?: Logger;
  /** tracer receives one span per run, stage and fault action (default: the global, usually no-op). */
  readonly tracer?: Tracer;
  readonly sources?: EvidenceSources;
  readonly events?: readonly DrillEventHandler[];
  readonly renderReport?: (input: ReportInput) => string;
  /** removalAttempts bounds retries of a failed fault removal (default 3). */
  readonly removalAttempts?: number;
  /** lease grants one drill at a time (default: the file lock in `evidenceRoot`). */
  readonly lease?: DrillLease;
}

/** DrillClaim is a run that holds the lease and has not started yet (see `DrillRunner.claim`). */
export interface DrillClaim {
  readonly runId: string;
  readonly startMs: number;
  readonly lease: HeldLease;
}

/** DrillRunResult is a finished run. */
export interface DrillRunResult {
  readonly runId: string;
  readonly dir: string;
  readonly scenario: ScenarioResult;
  readonly decision: DecisionReport;
  readonly runStatus: RunStatus;
}

type StageLine = ScenarioResult['stages'][number];

function newRunId(startMs: number): string {
  return `${evidenceDirName(startMs).toLowerCase()}-${randomBytes(2).toString('hex')}`;
}

/** DrillRunner runs drills one at a time. */
export class DrillRunner {
  private readonly logger: Logger;
  private readonly tracer: Tracer;
  /** lease grants one drill at a time (the scheduler also holds it for its start-up cleanup). */
  readonly lease: DrillLease;

  constructor(private readonly options: DrillRunnerOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.tracer = options.tracer ?? trace.getTracer('spacetime-sentinel/drills');
    this.lease = options.lease ?? fileDrillLease(options.evidenceRoot);
  }

  /**
   * claim takes the lease for a run of `drill` that `run` then starts; it rejects with the
   * lease's SentinelError (naming the holder) when another run holds it.
   */
  async claim(drill: DrillSpec): Promise<DrillClaim> {
    const startMs = this.options.clock.nowMs();
    const runId = newRunId(startMs);
    const lease = await this.lease.acquire({ runId, drill: drill.name, startedAtMs: startMs });
    return { runId, startMs, lease };
  }

  /**
   * run executes `drill` under `claim` (or takes the lease itself; a refusal is then the run's
   * evidence); `signal` (SIGINT/SIGTERM) or losing the lease interrupts it, faults still removed.
   */
  async run(drill: DrillSpec, signal: AbortSignal, claim?: DrillClaim): Promise<DrillRunResult> {
    let held = claim?.lease;
    try {
      const { clock, environment } = this.options;
      if (!drill.environments.includes(environment)) {
        throw new DrillValidationError(`drill '${drill.name}' is not allowed in environment '${environment}' (it allows ${drill.environments.join(', ')})`);
      }
      if (environment === 'prod' && !this.options.allowProd) {
        throw new DrillValidationError(`drill '${drill.name}' refuses to run in prod: set drills.allow_prod: true in the configuration to allow it`);
      }
      const startMs = claim?.startMs ?? clock.nowMs();
      const runId = claim?.runId ?? newRunId(startMs);
      const dir = createEvidenceDir(this.options.evidenceRoot, startMs);
      const journal = new Journal(join(dir, 'journal.jsonl'));
      journal.append({ type: 'run_start', atMs: startMs, runId, drills: [drill.name], faultProxy: this.options.driver.endpoint });
      let refusal: PreflightRefusal | undefined;
      if (!held) {
        try {
          held = await this.lease.acquire({ runId, drill: drill.name, startedAtMs: startMs });
        } catch (err) {
          refusal = { status: 'error', reason: `lock: ${(err as Error).message}` };
        }
      }
      return await this.runHolding(drill, signal, held, { startMs, runId, dir, journal }, refusal);
    } finally {
      await held?.release();
    }
  }

  private async runHolding(drill: DrillSpec, signal: AbortSignal, held: HeldLease | undefined, run: { startMs: number; runId: string; dir: string; journal: Journal }, refusal: PreflightRefusal | undefined): Promise<DrillRunResult> {
    const { clock, environment } = this.options;
    const { startMs, runId, dir, journal } = run;
    // A lease lost mid-run aborts the run like a signal; the journal says why.
    const runSignal = held ? AbortSignal.any([signal, held.lost]) : signal;
    const onLost = (): void => {
      try {
        const reason = held?.lost.reason instanceof Error ? held.lost.reason.message : String(held?.lost.reason);
        journal.append({ type: 'event', atMs: clock.nowMs(), event: 'drill_lease_lost', detail: { reason } });
      } catch (err) {
        this.logger.warn({ err }, 'could not journal the lost drill lease');
      }
    };
    held?.lost.addEventListener('abort', onLost, { once: true });
    const ctx = new RunContext(
      {
        driver: this.options.driver,
        store: this.options.store,
        query: this.options.conditionQuery ?? this.options.query,
        alerts: this.options.alerts ?? { source: queryAlertsSource(this.options.query) },
        probes: this.options.probes,
        clock,
        logger: this.logger,
        tracer: this.tracer,
        events: this.options.events ?? [],
        evidenceRoot: this.options.evidenceRoot,
      },
      drill,
      runId,
      dir,
      journal,
      runSignal,
    );
    try {
      const attributes = { 'sentinel.drill': drill.name, 'sentinel.drill.run_id': runId, 'sentinel.drill.environment': environment, 'sentinel.drill.stages': drill.stages.length };
      return await withSpan(this.tracer, 'drill.run', attributes, async (span) => {
        ctx.runSpan = span;
        const result = await this.runWith(ctx, startMs, refusal);
        span.setAttribute('sentinel.drill.decision', result.decision.decision);
        span.setAttribute('sentinel.drill.status', result.scenario.status);
        span.setAttribute('sentinel.drill.run_status', result.runStatus);
        return result;
      });
    } finally {
      held?.lost.removeEventListener('abort', onLost);
    }
  }

  private async runWith(ctx: RunContext, startMs: number, refusal: PreflightRefusal | undefined): Promise<DrillRunResult> {
    const { clock } = this.options;
    const { drill, signal, journal, dir, runId } = ctx;
    const faults = new FaultActions({ driver: this.options.driver, journal, clock, logger: this.logger, tracer: this.tracer, ...(this.options.removalAttempts === undefined ? {} : { removalAttempts: this.options.removalAttempts }) });
    ctx.emit((h) => h.runStarted?.(drill, runId, dir));

    const reasons: string[] = [];
    const stageLines: StageLine[] = [];
    let status: ScenarioStatus = 'passed';
    let runStatus: RunStatus = 'completed';
    try {
      // The drill paces its probes from here on: scheduled runs of them are held.
      if (!refusal) this.options.probes.reserve?.(drill.probes);
      const pre = refusal ?? (await runPreflight(ctx, this.options.sources));
      if (pre) {
        status = pre.status;
        reasons.push(pre.reason);
        if (pre.status === 'error') runStatus = 'failed';
      } else {
        ctx.emit((h) => h.preflightPassed?.(drill, clock.nowMs()));
        ({ status, runStatus } = await this.runStages(ctx, faults, reasons, stageLines));
      }
    } catch (err) {
      if (signal.aborted) {
        runStatus = 'interrupted';
        status = worseStatus(status, 'aborted');
        reasons.push(`interrupted: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}`);
      } else {
        runStatus = 'failed';
        status = worseStatus(status, 'error');
        reasons.push(`error: ${(err as Error).message}`);
        this.logger.error({ err, drill: drill.name }, 'drill failed with an error');
      }
    } finally {
      // Faults are always removed, whatever ended the run.
      await faults.removeAll(undefined, ctx.runSpan);
      this.options.probes.setDrillLabels(undefined);
      if (!refusal) this.options.probes.reserve?.(undefined);
    }

    const unremoved = faults.all.filter((f) => !f.removed);
    const removalProven = unremoved.length === 0 && (await faults.verifyRemoved());
    if (unremoved.length > 0) reasons.push(`faults not removed: ${unremoved.map(describeFault).join(', ')}`);
    else if (!removalProven) reasons.push('fault removal could not be verified on the fault proxy');

    const endMs = clock.nowMs();
    const scenario: ScenarioResult = {
      scenario: drill.name,
      status,
      duration_seconds: (endMs - startMs) / 1000,
      started_at: new Date(startMs).toISOString(),
      faults: faults.all.map(toFaultRecord),
      faults_removed: removalProven,
      conditions: ctx.conditions,
      stages: stageLines,
      reasons,
      ...(ctx.skippedChecks.length > 0 ? { skipped_checks: [...ctx.skippedChecks] } : {}),
    };
    return this.writeEvidence(ctx, scenario, runStatus, startMs, endMs);
  }

  /** runStages runs every stage, then the steady state after and the whole-run recheck. */
  private async runStages(ctx: RunContext, faults: FaultActions, reasons: string[], stageLines: StageLine[]): Promise<{ status: ScenarioStatus; runStatus: RunStatus }> {
    const { drill } = ctx;
    const { clock } = this.options;
    let status: ScenarioStatus = 'passed';
    for (let i = 0; i < drill.stages.length; i++) {
      const stage = drill.stages[i];
      const outcome = await executeStage(ctx, faults, stage, i);
      stageLines.push({ name: stage.name, status: outcome.status, duration_seconds: outcome.durationMs / 1000, ...(outcome.reason ? { reason: outcome.reason } : {}) });
      ctx.windows.push(outcome.window);
      status = worseStatus(status, outcome.status);
      if (outcome.reason) reasons.push(`${stage.name}: ${outcome.reason}`);
      ctx.emit((h) => h.stageFinished?.(stage, outcome.status, outcome.reason));
      if (outcome.status === 'aborted') return { status, runStatus: 'aborted' };
      if (outcome.status === 'error') return { status, runStatus: 'failed' };
      if (!outcome.recovered) {
        if (i < drill.stages.length - 1) reasons.push(`later stages not run: the system did not recover from ${stage.name}`);
        return { status, runStatus: 'completed' };
      }
    }
    const lastRemoval = ctx.windows[ctx.windows.length - 1]?.faultsRemovedAtMs ?? clock.nowMs();
    const after = await runSteadyStateAfter(ctx, lastRemoval, Math.max(...drill.stages.map((s) => s.recoveryMs)));
    for (const c of after) ctx.record(c);
    const bad = after.find((c) => c.status === 'failed') ?? after.find((c) => c.status !== 'passed');
    if (bad) {
      status = worseStatus(status, bad.status === 'failed' ? 'failed' : bad.status === 'error' ? 'error' : 'inconclusive');
      reasons.push(`steady state after the drill: '${bad.name}' ${bad.status}${bad.observed === null ? ` (${bad.detail ?? 'no data'})` : ` (observed ${bad.observed})`}`);
    }
    // The services themselves must be ready again, not only the probes' view of the path.
    const readiness = await checkServiceReadiness(ctx, 'after');
    if (readiness) {
      status = worseStatus(status, readiness.status);
      reasons.push(readiness.reason);
    }
    const recheck = await recheckAtEnd(ctx, clock.nowMs());
    status = worseStatus(status, recheck.status);
    if (recheck.reason) reasons.push(recheck.reason);
    return { status, runStatus: 'completed' };
  }

  private async writeEvidence(ctx: RunContext, scenario: ScenarioResult, runStatus: RunStatus, startMs: number, endMs: number): Promise<DrillRunResult> {
    const { clock } = this.options;
    const { drill, dir, journal, runId } = ctx;
    await writeSnapshotsAfter(dir, this.options.sources, journal, () => clock.nowMs());
    await writeSamples(dir, this.options.store, Math.min(startMs, ctx.baselineMs), endMs);
    await writeProbeRuns(dir, ctx.probeRuns);
    journal.append({ type: 'run_end', atMs: endMs, status: runStatus });
    journal.close();

    const skipped = scenario.skipped_checks ?? [];
    const decision = await finishEvidence({
      dir,
      run: {
        run_id: runId,
        drills: [drill.name],
        environment: this.options.environment,
        started_at: new Date(startMs).toISOString(),
        finished_at: new Date(endMs).toISOString(),
        status: runStatus,
        deviated: scenario.status !== 'passed',
        sentinel_version: this.options.version,
        ...(skipped.length > 0 ? { skipped_checks: skipped } : {}),
      },
      scenarios: [scenario],
      facts: [
        ['Environment', this.options.environment],
        ['Fault proxy', this.options.driver.endpoint],
        ['Drill file', drill.file],
        ...(skipped.length > 0 ? [['Safety checks SKIPPED', `${skipped.join('; ')}: the drill ran without them`] as const] : []),
      ],
      hmacKey: this.options.hmacKey === undefined ? undefined : credentialOf(this.options.hmacKey).reveal(),
      beforeManifest: async (report) => {
        if (this.options.renderReport) {
          const html = this.options.renderReport({ drill, runId, startMs, endMs, stages: ctx.windows, scenario, decision: report, query: this.options.query, probeRuns: ctx.probeRuns });
          await writeFile(join(dir, 'report.html'), html);
        }
      },
    });
    const result: DrillRunResult = { runId, dir, scenario, decision, runStatus };
    ctx.emit((h) => h.runFinished?.(result));
    return result;
  }
}
