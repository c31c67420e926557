/**
 * Evidence: the directory a release manager attaches to a promotion, under
 * `<evidence_dir>/<UTC timestamp>/`. Files are written as the run goes (journal, snapshots,
 * samples); `finishEvidence` writes results.jsonl, run.json and SUMMARY.md from the same
 * `decide` that `sentinel verdict` uses, then the manifest last, so a run that never reached it
 * can never verify.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeManifest } from './manifest.js';
import { decide } from './outcomes.js';
import type { DecisionReport, ScenarioResult } from './outcomes.js';
import { renderSummary } from './summary.js';
import type { RunRecord } from './verdict.js';

/** evidenceDirName is the UTC timestamp folder name, e.g. 20261125T175500Z (sortable, unique per second). */
export function evidenceDirName(atMs: number): string {
  return new Date(atMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** createEvidenceDir makes `<root>/<timestamp>` (adding -2, -3... if taken) and returns its path. */
export function createEvidenceDir(root: string, atMs: number): string {
  mkdirSync(root, { recursive: true });
  const base = evidenceDirName(atMs);
  for (let i = 1; i < 1000; i++) {
    const dir = join(root, i === 1 ? base : `${base}-${i}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`cannot create an evidence directory under ${root}`);
}

/** writeJsonFile writes pretty JSON (snapshots, target identity). */
export async function writeJsonFile(dir: string, file: string, value: unknown): Promise<void> {
  await writeFile(join(dir, file), JSON.stringify(value, null, 2) + '\n');
}

/** describeChecks is the "what was checked" column of SUMMARY.md for one scenario. */
function describeChecks(s: ScenarioResult): string {
  const counts = new Map<string, number>();
  for (const c of s.conditions) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const parts = [`${s.conditions.length} conditions`];
  for (const [status, n] of counts) parts.push(`${n} ${status}`);
  const faults = [...new Set(s.faults.map((f) => f.type))];
  if (faults.length > 0) parts.push(`faults: ${faults.join(', ')}`);
  return parts.join(', ');
}

/** FinishInput is what the runner knows at the end of a run. */
export interface FinishInput {
  readonly dir: string;
  readonly run: RunRecord;
  readonly scenarios: readonly ScenarioResult[];
  /** facts are extra `- Key: value` lines for SUMMARY.md (environment, target, run id). */
  readonly facts: ReadonlyArray<readonly [string, string]>;
  readonly hmacKey?: string;
  /** beforeManifest writes late files (report.html) that must be covered by the manifest. */
  readonly beforeManifest?: (report: DecisionReport) => Promise<void>;
}

/** finishEvidence writes the decision files and seals the directory with its manifest. */
export async function finishEvidence(input: FinishInput): Promise<DecisionReport> {
  const report = decide(input.run.status, input.scenarios);
  await writeFile(join(input.dir, 'results.jsonl'), input.scenarios.map((s) => JSON.stringify(s)).join('\n') + (input.scenarios.length ? '\n' : ''));
  await writeJsonFile(input.dir, 'run.json', input.run);
  const summary = renderSummary({
    title: `Spacetime sync chaos drills: ${input.run.drills.join(', ')}`,
    timestamp: input.run.started_at,
    facts: [['Run', `${input.run.run_id} (${input.run.status}${input.run.deviated ? ', deviated' : ''})`], ...input.facts],
    rows: input.scenarios.map((s) => ({ scenario: s.scenario, status: s.status, durationSeconds: s.duration_seconds, checked: describeChecks(s) })),
    decision: report,
  });
  await writeFile(join(input.dir, 'SUMMARY.md'), summary);
  if (input.beforeManifest) await input.beforeManifest(report);
  await writeManifest(input.dir, input.hmacKey);
  return report;
}
