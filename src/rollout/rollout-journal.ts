/**
 * RolloutJournal: `journal.jsonl` in the rollout's output directory, the one record of a
 * rollout. Append-only and fsynced line by line, in the drills' journal style: each finished step
 * is a `record`; the one side effect a rollout has on the watched system (the rollback drill's
 * forced control_service driver) is an `intent` written before the call and an `outcome` after it, so a
 * rollout killed at any point can be resumed (`--resume DIR`) and its routing restored first.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { RolloutRecord } from './rollout-records.js';

/** ForceAction is the rollback drill's side effect on the control's runtime routing. */
export type ForceAction = 'force_control_service' | 'restore_routing';

/** RolloutJournalEntry is one line of journal.jsonl. */
export type RolloutJournalEntry =
  | { readonly type: 'run_start'; readonly atMs: number; readonly runId: string; readonly kind: string; readonly options: Readonly<Record<string, unknown>> }
  | { readonly type: 'record'; readonly atMs: number; readonly record: RolloutRecord }
  | { readonly type: 'intent'; readonly atMs: number; readonly seq: number; readonly action: ForceAction; readonly detail: Readonly<Record<string, unknown>> }
  | { readonly type: 'outcome'; readonly atMs: number; readonly seq: number; readonly ok: boolean; readonly error?: string }
  | { readonly type: 'interrupted'; readonly atMs: number; readonly step: string; readonly reason: string }
  | { readonly type: 'resumed'; readonly atMs: number }
  | { readonly type: 'run_end'; readonly atMs: number; readonly decision: 'allow' | 'block' };

/** JOURNAL_FILE is the journal's name in the output directory. */
export const JOURNAL_FILE = 'journal.jsonl';

/** readRolloutJournal parses a journal; a torn last line (a crash mid-write) is ignored. */
export function readRolloutJournal(path: string): RolloutJournalEntry[] {
  if (!existsSync(path)) return [];
  const out: RolloutJournalEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as RolloutJournalEntry);
    } catch {
      // Only the last line can be torn; nothing after it was acknowledged.
      break;
    }
  }
  return out;
}

/** RolloutJournal appends entries durably; `seq` continues from what the file already holds. */
export class RolloutJournal {
  private fd: number | undefined;
  private seq: number;

  constructor(readonly path: string) {
    this.seq = readRolloutJournal(path).reduce((max, e) => ('seq' in e ? Math.max(max, e.seq) : max), 0);
    this.fd = openSync(path, 'a', 0o644);
  }

  /** append writes one entry and fsyncs it before returning. */
  append(entry: RolloutJournalEntry): void {
    if (this.fd === undefined) throw new Error(`rollout journal ${this.path} is closed`);
    writeSync(this.fd, JSON.stringify(entry) + '\n');
    fsyncSync(this.fd);
  }

  /** record journals one finished step. */
  record(atMs: number, record: RolloutRecord): void {
    this.append({ type: 'record', atMs, record });
  }

  /** intent records a side effect about to happen and returns its sequence number for `outcome`. */
  intent(atMs: number, action: ForceAction, detail: Readonly<Record<string, unknown>>): number {
    this.seq += 1;
    this.append({ type: 'intent', atMs, seq: this.seq, action, detail });
    return this.seq;
  }

  outcome(atMs: number, seq: number, ok: boolean, error?: string): void {
    this.append({ type: 'outcome', atMs, seq, ok, ...(error === undefined ? {} : { error }) });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** PendingForce is a forced control_service driver a journal shows as possibly still in effect. */
export interface PendingForce {
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * pendingForce replays a journal: the driver counts as forced from its `force_control_service`
 * intent (the call may have landed even without an outcome) until a successful `restore_routing`.
 */
export function pendingForce(entries: readonly RolloutJournalEntry[]): PendingForce | undefined {
  const intents = new Map<number, Extract<RolloutJournalEntry, { type: 'intent' }>>();
  let pending: PendingForce | undefined;
  for (const e of entries) {
    if (e.type === 'intent') {
      intents.set(e.seq, e);
      if (e.action === 'force_control_service') pending = { detail: e.detail };
    } else if (e.type === 'outcome' && e.ok && intents.get(e.seq)?.action === 'restore_routing') {
      pending = undefined;
    }
  }
  return pending;
}
