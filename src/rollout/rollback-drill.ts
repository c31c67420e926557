/**
 * RoutingRollbackDrill: production's rollback drill, run by the sentinel against the live control
 * service instead of the operators' gcloud traffic script (OpenAgents
 * `scripts/local-ci.sh:233-247` at 9b2b978949 exits 1 unless two revision variables are set).
 *
 * It rolls routing back to the `control_service` driver and checks, within
 * `rollout.rollback_drill.recovery_timeout` each way:
 *
 *   1. routing: evaluate answers `driver: control_service` once the rollback is in effect;
 *   2. sync: the sync probes (delivery, resume) succeed while rolled back;
 *   3. routing returns to the driver it had before once the rollback is undone;
 *   4. sync: the probes succeed again afterwards.
 *
 * Two ways to roll back (a `DriverForcer`), both paths the real control service has:
 * - `apply`: the rollout's `--apply-command` with the last cohort's env plan plus
 *   `OA_RUNTIME_FORCE_CONTROL_SERVICE=true` (the control's force switch, `config.rs:56-64`, first
 *   in the decision order, `runtime_routing.rs:136-301`), then `=false`;
 * - `override`: a per-user runtime-routing override (`POST /api/v1/control/runtime-routing/override`,
 *   `runtime_admin.rs:288-378`, admin-gated) for the session user, then restored as it was.
 *
 * Forcing is the drill's fault: journaled (intent before, outcome after) and always undone,
 * including by the next `--resume` after a crash. Its evidence is a drill evidence directory
 * (`rollback-drill/`: results.jsonl, run.json, SUMMARY.md, manifest), readable by `sentinel verdict`.
 */
import type { ConditionResult, FaultRecord, ScenarioResult } from '../drills/index.js';
import type { Clock } from '../time/index.js';
import { formatDurationMs } from '../time/index.js';
import type { CohortApplier, ProbeRound, RollbackDrill, RollbackDrillResult } from './rollout-deps.js';
import type { RolloutJournal } from './rollout-journal.js';
import type { RoutingCall, RoutingClient } from './routing-client.js';

/** ROLLBACK_THREAD_ID is the thread the drill evaluates routing for. */
export const ROLLBACK_THREAD_ID = 'sentinel-rollback-drill';

/** FORCED_REASONS are the decision reasons a rollback produces (`runtime_routing.rs:136-301`). */
export const FORCED_REASONS: readonly string[] = ['force_control_service', 'force_driver', 'user_override'];

/** ForceOutcome is one force or restore call. */
export interface ForceOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

/** DriverForcer forces routing to control_service and undoes it; `detail` is what the journal keeps. */
export interface DriverForcer {
  readonly mechanism: 'apply' | 'override';
  readonly description: string;
  /** prepare reads what restoring needs (e.g. an override already set) and returns it for the journal. */
  prepare(signal: AbortSignal): Promise<Readonly<Record<string, unknown>>>;
  force(detail: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<ForceOutcome>;
  restore(detail: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<ForceOutcome>;
}

function describeCall(c: RoutingCall): string {
  return c.error ? `no answer (${c.error})` : `HTTP ${c.httpStatus}${c.data ? ` driver=${String(c.data.driver)} reason=${String(c.data.reason)}` : ''}`;
}

/** applyForcer rolls back by applying the env plan with `OA_RUNTIME_FORCE_CONTROL_SERVICE=true`. */
export function applyForcer(applier: CohortApplier, cohort: number, plan: Readonly<Record<string, string>>): DriverForcer {
  const run = async (force: boolean, signal: AbortSignal): Promise<ForceOutcome> => {
    const r = await applier.apply(cohort, { ...plan, OA_RUNTIME_FORCE_CONTROL_SERVICE: String(force) }, signal);
    return { ok: r.ok, detail: `${applier.description} with OA_RUNTIME_FORCE_CONTROL_SERVICE=${force}: ${r.ok ? 'ok' : 'failed'}${r.log.trim() ? ` (${r.log.trim().split('\n').slice(-1)[0]})` : ''}` };
  };
  return {
    mechanism: 'apply',
    description: `OA_RUNTIME_FORCE_CONTROL_SERVICE=true through --apply-command (cohort ${cohort}% plan), then false`,
    prepare: () => Promise.resolve({ mechanism: 'apply', cohort }),
    force: (_d, signal) => run(true, signal),
    restore: (_d, signal) => run(false, signal),
  };
}

/** overrideForcer rolls the session user back with a runtime-routing override, restored as it was. */
export function overrideForcer(routing: RoutingClient, userId: (signal: AbortSignal) => Promise<string>): DriverForcer {
  return {
    mechanism: 'override',
    description: 'runtime-routing override for the session user (driver control_service), then restored',
    async prepare(signal) {
      const id = await userId(signal);
      const status = await routing.status(signal);
      if (!status.ok) throw new Error(`runtime-routing status not reachable (${status.problem})`);
      if (!status.status.overridesEnabled) throw new Error('runtime-routing overrides are disabled (overrides_enabled: false): the override rollback path cannot take effect');
      const existing = status.status.overrides.find((o) => o.scope_type === 'user' && o.scope_id === id);
      return { mechanism: 'override', scope_id: id, ...(existing && typeof existing.driver === 'string' ? { previous_driver: existing.driver, previous_active: existing.is_active !== false } : {}) };
    },
    async force(d, signal) {
      const res = await routing.override({ scope_type: 'user', scope_id: String(d.scope_id), driver: 'control_service', is_active: true, reason: 'sentinel rollback drill' }, signal);
      return { ok: res.httpStatus === 200, detail: `override control_service: ${describeCall(res)}` };
    },
    async restore(d, signal) {
      const body =
        typeof d.previous_driver === 'string'
          ? { scope_type: 'user', scope_id: String(d.scope_id), driver: d.previous_driver, is_active: d.previous_active !== false, reason: 'sentinel rollback drill: restore' }
          : { scope_type: 'user', scope_id: String(d.scope_id), driver: 'control_service', is_active: false, reason: 'sentinel rollback drill: restore' };
      const res = await routing.override(body, signal);
      return { ok: res.httpStatus === 200, detail: `restore override: ${describeCall(res)}` };
    },
  };
}

/** RollbackEvidenceWriter seals the drill's evidence directory and returns its path. */
export type RollbackEvidenceWriter = (input: { readonly dir: string; readonly scenario: ScenarioResult; readonly startedMs: number; readonly endedMs: number }) => Promise<string>;

/** RoutingRollbackDrillOptions wire the drill. */
export interface RoutingRollbackDrillOptions {
  readonly routing: RoutingClient;
  readonly forcer: DriverForcer;
  /** runProbes runs the sync probes once now. */
  readonly runProbes: (names: readonly string[], signal: AbortSignal) => Promise<ProbeRound[]>;
  readonly syncProbes: readonly string[];
  readonly clock: Clock;
  readonly recoveryTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly writeEvidence: RollbackEvidenceWriter;
}

type Note = (line: string) => void;

/** RoutingRollbackDrill implements RollbackDrill. */
export class RoutingRollbackDrill implements RollbackDrill {
  readonly description: string;

  constructor(private readonly o: RoutingRollbackDrillOptions) {
    this.description = `rollback drill: force control_service (${o.forcer.description}); routing and sync (${o.syncProbes.join(', ') || 'no probe'}) must recover within ${formatDurationMs(o.recoveryTimeoutMs)} each way`;
  }

  async run(input: { readonly journal: RolloutJournal; readonly outputDir: string; readonly signal: AbortSignal }): Promise<RollbackDrillResult> {
    const { clock, forcer } = this.o;
    const { journal, signal } = input;
    const startedMs = clock.nowMs();
    const log: string[] = [];
    const conditions: ConditionResult[] = [];
    const stages: Array<{ name: string; status: 'passed' | 'failed' | 'error'; duration_seconds: number; reason?: string }> = [];
    const reasons: string[] = [];
    let fault: FaultRecord | undefined;
    let restored = true;
    const note: Note = (line) => {
      log.push(`${new Date(clock.nowMs()).toISOString()} ${line}`);
    };
    const finish = async (status: 'passed' | 'failed' | 'error'): Promise<RollbackDrillResult> => {
      const endedMs = clock.nowMs();
      const scenario: ScenarioResult = {
        scenario: 'rollback-drill',
        status,
        duration_seconds: (endedMs - startedMs) / 1000,
        started_at: new Date(startedMs).toISOString(),
        faults: fault ? [fault] : [],
        faults_removed: restored,
        conditions,
        stages,
        reasons,
      };
      let evidenceDir: string | undefined;
      try {
        evidenceDir = await this.o.writeEvidence({ dir: `${input.outputDir}/rollback-drill`, scenario, startedMs, endedMs });
      } catch (err) {
        reasons.push(`evidence not written: ${(err as Error).message}`);
        note(`evidence not written: ${(err as Error).message}`);
      }
      const passed = status === 'passed' && restored && evidenceDir !== undefined;
      return { status: passed ? 'passed' : 'failed', detail: passed ? 'forced control_service and restored; routing and sync held both ways' : reasons.join('; ') || 'failed', log, ...(evidenceDir ? { evidenceDir } : {}) };
    };

    if (this.o.syncProbes.length === 0) {
      reasons.push('no sync probe (delivery, resume) is configured: sync cannot be shown to hold during the rollback');
      return finish('error');
    }
    let detail: Readonly<Record<string, unknown>>;
    try {
      detail = await forcer.prepare(signal);
    } catch (err) {
      reasons.push((err as Error).message);
      note(`prepare: ${(err as Error).message}`);
      return finish('failed');
    }
    const before = await this.o.routing.evaluate({ thread_id: ROLLBACK_THREAD_ID }, signal);
    note(`before: evaluate ${describeCall(before)}`);
    if (before.httpStatus !== 200 || typeof before.data?.driver !== 'string') {
      reasons.push(`evaluate before the drill answered ${describeCall(before)}`);
      return finish('error');
    }
    const baseline = { driver: before.data.driver, reason: String(before.data.reason) };

    // Stage 1: force control_service.
    const forceStart = clock.nowMs();
    const seq = journal.intent(clock.nowMs(), 'force_control_service', detail);
    // Recorded before the call: a lost answer may still have forced it.
    fault = { stage: 'force', proxy: 'control', type: `force_control_service (${forcer.mechanism})`, addedAtMs: forceStart, removed: false };
    restored = false;
    const forced = await forcer.force(detail, signal);
    journal.outcome(clock.nowMs(), seq, forced.ok, forced.ok ? undefined : forced.detail);
    note(forced.detail);
    let failed = false;
    if (!forced.ok) {
      reasons.push(`forcing control_service failed: ${forced.detail}`);
      failed = true;
    } else {
      // The decision must be the rollback's doing (its reason), not a user outside the canary anyway.
      const routed = await this.awaitRouting((d) => d.driver === 'control_service' && FORCED_REASONS.includes(String(d.reason)), 'driver == control_service by force_control_service|force_driver|user_override', `routing forced to control_service within ${formatDurationMs(this.o.recoveryTimeoutMs)}`, 'expect', 'force', conditions, note, signal);
      const sync = await this.awaitSync('sync probes healthy while rolled back', 'expect', 'force', conditions, note, signal);
      if (!routed) reasons.push(`routing did not move to control_service within ${formatDurationMs(this.o.recoveryTimeoutMs)}`);
      if (!sync) reasons.push('sync probes failed while rolled back');
      failed = !routed || !sync;
    }
    stages.push({ name: 'force', status: failed ? 'failed' : 'passed', duration_seconds: (clock.nowMs() - forceStart) / 1000, ...(failed ? { reason: reasons[reasons.length - 1] } : {}) });

    // Stage 2: restore, whatever happened.
    const restoreStart = clock.nowMs();
    restored = await this.restore(detail, journal, signal, note);
    fault = { ...fault, ...(restored ? { removedAtMs: clock.nowMs() } : {}), removed: restored };
    let restoreFailed = !restored;
    if (!restored) reasons.push(`routing could not be restored (${forcer.mechanism}); restore it by hand`);
    else {
      const back = await this.awaitRouting((d) => d.driver === baseline.driver && String(d.reason) === baseline.reason, `driver == ${baseline.driver} by ${baseline.reason}`, `routing back to ${baseline.driver} (${baseline.reason}) within ${formatDurationMs(this.o.recoveryTimeoutMs)}`, 'recovery', 'restore', conditions, note, signal);
      const sync = await this.awaitSync('sync probes healthy after restoring', 'recovery', 'restore', conditions, note, signal);
      if (!back) reasons.push(`routing did not return to ${baseline.driver} (${baseline.reason}) within ${formatDurationMs(this.o.recoveryTimeoutMs)}`);
      if (!sync) reasons.push('sync probes failed after restoring');
      restoreFailed = !back || !sync;
    }
    stages.push({ name: 'restore', status: restoreFailed ? 'failed' : 'passed', duration_seconds: (clock.nowMs() - restoreStart) / 1000, ...(restoreFailed ? { reason: reasons[reasons.length - 1] } : {}) });
    return finish(failed || restoreFailed ? 'failed' : 'passed');
  }

  async undo(detail: Readonly<Record<string, unknown>>, journal: RolloutJournal, signal: AbortSignal): Promise<void> {
    if (detail.mechanism !== this.o.forcer.mechanism) throw new Error(`an interrupted rollback drill forced control_service through ${String(detail.mechanism)}, but this rollout rolls back through ${this.o.forcer.mechanism}; restore routing by hand before resuming`);
    const ok = await this.restore(detail, journal, signal, () => undefined);
    if (!ok) throw new Error('routing forced by an interrupted rollback drill could not be restored; restore it by hand before resuming');
  }

  /** restore undoes the force with bounded retries, journaled. */
  private async restore(detail: Readonly<Record<string, unknown>>, journal: RolloutJournal, signal: AbortSignal, note: Note): Promise<boolean> {
    const { clock } = this.o;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const seq = journal.intent(clock.nowMs(), 'restore_routing', detail);
      const res = await this.o.forcer.restore(detail, signal);
      journal.outcome(clock.nowMs(), seq, res.ok, res.ok ? undefined : res.detail);
      note(`restore (attempt ${attempt}): ${res.detail}`);
      if (res.ok) return true;
      await clock.sleep(Math.min(this.o.pollIntervalMs, 1000 * attempt), signal);
    }
    return false;
  }

  private async awaitRouting(
    holds: (decision: Readonly<Record<string, unknown>>) => boolean,
    what: string,
    name: string,
    kind: ConditionResult['kind'],
    stage: string,
    conditions: ConditionResult[],
    note: Note,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { clock } = this.o;
    const start = clock.nowMs();
    const deadline = start + this.o.recoveryTimeoutMs;
    const query = `POST /api/v1/control/runtime-routing/evaluate ${what}`;
    let last: RoutingCall | undefined;
    for (;;) {
      last = await this.o.routing.evaluate({ thread_id: ROLLBACK_THREAD_ID }, signal);
      const now = clock.nowMs();
      if (last.httpStatus === 200 && last.data !== undefined && holds(last.data)) {
        note(`${name}: yes after ${((now - start) / 1000).toFixed(1)}s (${describeCall(last)})`);
        conditions.push({ name, kind, stage, query, op: '<=', threshold: this.o.recoveryTimeoutMs / 1000, observed: (now - start) / 1000, sampleCount: 1, status: 'passed' });
        return true;
      }
      if (now >= deadline) break;
      await clock.sleep(Math.min(this.o.pollIntervalMs, deadline - now), signal);
    }
    note(`${name}: NO (${describeCall(last)})`);
    conditions.push({ name, kind, stage, query, op: '<=', threshold: this.o.recoveryTimeoutMs / 1000, observed: null, sampleCount: 1, status: 'failed', detail: `last answer: ${describeCall(last)}` });
    return false;
  }

  private async awaitSync(name: string, kind: ConditionResult['kind'], stage: string, conditions: ConditionResult[], note: Note, signal: AbortSignal): Promise<boolean> {
    const { clock } = this.o;
    const start = clock.nowMs();
    const deadline = start + this.o.recoveryTimeoutMs;
    const query = `probes ${this.o.syncProbes.join(', ')} succeed`;
    let rounds: ProbeRound[] = [];
    for (;;) {
      rounds = await this.o.runProbes(this.o.syncProbes, signal);
      const now = clock.nowMs();
      if (rounds.length === this.o.syncProbes.length && rounds.every((r) => r.ok)) {
        note(`${name}: yes (${rounds.map((r) => `${r.probe} ok`).join(', ')})`);
        conditions.push({ name, kind, stage, query, op: '<=', threshold: this.o.recoveryTimeoutMs / 1000, observed: (now - start) / 1000, sampleCount: rounds.length, status: 'passed' });
        return true;
      }
      if (now >= deadline) break;
      await clock.sleep(Math.min(this.o.pollIntervalMs, deadline - now), signal);
    }
    const bad = rounds.filter((r) => !r.ok).map((r) => `${r.probe} ${r.reason}`);
    note(`${name}: NO (${bad.join(', ') || 'no probe ran'})`);
    conditions.push({ name, kind, stage, query, op: '<=', threshold: this.o.recoveryTimeoutMs / 1000, observed: null, sampleCount: rounds.length, status: 'failed', detail: bad.join(', ') || 'no probe ran' });
    return false;
  }
}
