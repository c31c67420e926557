import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../src/drills/journal.js';
import { readRolloutJournal, RolloutJournal } from '../../src/rollout/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newDir = tempDirs('sentinel-journal-');

function tornFile(lines: readonly string[]): string {
  const dir = newDir();
  const path = join(dir, 'journal.jsonl');
  // The last line was cut off mid-write by a crash.
  writeFileSync(path, lines.join('\n') + '\n{"type":"intent","atMs":3,"se');
  return path;
}

describe('journals reopened after a crash mid-write', () => {
  it('the rollout journal continues the sequence and keeps every entry written after the torn line', () => {
    const path = tornFile(['{"type":"resumed","atMs":1}', '{"type":"intent","atMs":2,"seq":4,"action":"force_control_service","detail":{}}']);
    const journal = new RolloutJournal(path);
    const seq = journal.intent(5, 'restore_routing', {});
    journal.outcome(6, seq, true);
    journal.close();
    expect(seq).toBe(5);
    expect(readRolloutJournal(path).map((e) => e.type)).toEqual(['resumed', 'intent', 'intent', 'outcome']);
  });

  it('the drill journal does the same', () => {
    const path = tornFile(['{"type":"intent","atMs":2,"seq":7,"action":"add_toxic","proxy":"p","stage":"s"}']);
    const journal = new Journal(path);
    const seq = journal.intent(5, 'remove_toxic', 'p', 's');
    journal.outcome(6, seq, true);
    journal.close();
    expect(seq).toBe(8);
    expect(readJournal(path).map((e) => e.type)).toEqual(['intent', 'intent', 'outcome']);
    expect(() => journal.append({ type: 'run_end', atMs: 7, status: 'ok' })).toThrow(/journal .* is closed/);
  });
});
