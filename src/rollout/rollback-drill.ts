/**
 * RoutingRollbackDrill: production's rollback drill, run by the sentinel against the live control
 * service instead of the operators' gcloud traffic script (OpenAgents
 * `scripts/local-ci.sh:233-247` at 9b2b978949 exits 1 unless two revision variables are set).
 *
 * It rolls the session user back to the `control_service` driver through the control's own
 * rollback path, a runtime-routing override (`POST /api/v1/control/runtime-routing/override`,
 * `apps/openagents.com/service/src/runtime_admin.rs:288-378`; the decision honours a user
 * override before any canary, `runtime_routing.rs:136-301`), and checks, within
 * `rollout.rollback_drill.recovery_timeout` each way:
 *
 *   1. routing: evaluate answers `driver: control_service` once the override is set;
 *   2. sync: the sync probes (delivery, resume) succeed while rolled back;
 *   3. routing returns to the driver it had before once the override is restored;
 *   4. sync: the probes succeed again afterwards.
 *
 * The override is the drill's fault: journaled (intent before, outcome after) and always
 * restored, including by the next `--resume` after a crash. Its evidence is a drill evidence
 * directory (`rollback-drill/`: results.jsonl, run.json, SUMMARY.md, manifest).
 */
import type { ConditionResult, FaultRecord, ScenarioResult } from '../drills/index.js';
import type { Clock } from '../time/index.js';
import { formatDurationMs } from '../time/index.js';
import type { ProbeRound, RollbackDrill, RollbackDrillResult } from './rollout-deps.js';
import type { RolloutJournal } from './rollout-journal.js';
import type { RoutingCall, RoutingClient } from './routing-client.js';

/** ROLLBACK_THREAD_ID is the thread the drill evaluates routing for. */
export const ROLLBACK_THREAD_ID = 'sentinel-rollback-drill';

/** RollbackEvidenceWriter seals the drill's evidence directory and returns its path. */
export type RollbackEvidenceWriter = (input: { readonly dir: string; readonly scenario: ScenarioResult; readonly startedMs: number; readonly endedMs: number }) => Promise<string>;

/** RoutingRollbackDrillOptions wire the drill. */
export interface RoutingRollbackDrillOptions {
  readonly routing: RoutingClient;
  /** userId is the session user's id (config, or the subject of a minted sync token). */
  readonly userId: (signal: AbortSignal) => Promise<string>;
  /** runProbes runs the sync probes once now. */
  readonly runProbes: (names: readonly string[], signal: AbortSignal) => Promise<ProbeRound[]>;
  readonly syncProbes: readonly string[];
  readonly clock: Clock;
  readonly recoveryTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly writeEvidence: RollbackEvidenceWriter;
}

interface PreviousOverride {
  readonly driver: string;
  readonly isActive: boolean;
}

function describeCall(c: RoutingCall): string {
  return c.error ? `no answer (${c.error})` : `HTTP ${c.httpStatus}${c.data ? ` driver=${String(c.data.driver)} reason=${String(c.data.reason)}` : ''}`;
}

/** RoutingRollbackDrill implements RollbackDrill. */
export class RoutingRollbackDrill implements RollbackDrill {
  readonly description: string;

  constructor(private readonly o: RoutingRollbackDrillOptions) {
    this.description = `rollback drill: force control_service for the session user (runtime-routing override), then restore; routing and sync (${o.syncProbes.join(', ')}) must recover within ${formatDurationMs(o.recoveryTimeoutMs)} each way`;
  }

  async run(input: { readonly journal: RolloutJournal; readonly outputDir: string; readonly signal: AbortSignal }): Promise<RollbackDrillResult> {
    const { clock } = this.o;
    const { journal, signal } = input;
    const startedMs = clock.nowMs();
    const log: string[] = [];
    const conditions: ConditionResult[] = [];
    const stages: Array<{ name: string; status: 'passed' | 'failed' | 'error'; duration_seconds: number; reason?: string }> = [];
    const reasons: string[] = [];
    let override: FaultRecord | undefined;
    let restored = true;
    const note = (line: string): void => {
      log.push(`${new Date(clock.nowMs()).toISOString()} ${line}`);
    };
    const finish = async (status: 'passed' | 'failed' | 'error'): Promise<RollbackDrillResult> => {
      const endedMs = clock.nowMs();
      const scenario: ScenarioResult = {
        scenario: 'rollback-drill',
        status,
        duration_seconds: (endedMs - startedMs) / 1000,
        started_at: new Date(startedMs).toISOString(),
        faults: override ? [override] : [],
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
      return { status: passed ? 'passed' : 'failed', detail: passed ? `forced control_service and restored; sync held both ways` : reasons.join('; ') || 'failed', log, ...(evidenceDir ? { evidenceDir } : {}) };
    };

    let userId: string;
    try {
      userId = await this.o.userId(signal);
    } catch (err) {
      reasons.push(`cannot tell the session user's id: ${(err as Error).message}; set rollout.rollback_drill.user_id`);
      return finish('error');
    }
    const status = await this.o.routing.status(signal);
    if (!status.ok) {
      reasons.push(`runtime-routing status not reachable (${status.problem})`);
      return finish('error');
    }
    if (!status.status.overridesEnabled) {
      reasons.push('runtime-routing overrides are disabled (overrides_enabled: false): the override rollback path cannot take effect');
      note(reasons[reasons.length - 1]);
      return finish('failed');
    }
    const existing = status.status.overrides.find((o) => o.scope_type === 'user' && o.scope_id === userId);
    const previous: PreviousOverride | undefined = existing && typeof existing.driver === 'string' ? { driver: existing.driver, isActive: existing.is_active !== false } : undefined;
    const before = await this.o.routing.evaluate({ thread_id: ROLLBACK_THREAD_ID }, signal);
    note(`before: evaluate ${describeCall(before)}`);
    if (before.httpStatus !== 200 || typeof before.data?.driver !== 'string') {
      reasons.push(`evaluate before the drill answered ${describeCall(before)}`);
      return finish('error');
    }
    const baselineDriver = before.data.driver;

    // Stage 1: force control_service.
    const forceStart = clock.nowMs();
    const seq = journal.intent(clock.nowMs(), 'set_override', { scope_type: 'user', scope_id: userId, ...(previous ? { previous_driver: previous.driver, previous_active: previous.isActive } : {}) });
    const set = await this.o.routing.override({ scope_type: 'user', scope_id: userId, driver: 'control_service', is_active: true, reason: 'sentinel rollback drill' }, signal);
    journal.outcome(clock.nowMs(), seq, set.httpStatus === 200, set.httpStatus === 200 ? undefined : describeCall(set));
    note(`override control_service: ${describeCall(set)}`);
    // Recorded before checking the answer: a lost answer may still have set it.
    override = { stage: 'force', proxy: 'control', type: 'routing_override', addedAtMs: forceStart, removed: false };
    restored = false;
    let failed = false;
    if (set.httpStatus !== 200) {
      reasons.push(`the override was refused: ${describeCall(set)}`);
      failed = true;
    } else {
      const forced = await this.awaitDriver('control_service', `routing forced to control_service within ${formatDurationMs(this.o.recoveryTimeoutMs)}`, 'expect', 'force', conditions, note, signal);
      const sync = await this.awaitSync(`sync probes healthy while rolled back`, 'expect', 'force', conditions, note, signal);
      if (!forced || !sync) failed = true;
      if (!forced) reasons.push(`routing did not move to control_service within ${formatDurationMs(this.o.recoveryTimeoutMs)}`);
      if (!sync) reasons.push('sync probes failed while rolled back');
    }
    stages.push({ name: 'force', status: failed ? 'failed' : 'passed', duration_seconds: (clock.nowMs() - forceStart) / 1000, ...(failed ? { reason: reasons[reasons.length - 1] } : {}) });

    // Stage 2: restore, whatever happened.
    const restoreStart = clock.nowMs();
    restored = await this.restore({ scope_id: userId, ...(previous ? { previous_driver: previous.driver, previous_active: previous.isActive } : {}) }, journal, signal, note);
    override = { ...override, ...(restored ? { removedAtMs: clock.nowMs() } : {}), removed: restored };
    if (!restored) reasons.push('the override could not be restored; restore it by hand (POST /api/v1/control/runtime-routing/override with is_active false)');
    let restoreFailed = !restored;
    if (restored) {
      const back = await this.awaitDriver(baselineDriver, `routing back to ${baselineDriver} within ${formatDurationMs(this.o.recoveryTimeoutMs)}`, 'recovery', 'restore', conditions, note, signal);
      const sync = await this.awaitSync('sync probes healthy after restoring', 'recovery', 'restore', conditions, note, signal);
      if (!back) reasons.push(`routing did not return to ${baselineDriver} within ${formatDurationMs(this.o.recoveryTimeoutMs)}`);
      if (!sync) reasons.push('sync probes failed after restoring');
      restoreFailed = !back || !sync;
    }
    stages.push({ name: 'restore', status: restoreFailed ? 'failed' : 'passed', duration_seconds: (clock.nowMs() - restoreStart) / 1000, ...(restoreFailed ? { reason: reasons[reasons.length - 1] } : {}) });
    return finish(failed || restoreFailed ? 'failed' : 'passed');
  }

  async undo(detail: Readonly<Record<string, unknown>>, journal: RolloutJournal, signal: AbortSignal): Promise<void> {
    const ok = await this.restore(detail, journal, signal, () => undefined);
    if (!ok) throw new Error('a routing override left by an interrupted rollback drill could not be restored; restore it by hand before resuming');
  }

  /** restore puts the user's override back as it was (or inactive), journaled. */
  private async restore(detail: Readonly<Record<string, unknown>>, journal: RolloutJournal, signal: AbortSignal, note: (line: string) => void): Promise<boolean> {
    const { clock } = this.o;
    const scopeId = String(detail.scope_id ?? '');
    const body = typeof detail.previous_driver === 'string'
      ? { scope_type: 'user', scope_id: scopeId, driver: detail.previous_driver, is_active: detail.previous_active !== false, reason: 'sentinel rollback drill: restore' }
      : { scope_type: 'user', scope_id: scopeId, driver: 'control_service', is_active: false, reason: 'sentinel rollback drill: restore' };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const seq = journal.intent(clock.nowMs(), 'restore_override', { ...detail });
      const res = await this.o.routing.override(body, signal);
      journal.outcome(clock.nowMs(), seq, res.httpStatus === 200, res.httpStatus === 200 ? undefined : describeCall(res));
      note(`restore override (attempt ${attempt}): ${describeCall(res)}`);
      if (res.httpStatus === 200) return true;
      await clock.sleep(Math.min(this.o.pollIntervalMs, 1000 * attempt), signal);
    }
    return false;
  }

  private async awaitDriver(driver: string, name: string, kind: ConditionResult['kind'], stage: string, conditions: ConditionResult[], note: (l: string) => void, signal: AbortSignal): Promise<boolean> {
    const { clock } = this.o;
    const start = clock.nowMs();
    const deadline = start + this.o.recoveryTimeoutMs;
    let last: RoutingCall | undefined;
    for (;;) {
      last = await this.o.routing.evaluate({ thread_id: ROLLBACK_THREAD_ID }, signal);
      const now = clock.nowMs();
      if (last.httpStatus === 200 && last.data?.driver === driver) {
        note(`${name}: yes after ${((now - start) / 1000).toFixed(1)}s (${describeCall(last)})`);
        conditions.push({ name, kind, stage, query: `POST /api/v1/control/runtime-routing/evaluate driver == ${driver}`, op: '<=', threshold: this.o.recoveryTimeoutMs / 1000, observed: (now - start) / 1000, sampleCount: 1, status: 'passed' });
        return true;
      }
      if (now >= deadline) break;
      await clock.sleep(Math.min(this.o.pollIntervalMs, deadline - now), signal);
    }
    note(`${name}: NO (${describeCall(last)})`);
    conditions.push({ name, kind, stage, query: `POST /api/v1/control/runtime-routing/evaluate driver == ${driver}`, op: '<=', threshold: this.o.recoveryTimeoutMs / 1000, observed: null, sampleCount: 1, status: 'failed', detail: `last answer: ${describeCall(last)}` });
    return false;
  }

  private async awaitSync(name: string, kind: ConditionResult['kind'], stage: string, conditions: ConditionResult[], note: (l: string) => void, signal: AbortSignal): Promise<boolean> {
    const { clock } = this.o;
    const start = clock.nowMs();
    const deadline = start + this.o.recoveryTimeoutMs;
    let rounds: ProbeRound[] = [];
    for (;;) {
      rounds = await this.o.runProbes(this.o.syncProbes, signal);
      const now = clock.nowMs();
      if (rounds.length > 0 && rounds.every((r) => r.ok)) {
        note(`${name}: yes (${rounds.map((r) => `${r.probe} ok`).join(', ')})`);
        conditions.push({ name, kind, stage, query: `probes ${this.o.syncProbes.join(', ')} succeed`, op: '<=', threshold: this.o.recoveryTimeoutMs / 1000, observed: (now - start) / 1000, sampleCount: rounds.length, status: 'passed' });
        return true;
      }
      if (now >= deadline) break;
      await clock.sleep(Math.min(this.o.pollIntervalMs, deadline - now), signal);
    }
    const bad = rounds.filter((r) => !r.ok).map((r) => `${r.probe} ${r.reason}`);
    note(`${name}: NO (${bad.join(', ') || 'no probe ran'})`);
    conditions.push({ name, kind, stage, query: `probes ${this.o.syncProbes.join(', ')} succeed`, op: '<=', threshold: this.o.recoveryTimeoutMs / 1000, observed: null, sampleCount: rounds.length, status: 'failed', detail: bad.join(', ') || 'no probe ran' });
    return false;
  }
}
