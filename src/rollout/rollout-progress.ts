/**
 * rolloutProgress: a RolloutEvents handler that shows a rollout to the person running it: each
 * finished step as a line, and while a cohort waits or soaks, one live line with the cohort, the
 * time left and the SLO values (rewritten in place on a TTY, printed at most once a minute
 * otherwise), then the decision and where SUMMARY.md is.
 */
import { join } from 'node:path';
import { formatDurationMs } from '../time/index.js';
import type { RolloutEvents, SoakTick, WaitTick } from './rollout-deps.js';
import type { RolloutRecord } from './rollout-records.js';
import type { SloValues } from './slo-snapshot.js';

/** RolloutProgressOutput is where progress goes (process.stdout, or a test buffer). */
export interface RolloutProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

function left(ms: number): string {
  return formatDurationMs(Math.max(0, Math.ceil(ms / 1000)) * 1000);
}

function slo(v: SloValues): string {
  return `p95 ${v.p95LatencyMs === null ? 'n/a' : `${v.p95LatencyMs}ms`}, error budget ${v.errorBudgetRatio === null ? 'n/a' : v.errorBudgetRatio}`;
}

/** soakLine is the live line of a soak. */
export function soakLine(t: SoakTick): string {
  const parts = [`cohort ${t.cohort}%: soak ${left(t.leftMs)} left`, `sentinel ${slo(t.sentinel)}`];
  if (t.url) parts.push(`snapshot ${slo(t.url)}`);
  parts.push(t.failingProbes.length > 0 ? `failing probes: ${t.failingProbes.join(', ')}` : 'probes ok');
  parts.push(t.firing.length > 0 ? `CRITICAL: ${t.firing.join(', ')}` : 'no critical alert');
  return parts.join(' · ');
}

function waitLine(t: WaitTick): string {
  const seen = t.observed ? ` (status shows ${t.observed.user}/${t.observed.autopilot})` : '';
  return `cohort ${t.cohort}%: waiting to take effect, ${left(t.leftMs)} left${seen}: ${t.instruction}`;
}

function recordLine(r: RolloutRecord, cohorts: readonly number[]): string | undefined {
  const pct = (i: number): string => `${cohorts[i]}%`;
  switch (r.kind) {
    case 'gate':
    case 'rollback':
      return `${r.line.status.padEnd(9)} gate:${r.line.gate}: ${r.detail}`;
    case 'slo':
      return `${r.line.status.padEnd(9)} slo:${r.line.label}: ${r.detail}`;
    case 'apply':
      return `${r.status.padEnd(9)} apply:${pct(r.cohortIndex)}: ${r.detail}`;
    case 'effect':
      return `${r.line.status.padEnd(9)} effect:${pct(r.cohortIndex)}: ${r.detail}`;
    case 'probe':
      return `${r.line.status.padEnd(9)} cohort:${pct(r.cohortIndex)}: ${r.detail}`;
    case 'soak':
      return `${r.line.status.padEnd(9)} soak:${pct(r.cohortIndex)}: ${r.detail}`;
    case 'snapshot':
      return r.error ? `error   snapshot:${r.label}: ${r.error}` : undefined;
    case 'block':
      return `BLOCKED at ${r.step}: ${r.reason}`;
    case 'cohort_done':
      return undefined;
  }
}

/** rolloutProgress returns the handler; `nowMs` paces the non-TTY live line. */
export function rolloutProgress(out: RolloutProgressOutput, nowMs: () => number = Date.now): RolloutEvents {
  let cohorts: readonly number[] = [];
  let live = false;
  let lastPlainMs = -Infinity;
  const clear = (): void => {
    if (live && out.isTTY) out.write('\r\x1b[K');
    live = false;
  };
  const show = (text: string): void => {
    if (out.isTTY) {
      out.write(`\r\x1b[K${text.length > 200 ? `${text.slice(0, 199)}…` : text}`);
      live = true;
    } else if (nowMs() - lastPlainMs >= 60_000) {
      out.write(`  ${text}\n`);
      lastPlainMs = nowMs();
    }
  };
  return {
    started(info) {
      cohorts = info.cohorts;
      out.write(`${info.resumed ? 'resuming' : 'starting'} ${info.kind} rollout, cohorts ${info.cohorts.join(', ')}%\n  output: ${info.outputDir}\n`);
    },
    recorded(r) {
      const line = recordLine(r, cohorts);
      if (!line) return;
      clear();
      out.write(`${line}\n`);
      lastPlainMs = -Infinity;
    },
    waiting(t) {
      show(waitLine(t));
    },
    soakTick(t) {
      show(soakLine(t));
    },
    finished(result) {
      clear();
      out.write(`SUMMARY: ${join(result.outputDir, 'SUMMARY.md')}\n`);
      for (const r of result.reasons) out.write(`  - ${r}\n`);
      out.write(`Decision: ${result.decision}\n`);
    },
  };
}
