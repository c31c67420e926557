/**
 * Run evidence: the files a drill run writes besides its decision (which `finishEvidence` seals):
 * the "after" snapshots of the watched system, every sample of the run's window, and every probe
 * run the drill started (with its phase, times and whether it was cut off).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SampleStore } from '../store/index.js';
import { writeJsonFile } from './evidence.js';
import type { ProbeRunRecord } from './exercise.js';
import type { Journal } from './journal.js';

/** EvidenceSources capture what the evidence shows besides results (secrets removed by the source). */
export interface EvidenceSources {
  /** snapshot returns named JSON documents, e.g. `{ 'runtime-metrics': {...}, 'control-status': {...} }`. */
  snapshot(signal: AbortSignal): Promise<Record<string, unknown>>;
  /** targetIdentity returns the target's identity (database identity, versions reported). */
  targetIdentity(signal: AbortSignal): Promise<Record<string, unknown>>;
}

/** writeSnapshotsAfter writes `<name>-after.json`; a failure is journaled, not fatal. */
export async function writeSnapshotsAfter(dir: string, sources: EvidenceSources | undefined, journal: Journal, nowMs: () => number): Promise<void> {
  if (!sources) return;
  try {
    const after = await sources.snapshot(AbortSignal.timeout(15_000));
    for (const [name, doc] of Object.entries(after)) await writeJsonFile(dir, `${name}-after.json`, doc);
  } catch (err) {
    journal.append({ type: 'event', atMs: nowMs(), event: 'snapshot_after_failed', detail: { error: (err as Error).message } });
  }
}

/**
 * writeSamples writes samples.jsonl: every series of the run's window, not only the drill-labelled
 * ones (counters and histograms are stored without drill labels: splitting them would hide
 * increases from rate()).
 */
export async function writeSamples(dir: string, store: Pick<SampleStore, 'select'>, startMs: number, endMs: number): Promise<void> {
  const series = store.select([{ name: '__name__', type: '=~', value: '.+' }], startMs, endMs);
  const lines: string[] = [];
  for (const s of series) {
    for (const p of s.samples) lines.push(JSON.stringify({ labels: s.labels, t: p.t, v: p.stale ? 'stale' : Number.isFinite(p.v) ? p.v : String(p.v) }));
  }
  await writeFile(join(dir, 'samples.jsonl'), lines.join('\n') + (lines.length ? '\n' : ''));
}

/** writeProbeRuns writes probe-runs.jsonl, one line per run the drill started. */
export async function writeProbeRuns(dir: string, runs: readonly ProbeRunRecord[]): Promise<void> {
  const lines = runs.map((r) => JSON.stringify({ probe: r.probe, phase: r.phase, started_at_ms: r.startedAtMs, ended_at_ms: r.endedAtMs, ok: r.ok, reason: r.reason, cut_off: r.cutOff }));
  await writeFile(join(dir, 'probe-runs.jsonl'), lines.join('\n') + (lines.length ? '\n' : ''));
}
