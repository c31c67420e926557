/**
 * The one way the lab suites change the probes' timing in a generated sentinel.yaml: shorter
 * waits, so that a probe run fits inside a drill stage or a soak of a few seconds instead of the
 * shipped minutes, and, where a test needs it, faster schedules.
 */
import type { Document } from 'yaml';

/** ProbeTiming is one probe's run timeout, optionally its schedule, and the params that bound its waits inside a run. */
export interface ProbeTiming {
  readonly timeout: string;
  readonly schedule?: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** ProbeTimings are per probe name. */
export type ProbeTimings = Readonly<Record<string, ProbeTiming>>;

/** DRILL_PROBE_WAITS fit the lab drills' stages: a probe stuck in the fault times out inside its stage. */
export const DRILL_PROBE_WAITS: ProbeTimings = {
  delivery: { timeout: '4s', params: { receive_timeout: '2s' } },
  resume: { timeout: '6s', params: { receive_timeout: '2s' } },
  connections: { timeout: '8s', params: { settle_timeout: '3s' } },
};

/** setProbeTimings writes `timings` into the configuration's `probes` section. */
export function setProbeTimings(doc: Document, timings: ProbeTimings): void {
  for (const [probe, timing] of Object.entries(timings)) {
    if (timing.schedule !== undefined) doc.setIn(['probes', probe, 'schedule'], timing.schedule);
    doc.setIn(['probes', probe, 'timeout'], timing.timeout);
    for (const [param, value] of Object.entries(timing.params ?? {})) doc.setIn(['probes', probe, 'params', param], doc.createNode(value));
  }
}
