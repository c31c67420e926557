/**
 * The runner's timing and judging on a ManualClock, where real waits are not the point: probe
 * rounds keep their cadence while one probe is stuck in the fault, a run still stuck at the
 * stage's end is cut off (recorded, not measured), the expectation's measurements are spread over
 * the stage, a bad outcome counted during recovery blocks even though the system came back, an
 * expectation whose probe never answered after the removal is inconclusive (no vacuous pass), and
 * a steady state that returns and then fails again is a failed recovery.
 *
 * The probes and the fault proxy are in-memory stand-ins: what is under test is the runner's
 * schedule and verdict, which the lab-backed tests (drill-runner, sabotage matrix) check for real.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillRunResult } from '../../src/drills/drill-runner.js';
import { readJournal } from '../../src/drills/journal.js';
import { MemoryFaultProxy, runMemoryDrill } from './helpers/memory-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import type { ProbeBehaviour } from './helpers/memory-drill.js';

const newRoot = tempDirs('sentinel-timeline-');

const DRILL = (stage: string): string => `drills:
  - name: timeline
    description: a partition on an in-memory proxy
    environments: [dev]
    proxies:
      - name: p
    steady_state:
      - name: delivery works
        query: min(sentinel_probe_success{probe="delivery"})
        op: '>='
        threshold: 1
    stages:
${stage}`;

const STAGE = `      - name: cut
        duration: 10s
        probe_interval: 1s
        probes: [delivery, resume]
        faults:
          - { proxy: p, type: timeout, attributes: { timeout: 0 } }
        verify_fault:
          name: delivery fails
          query: min(sentinel_probe_success{probe="delivery",stage="$stage"})
          op: '=='
          threshold: 0
        expect:
          - name: no gap on resume
            query: sum(increase(sentinel_resume_total{outcome="gap"}[$window]))
            op: '<='
            threshold: 0
            count: 5
        recovery: 20s
`;

/** healthy: delivery fails fast while faulty; resume is stuck 6 s per run while faulty. */
const healthy: Record<string, ProbeBehaviour> = {
  delivery: ({ faulty }) => ({ durationMs: faulty ? 300 : 50, ok: !faulty, reason: faulty ? 'timeout' : 'ok' }),
  resume: ({ faulty }) => ({ durationMs: faulty ? 6000 : 80, ok: !faulty, reason: faulty ? 'timeout' : 'ok' }),
};

async function run(stage: string, behaviours: Record<string, ProbeBehaviour>): Promise<DrillRunResult> {
  return runMemoryDrill({ yaml: DRILL(stage), file: 'timeline.yaml', knownProbes: ['delivery', 'resume'], proxy: new MemoryFaultProxy(), evidenceRoot: newRoot(), behaviours, maxSteps: 20_000 });
}

describe('stage pacing', () => {
  it('keeps the round cadence while a probe is stuck, cuts off a run still stuck at the end, and spreads the measurements', async () => {
    const result = await run(STAGE, healthy);
    expect(result.scenario.reasons).toEqual([]);
    expect(result.decision.decision).toBe('allow');
    const runs = readFileSync(join(result.dir, 'probe-runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { probe: string; phase: string; started_at_ms: number; ended_at_ms: number; cut_off: boolean });
    const stage = result.scenario.stages[0];
    expect(stage.status).toBe('passed');
    const inStage = (p: string) => runs.filter((r) => r.probe === p && r.phase === 'cut');
    // Delivery answers fast: a run at every one of the ten rounds.
    expect(inStage('delivery').length).toBeGreaterThanOrEqual(9);
    // Resume is stuck 6 s: the rounds in between skip it; the second run is cut off at the end.
    expect(inStage('resume')).toHaveLength(2);
    expect(inStage('resume').map((r) => r.cut_off)).toEqual([false, true]);
    const journal = readJournal(join(result.dir, 'journal.jsonl'));
    expect(journal.some((e) => e.type === 'event' && e.event === 'probe_run_cut_off')).toBe(true);
    expect(journal.some((e) => e.type === 'event' && e.event === 'probe_round_skipped')).toBe(true);
    // Five measurements during the stage, about two seconds apart.
    const expectation = result.scenario.conditions.find((c) => c.kind === 'expect');
    const during = (expectation?.measurements ?? []).filter((m) => m.phase === 'stage').map((m) => m.at_ms);
    expect(during).toHaveLength(5);
    const gaps = during.slice(1).map((t, i) => t - during[i]);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(1500);
    // ...then more on the way back and one over the whole span.
    expect(expectation?.measurements?.some((m) => m.phase === 'recovery')).toBe(true);
    expect(expectation?.measurements?.some((m) => m.phase === 'final')).toBe(true);
    expect(expectation?.exercised).toEqual([{ probe: 'resume', phase: 'recovery', required: 1, answered: expect.any(Number) }]);
  });
});

describe('judging over the stage and its recovery', () => {
  it('blocks a gap counted on the first resume after the fault, though the system came back', async () => {
    const result = await run(STAGE, { ...healthy, resume: (c) => ({ ...healthy.resume(c), gaps: c.afterFault && c.runsSinceFault === 1 ? 1 : 0 }) });
    expect(result.decision.decision).toBe('block');
    expect(result.scenario.status).toBe('failed');
    expect(result.scenario.conditions.find((c) => c.kind === 'recovery')?.status).toBe('passed');
    expect(result.scenario.conditions.find((c) => c.kind === 'expect')?.status).toBe('failed');
  });

  it('is inconclusive, never passed, when the probe behind the expectation never answers after the fault', async () => {
    const result = await run(STAGE, { ...healthy, resume: ({ faulty }) => ({ durationMs: faulty ? 6000 : 100, ok: false, reason: 'timeout' }) });
    expect(result.decision.decision).toBe('block');
    const expectation = result.scenario.conditions.find((c) => c.kind === 'expect');
    expect(expectation?.status).toBe('inconclusive');
    expect(expectation?.detail).toContain('not exercised: 0 of 1 answered resume runs after the faults were removed');
  });

  it('fails a recovery whose steady state returns and then fails again within the hold', async () => {
    // Back on the first run after the removal, failing again on the third (within the hold).
    const flapping: ProbeBehaviour = (c) => {
      if (c.faulty) return { durationMs: 100, ok: false, reason: 'timeout' };
      const ok = c.runsSinceFault !== 3;
      return { durationMs: 50, ok, reason: ok ? 'ok' : 'not_streaming' };
    };
    const result = await run(STAGE, { ...healthy, delivery: flapping });
    expect(result.decision.decision).toBe('block');
    const recovery = result.scenario.conditions.find((c) => c.kind === 'recovery');
    expect(recovery?.status).toBe('failed');
    expect(recovery?.detail).toMatch(/returned .* then 'delivery works' was failed again/);
  });

  it('fails a recovery that never comes back', async () => {
    const result = await run(STAGE, { ...healthy, delivery: ({ faulty, afterFault }) => ({ durationMs: 50, ok: !faulty && !afterFault, reason: faulty || afterFault ? 'not_streaming' : 'ok' }) });
    expect(result.scenario.conditions.find((c) => c.kind === 'recovery')).toMatchObject({ status: 'failed' });
    expect(result.decision.decision).toBe('block');
  });

  // A disabled probe (read-only mode, no canary budget) reports success without looking at anything.
  it('does not take a disabled probe for a recovered steady state: inconclusive, never passed', async () => {
    const result = await run(STAGE, { ...healthy, delivery: ({ faulty, afterFault }) => (afterFault ? { durationMs: 5, ok: true, reason: 'disabled' } : { durationMs: faulty ? 300 : 50, ok: !faulty, reason: faulty ? 'timeout' : 'ok' }) });
    expect(result.decision.decision).toBe('block');
    const recovery = result.scenario.conditions.find((c) => c.kind === 'recovery');
    expect(recovery?.status).toBe('inconclusive');
    expect(recovery?.detail).toMatch(/completed no run that measured anything/);
  });

  it('does not take a disabled probe for a steady state before the drill: refused as inconclusive', async () => {
    const result = await run(STAGE, { ...healthy, delivery: () => ({ durationMs: 5, ok: true, reason: 'disabled' }) });
    expect(result.decision.decision).toBe('block');
    expect(result.scenario.status).toBe('inconclusive');
    expect(result.scenario.faults).toEqual([]);
    expect(result.scenario.reasons.join('\n')).toMatch(/preflight: steady state 'delivery works' inconclusive \(its probes have not completed a run that measured anything/);
  });
});
