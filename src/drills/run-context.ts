/**
 * RunContext: the state one drill run shares between its preflight, its stages and its evidence:
 * the journal, the conditions judged so far, every probe run it started, the stage windows, and
 * the observers. Measuring goes through `measureAt`, so every condition is evaluated the same way
 * (the PromQL engine, `$window`/`$drill`/`$stage`/`$run` substituted).
 */
import type { Span, Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { SampleStore } from '../store/index.js';
import type { Clock } from '../time/index.js';
import { formatDurationMs } from '../time/index.js';
import { measure } from './conditions.js';
import type { ConditionQueryFn, Measurement } from './conditions.js';
import type { FiringAlertsSource } from './critical-alerts.js';
import type { ConditionSpec, DrillSpec, StageSpec } from './drill-file.js';
import { substituteQueryVariables } from './drill-file.js';
import type { DrillEventHandler } from './drill-events.js';
import type { DrillProbes } from './drill-probes.js';
import type { ProbeRunRecord } from './exercise.js';
import type { FaultDriver } from './fault-driver.js';
import type { Journal } from './journal.js';
import type { ConditionResult } from './outcomes.js';

/** AlertCheck is where the preflight reads firing critical alerts, or why the check is skipped. */
export type AlertCheck = { readonly source: FiringAlertsSource } | { readonly skipped: string };

/** RunDeps are the runner's collaborators, defaults filled in. */
export interface RunDeps {
  readonly driver: FaultDriver;
  readonly store: Pick<SampleStore, 'select'>;
  /** query judges the conditions (the engine over the store, or an external query source). */
  readonly query: ConditionQueryFn;
  readonly alerts: AlertCheck;
  readonly probes: DrillProbes;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly events: readonly DrillEventHandler[];
  readonly evidenceRoot: string;
}

/** QueryVars are the values of a condition query's variables. */
export interface QueryVars {
  readonly window: string;
  readonly drill: string;
  readonly stage: string;
  readonly run: string;
}

/** StageWindow is when a stage ran, for the report's shading. */
export interface StageWindow {
  readonly name: string;
  readonly startMs: number;
  readonly faultsRemovedAtMs: number;
  /** recoveredAtMs is when the steady state returned, if it did. */
  readonly recoveredAtMs?: number;
  readonly endMs: number;
}

/** windowText turns a look-back in ms into a PromQL range: whole seconds, at least 1s. */
export function windowText(ms: number): string {
  return formatDurationMs(Math.max(1000, Math.ceil(ms / 1000) * 1000));
}

/** RunContext is one run's shared state. */
export class RunContext {
  readonly conditions: ConditionResult[] = [];
  readonly probeRuns: ProbeRunRecord[] = [];
  readonly windows: StageWindow[] = [];
  readonly skippedChecks: string[] = [];
  /** baselineMs is when the preflight's first probe round started: expectations look back to it. */
  baselineMs: number;
  /** runSpan is the run's span, the explicit parent of its phases' spans (no context manager needed). */
  runSpan: Span | undefined;

  constructor(
    readonly deps: RunDeps,
    readonly drill: DrillSpec,
    readonly runId: string,
    readonly dir: string,
    readonly journal: Journal,
    readonly signal: AbortSignal,
  ) {
    this.baselineMs = deps.clock.nowMs();
  }

  /** emit calls every observer; one that throws is logged, never allowed to change the run. */
  emit(call: (h: DrillEventHandler) => void): void {
    for (const h of this.deps.events) {
      try {
        call(h);
      } catch (err) {
        this.deps.logger.warn({ err }, 'a drill event observer failed');
      }
    }
  }

  /** vars are the query variables of phase `phase` looking back `windowMs`. */
  vars(phase: string, windowMs: number): QueryVars {
    return { window: windowText(windowMs), drill: this.drill.name, stage: phase, run: this.runId };
  }

  /** measureAt evaluates one condition at `tMs`. */
  measureAt(condition: ConditionSpec, vars: QueryVars, tMs: number): Promise<Measurement> {
    return measure(this.deps.query, condition, substituteQueryVariables(condition.query, vars), tMs);
  }

  /** record keeps a judged condition and tells the observers. */
  record(condition: ConditionResult, stage?: StageSpec): void {
    this.conditions.push(condition);
    this.emit((h) => h.measured?.(stage, condition));
  }

  /** recordRun keeps a probe run (journaling a cut-off one) and tells the observers. */
  recordRun(run: ProbeRunRecord, stage?: StageSpec): void {
    this.probeRuns.push(run);
    if (run.cutOff) this.journal.append({ type: 'event', atMs: run.endedAtMs, event: 'probe_run_cut_off', detail: { probe: run.probe, phase: run.phase, started_at_ms: run.startedAtMs } });
    this.emit((h) => h.probeRunFinished?.(stage, run));
  }
}

/** toConditionResult turns one measurement into a result line. */
export function toConditionResult(c: ConditionSpec, kind: ConditionResult['kind'], stage: string | undefined, m: Measurement, window: string, statusOverride?: ConditionResult['status']): ConditionResult {
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
