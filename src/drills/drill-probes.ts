/**
 * DrillProbes: what a drill needs of the probe framework. A drill starts one run of a probe at a
 * time (never two runs of one probe: probes keep connections and cursors between runs), labels
 * each run with its phase, and can cut a run off when its phase ends while the run is still stuck
 * in the fault; a cut-off run is not recorded, because it measured nothing.
 */
import type { DrillLabels } from '../alerts/index.js';

export type { DrillLabels };

/** DrillProbeRun is what happened to one run a drill started. */
export interface DrillProbeRun {
  readonly ok: boolean;
  /** reason is the probe's reason class (`ok`, `timeout`, `gap`, ...). */
  readonly reason: string;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  /** cutOff is true when `cutOff` aborted the run before it answered. */
  readonly cutOff: boolean;
}

/** DrillProbes is the probe framework as a drill sees it. */
export interface DrillProbes {
  /** isBusy tells whether a run of the probe is in flight (a scheduled run included). */
  isBusy(name: string): boolean;
  /**
   * runProbe runs the probe once, now, labelling its samples with `labels`; aborting `cutOff`
   * abandons it. It resolves with the run's outcome and never rejects for a failed probe.
   */
  runProbe(name: string, labels: DrillLabels, cutOff: AbortSignal): Promise<DrillProbeRun>;
  /** setDrillLabels labels every scheduled probe run (and alerts) until cleared with undefined. */
  setDrillLabels(labels: DrillLabels | undefined): void;
  /**
   * reserve gives the drill its probes for the run: no scheduled run starts on them until
   * `reserve(undefined)` (a cron run could hold a probe through a whole stage). Optional: a
   * framework without scheduled runs has nothing to hold.
   */
  reserve?(names: readonly string[] | undefined): void;
  /** whenIdle resolves once none of `names` has a run in flight (or when `signal` aborts). */
  whenIdle?(names: readonly string[], signal: AbortSignal): Promise<void>;
}
