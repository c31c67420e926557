/**
 * Finished evidence directories written through the runner's own `finishEvidence` (results,
 * SUMMARY.md, the manifest), for the verdict, forgery and CLI start-up tests: one run of the given
 * scenarios that started 2026-11-25T17:00:00Z, its journal opened.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEvidenceDir, finishEvidence } from '../../../src/drills/evidence.js';
import type { RunStatus, ScenarioResult } from '../../../src/drills/outcomes.js';

const STARTED_AT_MS = Date.UTC(2026, 10, 25, 17, 0, 0);

/**
 * scenarioResult is a one-stage partition scenario with one expectation `resume ok`, as the
 * runner writes it: the status decides the expectation's, the stage's and the reasons.
 */
export function scenarioResult(name: string, status: ScenarioResult['status'] = 'passed', faultsRemoved = true): ScenarioResult {
  return {
    scenario: name,
    status,
    duration_seconds: 12.5,
    started_at: new Date(STARTED_AT_MS).toISOString(),
    faults: [{ stage: 'partition', proxy: 'spacetimedb', toxic: 'sentinel-r1-0-0', type: 'timeout', removed: faultsRemoved }],
    faults_removed: faultsRemoved,
    conditions: [{ name: 'resume ok', kind: 'expect', query: 'x', op: '>=', threshold: 1, observed: 1, sampleCount: 3, status: status === 'passed' ? 'passed' : 'failed' }],
    stages: [{ name: 'partition', status, duration_seconds: 10 }],
    reasons: status === 'passed' ? [] : ['resume ok: failed'],
  };
}

/** EvidenceRun is what the run record says beyond its scenarios. */
export interface EvidenceRun {
  readonly status?: RunStatus;
  readonly environment?: string;
  readonly deviated?: boolean;
  /** durationMs is from the start to the finish (default a minute). */
  readonly durationMs?: number;
  /** hmacKey signs the manifest (default: unsigned). */
  readonly hmacKey?: string;
}

/** writeEvidence writes the finished evidence of `scenarios` under `root` and returns its directory. */
export async function writeEvidence(root: string, scenarios: ScenarioResult[], run: EvidenceRun = {}): Promise<string> {
  const environment = run.environment ?? 'dev';
  const dir = createEvidenceDir(root, STARTED_AT_MS);
  writeFileSync(join(dir, 'journal.jsonl'), '{"type":"run_start"}\n');
  await finishEvidence({
    dir,
    run: {
      run_id: 'r1',
      drills: scenarios.map((s) => s.scenario),
      environment,
      started_at: new Date(STARTED_AT_MS).toISOString(),
      finished_at: new Date(STARTED_AT_MS + (run.durationMs ?? 60_000)).toISOString(),
      status: run.status ?? 'completed',
      deviated: run.deviated ?? false,
      sentinel_version: '0.1.0',
    },
    scenarios,
    facts: [['Environment', environment]],
    hmacKey: run.hmacKey,
  });
  return dir;
}
