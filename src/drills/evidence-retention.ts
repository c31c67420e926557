/**
 * Evidence retention: keep the newest `keepLast` runs of each drill and every run younger than
 * `keepWithinMs`; remove the rest (restic's `--keep-last` / `--keep-within`, applied per drill).
 * Never removed, whatever their age:
 *   1. the newest run of every drill (keepLast is at least 1), so the gate always finds the
 *      evidence it would judge;
 *   2. a directory whose journal has no `run_end`: a run in progress, or a crashed one whose
 *      faults the next start still has to remove from that journal;
 *   3. anything that is not a run (no run.json and no journal): someone else's files.
 * A crashed run (journal finished by the reconciler, no run.json) counts as a run of its drill
 * for the age rule but not towards keepLast: it decided nothing.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvidenceIndex } from './evidence-index.js';
import { isFinished, readJournal } from './journal.js';

/** EvidenceRetention is how much drill evidence to keep. */
export interface EvidenceRetention {
  /** keepLast is how many of each drill's newest runs are always kept (>= 1). */
  readonly keepLast: number;
  /** keepWithinMs keeps every run that finished less than this long ago. */
  readonly keepWithinMs: number;
}

/** DEFAULT_EVIDENCE_RETENTION keeps the newest 10 runs of each drill and a week of history. */
export const DEFAULT_EVIDENCE_RETENTION: EvidenceRetention = { keepLast: 10, keepWithinMs: 7 * 24 * 3600_000 };

/** PruneReport lists the directories removed and those that could not be. */
export interface PruneReport {
  readonly removed: readonly string[];
  readonly failed: readonly string[];
}

interface Candidate {
  readonly dir: string;
  readonly drills: readonly string[];
  readonly finishedAtMs: number;
  readonly counts: boolean;
}

/** crashedRun reads a directory without run.json: a finished journal makes it a crashed run. */
function crashedRun(dir: string): Candidate | undefined {
  let entries;
  try {
    entries = readJournal(join(dir, 'journal.jsonl'));
  } catch {
    return undefined;
  }
  if (!isFinished(entries)) return undefined;
  const start = entries.find((e) => e.type === 'run_start');
  const end = entries.find((e) => e.type === 'run_end');
  if (start?.type !== 'run_start' || end === undefined) return undefined;
  return { dir, drills: start.drills, finishedAtMs: end.atMs, counts: false };
}

/** pruneEvidence applies `policy` to the runs `index` knows at `nowMs` and removes the rest. */
export async function pruneEvidence(index: EvidenceIndex, policy: EvidenceRetention, nowMs: number): Promise<PruneReport> {
  const keepLast = Math.max(1, Math.floor(policy.keepLast));
  const candidates: Candidate[] = index.list().map((e) => ({ dir: e.dir, drills: e.run.drills, finishedAtMs: Date.parse(e.run.finished_at), counts: true }));
  for (const dir of index.incomplete()) {
    const crashed = crashedRun(dir);
    if (crashed) candidates.push(crashed);
  }
  const keep = new Set<string>();
  const seenPerDrill = new Map<string, number>();
  // index.list() is newest first; crashed runs come after and never count towards keepLast.
  for (const c of candidates) {
    if (nowMs - c.finishedAtMs < policy.keepWithinMs || !Number.isFinite(c.finishedAtMs)) keep.add(c.dir);
    if (!c.counts) continue;
    for (const drill of c.drills) {
      const seen = seenPerDrill.get(drill) ?? 0;
      if (seen < keepLast) keep.add(c.dir);
      seenPerDrill.set(drill, seen + 1);
    }
  }
  const removed: string[] = [];
  const failed: string[] = [];
  for (const c of candidates) {
    if (keep.has(c.dir)) continue;
    try {
      await rm(c.dir, { recursive: true, force: true });
      index.forget(c.dir);
      removed.push(c.dir);
    } catch (err) {
      failed.push(`${c.dir}: ${(err as Error).message}`);
    }
  }
  return { removed, failed };
}
