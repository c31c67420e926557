/**
 * RolloutRunner: the operators' staging canary and production phased rollout, supervised.
 *
 *   snapshots → (production) SLO baseline → gates → per cohort: apply (optional) → wait until
 *   in effect (runtime-routing status, or the operator's confirmation) → evaluate probe →
 *   supervised soak (probes, critical alerts, SLOs) → SLO check → snapshots → (production)
 *   rollback drill → snapshots → (production) SLO after the drill → decision.
 *
 * Where the scripts only recommend a soak and carry on after a failure, the runner waits out
 * every soak while watching the system, and stops at the first failure, saying which step and
 * why; a cohort is never widened after one. Every finished step is journaled; an interrupted
 * rollout (SIGINT/SIGTERM, a crash) is never allow, and `resume` continues it from its journal:
 * finished cohorts stay, the interrupted one starts over from its wait and soaks in full.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { formatDurationMs } from '../time/index.js';
import { evidenceDirName } from '../drills/index.js';
import { ARTIFACT_FILES, cohortEnv, envPlanFile, envPlanText, writeRolloutArtifacts } from './rollout-artifacts.js';
import type { RolloutContext, RolloutDecision } from './rollout-artifacts.js';
import type { RolloutEvents, RolloutRunnerDeps, SloUrlFetch } from './rollout-deps.js';
import { JOURNAL_FILE, pendingForce, readRolloutJournal, RolloutJournal } from './rollout-journal.js';
import type { RolloutJournalEntry } from './rollout-journal.js';
import { publicOptions } from './rollout-options.js';
import type { RolloutOptions } from './rollout-options.js';
import type { CohortLine, EffectLine, RolloutRecord, SloLine, SoakLine } from './rollout-records.js';
import { judgeSlo, measureSlo, sloSnapshotDocument } from './slo-snapshot.js';
import type { SloValues } from './slo-snapshot.js';

/** RolloutResult is a finished (or interrupted) rollout. */
export interface RolloutResult {
  readonly outputDir: string;
  readonly decision: RolloutDecision;
  readonly records: readonly RolloutRecord[];
  readonly interrupted: boolean;
}

/** RunInput says where the rollout writes and whether it continues an earlier one. */
export interface RunInput {
  readonly options: RolloutOptions;
  /** outputDir is absolute. */
  readonly outputDir: string;
  /** resume continues the rollout journaled in `outputDir`. */
  readonly resume: boolean;
}

/** Blocked stops a rollout at its first failure. */
class Blocked extends Error {}

/** evaluateBody is the scripts' evaluate body, with their field order. */
export function evaluateBody(kind: RolloutOptions['kind'], cohort: number): Record<string, string> {
  return kind === 'staging'
    ? { thread_id: `staging-canary-thread-${cohort}`, cohort_key: `user:staging-canary-${cohort}` }
    : { thread_id: `production-rollout-thread-${cohort}`, cohort_key: `user:production-rollout-${cohort}` };
}

function secondsBetween(a: number, b: number): number {
  return Math.max(0, Math.round((b - a) / 1000));
}

function fmtValue(v: number | null): string {
  return v === null ? 'n/a' : String(v);
}

/**
 * keptRecords are the records a resumed rollout keeps: every step before the interrupted one,
 * minus the records of a cohort that never finished and gates older than `gateMaxAgeMs`.
 */
function keptRecords(entries: readonly RolloutJournalEntry[], nowMs: number, gateMaxAgeMs: number): RolloutRecord[] {
  const done = new Set<number>();
  let rollbackDone = false;
  for (const e of entries) {
    if (e.type !== 'record') continue;
    if (e.record.kind === 'cohort_done') done.add(e.record.cohortIndex);
    if (e.record.kind === 'rollback') rollbackDone = true;
  }
  const out: RolloutRecord[] = [];
  for (const e of entries) {
    if (e.type !== 'record') continue;
    const r = e.record;
    if ('cohortIndex' in r && r.cohortIndex !== undefined && !done.has(r.cohortIndex)) continue;
    if (r.kind === 'gate' && !(nowMs - e.atMs <= gateMaxAgeMs)) continue;
    if (r.kind === 'slo' && r.line.label === 'post_rollback_drill' && !rollbackDone) continue;
    if (r.kind === 'block') continue;
    out.push(r);
  }
  // Gates are all-or-nothing: one stale gate reruns the set.
  const gates = out.filter((r) => r.kind === 'gate');
  const expectedGates = entries.filter((e) => e.type === 'record' && e.record.kind === 'gate').length;
  if (gates.length !== expectedGates) return out.filter((r) => r.kind !== 'gate');
  return out;
}

/** RolloutRunner runs one rollout at a time. */
export class RolloutRunner {
  constructor(private readonly deps: RolloutRunnerDeps) {}

  private emit<K extends keyof RolloutEvents>(name: K, ...args: Parameters<NonNullable<RolloutEvents[K]>>): void {
    for (const h of this.deps.events ?? []) {
      const fn = h[name] as ((...a: unknown[]) => void) | undefined;
      fn?.apply(h, args);
    }
  }

  /** run executes (or resumes) the rollout; `signal` interrupts it. It throws only for unusable input. */
  async run(input: RunInput, signal: AbortSignal): Promise<RolloutResult> {
    const { clock } = this.deps;
    const { options, outputDir } = input;
    const journalPath = join(outputDir, JOURNAL_FILE);
    const previous = readRolloutJournal(journalPath);
    if (input.resume) {
      const start = previous.find((e) => e.type === 'run_start');
      if (!start) throw new UsageError(`--resume ${outputDir}: no rollout journal (${JOURNAL_FILE}) there; start a new rollout instead`);
      if (start.kind !== options.kind) throw new UsageError(`--resume ${outputDir}: that is a ${start.kind} rollout, not ${options.kind}`);
      const end = previous.find((e) => e.type === 'run_end');
      if (end?.type === 'run_end') throw new UsageError(`--resume ${outputDir}: that rollout already finished (Decision: ${end.decision}); start a new one`);
    } else if (previous.length > 0 || existsSync(join(outputDir, ARTIFACT_FILES.summary))) {
      throw new UsageError(`--output-dir ${outputDir} already holds a rollout; resume it with --resume ${outputDir} or choose another directory`);
    }
    mkdirSync(join(outputDir, ARTIFACT_FILES.logs), { recursive: true });
    const startEntry = previous.find((e) => e.type === 'run_start');
    const startMs = startEntry?.atMs ?? clock.nowMs();
    const records: RolloutRecord[] = input.resume ? keptRecords(previous, clock.nowMs(), this.deps.settings.gateMaxAgeMs) : [];
    const resumes = previous.filter((e) => e.type === 'resumed').length + (input.resume ? 1 : 0);
    const journal = new RolloutJournal(journalPath);
    if (input.resume) journal.append({ type: 'resumed', atMs: clock.nowMs() });
    else journal.append({ type: 'run_start', atMs: startMs, runId: `${options.kind}-${evidenceDirName(startMs)}`, kind: options.kind, options: publicOptions(options) });
    writeFileSync(join(outputDir, envPlanFile(options.kind)), envPlanText(options.cohorts, options.soakSeconds));
    this.emit('started', { outputDir, kind: options.kind, cohorts: options.cohorts, resumed: input.resume });

    const ctx = { options, outputDir, timestamp: evidenceDirName(startMs), journal, records, signal };
    let step = 'start';
    let finished = false;
    let interrupted: RolloutContext['interrupted'];
    const artifactContext = (): RolloutContext => ({ options, outputDir, timestamp: ctx.timestamp, finished, ...(interrupted ? { interrupted } : {}), resumes });
    try {
      const pending = pendingForce(previous);
      if (pending && this.deps.rollbackDrill) {
        step = 'undo of an interrupted rollback drill';
        await this.deps.rollbackDrill.undo(pending.detail, journal, signal);
      }
      await this.steps(ctx, (s) => {
        step = s;
        this.emit('stepStarted', s);
        writeRolloutArtifacts(artifactContext(), records);
      });
      finished = true;
    } catch (err) {
      if (signal.aborted) {
        interrupted = { step, reason: signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted') };
      } else if (err instanceof Blocked) {
        finished = true;
      } else {
        this.add(ctx, { kind: 'block', step, reason: `error: ${(err as Error).message}` });
        finished = true;
      }
    }
    if (interrupted) journal.append({ type: 'interrupted', atMs: clock.nowMs(), step: interrupted.step, reason: interrupted.reason });
    const decision = writeRolloutArtifacts(artifactContext(), records);
    if (finished) journal.append({ type: 'run_end', atMs: clock.nowMs(), decision: decision.decision });
    journal.close();
    this.emit('finished', { decision: decision.decision, outputDir, reasons: decision.reasons });
    return { outputDir, decision, records, interrupted: interrupted !== undefined };
  }

  private add(ctx: StepContext, record: RolloutRecord): void {
    ctx.records.push(record);
    ctx.journal.record(this.deps.clock.nowMs(), record);
    this.emit('recorded', record);
  }

  private block(ctx: StepContext, step: string, reason: string, cohortIndex?: number): never {
    this.add(ctx, { kind: 'block', step, reason, ...(cohortIndex === undefined ? {} : { cohortIndex }) });
    throw new Blocked(reason);
  }

  private has(ctx: StepContext, match: (r: RolloutRecord) => boolean): boolean {
    return ctx.records.some(match);
  }

  private async steps(ctx: StepContext, at: (step: string) => void): Promise<void> {
    const { options } = ctx;
    const production = options.kind === 'production';
    if (!this.has(ctx, (r) => r.kind === 'snapshot' && r.label === 'before')) {
      at('snapshots before');
      await this.snapshots(ctx, 'before');
    }
    if (production && !this.has(ctx, (r) => r.kind === 'slo' && r.line.label === 'baseline')) {
      at('slo:baseline');
      // Two rounds of the soak probes first, so the baseline is measured, not assumed.
      const startMs = this.deps.clock.nowMs();
      await this.deps.watch.runProbes(this.deps.settings.soakProbes, ctx.signal);
      await this.deps.clock.sleep(this.deps.settings.soakProbeIntervalMs, ctx.signal);
      await this.deps.watch.runProbes(this.deps.settings.soakProbes, ctx.signal);
      const line = await this.sloCheck(ctx, 'baseline', startMs, Math.max(this.deps.settings.sloWindowMs, this.deps.clock.nowMs() - startMs));
      if (line.status === 'failed') this.block(ctx, 'slo:baseline', `SLO not met before the rollout: ${line.reason ?? 'breach'}`);
    }
    if (!this.has(ctx, (r) => r.kind === 'gate')) {
      if (options.skipGates) {
        this.add(ctx, { kind: 'gate', line: { gate: 'all', status: 'skipped', reason: '--skip-gates' }, detail: '--skip-gates' });
      } else {
        for (const gate of this.deps.gates) {
          at(`gate:${gate.name}`);
          await this.runGate(ctx, gate);
        }
        const failed = ctx.records.flatMap((r) => (r.kind === 'gate' && r.line.status === 'failed' ? [r] : []));
        if (failed.length > 0) this.block(ctx, `gate:${failed[0].line.gate}`, `gate(s) failed, no cohort was started: ${failed.map((g) => `${g.line.gate} (${g.detail})`).join('; ')}`);
      }
    }
    for (let i = 0; i < options.cohorts.length; i++) {
      if (this.has(ctx, (r) => r.kind === 'cohort_done' && r.cohortIndex === i)) continue;
      await this.cohort(ctx, i, at);
    }
    if (production && !this.has(ctx, (r) => r.kind === 'rollback')) {
      at('gate:rollback_drill');
      await this.rollback(ctx);
    }
    at('snapshots after');
    await this.snapshots(ctx, 'after');
    if (production && this.has(ctx, (r) => r.kind === 'rollback' && r.line.status === 'passed')) {
      at('slo:post_rollback_drill');
      const startMs = this.deps.clock.nowMs();
      await this.deps.watch.runProbes(this.deps.settings.soakProbes, ctx.signal);
      const line = await this.sloCheck(ctx, 'post_rollback_drill', startMs, this.deps.settings.sloWindowMs);
      if (line.status === 'failed') this.block(ctx, 'slo:post_rollback_drill', `SLO not met after the rollback drill: ${line.reason ?? 'breach'}`);
    }
  }

  private async snapshots(ctx: StepContext, label: string, cohortIndex?: number): Promise<void> {
    const take = async (name: string, fetch: (signal: AbortSignal) => Promise<unknown>): Promise<void> => {
      const file = join(ctx.outputDir, `${name}.json`);
      const extra = cohortIndex === undefined ? {} : { cohortIndex };
      try {
        // Each client call has its own deadline; the run's signal only interrupts it.
        const doc = await fetch(ctx.signal);
        writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
        this.add(ctx, { kind: 'snapshot', label: name, file, ...extra });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        this.add(ctx, { kind: 'snapshot', label: name, error: (err as Error).message, ...extra });
      }
    };
    const suffix = label === 'before' || label === 'after' ? label : label;
    await take(`runtime_metrics_${suffix}`, (s) => this.deps.snapshots.runtimeMetrics(s));
    await take(`control_status_${suffix}`, (s) => this.deps.snapshots.controlStatus(s));
  }

  private async runGate(ctx: StepContext, gate: RolloutGateLike): Promise<void> {
    const { clock } = this.deps;
    const started = clock.nowMs();
    const logFile = join(ctx.outputDir, ARTIFACT_FILES.logs, `gate-${gate.name}.log`);
    let status: 'passed' | 'failed';
    let detail: string;
    let log: readonly string[];
    let evidence: string | undefined;
    try {
      const result = await gate.run(ctx.signal);
      ({ status, detail, log } = result);
      evidence = result.evidence;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      status = 'failed';
      detail = `${gate.command}: error: ${(err as Error).message}`;
      log = [`error: ${(err as Error).message}`];
    }
    writeFileSync(logFile, log.join('\n') + '\n');
    this.add(ctx, {
      kind: 'gate',
      line: { gate: gate.name, status, duration_seconds: secondsBetween(started, clock.nowMs()), log_file: logFile, command: gate.command, ...(evidence ? { evidence } : {}) },
      detail: status === 'passed' ? gate.command : detail,
    });
  }

  private async cohort(ctx: StepContext, i: number, at: (step: string) => void): Promise<void> {
    const { options } = ctx;
    const cohort = options.cohorts[i];
    at(`cohort ${cohort}%`);
    await this.snapshots(ctx, `before_${cohort}`, i);
    if (this.deps.applier) {
      at(`apply:${cohort}%`);
      await this.apply(ctx, i);
    }
    at(`effect:${cohort}%`);
    const effect = await this.waitInEffect(ctx, i);
    if (effect.status === 'not_in_effect') {
      this.add(ctx, { kind: 'probe', cohortIndex: i, line: { cohort_percent: cohort, status: 'failed', reason: 'not_in_effect', duration_seconds: 0 }, detail: `not probed: ${effect.reason ?? 'the cohort never took effect'}` });
      this.block(ctx, `cohort ${cohort}%`, `the cohort never took effect within ${formatDurationMs(this.deps.settings.cohortEffectTimeoutMs)}: ${effect.reason ?? ''}`.trim(), i);
    }
    at(`cohort:${cohort}%`);
    await this.evaluateProbe(ctx, i);
    at(`soak:${cohort}%`);
    await this.soak(ctx, i);
    await this.snapshots(ctx, `after_${cohort}`, i);
    this.add(ctx, { kind: 'cohort_done', cohortIndex: i });
  }

  private async apply(ctx: StepContext, i: number): Promise<void> {
    const applier = this.deps.applier;
    if (!applier) return;
    const cohort = ctx.options.cohorts[i];
    const logFile = join(ctx.outputDir, ARTIFACT_FILES.logs, `apply-cohort-${cohort}.log`);
    const result = await applier.apply(cohort, cohortEnv(cohort, ctx.options.soakSeconds), ctx.signal);
    writeFileSync(logFile, result.log);
    this.add(ctx, { kind: 'apply', cohortIndex: i, status: result.ok ? 'passed' : 'failed', durationSeconds: Math.round(result.durationMs / 1000), logFile, detail: `${applier.description}${result.ok ? '' : ' failed; see ' + logFile}` });
    if (!result.ok) {
      this.add(ctx, { kind: 'probe', cohortIndex: i, line: { cohort_percent: cohort, status: 'failed', reason: 'apply_failed', duration_seconds: 0 }, detail: `not probed: applying the cohort failed (${logFile})` });
      this.block(ctx, `cohort ${cohort}%`, `applying the cohort's env plan failed (${logFile})`, i);
    }
  }

  /** waitInEffect polls runtime-routing status until it shows the cohort, or takes an operator's confirmation when status does not answer. */
  private async waitInEffect(ctx: StepContext, i: number): Promise<EffectLine> {
    const { clock, settings, routing, confirmations } = this.deps;
    const cohort = ctx.options.cohorts[i];
    const started = clock.nowMs();
    const deadline = started + settings.cohortEffectTimeoutMs;
    const plan = `OA_RUNTIME_CANARY_USER_PERCENT=${cohort} OA_RUNTIME_CANARY_AUTOPILOT_PERCENT=${cohort}`;
    let lastObserved: EffectLine['observed'];
    let lastProblem: string | undefined;
    for (;;) {
      ctx.signal.throwIfAborted();
      const read = await routing.status(ctx.signal);
      const now = clock.nowMs();
      if (read.ok) {
        lastProblem = undefined;
        lastObserved = { canary_user_percent: read.status.canaryUserPercent, canary_autopilot_percent: read.status.canaryAutopilotPercent };
        if (read.status.canaryUserPercent === cohort && read.status.canaryAutopilotPercent === cohort) {
          const line: EffectLine = { cohort_percent: cohort, status: 'in_effect', via: 'status', waited_seconds: secondsBetween(started, now), observed: lastObserved };
          this.add(ctx, { kind: 'effect', cohortIndex: i, line, detail: `runtime-routing status shows canary ${cohort}/${cohort}` });
          return line;
        }
      } else {
        lastProblem = read.problem;
        const confirmation = confirmations.confirmed(i, cohort);
        if (confirmation) {
          const line: EffectLine = { cohort_percent: cohort, status: 'confirmed', via: 'operator', waited_seconds: secondsBetween(started, now), reason: `runtime-routing status not reachable (${read.problem})`, confirmed_at: new Date(confirmation.atMs).toISOString(), ...(confirmation.by ? { confirmed_by: confirmation.by } : {}) };
          this.add(ctx, { kind: 'effect', cohortIndex: i, line, detail: `confirmed by the operator at ${new Date(confirmation.atMs).toISOString()}; runtime-routing status not reachable (${read.problem})` });
          return line;
        }
      }
      if (now >= deadline) break;
      this.emit('waiting', {
        cohort,
        leftMs: deadline - now,
        ...(lastObserved ? { observed: { user: lastObserved.canary_user_percent, autopilot: lastObserved.canary_autopilot_percent } } : {}),
        instruction: read.ok
          ? `apply ${plan} to the control service; waiting for runtime-routing status to show it`
          : `runtime-routing status is not reachable (${read.problem}); apply ${plan}, then confirm with: sentinel rollout confirm --output-dir ${ctx.outputDir} --cohort ${cohort}`,
      });
      await clock.sleep(Math.min(settings.statusPollIntervalMs, Math.max(0, deadline - now)), ctx.signal);
    }
    const reason = lastProblem
      ? `runtime-routing status not reachable (${lastProblem}) and no operator confirmation`
      : `runtime-routing status still shows canary ${lastObserved?.canary_user_percent}/${lastObserved?.canary_autopilot_percent}, not ${cohort}/${cohort}`;
    const line: EffectLine = { cohort_percent: cohort, status: 'not_in_effect', waited_seconds: secondsBetween(started, clock.nowMs()), ...(lastObserved ? { observed: lastObserved } : {}), reason };
    this.add(ctx, { kind: 'effect', cohortIndex: i, line, detail: reason });
    return line;
  }

  private async evaluateProbe(ctx: StepContext, i: number): Promise<void> {
    const { clock, routing } = this.deps;
    const cohort = ctx.options.cohorts[i];
    const responseFile = join(ctx.outputDir, `cohort-${cohort}.json`);
    const started = clock.nowMs();
    const call = await routing.evaluate(evaluateBody(ctx.options.kind, cohort), ctx.signal);
    // curl's %{http_code} is 000 when no response came.
    const code = call.httpStatus === 0 ? '000' : String(call.httpStatus);
    writeFileSync(responseFile, call.body);
    writeFileSync(join(ctx.outputDir, `cohort-${cohort}.status`), `${code}\n`);
    const passed = call.httpStatus === 200;
    const line: CohortLine = {
      cohort_percent: cohort,
      status: passed ? 'passed' : 'failed',
      http_status: code,
      duration_seconds: secondsBetween(started, clock.nowMs()),
      response_file: responseFile,
      ...(typeof call.data?.driver === 'string' ? { driver: call.data.driver } : {}),
      ...(typeof call.data?.reason === 'string' ? { routing_reason: call.data.reason } : {}),
      ...(call.error ? { error: call.error } : {}),
    };
    this.add(ctx, { kind: 'probe', cohortIndex: i, line, detail: `runtime-routing evaluate (HTTP ${code})` });
    if (!passed) this.block(ctx, `cohort ${cohort}%`, `runtime-routing evaluate answered HTTP ${code}${call.error ? ` (${call.error})` : ''}, not 200`, i);
  }

  /** soak waits out the cohort's soak, watching probes, critical alerts and the SLOs; the first failure blocks. */
  private async soak(ctx: StepContext, i: number): Promise<void> {
    const { clock, settings, watch } = this.deps;
    const cohort = ctx.options.cohorts[i];
    const started = clock.nowMs();
    // At least one probe interval and two probe rounds, so the SLO values rest on two measurements
    // even when the system is slow enough to stretch a round past the soak.
    const end = started + Math.max(ctx.options.soakSeconds * 1000, settings.soakProbeIntervalMs);
    let rounds = 0;
    const streaks = new Map<string, { count: number; reason: string }>();
    let probeRuns = 0;
    let alertChecks = 0;
    let sloChecks = 0;
    let failure: { reason: string; slo?: boolean } | undefined;
    let urlFetch: SloUrlFetch | undefined;
    let sentinelValues: SloValues = { p95LatencyMs: null, errorBudgetRatio: null };
    const thresholds = { maxP95LatencyMs: ctx.options.maxP95LatencyMs, maxErrorBudgetRatio: ctx.options.maxErrorBudgetRatio };
    for (;;) {
      ctx.signal.throwIfAborted();
      const roundStart = clock.nowMs();
      const runs = await watch.runProbes(settings.soakProbes, ctx.signal);
      rounds += 1;
      probeRuns += runs.length;
      for (const r of runs) {
        const s = streaks.get(r.probe) ?? { count: 0, reason: '' };
        streaks.set(r.probe, r.ok ? { count: 0, reason: '' } : { count: s.count + 1, reason: r.reason });
      }
      const now = clock.nowMs();
      const broken = [...streaks.entries()].find(([, s]) => s.count >= settings.failedProbeStreak);
      if (broken) failure ??= { reason: `probe ${broken[0]} failed ${broken[1].count} runs in a row (${broken[1].reason})` };
      let firing: string[] = [];
      try {
        firing = await watch.criticalAlerts(now, ctx.signal);
        alertChecks += 1;
        if (firing.length > 0) failure ??= { reason: `critical alert(s) firing: ${firing.join(', ')}` };
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        failure ??= { reason: `could not check critical alerts: ${(err as Error).message}` };
      }
      const windowMs = Math.max(now - started, 2 * settings.soakProbeIntervalMs);
      sentinelValues = measureSlo(watch.query, now, windowMs);
      sloChecks += 1;
      const own = judgeSlo(sentinelValues, thresholds);
      if (own.breaches.length > 0) failure ??= { reason: `SLO breach (sentinel over ${formatDurationMs(Math.ceil(windowMs / 1000) * 1000)}): ${own.breaches.join(', ')}`, slo: true };
      if (this.deps.sloUrl) {
        urlFetch = await this.deps.sloUrl.fetch(ctx.signal);
        if (!urlFetch.ok) failure ??= { reason: `SLO snapshot ${this.deps.sloUrl.url} failed: ${urlFetch.error}`, slo: true };
        else {
          const j = judgeSlo(urlFetch.values, thresholds);
          if (j.status === 'failed') failure ??= { reason: `SLO breach (${this.deps.sloUrl.url}): ${j.reason ?? j.breaches.join(', ')}`, slo: true };
        }
      }
      this.emit('soakTick', {
        cohort,
        leftMs: Math.max(0, end - now),
        sentinel: sentinelValues,
        ...(urlFetch?.ok ? { url: urlFetch.values } : {}),
        failingProbes: [...streaks.entries()].filter(([, s]) => s.count > 0).map(([p]) => p),
        firing,
      });
      if (failure || (now >= end && rounds >= 2)) break;
      const wait = Math.min(end, roundStart + settings.soakProbeIntervalMs) - clock.nowMs();
      if (wait > 0) await clock.sleep(wait, ctx.signal);
    }
    const watchedMs = clock.nowMs() - started;
    const sloLine = await this.sloCheck(ctx, `cohort_${cohort}`, started, Math.max(watchedMs, 2 * settings.soakProbeIntervalMs), i, urlFetch);
    if (!failure && sloLine.status === 'failed') failure = { reason: `SLO not met over the soak: ${String(sloLine.reason ?? sloLine.breaches ?? 'breach')}`, slo: true };
    const line: SoakLine = {
      cohort_percent: cohort,
      status: failure ? 'failed' : 'passed',
      soak_seconds: ctx.options.soakSeconds,
      watched_seconds: secondsBetween(started, clock.nowMs()),
      ...(failure ? { reason: failure.reason } : {}),
      probe_runs: probeRuns,
      alert_checks: alertChecks,
      slo_checks: sloChecks,
      probes: settings.soakProbes,
    };
    const watched = formatDurationMs(Math.round(watchedMs / 1000) * 1000);
    // A probe round slowed by what it found can end after the soak's planned end: say so rather
    // than "stopped after 31s of 20s".
    const detail = !failure
      ? `${ctx.options.soakSeconds}s watched: ${probeRuns} probe runs, ${alertChecks} alert checks, ${sloChecks} SLO checks, all healthy`
      : watchedMs > ctx.options.soakSeconds * 1000
        ? `failed in the last probe round of the ${ctx.options.soakSeconds}s soak (it ended ${watched} after the soak began): ${failure.reason}`
        : `stopped after ${watched} of ${ctx.options.soakSeconds}s: ${failure.reason}`;
    this.add(ctx, { kind: 'soak', cohortIndex: i, line, detail });
    if (failure) this.block(ctx, `soak ${cohort}%`, failure.reason, i);
  }

  /**
   * sloCheck writes one slo-results.jsonl line: the snapshot URL when configured (as the script
   * reads it) and the sentinel's own values over `windowMs`; it fails when either fails.
   */
  private async sloCheck(ctx: StepContext, label: string, startedMs: number, windowMs: number, cohortIndex?: number, fetched?: SloUrlFetch): Promise<SloLine & { breaches?: string }> {
    const { clock, watch } = this.deps;
    const thresholds = { maxP95LatencyMs: ctx.options.maxP95LatencyMs, maxErrorBudgetRatio: ctx.options.maxErrorBudgetRatio };
    const now = clock.nowMs();
    const snapshotFile = join(ctx.outputDir, `slo-${label}.json`);
    const ownDoc = sloSnapshotDocument(watch.query, now, windowMs);
    const own = { p95LatencyMs: ownDoc.p95_latency_ms, errorBudgetRatio: ownDoc.error_budget_ratio };
    const ownJudged = judgeSlo(own, thresholds);
    const sentinel = { p95_latency_ms: own.p95LatencyMs, error_budget_ratio: own.errorBudgetRatio, window_seconds: Math.round(windowMs / 1000), status: ownJudged.status, ...(ownDoc.problems.length ? { problems: ownDoc.problems } : {}) };
    const thresholdText = (v: SloValues): string => `p95=${fmtValue(v.p95LatencyMs)}ms threshold<=${ctx.options.maxP95LatencyMs}, error_budget=${fmtValue(v.errorBudgetRatio)} threshold<=${ctx.options.maxErrorBudgetRatioText}`;
    let line: SloLine & { breaches?: string };
    let detail: string;
    if (this.deps.sloUrl) {
      const got = fetched ?? (await this.deps.sloUrl.fetch(ctx.signal));
      const duration = secondsBetween(startedMs, clock.nowMs());
      if (!got.ok) {
        line = { label, status: 'failed', reason: 'snapshot_fetch_failed', duration_seconds: duration, error: got.error, source: 'url', sentinel };
        detail = `failed to fetch snapshot (${got.error})`;
      } else {
        writeFileSync(snapshotFile, got.body);
        const j = judgeSlo(got.values, thresholds);
        if (j.reason === 'missing_metrics_fields') {
          line = { label, status: 'failed', reason: 'missing_metrics_fields', duration_seconds: duration, snapshot_file: snapshotFile, source: 'url', sentinel };
          detail = 'snapshot missing p95/error fields';
        } else {
          const status = j.status === 'passed' && ownJudged.status === 'passed' ? 'passed' : 'failed';
          line = {
            label,
            status,
            duration_seconds: duration,
            p95_latency_ms: got.values.p95LatencyMs ?? undefined,
            error_budget_ratio: got.values.errorBudgetRatio ?? undefined,
            snapshot_file: snapshotFile,
            source: 'url',
            sentinel,
            ...(status === 'failed' ? { breaches: [...j.breaches, ...ownJudged.breaches.map((b) => `sentinel: ${b}`), ...(ownJudged.reason ? [`sentinel: ${ownJudged.reason}`] : [])].join('; ') } : {}),
          };
          detail = `${thresholdText(got.values)}; sentinel: ${thresholdText(own)}`;
        }
      }
    } else {
      writeFileSync(snapshotFile, JSON.stringify(ownDoc, null, 2) + '\n');
      const duration = secondsBetween(startedMs, clock.nowMs());
      if (ownJudged.reason === 'missing_metrics_fields') {
        line = { label, status: 'failed', reason: 'missing_metrics_fields', duration_seconds: duration, snapshot_file: snapshotFile, source: 'sentinel', sentinel };
        detail = `no SLO data from the sentinel's own measurements (${ownDoc.problems.join('; ')})`;
      } else {
        line = {
          label,
          status: ownJudged.status,
          duration_seconds: duration,
          p95_latency_ms: own.p95LatencyMs ?? undefined,
          error_budget_ratio: own.errorBudgetRatio ?? undefined,
          snapshot_file: snapshotFile,
          source: 'sentinel',
          sentinel,
          ...(ownJudged.status === 'failed' ? { breaches: ownJudged.breaches.join('; ') } : {}),
        };
        detail = `${thresholdText(own)} (sentinel, last ${formatDurationMs(Math.ceil(windowMs / 1000) * 1000)})`;
      }
    }
    this.add(ctx, { kind: 'slo', line, detail, ...(cohortIndex === undefined ? {} : { cohortIndex }) });
    return line;
  }

  private async rollback(ctx: StepContext): Promise<void> {
    const { clock } = this.deps;
    const logFile = join(ctx.outputDir, ARTIFACT_FILES.logs, 'rollback-drill.log');
    if (ctx.options.skipRollbackDrill) {
      this.add(ctx, { kind: 'rollback', line: { gate: 'rollback_drill', status: 'skipped', reason: '--skip-rollback-drill' }, detail: '--skip-rollback-drill' });
      return;
    }
    const drill = this.deps.rollbackDrill;
    if (!drill) {
      writeFileSync(logFile, 'no rollback drill is configured\n');
      this.add(ctx, { kind: 'rollback', line: { gate: 'rollback_drill', status: 'failed', reason: 'not_configured', duration_seconds: 0, log_file: logFile }, detail: 'no rollback drill available' });
      this.block(ctx, 'gate:rollback_drill', 'the rollback drill could not run (not configured); skip it explicitly with --skip-rollback-drill');
    }
    const started = clock.nowMs();
    let result;
    try {
      result = await drill.run({ journal: ctx.journal, outputDir: ctx.outputDir, signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result = { status: 'failed' as const, detail: `error: ${(err as Error).message}`, log: [`error: ${(err as Error).message}`] };
    }
    writeFileSync(logFile, result.log.join('\n') + '\n');
    this.add(ctx, {
      kind: 'rollback',
      line: { gate: 'rollback_drill', status: result.status, duration_seconds: secondsBetween(started, clock.nowMs()), log_file: logFile, command: drill.description, ...(result.evidenceDir ? { evidence: result.evidenceDir } : {}) },
      detail: result.status === 'passed' ? drill.description : result.detail,
    });
    if (result.status === 'failed') this.block(ctx, 'gate:rollback_drill', `the rollback drill failed: ${result.detail}`);
  }
}

type RolloutGateLike = RolloutRunnerDeps['gates'][number];

interface StepContext {
  readonly options: RolloutOptions;
  readonly outputDir: string;
  readonly timestamp: string;
  readonly journal: RolloutJournal;
  readonly records: RolloutRecord[];
  readonly signal: AbortSignal;
}
