/**
 * SUMMARY.md in the operators' drill-evidence format: timestamp, scenario
 * count, `Failures: N`, a table of scenario / status / duration / what was checked, the reasons
 * for a block, and a last line `Decision: allow` or `Decision: block`. `parseSummary` reads back
 * what `sentinel verdict` cross-checks.
 */
import type { DecisionReport } from './outcomes.js';

/** SummaryRow is one table row. */
export interface SummaryRow {
  readonly scenario: string;
  readonly status: string;
  readonly durationSeconds: number;
  readonly checked: string;
}

/** SummaryInput is everything SUMMARY.md shows. */
export interface SummaryInput {
  readonly title: string;
  readonly timestamp: string;
  readonly facts: ReadonlyArray<readonly [string, string]>;
  readonly rows: readonly SummaryRow[];
  readonly decision: DecisionReport;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** renderSummary writes the markdown. */
export function renderSummary(input: SummaryInput): string {
  const lines = [`# ${input.title}`, '', `- Timestamp: ${input.timestamp}`];
  for (const [k, v] of input.facts) lines.push(`- ${k}: ${v}`);
  lines.push(`- Scenarios: ${input.rows.length}`, `- Failures: ${input.decision.failures}`, '');
  lines.push('| scenario | status | duration | checked |', '| --- | --- | --- | --- |');
  for (const r of input.rows) lines.push(`| ${cell(r.scenario)} | ${cell(r.status)} | ${r.durationSeconds.toFixed(1)}s | ${cell(r.checked)} |`);
  lines.push('');
  if (input.decision.reasons.length > 0) {
    lines.push('## Reasons', '');
    for (const r of input.decision.reasons) lines.push(`- ${r}`);
    lines.push('');
  }
  lines.push(`Decision: ${input.decision.decision}`);
  return lines.join('\n') + '\n';
}

/** ParsedSummary is what a reader can recover from SUMMARY.md. */
export interface ParsedSummary {
  readonly scenarios?: number;
  readonly failures?: number;
  readonly decision?: string;
}

/** parseSummary extracts the counts and the decision line. */
export function parseSummary(text: string): ParsedSummary {
  const scenarios = /^- Scenarios: (\d+)$/m.exec(text)?.[1];
  const failures = /^- Failures: (\d+)$/m.exec(text)?.[1];
  const lines = text.trimEnd().split('\n');
  const decision = /^Decision: (allow|block)$/.exec(lines[lines.length - 1] ?? '')?.[1];
  return {
    scenarios: scenarios === undefined ? undefined : Number(scenarios),
    failures: failures === undefined ? undefined : Number(failures),
    decision,
  };
}
