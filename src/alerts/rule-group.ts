/**
 * rule-group: Prometheus' rules.Group minus the periodic loop (see group-runner.ts). One
 * evaluation runs every rule in file order at the same `evalTimeMs`, commits each rule's output
 * before the next rule runs (so later rules read earlier ones), writes stale markers for series
 * a rule produced last time but not now, and records each rule's health: a failing rule does not
 * stop the group.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { labelsKey } from '../store/labels-key.js';
import type { Appender, Labels } from '../store/index.js';
import { AlertingRule } from './alerting-rule.js';
import { RecordingRule } from './recording-rule.js';
import type { Rule, QueryFn, RuleHealth } from './rule.js';
import type { RuleGroupDefinition } from './rule-file.js';

/** Appendable hands out appenders (a SampleStore is one). */
export interface Appendable {
  appender(): Appender;
}

/** RuleGroupOptions define one group and its collaborators. */
export interface RuleGroupOptions {
  readonly name: string;
  /** file is the rule file the group came from; (file, name) identifies the group. */
  readonly file: string;
  readonly intervalMs: number;
  /** limit bounds each rule's alerts/series (0: none). */
  readonly limit?: number;
  readonly rules: readonly Rule[];
  readonly query: QueryFn;
  readonly appendable: Appendable;
  readonly logger?: Logger;
  /** onRuleEvaluated runs after each rule (e.g. to hand alerts to the notifiers). */
  readonly onRuleEvaluated?: (rule: Rule, evalTimeMs: number) => void;
}

/** RuleGroupFromDefinitionOptions are the collaborators of a group built from a rule file. */
export interface RuleGroupFromDefinitionOptions {
  readonly query: QueryFn;
  readonly appendable: Appendable;
  /** defaultIntervalMs is used when the group has no `interval` of its own. */
  readonly defaultIntervalMs: number;
  readonly externalLabels?: Labels;
  readonly externalURL?: string;
  /** restored: whether alerting rules write ALERTS/ALERTS_FOR_STATE from the first evaluation. */
  readonly restored?: boolean;
  readonly logger?: Logger;
  readonly onRuleEvaluated?: (rule: Rule, evalTimeMs: number) => void;
}

/** RuleFailure is one rule that failed in one evaluation. */
export interface RuleFailure {
  readonly rule: Rule;
  readonly error: Error;
}

/** GroupEvalResult summarises one evaluation of a group. */
export interface GroupEvalResult {
  readonly evalTimeMs: number;
  readonly failures: readonly RuleFailure[];
  readonly samplesWritten: number;
  readonly outOfOrder: number;
}

function isCanceled(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'SENTINEL_QUERY_CANCELED';
}

function nameAndLabels(rule: Rule): string {
  return `${rule.kind}\u0000${rule.name}\u0000${labelsKey(rule.labels)}`;
}

/** RuleGroup evaluates its rules in order at one timestamp and owns their output series. */
export class RuleGroup {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number;
  readonly limit: number;
  readonly rules: readonly Rule[];
  /** lastEvalTimestampMs is the evaluation timestamp (slot) of the last evaluation (0: never). */
  lastEvalTimestampMs = 0;
  /** evaluationDurationMs is how long the last evaluation took, measured, not from the slot. */
  evaluationDurationMs = 0;
  private readonly query: QueryFn;
  private readonly appendable: Appendable;
  private readonly logger: Logger;
  private readonly onRuleEvaluated: ((rule: Rule, evalTimeMs: number) => void) | undefined;
  /** seriesInPreviousEval[i] holds rule i's output series of the last successful evaluation. */
  private seriesInPreviousEval: Array<Map<string, Labels>>;
  /** staleSeries are series of rules removed by a reload, to be marked stale at the next evaluation. */
  private staleSeries: Labels[] = [];

  constructor(opts: RuleGroupOptions) {
    this.name = opts.name;
    this.file = opts.file;
    this.intervalMs = opts.intervalMs;
    this.limit = opts.limit ?? 0;
    this.rules = [...opts.rules];
    this.query = opts.query;
    this.appendable = opts.appendable;
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.onRuleEvaluated = opts.onRuleEvaluated;
    this.seriesInPreviousEval = this.rules.map(() => new Map());
  }

  /** fromDefinition builds a group (and its rules) from a validated rule-file group. */
  static fromDefinition(def: RuleGroupDefinition, opts: RuleGroupFromDefinitionOptions): RuleGroup {
    const rules: Rule[] = def.rules.map((r) =>
      r.kind === 'alerting'
        ? new AlertingRule({
            name: r.name, expr: r.expr, forMs: r.forMs, keepFiringForMs: r.keepFiringForMs, labels: r.labels,
            annotations: r.annotations, externalLabels: opts.externalLabels, externalURL: opts.externalURL, restored: opts.restored,
          })
        : new RecordingRule({ name: r.name, expr: r.expr, labels: r.labels }),
    );
    return new RuleGroup({
      name: def.name, file: def.file, intervalMs: def.intervalMs || opts.defaultIntervalMs, limit: def.limit, rules,
      query: opts.query, appendable: opts.appendable, logger: opts.logger, onRuleEvaluated: opts.onRuleEvaluated,
    });
  }

  /** alertingRules are the group's alerting rules, in order. */
  alertingRules(): AlertingRule[] {
    return this.rules.filter((r): r is AlertingRule => r instanceof AlertingRule);
  }

  /**
   * eval evaluates every rule at `evalTimeMs` (through `query`, default the group's own). Rule
   * failures are recorded on the rule (health, lastError), logged and returned; they never throw
   * out of here.
   */
  eval(evalTimeMs: number, signal?: AbortSignal, query: QueryFn = this.query): GroupEvalResult {
    const started = performance.now();
    const failures: RuleFailure[] = [];
    let samplesWritten = 0;
    let outOfOrder = 0;
    this.rules.forEach((rule, i) => {
      if (signal?.aborted) return;
      const ruleStarted = performance.now();
      let output;
      try {
        output = rule.eval({ evalTimeMs, query, limit: this.limit, signal });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        rule.recordEvaluation({ evalTimeMs, durationMs: performance.now() - ruleStarted, error });
        failures.push({ rule, error });
        // Canceled queries are expected at shutdown; everything else is worth a warning.
        if (!isCanceled(err)) this.logger.warn({ group: this.name, rule: rule.name, index: i, err: error.message }, 'evaluating rule failed');
        this.onRuleEvaluated?.(rule, evalTimeMs);
        return;
      }
      const app = this.appendable.appender();
      const returned = new Map<string, Labels>();
      for (const s of output) {
        app.append(s.labels, evalTimeMs, s.v);
        returned.set(labelsKey(s.labels), s.labels);
      }
      for (const [key, lset] of this.seriesInPreviousEval[i]) {
        if (!returned.has(key)) app.appendStale(lset, evalTimeMs);
      }
      const res = app.commit();
      samplesWritten += res.appended;
      outOfOrder += res.outOfOrder;
      this.seriesInPreviousEval[i] = returned;
      rule.recordEvaluation({ evalTimeMs, durationMs: performance.now() - ruleStarted, error: undefined });
      this.onRuleEvaluated?.(rule, evalTimeMs);
    });
    if (this.staleSeries.length > 0) {
      const app = this.appendable.appender();
      for (const s of this.staleSeries) app.appendStale(s, evalTimeMs);
      app.commit();
      this.staleSeries = [];
    }
    this.lastEvalTimestampMs = evalTimeMs;
    this.evaluationDurationMs = performance.now() - started;
    return { evalTimeMs, failures, samplesWritten, outOfOrder };
  }

  /**
   * copyStateFrom takes over state from the group this one replaces on reload (Prometheus'
   * Group.CopyState): rules are matched by kind, name and labels, in order; matched rules keep
   * their output-series memory and alerts; series of rules that disappeared go stale next time.
   */
  copyStateFrom(old: RuleGroup): void {
    this.lastEvalTimestampMs = old.lastEvalTimestampMs;
    this.evaluationDurationMs = old.evaluationDurationMs;
    const ruleMap = new Map<string, number[]>();
    old.rules.forEach((r, fi) => {
      const k = nameAndLabels(r);
      ruleMap.set(k, [...(ruleMap.get(k) ?? []), fi]);
    });
    this.rules.forEach((rule, i) => {
      const k = nameAndLabels(rule);
      const indexes = ruleMap.get(k) ?? [];
      if (indexes.length === 0) return;
      const fi = indexes[0];
      this.seriesInPreviousEval[i] = old.seriesInPreviousEval[fi];
      ruleMap.set(k, indexes.slice(1));
      const from = old.rules[fi];
      if (rule instanceof AlertingRule && from instanceof AlertingRule) rule.copyStateFrom(from);
    });
    this.staleSeries = [...old.staleSeries];
    for (const indexes of ruleMap.values()) {
      for (const fi of indexes) this.staleSeries.push(...old.seriesInPreviousEval[fi].values());
    }
  }

  /**
   * markAllStale writes stale markers for every series the group wrote last time, at `evalTimeMs`
   * (the group was removed by a reload: its series must vanish now, not after the lookback).
   */
  markAllStale(evalTimeMs: number): void {
    const app = this.appendable.appender();
    for (const prev of this.seriesInPreviousEval) for (const lset of prev.values()) app.appendStale(lset, evalTimeMs);
    for (const s of this.staleSeries) app.appendStale(s, evalTimeMs);
    app.commit();
    this.seriesInPreviousEval = this.rules.map(() => new Map());
    this.staleSeries = [];
  }

  /** health is 'err' when any rule failed its last evaluation, 'ok' when all passed, else 'unknown'. */
  health(): RuleHealth {
    if (this.rules.some((r) => r.health === 'err')) return 'err';
    if (this.rules.length > 0 && this.rules.every((r) => r.health === 'ok')) return 'ok';
    return 'unknown';
  }
}
