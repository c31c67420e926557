/**
 * verdict: re-derives the promotion decision from an evidence directory, trusting nothing it
 * cannot verify. The manifest must match every file; results.jsonl must parse; the decision is
 * recomputed with `decide` and must agree with SUMMARY.md. Invalid, incomplete or tampered
 * evidence is `invalid` (exit 2), never allow; an interrupted run is block at best.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyManifest } from './manifest.js';
import type { ManifestProtection } from './manifest.js';
import { decide, RunStatuses, ScenarioStatuses } from './outcomes.js';
import type { DecisionReport, RunStatus, ScenarioResult } from './outcomes.js';
import { parseSummary } from './summary.js';

/** RunRecord is run.json: the run's identity and final status. */
export interface RunRecord {
  readonly run_id: string;
  readonly drills: readonly string[];
  readonly environment: string;
  readonly started_at: string;
  readonly finished_at: string;
  readonly status: RunStatus;
  readonly deviated: boolean;
  readonly sentinel_version: string;
  /** skipped_checks name safety checks the operator explicitly skipped. */
  readonly skipped_checks?: readonly string[];
}

/** VerdictReport is what `sentinel verdict` prints. */
export type VerdictReport =
  | { readonly kind: 'decided'; readonly report: DecisionReport; readonly run: RunRecord; readonly scenarios: readonly ScenarioResult[]; readonly protection: ManifestProtection }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

async function readText(dir: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

function isScenarioResult(v: unknown): v is ScenarioResult {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.scenario === 'string' &&
    typeof o.status === 'string' &&
    (ScenarioStatuses as readonly string[]).includes(o.status) &&
    typeof o.duration_seconds === 'number' &&
    typeof o.faults_removed === 'boolean' &&
    Array.isArray(o.conditions) &&
    Array.isArray(o.faults) &&
    Array.isArray(o.reasons)
  );
}

/** protectionSentence tells the reader what a verified manifest proves. */
export function protectionSentence(protection: ManifestProtection): string {
  return protection === 'forgery'
    ? 'Evidence verified with the manifest key (HMAC-SHA256): it was not edited by anyone without the key.'
    : 'Evidence checked against accidents, not forgery: no manifest key is configured, and plain SHA-256 digests can be recomputed by whoever edits the files (set drills.manifest_hmac_key or SENTINEL_MANIFEST_HMAC_KEY to sign and verify).';
}

/** readVerdict verifies `dir` and re-derives its decision. */
export async function readVerdict(dir: string, options: { hmacKey?: string } = {}): Promise<VerdictReport> {
  const manifest = await verifyManifest(dir, options.hmacKey);
  if (!manifest.ok) return { kind: 'invalid', problems: manifest.problems };
  const problems: string[] = [];

  const runText = await readText(dir, 'run.json');
  let run: RunRecord | undefined;
  try {
    run = runText === undefined ? undefined : (JSON.parse(runText) as RunRecord);
  } catch {
    problems.push('run.json is not valid JSON');
  }
  if (run && !(RunStatuses as readonly string[]).includes(run.status)) problems.push(`run.json: unknown status '${String(run.status)}'`);
  if (!run && runText === undefined) problems.push('run.json is missing');

  const resultsText = await readText(dir, 'results.jsonl');
  const scenarios: ScenarioResult[] = [];
  if (resultsText === undefined) problems.push('results.jsonl is missing');
  else {
    resultsText.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        const parsed: unknown = JSON.parse(line);
        if (isScenarioResult(parsed)) scenarios.push(parsed);
        else problems.push(`results.jsonl:${i + 1}: not a scenario result`);
      } catch {
        problems.push(`results.jsonl:${i + 1}: not valid JSON`);
      }
    });
  }

  const summaryText = await readText(dir, 'SUMMARY.md');
  if (summaryText === undefined) problems.push('SUMMARY.md is missing');
  if (problems.length > 0 || !run || summaryText === undefined) return { kind: 'invalid', problems };

  const report = decide(run.status, scenarios);
  const summary = parseSummary(summaryText);
  if (summary.decision !== report.decision) problems.push(`SUMMARY.md says '${summary.decision ?? 'no decision'}' but results.jsonl gives '${report.decision}'`);
  if (summary.failures !== report.failures) problems.push(`SUMMARY.md says Failures: ${summary.failures ?? '?'} but results.jsonl gives ${report.failures}`);
  if (summary.scenarios !== scenarios.length) problems.push(`SUMMARY.md counts ${summary.scenarios ?? '?'} scenarios but results.jsonl has ${scenarios.length}`);
  if (problems.length > 0) return { kind: 'invalid', problems };
  return { kind: 'decided', report, run, scenarios, protection: manifest.protection ?? 'accidents' };
}
