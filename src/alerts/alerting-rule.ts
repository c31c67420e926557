/**
 * alerting-rule: Prometheus' AlertingRule (rules/alerting.go, 2.42). One evaluation at
 * `evalTimeMs` turns the query's samples into alerts (labels templated before identity), moves
 * them through inactive → pending → firing → resolved (`for`, `keep_firing_for`, resolved
 * retention), enforces the group `limit` and outputs ALERTS / ALERTS_FOR_STATE samples. Every
 * transition is computed from the evaluation time, never from a clock.
 */
import { labelsKey } from '../store/labels-key.js';
import type { Labels } from '../store/index.js';
import { RuleEvalError, RuleEvaluationRecord, vectorOf } from './rule.js';
import type { OutputSample, QueryFn, Rule, RuleEvalContext } from './rule.js';
import { compileTemplate, createTemplateExpander } from './template/index.js';
import type { AlertTemplateData, CompiledTemplate, TemplateExpander } from './template/index.js';

/** AlertStates is the closed vocabulary of an alert's state. */
export const AlertStates = ['inactive', 'pending', 'firing'] as const;
export type AlertState = (typeof AlertStates)[number];

/**
 * Alert is one alert instance of a rule. Times are epoch ms; 0 means "not set" (Go's zero
 * time). The notifier bookkeeping fields (`lastSentAtMs`, `validUntilMs`) belong to the manager.
 */
export interface Alert {
  state: AlertState;
  labels: Labels;
  annotations: Labels;
  value: number;
  activeAtMs: number;
  firedAtMs: number;
  resolvedAtMs: number;
  lastSentAtMs: number;
  validUntilMs: number;
  keepFiringSinceMs: number;
}

/**
 * RESOLVED_RETENTION_MS is how long a resolved alert stays in memory. Reasons (Prometheus'
 * `resolvedRetention`): (1) Alertmanager must keep receiving the resolution for a while in case
 * one delivery was lost, (2) restarting a flapping alert within the window keeps one identity.
 */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** AlertingRuleOptions define one alerting rule. */
export interface AlertingRuleOptions {
  readonly name: string;
  readonly expr: string;
  readonly forMs?: number;
  readonly keepFiringForMs?: number;
  readonly labels?: Labels;
  readonly annotations?: Labels;
  readonly externalLabels?: Labels;
  readonly externalURL?: string;
  /**
   * restored: whether ALERTS/ALERTS_FOR_STATE are written. Prometheus writes them only after
   * restoring `for` state at startup; promtool (and the default here) marks rules restored.
   */
  readonly restored?: boolean;
  /** onTemplateError is told about template failures (the text still becomes the error). */
  readonly onTemplateError?: (err: Error) => void;
}

function copyAlert(a: Alert): Alert {
  return { ...a };
}

/** AlertingRule is Prometheus' alerting rule state machine. */
export class AlertingRule extends RuleEvaluationRecord implements Rule {
  readonly kind = 'alerting' as const;
  readonly name: string;
  readonly expr: string;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly externalLabels: Labels;
  readonly externalURL: string;
  private restored: boolean;
  private active = new Map<string, Alert>();
  private readonly labelTemplates: ReadonlyArray<readonly [string, CompiledTemplate]>;
  private readonly annotationTemplates: ReadonlyArray<readonly [string, CompiledTemplate]>;
  private readonly onTemplateError: ((err: Error) => void) | undefined;

  constructor(opts: AlertingRuleOptions) {
    super();
    this.name = opts.name;
    this.expr = opts.expr;
    this.forMs = opts.forMs ?? 0;
    this.keepFiringForMs = opts.keepFiringForMs ?? 0;
    this.labels = Object.freeze({ ...(opts.labels ?? {}) });
    this.annotations = Object.freeze({ ...(opts.annotations ?? {}) });
    this.externalLabels = Object.freeze({ ...(opts.externalLabels ?? {}) });
    this.externalURL = opts.externalURL ?? '';
    this.restored = opts.restored ?? true;
    this.onTemplateError = opts.onTemplateError;
    const tmplName = `__alert_${this.name}`;
    this.labelTemplates = Object.entries(this.labels).map(([k, v]) => [k, compileTemplate(tmplName, v)] as const);
    this.annotationTemplates = Object.entries(this.annotations).map(([k, v]) => [k, compileTemplate(tmplName, v)] as const);
  }

  /** setRestored switches ALERTS/ALERTS_FOR_STATE output on (after the manager restored state). */
  setRestored(restored: boolean): void {
    this.restored = restored;
  }

  /** isRestored tells whether ALERTS/ALERTS_FOR_STATE are being written. */
  isRestored(): boolean {
    return this.restored;
  }

  private expand(tmpl: CompiledTemplate, data: AlertTemplateData, expander: TemplateExpander): string {
    try {
      return expander(tmpl, data);
    } catch (err) {
      this.onTemplateError?.(err as Error);
      return `<error expanding template: ${(err as Error).message}>`;
    }
  }

  eval(ctx: RuleEvalContext): OutputSample[] {
    const ts = ctx.evalTimeMs;
    const res = vectorOf(ctx.query(this.expr, ts, ctx.signal), ts);
    const expander = createTemplateExpander({ query: templateQueryFn(ctx.query, ts, ctx.signal) });
    const fresh = new Map<string, Alert>();
    for (const smpl of res) {
      const data: AlertTemplateData = { labels: smpl.labels, externalLabels: this.externalLabels, externalURL: this.externalURL, value: smpl.v };
      const lb: Record<string, string> = { ...smpl.labels };
      delete lb.__name__;
      for (const [name, tmpl] of this.labelTemplates) {
        const v = this.expand(tmpl, data, expander);
        // labels.Builder.Set with an empty value deletes the label.
        if (v === '') delete lb[name];
        else lb[name] = v;
      }
      lb.alertname = this.name;
      const annotations: Record<string, string> = {};
      for (const [name, tmpl] of this.annotationTemplates) annotations[name] = this.expand(tmpl, data, expander);
      const key = labelsKey(lb);
      if (fresh.has(key)) {
        throw new RuleEvalError('vector contains metrics with the same labelset after applying alert labels');
      }
      fresh.set(key, {
        state: 'pending', labels: Object.freeze(lb), annotations: Object.freeze(annotations), value: smpl.v, activeAtMs: ts,
        firedAtMs: 0, resolvedAtMs: 0, lastSentAtMs: 0, validUntilMs: 0, keepFiringSinceMs: 0,
      });
    }

    for (const [key, a] of fresh) {
      const known = this.active.get(key);
      if (known && known.state !== 'inactive') {
        known.value = a.value;
        known.annotations = a.annotations;
        continue;
      }
      this.active.set(key, a);
    }

    const out: OutputSample[] = [];
    let numActivePending = 0;
    for (const [key, a] of [...this.active]) {
      if (!fresh.has(key)) {
        let keepFiring = false;
        if (a.state === 'firing' && this.keepFiringForMs > 0) {
          if (a.keepFiringSinceMs === 0) a.keepFiringSinceMs = ts;
          if (ts - a.keepFiringSinceMs < this.keepFiringForMs) keepFiring = true;
        }
        if (a.state === 'pending' || (a.resolvedAtMs !== 0 && ts - a.resolvedAtMs > RESOLVED_RETENTION_MS)) {
          this.active.delete(key);
        }
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAtMs = ts;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSinceMs = 0;
      }
      numActivePending++;
      if (a.state === 'pending' && ts - a.activeAtMs >= this.forMs) {
        a.state = 'firing';
        a.firedAtMs = ts;
      }
      if (this.restored) {
        out.push({ labels: this.alertsLabels(a), t: ts, v: 1 });
        // Like ALERTS, Go's forStateSample starts from the rule's raw labels (a label whose
        // template expanded to "" keeps its template text).
        out.push({ labels: { ...this.labels, ...a.labels, __name__: 'ALERTS_FOR_STATE', alertname: this.name }, t: ts, v: Math.floor(a.activeAtMs / 1000) });
      }
    }
    if (ctx.limit > 0 && numActivePending > ctx.limit) {
      this.active = new Map();
      throw new RuleEvalError(`exceeded limit of ${ctx.limit} with ${numActivePending} alerts`);
    }
    return out;
  }

  /** ALERTS labels: the rule's raw labels overlaid by the alert's, plus name and state (as Go's `sample`). */
  private alertsLabels(a: Alert): Labels {
    return { ...this.labels, ...a.labels, __name__: 'ALERTS', alertname: this.name, alertstate: a.state };
  }

  /** activeAlerts are the pending and firing alerts (not the resolved ones), as copies. */
  activeAlerts(): Alert[] {
    return [...this.active.values()].filter((a) => a.resolvedAtMs === 0).map(copyAlert);
  }

  /** alerts are every alert in memory, resolved ones included (what is sent to Alertmanager). */
  alerts(): Alert[] {
    return [...this.active.values()].map(copyAlert);
  }

  /**
   * forEachAlert visits the live alert objects, so the manager can update its notifier
   * bookkeeping (`lastSentAtMs`, `validUntilMs`) in place.
   */
  forEachAlert(fn: (a: Alert) => void): void {
    for (const a of this.active.values()) fn(a);
  }

  /** copyStateFrom takes over the alerts of the same rule from before a reload. */
  copyStateFrom(old: AlertingRule): void {
    for (const [key, a] of old.active) this.active.set(key, a);
  }

  /**
   * restoreActiveAt sets the `for` clock of the pending or firing alert with these labels
   * (Prometheus' restore from ALERTS_FOR_STATE); returns false when there is no such alert.
   */
  restoreActiveAt(labels: Labels, activeAtMs: number): boolean {
    const a = this.active.get(labelsKey(labels));
    if (!a || a.state === 'inactive') return false;
    a.activeAtMs = activeAtMs;
    return true;
  }

  /** restoreAlerts puts persisted alerts back (state, times, labels), replacing any with the same labels. */
  restoreAlerts(alerts: readonly Alert[]): void {
    for (const a of alerts) this.active.set(labelsKey(a.labels), { ...a, labels: Object.freeze({ ...a.labels }), annotations: Object.freeze({ ...a.annotations }) });
  }

  /** state is the rule's overall state: the most severe of its alerts (Prometheus' State()). */
  state(): AlertState {
    let max: AlertState = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') max = 'pending';
    }
    return max;
  }
}

function templateQueryFn(query: QueryFn, ts: number, signal: AbortSignal | undefined): (expr: string) => Array<{ labels: Labels; value: number }> {
  return (expr) => vectorOf(query(expr, ts, signal), ts).map((s) => ({ labels: s.labels, value: s.v }));
}
