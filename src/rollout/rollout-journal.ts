/**
 * RolloutJournal: `journal.jsonl` in the rollout's output directory, the one record of a
 * rollout. Append-only and fsynced line by line (`AppendJournal`, as the drills' journal): each finished step
 * is a `record`; the one side effect a rollout has on the watched system (the rollback drill's
 * forced control_service driver) is an `intent` written before the call and an `outcome` after it, so a
 * rollout killed at any point can be resumed (`--resume DIR`) and its routing restored first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AppendJournal, parseJournalLines } from '../drills/index.js';
import type { JournalOutcome } from '../drills/index.js';
import type { RolloutRecord } from './rollout-records.js';

/** ForceAction is the rollback drill's side effect on the control's runtime routing. */
export type ForceAction = 'force_control_service' | 'restore_routing';

/** RolloutJournalEntry is one line of journal.jsonl. */
export type RolloutJournalEntry =
  | { readonly type: 'run_start'; readonly atMs: number; readonly runId: string; readonly kind: string; readonly options: Readonly<Record<string, unknown>> }
  | { readonly type: 'record'; readonly atMs: number; readonly record: RolloutRecord }
  | { readonly type: 'intent'; readonly atMs: number; readonly seq: number; readonly action: ForceAction; readonly detail: Readonly<Record<string, unknown>> }
  | JournalOutcome
  | { readonly type: 'interrupted'; readonly atMs: number; readonly step: string; readonly reason: string }
  | { readonly type: 'resumed'; readonly atMs: number }
  | { readonly type: 'run_end'; readonly atMs: number; readonly decision: 'allow' | 'block' };

/** JOURNAL_FILE is the journal's name in the output directory. */
export const JOURNAL_FILE = 'journal.jsonl';

/** readRolloutJournal parses a journal (none yet: no entries); a line torn by a crash is skipped. */
export function readRolloutJournal(path: string): RolloutJournalEntry[] {
  if (!existsSync(path)) return [];
  return parseJournalLines<RolloutJournalEntry>(readFileSync(path, 'utf8'));
}

/** RolloutJournal appends entries durably; `seq` continues from what the file already holds. */
export class RolloutJournal extends AppendJournal<RolloutJournalEntry> {
  constructor(path: string) {
    super(path, 'rollout journal');
  }

  /** record journals one finished step. */
  record(atMs: number, record: RolloutRecord): void {
    this.append({ type: 'record', atMs, record });
  }

  /** intent records a side effect about to happen and returns its sequence number for `outcome`. */
  intent(atMs: number, action: ForceAction, detail: Readonly<Record<string, unknown>>): number {
    const seq = this.nextSeq();
    this.append({ type: 'intent', atMs, seq, action, detail });
    return seq;
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
