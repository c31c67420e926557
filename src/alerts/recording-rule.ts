/**
 * recording-rule: Prometheus' RecordingRule. Evaluates its expression at `evalTimeMs` and
 * returns the result with `__name__` set to the rule name and the rule's labels applied.
 */
import { labelsKey } from '../store/labels-key.js';
import type { Labels } from '../store/index.js';
import { RuleEvalError, RuleEvaluationRecord, vectorOf } from './rule.js';
import type { OutputSample, Rule, RuleEvalContext } from './rule.js';

/** RecordingRuleOptions define one recording rule. */
export interface RecordingRuleOptions {
  readonly name: string;
  readonly expr: string;
  readonly labels?: Labels;
}

/** RecordingRule writes the result of its expression as the series `name`. */
export class RecordingRule extends RuleEvaluationRecord implements Rule {
  readonly kind = 'recording' as const;
  readonly name: string;
  readonly expr: string;
  readonly labels: Labels;

  constructor(opts: RecordingRuleOptions) {
    super();
    this.name = opts.name;
    this.expr = opts.expr;
    this.labels = Object.freeze({ ...(opts.labels ?? {}) });
  }

  eval(ctx: RuleEvalContext): OutputSample[] {
    const vector = vectorOf(ctx.query(this.expr, ctx.evalTimeMs, ctx.signal), ctx.evalTimeMs);
    const seen = new Set<string>();
    const out: OutputSample[] = [];
    for (const s of vector) {
      const lb: Record<string, string> = { ...s.labels, __name__: this.name };
      for (const [k, v] of Object.entries(this.labels)) {
        if (v === '') delete lb[k];
        else lb[k] = v;
      }
      const key = labelsKey(lb);
      if (seen.has(key)) throw new RuleEvalError('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      out.push({ labels: lb, t: s.t, v: s.v });
    }
    if (ctx.limit > 0 && out.length > ctx.limit) {
      throw new RuleEvalError(`exceeded limit of ${ctx.limit} with ${out.length} series`);
    }
    return out;
  }
}
