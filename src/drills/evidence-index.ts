/**
 * Finding evidence: the runs under an evidence root, newest first, for the gate, retention and
 * `GET /api/v1/drills`. Directory names are UTC timestamps, so their order is time order.
 *
 * `EvidenceIndex` keeps what it read: a directory's run.json is read once, when the directory
 * first shows up; later calls only stat the root (a new or removed run changes its mtime) and the
 * directories still without run.json (runs in progress). So a listing costs the same with ten
 * runs as with ten thousand. The root's mtime is trusted only once it is older than the
 * filesystem's timestamp granularity could hide (`RACY_MS`), as git treats a racily clean index.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readVerdict } from './verdict.js';
import type { RunRecord, VerdictReport } from './verdict.js';

/** EvidenceEntry is one evidence directory with the run it records. */
export interface EvidenceEntry {
  readonly dir: string;
  readonly run: RunRecord;
}

/**
 * RACY_MS: a directory changed this recently may change again within the same timestamp tick
 * (Linux file times advance by the kernel's coarse clock), so its mtime cannot yet vouch for
 * "nothing changed since the last read".
 */
const RACY_MS = 2_000;

function mtimeOf(path: string): bigint | undefined {
  try {
    return statSync(path, { bigint: true }).mtimeNs;
  } catch {
    return undefined;
  }
}

function readRun(dir: string): RunRecord | undefined {
  try {
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
    return Array.isArray(run.drills) && typeof run.started_at === 'string' ? run : undefined;
  } catch {
    return undefined;
  }
}

function newestFirst(a: EvidenceEntry, b: EvidenceEntry): number {
  if (a.run.started_at !== b.run.started_at) return a.run.started_at < b.run.started_at ? 1 : -1;
  return a.dir < b.dir ? 1 : a.dir > b.dir ? -1 : 0;
}

/** CachedVerdict is a verdict with the file signature it was computed from. */
interface CachedVerdict {
  readonly signature: string;
  readonly verdict: VerdictReport;
}

/** EvidenceIndex lists the runs under one evidence root without rescanning it on every call. */
export class EvidenceIndex {
  /** runs maps a directory name to its run (directories with a readable run.json). */
  private readonly runs = new Map<string, EvidenceEntry>();
  /** pending maps a directory without run.json (yet) to its mtime when last looked at. */
  private readonly pending = new Map<string, bigint | undefined>();
  private sorted: EvidenceEntry[] | undefined;
  private rootMtime: bigint | undefined;
  private readonly verdicts = new Map<string, CachedVerdict>();

  constructor(readonly root: string, private readonly nowMs: () => number = Date.now) {}

  /** list returns every run whose run.json parses, newest first. */
  list(): readonly EvidenceEntry[] {
    this.refresh();
    this.sorted ??= [...this.runs.values()].sort(newestFirst);
    return this.sorted;
  }

  /** latest is the newest run of `drill`, if any. */
  latest(drill: string): EvidenceEntry | undefined {
    return this.list().find((e) => e.run.drills.includes(drill));
  }

  /**
   * incomplete lists the directories that hold no run.json: runs in progress, runs that crashed,
   * anything else placed under the root. Retention reads their journals to tell them apart.
   */
  incomplete(): readonly string[] {
    this.refresh();
    return [...this.pending.keys()].map((name) => join(this.root, name));
  }

  /** forget drops a directory that was removed (retention calls it). */
  forget(dir: string): void {
    const name = dir.slice(this.root.length + 1);
    if (this.runs.delete(name)) this.sorted = undefined;
    this.pending.delete(name);
    this.verdicts.delete(dir);
  }

  /**
   * verdict re-derives the decision of `entry`'s directory, or returns the one computed before
   * when no file in it changed since (name, size and mtime of every file): hashing the evidence
   * on every listing would cost as much as the evidence is large. Gate and `sentinel verdict`
   * always verify afresh.
   */
  async verdict(entry: EvidenceEntry, hmacKey: string | undefined): Promise<VerdictReport> {
    const files = filesSignature(entry.dir);
    const signature = files === undefined ? undefined : `${hmacKey === undefined ? '-' : 'k'}|${files}`;
    const cached = this.verdicts.get(entry.dir);
    if (cached && cached.signature === signature) return cached.verdict;
    const verdict = await readVerdict(entry.dir, { hmacKey });
    if (signature === undefined) this.verdicts.delete(entry.dir);
    else this.verdicts.set(entry.dir, { signature, verdict });
    return verdict;
  }

  /** refresh picks up runs added or removed since the last call (done by every read). */
  refresh(): void {
    const mtime = mtimeOf(this.root);
    if (mtime === undefined) {
      if (this.runs.size > 0 || this.pending.size > 0) this.clear();
      return;
    }
    if (mtime !== this.rootMtime) this.rescan(mtime);
    for (const [name, seen] of this.pending) {
      const dir = join(this.root, name);
      const now = mtimeOf(dir);
      if (now === undefined) {
        this.pending.delete(name);
        continue;
      }
      if (now === seen) continue;
      const run = readRun(dir);
      if (run) {
        this.pending.delete(name);
        this.runs.set(name, { dir, run });
        this.sorted = undefined;
      } else {
        this.pending.set(name, this.isSettled(now) ? now : undefined);
      }
    }
  }

  private clear(): void {
    this.runs.clear();
    this.pending.clear();
    this.verdicts.clear();
    this.sorted = undefined;
    this.rootMtime = undefined;
  }

  private isSettled(mtimeNs: bigint): boolean {
    return this.nowMs() - Number(mtimeNs / 1_000_000n) > RACY_MS;
  }

  private rescan(mtime: bigint): void {
    let names: string[];
    try {
      names = readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      this.clear();
      return;
    }
    const present = new Set(names);
    for (const name of [...this.runs.keys(), ...this.pending.keys()]) {
      if (!present.has(name)) this.forget(join(this.root, name));
    }
    for (const name of names) {
      if (this.runs.has(name) || this.pending.has(name)) continue;
      const dir = join(this.root, name);
      const run = readRun(dir);
      if (run) {
        this.runs.set(name, { dir, run });
        this.sorted = undefined;
      } else {
        const dirMtime = mtimeOf(dir);
        this.pending.set(name, dirMtime !== undefined && this.isSettled(dirMtime) ? dirMtime : undefined);
      }
    }
    this.rootMtime = this.isSettled(mtime) ? mtime : undefined;
  }
}

/** filesSignature names every file of `dir` with its size and mtime (undefined if unreadable). */
function filesSignature(dir: string): string | undefined {
  try {
    return readdirSync(dir)
      .sort()
      .map((name) => {
        const s = statSync(join(dir, name), { bigint: true });
        return `${name}:${s.size}:${s.mtimeNs}`;
      })
      .join('/');
  } catch {
    return undefined;
  }
}

/** listEvidence returns every run under `root` whose run.json parses, newest first (one scan). */
export function listEvidence(root: string): EvidenceEntry[] {
  if (!existsSync(root)) return [];
  return [...new EvidenceIndex(root).list()];
}

/** latestEvidence is the newest run of `drill`, if any (one scan). */
export function latestEvidence(root: string, drill: string): EvidenceEntry | undefined {
  return listEvidence(root).find((e) => e.run.drills.includes(drill));
}
