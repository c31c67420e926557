/**
 * AppendJournal: an append-only JSON-lines file whose every entry is fsynced before `append`
 * returns, the base of the drill journal and the rollout journal. Side effects are journaled as
 * an `intent` (numbered by `seq`) written before the call and an `outcome` after it, so a process
 * killed at any point leaves on disk what it may have done. Reopening a journal continues its
 * sequence, and a line torn by a crash mid-write is skipped when read and closed with a newline
 * before the next entry, so later entries stay readable.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

/** JournalOutcome is the entry that closes an intent: whether its side effect succeeded. */
export interface JournalOutcome {
  readonly type: 'outcome';
  readonly atMs: number;
  readonly seq: number;
  readonly ok: boolean;
  readonly error?: string;
}

/** parseJournalLines parses JSON lines, skipping blank lines and lines torn by a crash. */
export function parseJournalLines<E>(text: string): E[] {
  const out: E[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as E);
    } catch {
      // A line torn by a crash: its intent was never fsynced, so its side effect never started.
      // Entries after it were written by a later run that reopened the journal.
      continue;
    }
  }
  return out;
}

/** AppendJournal appends entries of type `E` durably; `seq` continues from what the file holds. */
export class AppendJournal<E extends { readonly type: string }> {
  private fd: number | undefined;
  private seq: number;

  /** `what` names the journal in the error of an append after close ("journal", "rollout journal"). */
  constructor(
    readonly path: string,
    private readonly what = 'journal',
  ) {
    const existing = existsSync(path) ? readFileSync(path, 'utf8') : '';
    this.seq = 0;
    for (const e of parseJournalLines<{ seq?: unknown }>(existing)) if (typeof e.seq === 'number' && e.seq > this.seq) this.seq = e.seq;
    this.fd = openSync(path, 'a', 0o644);
    // A crash mid-write leaves a torn last line; new entries start on a line of their own.
    if (existing.length > 0 && !existing.endsWith('\n')) writeSync(this.fd, '\n');
  }

  /** append writes one entry and fsyncs it before returning. */
  append(entry: E | JournalOutcome): void {
    if (this.fd === undefined) throw new Error(`${this.what} ${this.path} is closed`);
    writeSync(this.fd, JSON.stringify(entry) + '\n');
    fsyncSync(this.fd);
  }

  /** nextSeq numbers the next intent. */
  protected nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  /** outcome closes intent `seq`. */
  outcome(atMs: number, seq: number, ok: boolean, error?: string): void {
    this.append({ type: 'outcome', atMs, seq, ok, ...(error === undefined ? {} : { error }) });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
