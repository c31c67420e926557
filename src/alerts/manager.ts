/**
 * manager: the rule manager of `sentinel run` (Prometheus' rules.Manager plus the notifier
 * hand-off of `sendAlerts`). It loads rule files into `RuleGroup`s (`rule-group.ts`), gives
 * each group a `GroupRunner`, and after every evaluation hands the alerts that need sending to
 * the notifiers and saves the alert state. Reload keeps the old rules when the new files are
 * invalid and moves alert state across with `copyStateFrom`.
 */
import pino from 'pino';
import { trace } from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import { withSpan } from '../telemetry/index.js';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { RuleFileError } from '../errors.js';
import type { Queryable } from '../promql/index.js';
import { labelsKey } from '../store/index.js';
import type { Labels } from '../store/index.js';
import type { Clock } from '../time/index.js';
import type { Alert, AlertState } from './alerting-rule.js';
import { AlertingRule } from './alerting-rule.js';
import { AlertStateStore } from './alert-state-store.js';
import type { AlertStateSnapshot, PersistedAlert, PersistedGroup } from './alert-state-store.js';
import { GroupRunner } from './group-runner.js';
import type { NotifiableAlert, Notifier } from './notifier.js';
import { loadRuleFiles } from './rule-file.js';
import type { AlertingRuleDefinition, ExprChecker, RecordingRuleDefinition } from './rule-file.js';
import { RuleGroup } from './rule-group.js';
import type { Appendable } from './rule-group.js';
import type { QueryFn, RuleHealth } from './rule.js';
import { prefetchedQuery } from './prefetched-query.js';
import type { SourceQueryFn } from './prefetched-query.js';

/** DrillLabels are the labels an alert raised during a drill stage carries. */
export interface DrillLabels {
  readonly drill: string;
  readonly stage: string;
}

/** RuleManagerOptions configure the manager; only `clock`-driven runners read time. */
export interface RuleManagerOptions {
  /** resolveFiles lists the rule files (re-run on every reload, so new files are picked up). */
  readonly resolveFiles: () => readonly string[] | Promise<readonly string[]>;
  /** store is read by the queries and receives rule output (recording rules, ALERTS, ALERTS_FOR_STATE). */
  readonly store: Queryable & Appendable;
  /** query runs an instant query at an evaluation time (the PromQL engine over `store`). */
  readonly query: QueryFn;
  /**
   * sourceQuery, when set, is where the rules' expressions are evaluated instead (an external
   * Prometheus): each group evaluation first asks it for every rule's expression at the
   * evaluation time, then runs the group on those answers (`prefetchedQuery`). A query it
   * cannot answer fails that rule (health `err`; its alerts neither fire nor resolve), as a
   * storage error does in Prometheus. null: the embedded `query`.
   */
  readonly sourceQuery?: SourceQueryFn | null;
  /**
   * checkExpr validates expressions at load time (the PromQL parser). Required: without it an
   * invalid expression would replace good rules on reload and only fail at evaluation.
   */
  readonly checkExpr: ExprChecker;
  /** formatExpr normalises an expression for `generatorURL` (PromQL's String()); identity by default. */
  readonly formatExpr?: (expr: string) => string;
  readonly clock: Clock;
  /** defaultIntervalMs is the interval of groups without their own (config `rules.evaluation_interval`). */
  readonly defaultIntervalMs: number;
  /** resendDelayMs is how often firing alerts are re-sent (default 1m, as `--rules.alert.resend-delay`). */
  readonly resendDelayMs?: number;
  /**
   * outageToleranceMs: saved pending alerts older than this are not restored, so a long outage
   * starts `for` afresh (default 1h, as `--rules.alert.for-outage-tolerance`).
   */
  readonly outageToleranceMs?: number;
  readonly externalLabels?: Labels;
  /** externalUrl is the sentinel's URL, the base of every alert's `generatorURL`. */
  readonly externalUrl?: string;
  readonly notifiers?: readonly Notifier[];
  /** stateFile is where alert state is saved (e.g. `<dataDir>/alerts/state.json`); none keeps it in memory. */
  readonly stateFile?: string;
  readonly registry: Registry;
  readonly logger?: Logger;
  /** tracer receives a `rules.group.evaluate` span per evaluation and an `alerts.notify` span per hand-off (default: the API's no-op). */
  readonly tracer?: Tracer;
}

/**
 * RuleSettings are what a configuration reload may change: the files, the query, the default
 * interval, the resend delay and the external labels and URL. The notifiers change through
 * `update`'s factory, the store and state file never.
 */
export type RuleSettings = Pick<RuleManagerOptions, 'resolveFiles' | 'query' | 'sourceQuery' | 'defaultIntervalMs' | 'resendDelayMs' | 'externalLabels' | 'externalUrl' | 'formatExpr'>;

/** PreparedRules are rule groups loaded and checked under new settings, not yet running (`prepare`). */
export interface PreparedRules {
  readonly settings: RuleSettings;
  readonly groups: readonly ManagedGroup[];
}

/** ReloadResult tells whether a reload took effect; on failure the old rules stay. */
export type ReloadResult = { readonly ok: true; readonly groups: number; readonly rules: number } | { readonly ok: false; readonly error: RuleFileError };

/** ManagedGroup is one loaded group and its loop (opaque outside the manager). */
export interface ManagedGroup {
  readonly key: string;
  readonly group: RuleGroup;
  readonly runner: GroupRunner;
}

/** RuleGroupView is one group for the HTTP API (`/api/v1/rules`). */
export interface RuleGroupView {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number;
  readonly limit: number;
  readonly lastEvaluationMs: number;
  readonly evaluationDurationMs: number;
  readonly rules: readonly RuleView[];
}

/** AlertView is one pending or firing alert for the HTTP API. */
export interface AlertView {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly state: Exclude<AlertState, 'inactive'>;
  readonly activeAtMs: number;
  readonly value: number;
  readonly keepFiringSinceMs?: number;
}

/** RuleHealthView is how a rule's last evaluations went, for the HTTP API. */
interface RuleHealthView {
  readonly health: RuleHealth;
  readonly lastError: string;
  readonly lastEvaluationMs: number;
  readonly evaluationDurationMs: number;
}

/** RuleView is one rule for the HTTP API: the rule as written (its line aside) and its health. */
export type RuleView =
  | (Omit<AlertingRuleDefinition, 'line'> &
      RuleHealthView & {
        readonly state: AlertState;
        readonly alerts: readonly AlertView[];
      })
  | (Omit<RecordingRuleDefinition, 'line'> & RuleHealthView);

/** definedOf drops the settings left undefined, so they keep their running (or default) values. */
function definedOf(settings: RuleSettings): Partial<RuleSettings> {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as Partial<RuleSettings>;
}

function groupKey(file: string, name: string): string {
  return `${file};${name}`;
}

function alertKey(a: Pick<Alert, 'labels' | 'activeAtMs'>): string {
  return `${labelsKey(a.labels)}@${a.activeAtMs}`;
}

/** goQueryEscape is Go's url.QueryEscape: space → '+', everything but [A-Za-z0-9-_.~] percent-encoded. */
export function goQueryEscape(s: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** generatorUrl is Prometheus' `<external URL>/graph?g0.expr=<escaped>&g0.tab=1`. */
export function generatorUrl(externalUrl: string, expr: string): string {
  return `${externalUrl.replace(/\/+$/, '')}/graph?g0.expr=${goQueryEscape(expr)}&g0.tab=1`;
}

/**
 * needsSending is Prometheus' `Alert.needsSending`: never pending alerts; a resolution not yet
 * sent; otherwise once `resendDelayMs` has passed since the last send.
 */
export function needsSending(a: Alert, evalTimeMs: number, resendDelayMs: number): boolean {
  if (a.state === 'pending') return false;
  if (a.resolvedAtMs > a.lastSentAtMs) return true;
  return a.lastSentAtMs + resendDelayMs < evalTimeMs;
}

/**
 * RuleManager runs every rule group on its own schedule and owns the notifiers' lifecycle. It
 * implements the daemon Component shape (`name`, `start`, `stop`, `isReady`).
 */
export class RuleManager {
  readonly name = 'rules';
  /** opts are replaced as a whole by `update` (a configuration reload); everything else reads them at use. */
  private opts: RuleManagerOptions & { resendDelayMs: number; outageToleranceMs: number };
  private readonly logger: Logger;
  private readonly tracer: Tracer;
  private readonly stateStore: AlertStateStore | undefined;
  private groups = new Map<string, ManagedGroup>();
  private isStarted = false;
  private isLoaded = false;
  private reloading: Promise<ReloadResult> | undefined;
  private drill: DrillLabels | undefined;
  /** drillLabelsByAlert remembers, per alert instance, the drill it was raised in. */
  private drillLabelsByAlert = new Map<string, DrillLabels>();
  private readonly metrics: {
    missed: Counter<'rule_group'>;
    evaluations: Counter<'rule_group'>;
    failures: Counter<'rule_group'>;
    duration: Gauge<'rule_group'>;
    reloads: Counter<'result'>;
  };

  constructor(options: RuleManagerOptions) {
    if (!(options.defaultIntervalMs > 0)) throw new RangeError(`RuleManager: defaultIntervalMs must be > 0, got ${options.defaultIntervalMs}`);
    this.opts = { resendDelayMs: 60_000, outageToleranceMs: 3600_000, ...options };
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.tracer = options.tracer ?? trace.getTracer('spacetime-sentinel');
    this.stateStore = options.stateFile ? new AlertStateStore({ path: options.stateFile, logger: this.logger }) : undefined;
    const registers = [options.registry];
    this.metrics = {
      missed: new Counter({ name: 'sentinel_rule_group_iterations_missed_total', help: 'Rule group evaluations skipped because the previous one overran or the process stalled.', labelNames: ['rule_group'], registers }),
      evaluations: new Counter({ name: 'sentinel_rule_group_iterations_total', help: 'Rule group evaluations started.', labelNames: ['rule_group'], registers }),
      failures: new Counter({ name: 'sentinel_rule_evaluation_failures_total', help: 'Rule evaluations that failed (the rule health turns err; the group carries on).', labelNames: ['rule_group'], registers }),
      duration: new Gauge({ name: 'sentinel_rule_group_last_duration_seconds', help: 'Duration of the last evaluation of each rule group, in seconds.', labelNames: ['rule_group'], registers }),
      reloads: new Counter({ name: 'sentinel_rules_reloads_total', help: 'Rule file reloads by result (success, failure; a failed reload keeps the old rules).', labelNames: ['result'], registers }),
    };
    const groups = (): ManagedGroup[] => [...this.groups.values()];
    new Gauge({
      name: 'sentinel_alerts',
      help: 'Alerts held by the rule manager, by state (pending, firing, inactive = resolved but still being notified).',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = { pending: 0, firing: 0, inactive: 0 };
        for (const g of groups()) for (const r of g.group.alertingRules()) for (const a of r.alerts()) counts[a.state] += 1;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
  }

  /** start loads the rule files (failing on invalid ones), restores saved alert state and starts the loops. */
  async start(): Promise<void> {
    if (this.isStarted) return;
    for (const n of this.opts.notifiers ?? []) await n.start();
    const groups = await this.buildGroups(this.opts);
    this.restoreState(groups);
    this.isStarted = true;
    this.install(groups, new Map());
    this.isLoaded = true;
  }

  /** isReady is true once the rules are loaded and their loops run. */
  isReady(): boolean {
    return this.isStarted && this.isLoaded;
  }

  /**
   * reload re-reads the rule files. When any is invalid the old groups keep running and the
   * error (every issue, with file:line:col) is returned; concurrent reloads share one run.
   */
  reload(): Promise<ReloadResult> {
    if (!this.reloading) {
      this.reloading = this.doReload().finally(() => {
        this.reloading = undefined;
      });
    }
    return this.reloading;
  }

  /**
   * prepare loads and checks the rule files under `settings` (the running ones when absent) without
   * touching what runs: a RuleFileError (every issue, with file:line:col) refuses them. Pass the
   * result to `update` to put them in effect.
   */
  async prepare(settings: RuleSettings = this.opts): Promise<PreparedRules> {
    if (!(settings.defaultIntervalMs > 0)) throw new RangeError(`RuleManager: defaultIntervalMs must be > 0, got ${settings.defaultIntervalMs}`);
    try {
      return { settings, groups: await this.buildGroups({ ...this.opts, ...definedOf(settings) }) };
    } catch (err) {
      throw err instanceof RuleFileError ? err : new RuleFileError(`cannot load the rule files: ${(err as Error).message}; fix them and reload`);
    }
  }

  /**
   * update puts prepared rules in effect with their settings, as Prometheus' `Manager.Update`:
   * the old loops stop, alert state moves to groups of the same file and name, groups that are
   * gone mark their series stale. `createNotifiers`, when given, replaces the notifiers: they are
   * built after the old loops stopped (so they load the last state their queues saved) and before
   * the old notifiers stop; if building them throws, the old notifiers stay and the error is logged.
   */
  async update(prepared: PreparedRules, options: { readonly createNotifiers?: () => readonly Notifier[] } = {}): Promise<ReloadResult> {
    return this.swapIn(prepared, options.createNotifiers);
  }

  /** stop ends every loop (finishing in-flight evaluations by `deadlineMs`), saves state and stops the notifiers. */
  async stop(deadlineMs: number): Promise<void> {
    if (!this.isStarted) return;
    this.isStarted = false;
    await Promise.all([...this.groups.values()].map((g) => g.runner.stop(deadlineMs)));
    this.saveState({ force: true });
    for (const n of this.opts.notifiers ?? []) await n.stop(deadlineMs);
  }

  /**
   * setDrillLabels marks alerts raised from now on with `drill` and `stage` labels (in
   * notifications and the API) until `clearDrillLabels`; the drills code calls it per stage.
   */
  setDrillLabels(labels: DrillLabels): void {
    this.drill = { drill: labels.drill, stage: labels.stage };
  }

  /** clearDrillLabels ends the drill window; alerts raised during it keep their labels. */
  clearDrillLabels(): void {
    this.drill = undefined;
  }

  /** ruleGroups describes every group for the HTTP API. */
  ruleGroups(): RuleGroupView[] {
    return [...this.groups.values()].map(({ key, group, runner }) => ({
      name: group.name,
      file: group.file,
      intervalMs: group.intervalMs,
      limit: group.limit,
      lastEvaluationMs: runner.lastEvaluationMs,
      evaluationDurationMs: group.evaluationDurationMs,
      rules: group.rules.map((r): RuleView => {
        const common = { name: r.name, expr: r.expr, labels: r.labels, health: r.health, lastError: r.lastError?.message ?? '', lastEvaluationMs: r.lastEvaluationMs, evaluationDurationMs: r.evaluationDurationMs };
        if (!(r instanceof AlertingRule)) return { kind: 'recording', ...common };
        return {
          kind: 'alerting',
          ...common,
          forMs: r.forMs,
          keepFiringForMs: r.keepFiringForMs,
          annotations: r.annotations,
          state: r.state(),
          alerts: r.activeAlerts().map((a) => ({
            labels: this.withDrillLabels(key, a),
            annotations: a.annotations,
            state: a.state === 'firing' ? 'firing' : 'pending',
            activeAtMs: a.activeAtMs,
            value: a.value,
            ...(a.keepFiringSinceMs ? { keepFiringSinceMs: a.keepFiringSinceMs } : {}),
          })),
        };
      }),
    }));
  }

  /** activeAlerts lists every pending and firing alert (`/api/v1/alerts`). */
  activeAlerts(): AlertView[] {
    const out: AlertView[] = [];
    for (const g of this.ruleGroups()) for (const r of g.rules) if (r.kind === 'alerting') out.push(...r.alerts);
    return out;
  }

  private withDrillLabels(key: string, a: Alert): Labels {
    const d = this.drillLabelsByAlert.get(`${key}|${alertKey(a)}`);
    return d ? { ...a.labels, drill: d.drill, stage: d.stage } : a.labels;
  }

  private async buildGroups(opts: RuleManagerOptions): Promise<ManagedGroup[]> {
    const files = await opts.resolveFiles();
    const defs = await loadRuleFiles(files, { checkExpr: opts.checkExpr });
    const out: ManagedGroup[] = [];
    for (const file of defs) {
      for (const def of file.groups) {
        const key = groupKey(def.file, def.name);
        const group = RuleGroup.fromDefinition(def, {
          query: opts.query,
          appendable: opts.store,
          defaultIntervalMs: opts.defaultIntervalMs,
          externalLabels: opts.externalLabels,
          externalURL: opts.externalUrl,
          restored: true,
          logger: this.logger,
        });
        const runner = new GroupRunner({
          group,
          clock: this.opts.clock,
          logger: this.logger,
          evaluate: (evalTimeMs, signal) => this.evaluate(group, evalTimeMs, signal),
          onMissed: (n) => this.metrics.missed.inc({ rule_group: key }, n),
          onFailed: () => this.metrics.failures.inc({ rule_group: key }),
        });
        out.push({ key, group, runner });
      }
    }
    return out;
  }

  private install(groups: readonly ManagedGroup[], old: ReadonlyMap<string, ManagedGroup>): void {
    this.groups = new Map(groups.map((g) => [g.key, g]));
    for (const g of groups) {
      const before = old.get(g.key);
      if (before) g.group.copyStateFrom(before.group);
      g.runner.start();
    }
  }

  private async doReload(): Promise<ReloadResult> {
    let prepared: PreparedRules;
    try {
      prepared = await this.prepare();
    } catch (err) {
      const error = err instanceof RuleFileError ? err : new RuleFileError(`cannot load the rule files: ${(err as Error).message}; fix them and reload`);
      this.metrics.reloads.inc({ result: 'failure' });
      this.logger.error({ issues: error.issues }, 'rule reload failed; keeping the previous rules');
      return { ok: false, error };
    }
    return this.swapIn(prepared, undefined);
  }

  private async swapIn(prepared: PreparedRules, createNotifiers: (() => readonly Notifier[]) | undefined): Promise<ReloadResult> {
    const { groups } = prepared;
    const old = this.groups;
    // Stop every old loop first: copyStateFrom must not race an in-flight evaluation, and no
    // notification may reach the old notifiers once the new ones exist.
    await Promise.all([...old.values()].map((g) => g.runner.stop(this.opts.clock.nowMs() + 30_000)));
    const keys = new Set(groups.map((g) => g.key));
    for (const [key, g] of old) if (!keys.has(key)) g.group.markAllStale(this.opts.clock.nowMs());
    let notifiers = this.opts.notifiers;
    if (createNotifiers) {
      try {
        const fresh = createNotifiers();
        const deadlineMs = this.opts.clock.nowMs() + 10_000;
        if (this.isStarted) for (const n of this.opts.notifiers ?? []) await n.stop(deadlineMs);
        notifiers = fresh;
        if (this.isStarted) for (const n of fresh) await n.start();
      } catch (err) {
        this.logger.error({ err }, 'could not build the new notifiers; the previous ones keep delivering');
      }
    }
    this.opts = { ...this.opts, ...definedOf(prepared.settings), notifiers };
    if (this.isStarted) this.install(groups, old);
    else this.groups = new Map(groups.map((g) => [g.key, g]));
    this.saveState();
    this.metrics.reloads.inc({ result: 'success' });
    const rules = groups.reduce((n, g) => n + g.group.rules.length, 0);
    this.logger.info({ groups: groups.length, rules }, 'rules reloaded');
    return { ok: true, groups: groups.length, rules };
  }

  /** evaluate is one iteration of one group: evaluate, notify, persist. */
  private evaluate(group: RuleGroup, evalTimeMs: number, signal: AbortSignal): Promise<void> {
    const attributes = {
      'sentinel.rule_group': group.name,
      'sentinel.rule_group.file': group.file,
      'sentinel.rule_group.rules': group.rules.length,
      'sentinel.rule_group.eval_time': new Date(evalTimeMs).toISOString(),
    };
    return withSpan(this.tracer, 'rules.group.evaluate', attributes, (span) => this.evaluateIn(span, group, evalTimeMs, signal));
  }

  private async evaluateIn(span: Span, group: RuleGroup, evalTimeMs: number, signal: AbortSignal): Promise<void> {
    const key = groupKey(group.file, group.name);
    this.metrics.evaluations.inc({ rule_group: key });
    const source = this.opts.sourceQuery;
    // With a query source the evaluation includes asking it (the group times only its own part).
    const askedAt = performance.now();
    const query = source ? await prefetchedQuery(source, group.rules, evalTimeMs, signal) : undefined;
    const askedMs = source ? performance.now() - askedAt : 0;
    const result = group.eval(evalTimeMs, signal, query);
    this.metrics.duration.set({ rule_group: key }, (group.evaluationDurationMs + askedMs) / 1000);
    if (result.failures.length > 0) this.metrics.failures.inc({ rule_group: key }, result.failures.length);
    span.setAttributes({ 'sentinel.rule_group.failures': result.failures.length, 'sentinel.rule_group.samples_written': result.samplesWritten });
    if (signal.aborted) return;
    const toSend: NotifiableAlert[] = [];
    const deltaMs = Math.max(this.opts.resendDelayMs, group.intervalMs);
    const live = new Set<string>();
    for (const rule of group.alertingRules()) {
      const generatorURL = generatorUrl(this.opts.externalUrl ?? '', this.formatExpr(rule.expr));
      rule.forEachAlert((a) => {
        const k = `${key}|${alertKey(a)}`;
        live.add(k);
        // Only alerts first seen while the drill runs are the drill's; earlier ones stay organic.
        if (this.drill && a.resolvedAtMs === 0 && a.activeAtMs === evalTimeMs && !this.drillLabelsByAlert.has(k)) this.drillLabelsByAlert.set(k, this.drill);
        if (!needsSending(a, evalTimeMs, this.opts.resendDelayMs)) return;
        a.lastSentAtMs = evalTimeMs;
        // Allow for two missed evaluations or failed deliveries before Alertmanager resolves it.
        a.validUntilMs = evalTimeMs + 4 * deltaMs;
        toSend.push(this.toNotifiable(key, a, generatorURL));
      });
    }
    for (const k of [...this.drillLabelsByAlert.keys()]) {
      if (k.startsWith(`${key}|`) && !live.has(k)) this.drillLabelsByAlert.delete(k);
    }
    span.setAttribute('sentinel.alerts.to_send', toSend.length);
    // State first: after a crash between the two, an alert is re-sent (harmless) rather than lost.
    this.saveState();
    if (toSend.length > 0) {
      for (const n of this.opts.notifiers ?? []) {
        try {
          await withSpan(this.tracer, 'alerts.notify', { 'sentinel.notifier': n.name, 'sentinel.alerts': toSend.length, 'sentinel.alerts.resolved': toSend.filter((a) => a.isResolved).length }, async (child) => {
            const outcome = await n.send(toSend, signal);
            child.setAttributes({ 'sentinel.alerts.accepted': outcome.accepted, 'sentinel.alerts.skipped': outcome.skipped, 'sentinel.alerts.dropped': outcome.dropped });
          }, span);
        } catch (err) {
          this.logger.error({ notifier: n.name, err: (err as Error).message }, 'notifier refused alerts');
        }
      }
    }
  }

  private formatExpr(expr: string): string {
    if (!this.opts.formatExpr) return expr;
    try {
      return this.opts.formatExpr(expr);
    } catch {
      return expr;
    }
  }

  private toNotifiable(key: string, a: Alert, generatorURL: string): NotifiableAlert {
    const labels: Record<string, string> = { ...this.withDrillLabels(key, a) };
    for (const [k, v] of Object.entries(this.opts.externalLabels ?? {})) if (labels[k] === undefined) labels[k] = v;
    const isResolved = a.resolvedAtMs !== 0;
    return {
      labels,
      annotations: a.annotations,
      startsAtMs: a.firedAtMs,
      endsAtMs: isResolved ? a.resolvedAtMs : a.validUntilMs,
      generatorURL,
      isResolved,
    };
  }

  private snapshot(): AlertStateSnapshot {
    const groups: PersistedGroup[] = [];
    for (const { key, group, runner } of this.groups.values()) {
      groups.push({
        file: group.file,
        name: group.name,
        lastEvalTimestampMs: runner.lastEvalTimestampMs || group.lastEvalTimestampMs,
        rules: group.alertingRules().map((r) => ({
          name: r.name,
          expr: r.expr,
          alerts: r.alerts().map((a): PersistedAlert => {
            const drill = this.drillLabelsByAlert.get(`${key}|${alertKey(a)}`);
            return {
              labels: a.labels,
              annotations: a.annotations,
              state: a.state,
              value: a.value,
              activeAtMs: a.activeAtMs,
              ...(a.firedAtMs ? { firedAtMs: a.firedAtMs } : {}),
              ...(a.resolvedAtMs ? { resolvedAtMs: a.resolvedAtMs } : {}),
              ...(a.lastSentAtMs ? { lastSentAtMs: a.lastSentAtMs } : {}),
              ...(a.validUntilMs ? { validUntilMs: a.validUntilMs } : {}),
              ...(a.keepFiringSinceMs ? { keepFiringSinceMs: a.keepFiringSinceMs } : {}),
              ...(drill ? { drillLabels: drill } : {}),
            };
          }),
        })),
      });
    }
    return { version: 1, savedAtMs: this.opts.clock.nowMs(), groups };
  }

  /** saveState persists the alert state when a restart would need what changed (always with `force`). */
  private saveState(options: { force?: boolean } = {}): void {
    if (!this.stateStore) return;
    try {
      this.stateStore.save(this.snapshot(), options);
    } catch (err) {
      this.logger.error({ path: this.stateStore.path, err: (err as Error).message }, 'cannot save alert state; a restart now would lose pending for-clocks');
    }
  }

  private restoreState(groups: readonly ManagedGroup[]): void {
    const snapshot = this.stateStore?.load();
    if (!snapshot) return;
    // The file is written when alerts change, not every evaluation, so after a crash its time
    // can be older than the outage. The last ALERTS_FOR_STATE sample the rules wrote says when
    // they last ran with an alert active (Prometheus' RestoreForState reads the same series).
    const lastAliveMs = Math.max(snapshot.savedAtMs, this.lastForStateSampleMs(snapshot.savedAtMs));
    const isStale = this.opts.clock.nowMs() - lastAliveMs > this.opts.outageToleranceMs;
    const saved = new Map(snapshot.groups.map((g) => [groupKey(g.file, g.name), g]));
    let restored = 0;
    for (const { key, group } of groups) {
      const g = saved.get(key);
      if (!g) continue;
      const remaining = [...g.rules];
      for (const rule of group.alertingRules()) {
        const idx = remaining.findIndex((r) => r.name === rule.name && r.expr === rule.expr);
        if (idx < 0) continue;
        const [persisted] = remaining.splice(idx, 1);
        const alerts: Alert[] = [];
        for (const p of persisted.alerts) {
          // After a long outage a pending for-clock would be a lie; firing and resolved alerts are kept
          // so their resolution is still announced.
          if (isStale && p.state === 'pending') continue;
          const a: Alert = {
            state: p.state,
            labels: p.labels,
            annotations: p.annotations,
            value: p.value ?? NaN,
            activeAtMs: p.activeAtMs,
            firedAtMs: p.firedAtMs ?? 0,
            resolvedAtMs: p.resolvedAtMs ?? 0,
            lastSentAtMs: p.lastSentAtMs ?? 0,
            validUntilMs: p.validUntilMs ?? 0,
            keepFiringSinceMs: p.keepFiringSinceMs ?? 0,
          };
          alerts.push(a);
          if (p.drillLabels) this.drillLabelsByAlert.set(`${key}|${alertKey(a)}`, p.drillLabels);
        }
        rule.restoreAlerts(alerts);
        restored += alerts.length;
      }
    }
    this.logger.info({ restored, savedAtMs: snapshot.savedAtMs, lastAliveMs, isStale }, 'restored alert state');
  }

  /** lastForStateSampleMs is the time of the newest ALERTS_FOR_STATE sample since `sinceMs`, or -Infinity. */
  private lastForStateSampleMs(sinceMs: number): number {
    let last = -Infinity;
    try {
      const series = this.opts.store.selectColumns([{ name: '__name__', type: '=', value: 'ALERTS_FOR_STATE' }], sinceMs, this.opts.clock.nowMs());
      for (const s of series) if (s.end > s.start) last = Math.max(last, s.t[s.end - 1]);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'cannot read ALERTS_FOR_STATE to date the last evaluation; judging the outage by the state file alone');
    }
    return last;
  }
}
