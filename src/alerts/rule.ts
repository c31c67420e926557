/**
 * rule: the interface every rule implements (Prometheus' rules.Rule). A rule evaluates its
 * expression at an explicit `evalTimeMs` through an injected query function and returns the
 * samples to write; the group writes them, tracks staleness and records the rule's health.
 */
import type { QueryResult } from '../promql/index.js';
import type { Labels } from '../store/index.js';

/** QueryFn runs an instant query at `tMs` (the engine over a Queryable, or a test double). */
export type QueryFn = (expr: string, tMs: number, signal?: AbortSignal) => QueryResult;

/** RuleHealths is the closed vocabulary of a rule's health, as Prometheus' API spells it. */
export const RuleHealths = ['unknown', 'ok', 'err'] as const;
export type RuleHealth = (typeof RuleHealths)[number];

/** OutputSample is one sample a rule evaluation produces, to be written at `t`. */
export interface OutputSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

/** RuleEvalContext is what one evaluation of one rule gets from its group. */
export interface RuleEvalContext {
  readonly evalTimeMs: number;
  readonly query: QueryFn;
  /** limit is the group's `limit` (0: none). */
  readonly limit: number;
  readonly signal?: AbortSignal;
}

/** Rule is a recording or alerting rule. */
export interface Rule {
  readonly kind: 'alerting' | 'recording';
  readonly name: string;
  readonly expr: string;
  /** labels are the rule's configured labels (templates unexpanded for alerting rules). */
  readonly labels: Labels;
  /** eval evaluates the rule; it throws on failure (the group records it and carries on). */
  eval(ctx: RuleEvalContext): OutputSample[];
  readonly health: RuleHealth;
  readonly lastError: Error | undefined;
  /** lastEvaluationMs is the evaluation timestamp of the last evaluation (0: never). */
  readonly lastEvaluationMs: number;
  /** evaluationDurationMs is how long the last evaluation took. */
  readonly evaluationDurationMs: number;
  /** recordEvaluation stores the outcome of an evaluation (called by the group). */
  recordEvaluation(outcome: { evalTimeMs: number; durationMs: number; error: Error | undefined }): void;
}

/**
 * RuleEvaluationRecord keeps the outcome of a rule's last evaluation (health, error, time,
 * duration), the bookkeeping every rule kind shares; rules extend it.
 */
export abstract class RuleEvaluationRecord {
  private healthValue: RuleHealth = 'unknown';
  private lastErrorValue: Error | undefined;
  private lastEvaluationValue = 0;
  private durationValue = 0;

  get health(): RuleHealth {
    return this.healthValue;
  }

  get lastError(): Error | undefined {
    return this.lastErrorValue;
  }

  get lastEvaluationMs(): number {
    return this.lastEvaluationValue;
  }

  get evaluationDurationMs(): number {
    return this.durationValue;
  }

  recordEvaluation(outcome: { evalTimeMs: number; durationMs: number; error: Error | undefined }): void {
    this.lastEvaluationValue = outcome.evalTimeMs;
    this.durationValue = outcome.durationMs;
    this.lastErrorValue = outcome.error;
    this.healthValue = outcome.error ? 'err' : 'ok';
  }
}

/** vectorOf turns a query result into the samples of a rule (EngineQueryFunc's conversion). */
export function vectorOf(result: QueryResult, evalTimeMs: number): OutputSample[] {
  const v = result.value;
  if (v.type === 'vector') return v.samples.map((s) => ({ labels: s.labels, t: s.t, v: s.v }));
  if (v.type === 'scalar') return [{ labels: {}, t: evalTimeMs, v: v.v }];
  throw new RuleEvalError('rule result is not a vector or scalar');
}

/** RuleEvalError is a rule evaluation failure that is the rule's fault, not the engine's. */
export class RuleEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleEvalError';
  }
}
