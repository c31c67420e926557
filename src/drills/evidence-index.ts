/**
 * Finding evidence: the newest run of each drill under an evidence root, for the gate and for
 * `GET /api/v1/drills`. Directory names are UTC timestamps, so their order is time order.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from './verdict.js';

/** EvidenceEntry is one evidence directory with the run it records. */
export interface EvidenceEntry {
  readonly dir: string;
  readonly run: RunRecord;
}

/** listEvidence returns every run under `root` whose run.json parses, newest first. */
export function listEvidence(root: string): EvidenceEntry[] {
  if (!existsSync(root)) return [];
  const out: EvidenceEntry[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    try {
      const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
      if (Array.isArray(run.drills)) out.push({ dir, run });
    } catch {
      // Not evidence (or a run still in progress): nothing to list.
      continue;
    }
  }
  return out.sort((a, b) => (a.run.started_at < b.run.started_at ? 1 : a.run.started_at > b.run.started_at ? -1 : 0));
}

/** latestEvidence is the newest run of `drill`, if any. */
export function latestEvidence(root: string, drill: string): EvidenceEntry | undefined {
  return listEvidence(root).find((e) => e.run.drills.includes(drill));
}
