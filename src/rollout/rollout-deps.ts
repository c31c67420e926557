/**
 * The small interfaces a rollout runs through. The command line and the daemon each compose
 * them from their own parts (probe scheduler, store, alerts, drills); tests pass stand-ins where
 * the real part is not the point.
 */
import type { QueryFn } from '../drills/index.js';
import type { Clock } from '../time/index.js';
import type { RolloutJournal } from './rollout-journal.js';
import type { RolloutRecord } from './rollout-records.js';
import type { RoutingClient } from './routing-client.js';
import type { SloValues } from './slo-snapshot.js';

/** GateResult is one gate's outcome; `log` becomes `logs/gate-<name>.log`. */
export interface GateResult {
  readonly status: 'passed' | 'failed';
  /** detail is one line for SUMMARY.md saying what was checked and, when failed, why. */
  readonly detail: string;
  readonly log: readonly string[];
  /** evidence is a directory with more (a drill suite's evidence). */
  readonly evidence?: string;
}

/** RolloutGate is one gate of the set (provision, replay/resume, chaos, sync security). */
export interface RolloutGate {
  /** name is the scripts' gate name, e.g. `spacetime-provision-staging`. */
  readonly name: string;
  /** command says what the sentinel runs for it (the execution table's detail column). */
  readonly command: string;
  run(signal: AbortSignal): Promise<GateResult>;
}

/** ProbeRound is one probe run during a soak. */
export interface ProbeRound {
  readonly probe: string;
  readonly ok: boolean;
  /** reason is the probe's reason class (`ok`, `timeout`, `gap`, ...). */
  readonly reason: string;
}

/** SoakWatch is what a soak watches: probe runs, firing critical alerts, the sentinel's own SLO values. */
export interface SoakWatch {
  /** runProbes runs the named probes once now and reports each run. */
  runProbes(names: readonly string[], signal: AbortSignal): Promise<ProbeRound[]>;
  /** criticalAlerts lists the critical alerts firing now; it throws when it cannot tell (fail closed). */
  criticalAlerts(tMs: number, signal: AbortSignal): Promise<string[]>;
  /** query evaluates the SLO queries over the sentinel's samples. */
  readonly query: QueryFn;
}

/** SnapshotSource fetches the two service snapshots with the right credentials; it throws on failure. */
export interface SnapshotSource {
  runtimeMetrics(signal: AbortSignal): Promise<unknown>;
  controlStatus(signal: AbortSignal): Promise<unknown>;
}

/** SloUrlFetch is one fetch of an external SLO snapshot URL (`--slo-snapshot-url`). */
export type SloUrlFetch = { readonly ok: true; readonly body: string; readonly values: SloValues } | { readonly ok: false; readonly error: string };

/** SloUrlSource fetches the external snapshot as the script does (plain GET, non-2xx is a failure). */
export interface SloUrlSource {
  readonly url: string;
  fetch(signal: AbortSignal): Promise<SloUrlFetch>;
}

/** Confirmation is an operator's word that a cohort is in effect, when routing status cannot show it. */
export interface Confirmation {
  readonly atMs: number;
  readonly by?: string;
}

/** Confirmations are read while waiting for a cohort to take effect. */
export interface Confirmations {
  confirmed(cohortIndex: number, cohort: number): Confirmation | undefined;
}

/** ApplyResult is the outcome of applying one cohort's env plan. */
export interface ApplyResult {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly log: string;
}

/** CohortApplier applies a cohort's env plan (the sentinel's `--apply-command`; the scripts never apply it). */
export interface CohortApplier {
  readonly description: string;
  apply(cohort: number, env: Readonly<Record<string, string>>, signal: AbortSignal): Promise<ApplyResult>;
}

/** RollbackDrillResult is the rollback drill's outcome. */
export interface RollbackDrillResult {
  readonly status: 'passed' | 'failed';
  readonly detail: string;
  readonly log: readonly string[];
  /** evidenceDir holds the drill's own evidence. */
  readonly evidenceDir?: string;
}

/** RollbackDrill is production's rollback drill; side effects go through `journal` intents. */
export interface RollbackDrill {
  readonly description: string;
  run(input: { readonly journal: RolloutJournal; readonly outputDir: string; readonly signal: AbortSignal }): Promise<RollbackDrillResult>;
  /** undo reverts a side effect a crashed run left behind (a pending override in the journal). */
  undo(detail: Readonly<Record<string, unknown>>, journal: RolloutJournal, signal: AbortSignal): Promise<void>;
}

/** SoakTick is what a progress view shows during a soak. */
export interface SoakTick {
  readonly cohort: number;
  readonly leftMs: number;
  readonly sentinel: SloValues;
  readonly url?: SloValues;
  readonly failingProbes: readonly string[];
  readonly firing: readonly string[];
}

/** WaitTick is what a progress view shows while a cohort is not yet in effect. */
export interface WaitTick {
  readonly cohort: number;
  readonly leftMs: number;
  /** observed is what routing status shows, when it answers. */
  readonly observed?: { readonly user: number; readonly autopilot: number };
  /** instruction tells the operator what to do (apply the plan, or confirm by hand). */
  readonly instruction: string;
}

/** RolloutEvents observe a rollout (progress view, the daemon's status); every callback is optional. */
export interface RolloutEvents {
  started?(info: { readonly outputDir: string; readonly kind: string; readonly cohorts: readonly number[]; readonly resumed: boolean }): void;
  stepStarted?(step: string): void;
  recorded?(record: RolloutRecord): void;
  waiting?(tick: WaitTick): void;
  soakTick?(tick: SoakTick): void;
  finished?(result: { readonly decision: 'allow' | 'block'; readonly outputDir: string; readonly reasons: readonly string[] }): void;
}

/** RolloutSettings are the sentinel's own rollout settings (config `rollout.*`). */
export interface RolloutSettings {
  readonly cohortEffectTimeoutMs: number;
  readonly statusPollIntervalMs: number;
  readonly soakProbes: readonly string[];
  readonly soakProbeIntervalMs: number;
  readonly failedProbeStreak: number;
  /** sloWindowMs is the baseline's window. */
  readonly sloWindowMs: number;
  /** gateMaxAgeMs: a resumed rollout keeps gate results younger than this, and reruns the others. */
  readonly gateMaxAgeMs: number;
}

/** RolloutRunnerDeps wire one rollout. */
export interface RolloutRunnerDeps {
  readonly clock: Clock;
  readonly routing: RoutingClient;
  readonly snapshots: SnapshotSource;
  readonly gates: readonly RolloutGate[];
  readonly watch: SoakWatch;
  readonly sloUrl?: SloUrlSource;
  readonly confirmations: Confirmations;
  readonly applier?: CohortApplier;
  readonly rollbackDrill?: RollbackDrill;
  readonly events?: readonly RolloutEvents[];
  readonly settings: RolloutSettings;
}
