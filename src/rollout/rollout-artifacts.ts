/**
 * The operators' rollout artifacts, projected from the rollout's records: the env plan
 * (`canary-env-sequence.txt` / `cohort-env-sequence.txt`), `gate-results.jsonl`,
 * `cohort-results.jsonl`, `slo-results.jsonl`, and `SUMMARY.md` with the scripts' title and
 * lines (OpenAgents `scripts/spacetime/run-staging-canary-rollout.sh:124-267`,
 * `run-production-phased-rollout.sh:170-410` at 9b2b978949), plus the sentinel's own
 * `soak-results.jsonl` and `effect-results.jsonl`. SUMMARY.md keeps the scripts' `- Decision:`
 * line and also ends with `Decision: allow|block`, like the drills' summaries.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RolloutKind, RolloutOptions } from './rollout-options.js';
import type { CohortLine, EffectLine, GateLine, RolloutRecord, SloLine, SoakLine } from './rollout-records.js';

/** ARTIFACT_FILES are the names the operators' scripts use (and the sentinel's additions). */
export const ARTIFACT_FILES = {
  gateResults: 'gate-results.jsonl',
  cohortResults: 'cohort-results.jsonl',
  sloResults: 'slo-results.jsonl',
  soakResults: 'soak-results.jsonl',
  effectResults: 'effect-results.jsonl',
  summary: 'SUMMARY.md',
  logs: 'logs',
} as const;

/** envPlanFile is `canary-env-sequence.txt` for staging and `cohort-env-sequence.txt` for production. */
export function envPlanFile(kind: RolloutKind): string {
  return kind === 'staging' ? 'canary-env-sequence.txt' : 'cohort-env-sequence.txt';
}

/** cohortEnv is the env plan of one cohort, as the scripts describe it (and `--apply-command` receives it). */
export function cohortEnv(cohort: number, soakSeconds: number): Record<string, string> {
  return {
    OA_RUNTIME_CANARY_USER_PERCENT: String(cohort),
    OA_RUNTIME_CANARY_AUTOPILOT_PERCENT: String(cohort),
    OA_RUNTIME_SHADOW_ENABLED: 'true',
    OA_RUNTIME_SHADOW_SAMPLE_RATE: '1.0',
    recommended_soak_seconds: String(soakSeconds),
  };
}

/** envPlanText is the whole env plan, byte for byte as the scripts write it. */
export function envPlanText(cohorts: readonly number[], soakSeconds: number): string {
  return cohorts.map((c) => [`# Cohort ${c}%`, ...Object.entries(cohortEnv(c, soakSeconds)).map(([k, v]) => `${k}=${v}`), ''].join('\n') + '\n').join('');
}

/** RolloutContext is what the projection needs besides the records. */
export interface RolloutContext {
  readonly options: RolloutOptions;
  readonly outputDir: string;
  /** timestamp is the run's UTC start, `20260101T000000Z` as `date -u +%Y%m%dT%H%M%SZ`. */
  readonly timestamp: string;
  /** finished is true once every step ran (or the rollout blocked and stopped). */
  readonly finished: boolean;
  /** interrupted says where and why the last attempt stopped before finishing. */
  readonly interrupted?: { readonly step: string; readonly reason: string };
  readonly resumes: number;
}

/** RolloutCounts are SUMMARY.md's failure counts. */
export interface RolloutCounts {
  readonly gateFailures: number;
  readonly cohortProbeFailures: number;
  readonly sloFailures: number;
  readonly soakFailures: number;
  readonly rollbackFailures: number;
  readonly snapshotErrors: number;
}

/** RolloutDecision is the decision with every reason for a block. */
export interface RolloutDecision {
  readonly decision: 'allow' | 'block';
  readonly counts: RolloutCounts;
  readonly reasons: readonly string[];
}

/** firstBlock is the first block's step, if the rollout blocked. */
export function firstBlock(records: readonly RolloutRecord[]): Extract<RolloutRecord, { kind: 'block' }> | undefined {
  return records.find((r): r is Extract<RolloutRecord, { kind: 'block' }> => r.kind === 'block');
}

/** decideRollout: allow only when the rollout finished every step, nothing failed and nothing blocked. */
export function decideRollout(ctx: RolloutContext, records: readonly RolloutRecord[]): RolloutDecision {
  const counts: RolloutCounts = {
    gateFailures: records.filter((r) => r.kind === 'gate' && r.line.status === 'failed').length,
    cohortProbeFailures: records.filter((r) => r.kind === 'probe' && r.line.status === 'failed').length,
    sloFailures: records.filter((r) => r.kind === 'slo' && r.line.status === 'failed').length,
    soakFailures: records.filter((r) => r.kind === 'soak' && r.line.status === 'failed').length,
    rollbackFailures: records.filter((r) => r.kind === 'rollback' && r.line.status === 'failed').length,
    snapshotErrors: records.filter((r) => r.kind === 'snapshot' && r.error !== undefined).length,
  };
  const reasons: string[] = [];
  for (const r of records) if (r.kind === 'block') reasons.push(`${r.step}: ${r.reason}`);
  if (ctx.interrupted) reasons.push(`interrupted during ${ctx.interrupted.step}: ${ctx.interrupted.reason}; resume with --resume ${ctx.outputDir}`);
  else if (!ctx.finished) reasons.push('the rollout has not finished');
  const failures = counts.gateFailures + counts.cohortProbeFailures + counts.sloFailures + counts.soakFailures + counts.rollbackFailures;
  if (failures > 0 && reasons.length === 0) reasons.push(`${failures} step(s) failed`);
  return { decision: reasons.length === 0 && failures === 0 ? 'allow' : 'block', counts, reasons };
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function seconds(v: number | undefined): string {
  return `${Math.round(v ?? 0)}s`;
}

/** rowOf is the execution-table row of a record, or undefined for records without one. */
function rowOf(r: RolloutRecord, cohorts: readonly number[]): string | undefined {
  const pct = (i: number): string => `${cohorts[i]}%`;
  switch (r.kind) {
    case 'gate':
    case 'rollback':
      return `| gate:${r.line.gate} | ${r.line.status} | ${seconds(r.line.duration_seconds)} | ${cell(r.detail)} |`;
    case 'snapshot':
      return r.error === undefined ? undefined : `| snapshot:${r.label} | error | 0s | ${cell(r.error)} |`;
    case 'slo':
      return `| slo:${r.line.label} | ${r.line.status} | ${seconds(r.line.duration_seconds)} | ${cell(r.detail)} |`;
    case 'apply':
      return `| apply:${pct(r.cohortIndex)} | ${r.status} | ${seconds(r.durationSeconds)} | ${cell(r.detail)} |`;
    case 'effect':
      return `| effect:${pct(r.cohortIndex)} | ${r.line.status} | ${seconds(r.line.waited_seconds)} | ${cell(r.detail)} |`;
    case 'probe':
      return `| cohort:${pct(r.cohortIndex)} | ${r.line.status} | ${seconds(r.line.duration_seconds)} | ${cell(r.detail)} |`;
    case 'soak':
      return `| soak:${pct(r.cohortIndex)} | ${r.line.status} | ${seconds(r.line.watched_seconds)} | ${cell(r.detail)} |`;
    case 'cohort_done':
    case 'block':
      return undefined;
  }
}

function jsonl(lines: readonly object[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length > 0 ? '\n' : '');
}

/** renderRolloutSummary is SUMMARY.md: the script's header and sections, the sentinel's additions, the decision last. */
export function renderRolloutSummary(ctx: RolloutContext, records: readonly RolloutRecord[], decision: RolloutDecision): string {
  const { options } = ctx;
  const production = options.kind === 'production';
  const c = decision.counts;
  const lines = [production ? '# Spacetime Production Phased Rollout Summary' : '# Staging Spacetime Canary Rollout Summary', ''];
  lines.push(`- Timestamp (UTC): ${ctx.timestamp}`, `- Output directory: ${ctx.outputDir}`, `- Gate failures: ${c.gateFailures}`, `- Cohort probe failures: ${c.cohortProbeFailures}`);
  if (production) lines.push(`- SLO failures: ${c.sloFailures}`, `- Rollback drill failures: ${c.rollbackFailures}`);
  lines.push(`- Recommended soak per cohort: ${options.soakSeconds}s`);
  if (production) lines.push(`- SLO thresholds: p95<=${options.maxP95LatencyMs}ms, error_budget<=${options.maxErrorBudgetRatioText}`);
  lines.push(`- Decision: ${decision.decision}`);
  // The sentinel's own lines, after the script's.
  if (!production) lines.push(`- SLO failures: ${c.sloFailures}`, `- SLO thresholds: p95<=${options.maxP95LatencyMs}ms, error_budget<=${options.maxErrorBudgetRatioText}`);
  lines.push(`- Soak failures: ${c.soakFailures}`, `- Soak watched per cohort: ${options.soakSeconds}s (the sentinel waits out and supervises every soak)`);
  if (c.snapshotErrors > 0) lines.push(`- Snapshot errors: ${c.snapshotErrors}`);
  const block = firstBlock(records);
  if (block) lines.push(`- Blocked at: ${block.step}: ${block.reason}`);
  if (ctx.interrupted) lines.push(`- Interrupted: during ${ctx.interrupted.step} (${ctx.interrupted.reason}); resume with: --resume ${ctx.outputDir}`);
  if (ctx.resumes > 0) lines.push(`- Resumed: ${ctx.resumes} time(s); an interrupted cohort restarts from its wait and soaks in full`);
  for (const note of options.notes) lines.push(`- Note: ${note}`);
  lines.push('', '## Cohort Sequence', '', options.cohortsCsv, '', production ? '## Cohort Env Sequence' : '## Canary Env Sequence', '', `See: ${join(ctx.outputDir, envPlanFile(options.kind))}`, '');
  lines.push('## Execution Table', '', '| Step | Status | Duration | Detail |', '| --- | --- | --- | --- |');
  for (const r of records) {
    const row = rowOf(r, options.cohorts);
    if (row) lines.push(row);
  }
  lines.push('');
  if (decision.reasons.length > 0) {
    lines.push('## Reasons', '');
    for (const r of decision.reasons) lines.push(`- ${r}`);
    lines.push('');
  }
  lines.push(`Decision: ${decision.decision}`);
  return lines.join('\n') + '\n';
}

/**
 * writeRolloutArtifacts rewrites every projected artifact from the records and returns the
 * decision. Cohorts the rollout never reached get a `skipped` cohort line once it has stopped.
 */
export function writeRolloutArtifacts(ctx: RolloutContext, records: readonly RolloutRecord[]): RolloutDecision {
  const dir = ctx.outputDir;
  const gates: GateLine[] = [];
  const cohortLines: CohortLine[] = [];
  const slo: SloLine[] = [];
  const soaks: SoakLine[] = [];
  const effects: EffectLine[] = [];
  for (const r of records) {
    if (r.kind === 'gate' || r.kind === 'rollback') gates.push(r.line);
    if (r.kind === 'probe') cohortLines.push(r.line);
    if (r.kind === 'slo') slo.push(r.line);
    if (r.kind === 'soak') soaks.push(r.line);
    if (r.kind === 'effect') effects.push(r.line);
  }
  const reached = new Set(records.filter((r) => r.kind === 'probe').map((r) => (r as { cohortIndex: number }).cohortIndex));
  const stopped = ctx.finished || ctx.interrupted !== undefined;
  const shown: RolloutRecord[] = [...records];
  if (stopped && ctx.finished) {
    ctx.options.cohorts.forEach((cohort, i) => {
      if (reached.has(i)) return;
      const line: CohortLine = { cohort_percent: cohort, status: 'skipped', reason: 'rollout_blocked' };
      cohortLines.push(line);
      shown.push({ kind: 'probe', cohortIndex: i, line, detail: 'not started: the rollout blocked before this cohort' });
    });
  }
  const decision = decideRollout(ctx, records);
  writeFileSync(join(dir, ARTIFACT_FILES.gateResults), jsonl(gates));
  writeFileSync(join(dir, ARTIFACT_FILES.cohortResults), jsonl(cohortLines));
  writeFileSync(join(dir, ARTIFACT_FILES.sloResults), jsonl(slo));
  writeFileSync(join(dir, ARTIFACT_FILES.soakResults), jsonl(soaks));
  writeFileSync(join(dir, ARTIFACT_FILES.effectResults), jsonl(effects));
  writeFileSync(join(dir, ARTIFACT_FILES.summary), renderRolloutSummary(ctx, shown, decision));
  return decision;
}
