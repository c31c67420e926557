/**
 * Journal: the one record of a drill run, `journal.jsonl` in the run's evidence directory.
 * Append-only; an `intent` entry is written and fsynced BEFORE each side effect on the fault
 * proxy and an `outcome` entry after it, so a run killed at any point leaves enough on disk for the
 * next start to find and remove the faults it left behind (`pendingFaults`).
 */
import { readFileSync } from 'node:fs';
import { AppendJournal, parseJournalLines } from './append-journal.js';
import type { JournalOutcome } from './append-journal.js';

/** FaultAction is a side effect on the fault proxy. */
export type FaultAction = 'add_toxic' | 'remove_toxic' | 'disable_proxy' | 'enable_proxy';

/** JournalEntry is one line of journal.jsonl. */
export type JournalEntry =
  | { readonly type: 'run_start'; readonly atMs: number; readonly runId: string; readonly drills: readonly string[]; readonly faultProxy: string }
  | { readonly type: 'intent'; readonly atMs: number; readonly seq: number; readonly action: FaultAction; readonly proxy: string; readonly toxic?: string; readonly stage: string; readonly spec?: unknown }
  | JournalOutcome
  | { readonly type: 'event'; readonly atMs: number; readonly event: string; readonly detail?: Readonly<Record<string, unknown>> }
  | { readonly type: 'run_end'; readonly atMs: number; readonly status: string };

/**
 * Journal appends entries durably. Opening an existing journal (cleanup after a crash) continues
 * its sequence: `seq` identifies an intent within the file, so it never restarts.
 */
export class Journal extends AppendJournal<JournalEntry> {
  /** intent records a side effect about to happen and returns its sequence number for `outcome`. */
  intent(atMs: number, action: FaultAction, proxy: string, stage: string, toxic?: string, spec?: unknown): number {
    const seq = this.nextSeq();
    this.append({ type: 'intent', atMs, seq, action, proxy, stage, ...(toxic === undefined ? {} : { toxic }), ...(spec === undefined ? {} : { spec }) });
    return seq;
  }
}

/** readJournal parses a journal; a torn line (crash mid-write) is skipped. */
export function readJournal(path: string): JournalEntry[] {
  return parseJournalLines<JournalEntry>(readFileSync(path, 'utf8'));
}

/** PendingFault is a fault a journal shows as possibly still in effect. */
export interface PendingFault {
  readonly proxy: string;
  /** toxic is set for toxics; absent means the proxy was (possibly) left disabled. */
  readonly toxic?: string;
}

/**
 * pendingFaults replays a journal: a fault counts as pending from its add/disable intent (the
 * effect may have happened even if no outcome was written) until a successful remove/enable.
 */
export function pendingFaults(entries: readonly JournalEntry[]): PendingFault[] {
  const intents = new Map<number, Extract<JournalEntry, { type: 'intent' }>>();
  const pending = new Map<string, PendingFault>();
  const key = (proxy: string, toxic?: string): string => `${proxy}\u0000${toxic ?? ''}`;
  for (const e of entries) {
    if (e.type === 'intent') {
      intents.set(e.seq, e);
      if (e.action === 'add_toxic') pending.set(key(e.proxy, e.toxic), { proxy: e.proxy, toxic: e.toxic });
      if (e.action === 'disable_proxy') pending.set(key(e.proxy), { proxy: e.proxy });
    } else if (e.type === 'outcome' && e.ok) {
      const intent = intents.get(e.seq);
      if (intent?.action === 'remove_toxic') pending.delete(key(intent.proxy, intent.toxic));
      if (intent?.action === 'enable_proxy') pending.delete(key(intent.proxy));
    }
  }
  return [...pending.values()];
}

/** isFinished tells whether a journal reached its `run_end`. */
export function isFinished(entries: readonly JournalEntry[]): boolean {
  return entries.some((e) => e.type === 'run_end');
}
