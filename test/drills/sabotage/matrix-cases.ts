/**
 * defineMatrixTests registers one test per matrix cell of the given drills: the shipped drill,
 * timing compressed, against a fresh lab, sabotaged at its moment. A sabotage case must block
 * with the honest status (failed, or inconclusive when the fault never reached the watched path)
 * and must really have happened (its knob changes fired and were accepted, and a resume fault was
 * counted by a resume); a healthy run must allow. At most MATRIX_CONCURRENCY labs run at once per file.
 */
import { describe, expect, it } from 'vitest';
import { countedOutcomes, MATRIX, runMatrixCase } from './matrix-harness.js';

const MATRIX_CONCURRENCY = 3;
let running = 0;
const waiting: Array<() => void> = [];

async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MATRIX_CONCURRENCY) await new Promise<void>((r) => waiting.push(r));
  running += 1;
  try {
    return await fn();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

/** defineMatrixTests adds the matrix rows of `drills`. */
export function defineMatrixTests(drills: readonly string[]): void {
  for (const drill of drills) {
    describe.concurrent(`sabotage matrix: ${drill}`, () => {
      for (const cell of MATRIX[drill]) {
        const name = cell.sabotage ? `${cell.statuses.includes('passed') ? 'allows' : 'blocks'} when ${cell.sabotage.name}` : 'allows on a healthy lab';
        it(name, async () => {
          let outcomes: string[] = [];
          const run = await withSlot(() => runMatrixCase({ drill, ...(cell.sabotage ? { sabotage: cell.sabotage } : {}), inspect: (dir) => (outcomes = countedOutcomes(dir)) }));
          const { scenario, decision } = run.result;
          const why = `${scenario.status}: ${scenario.reasons.join(' | ')}`;
          expect(run.injectionErrors, 'the lab refused a sabotage knob').toEqual([]);
          expect(run.fired, 'the sabotage fired at its moments').toEqual(expect.arrayContaining([...(cell.fires ?? [])]));
          if (cell.bites) expect(outcomes, 'the sabotage reached a resume').toContain(cell.bites);
          expect(cell.statuses, why).toContain(scenario.status);
          expect(decision.decision, why).toBe(cell.statuses.includes('passed') ? 'allow' : 'block');
          expect(scenario.faults_removed).toBe(true);
          // Every run checked service readiness first: passed for an allow; a refusal adds no fault.
          const health = scenario.conditions.find((c) => c.kind === 'health');
          if (decision.decision === 'allow') expect(scenario.conditions.filter((c) => c.kind === 'health').map((c) => c.status), why).toEqual(['passed', 'passed']);
          if (cell.refused) {
            expect(scenario.reasons.join('\n')).toMatch(cell.refused);
            expect(health?.status, why).toBe('failed');
            expect(scenario.faults, 'a refused drill adds no fault').toEqual([]);
          }
        }, 120_000);
      }
    });
  }
}
