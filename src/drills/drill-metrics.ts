/**
 * drillMetrics: a DrillEventHandler that exposes drills on /metrics, so on-call sees planned
 * chaos beside the alerts it may cause: runs by decision, the active stage, faults in effect, and
 * the time of the last decision per drill.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { DrillEventHandler } from './drill-events.js';

/** drillMetrics registers the drill metrics in `registry` and returns the handler feeding them. */
export function drillMetrics(registry: Registry, nowMs: () => number): DrillEventHandler {
  const runs = new Counter({ name: 'sentinel_drill_runs_total', help: 'Finished drill runs by promotion decision (allow or block).', labelNames: ['drill', 'decision'], registers: [registry] });
  const lastDecision = new Gauge({ name: 'sentinel_drill_last_decision_timestamp_seconds', help: 'When each drill last reached a decision (Unix seconds), by that decision.', labelNames: ['drill', 'decision'], registers: [registry] });
  const stageActive = new Gauge({ name: 'sentinel_drill_stage_active', help: 'Whether a drill stage is running now (1) and which.', labelNames: ['drill', 'stage'], registers: [registry] });
  const faults = new Gauge({ name: 'sentinel_drill_faults_active', help: 'Faults a running drill has in effect on the fault proxy.', registers: [registry] });
  let current: { drill: string; stage: string } | undefined;
  let drill = '';
  return {
    runStarted(spec) {
      drill = spec.name;
    },
    stageStarted(stage) {
      current = { drill, stage: stage.name };
      stageActive.set(current, 1);
    },
    faultsAdded(_stage, added) {
      faults.set(added.length);
    },
    stageFinished() {
      if (current) stageActive.remove(current);
      current = undefined;
      faults.set(0);
    },
    runFinished(result) {
      if (current) stageActive.remove(current);
      current = undefined;
      faults.set(0);
      runs.inc({ drill: result.scenario.scenario, decision: result.decision.decision });
      // One series per drill: the other decision's series goes.
      lastDecision.remove({ drill: result.scenario.scenario, decision: result.decision.decision === 'allow' ? 'block' : 'allow' });
      lastDecision.set({ drill: result.scenario.scenario, decision: result.decision.decision }, Math.floor(nowMs() / 1000));
    },
  };
}
