/**
 * Operator confirmations, kept in `confirmations.jsonl` in the rollout's output directory: when
 * runtime-routing status cannot be read, the operator says a cohort is in effect with
 * `sentinel rollout confirm --output-dir DIR --cohort N` (or the daemon's
 * `POST /api/v1/rollouts/current/confirm`), and the waiting rollout takes it. Each line records
 * when and by whom; the evidence shows the cohort as confirmed, not as seen.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Confirmation, Confirmations } from './rollout-deps.js';

/** CONFIRMATIONS_FILE is the file's name in the output directory. */
export const CONFIRMATIONS_FILE = 'confirmations.jsonl';

interface ConfirmationLine {
  readonly cohort_percent: number;
  readonly at: string;
  readonly by?: string;
}

/** recordConfirmation appends one confirmation. */
export function recordConfirmation(outputDir: string, cohort: number, atMs: number, by?: string): void {
  const line: ConfirmationLine = { cohort_percent: cohort, at: new Date(atMs).toISOString(), ...(by ? { by } : {}) };
  mkdirSync(outputDir, { recursive: true });
  appendFileSync(join(outputDir, CONFIRMATIONS_FILE), JSON.stringify(line) + '\n');
}

/** FileConfirmations reads the file on every question (another process may append to it). */
export class FileConfirmations implements Confirmations {
  constructor(private readonly outputDir: string) {}

  confirmed(_cohortIndex: number, cohort: number): Confirmation | undefined {
    const file = join(this.outputDir, CONFIRMATIONS_FILE);
    if (!existsSync(file)) return undefined;
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      if (text.trim() === '') continue;
      try {
        const line = JSON.parse(text) as ConfirmationLine;
        if (line.cohort_percent === cohort) return { atMs: Date.parse(line.at), ...(line.by ? { by: line.by } : {}) };
      } catch {
        // A torn line from a concurrent writer is read again next time.
      }
    }
    return undefined;
  }
}
