/**
 * The matrix covers every shipped drill, each with a healthy run and at least two sabotage cases
 * that must block, and the drills it runs are the shipped ones with only their timing changed:
 * the same faults, steady state, verify_fault, abort_when, expectations and exercise requirements.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDrillFiles } from '../../../src/drills/index.js';
import type { DrillSpec } from '../../../src/drills/index.js';
import { compressDrills, FAST, MATRIX, SHIPPED_DRILLS } from './matrix-harness.js';

const PROBES = ['runtime_metrics', 'replay_lag', 'delivery', 'resume', 'connections', 'token', 'cutover_state', 'retired_routes', 'preflight'];

function claims(d: DrillSpec): unknown {
  return { ...d, file: '', stages: d.stages.map((s) => ({ ...s, durationMs: 0, probeIntervalMs: 0, recoveryMs: 0, recoveryHoldMs: 0 })) };
}

describe('sabotage matrix coverage', () => {
  it('has every shipped drill, each with a healthy run and at least two blocking cases', () => {
    const shipped = loadDrillFiles([SHIPPED_DRILLS], { knownProbes: PROBES }).map((d) => d.name);
    expect(Object.keys(MATRIX).sort()).toEqual([...shipped].sort());
    for (const [drill, cells] of Object.entries(MATRIX)) {
      expect(cells.filter((c) => c.sabotage === undefined), drill).toHaveLength(1);
      expect(cells.filter((c) => c.sabotage !== undefined && !c.statuses.includes('passed')).length, drill).toBeGreaterThanOrEqual(2);
    }
  });

  it('runs the shipped claims, only faster', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-matrix-claims-'));
    try {
      const shipped = loadDrillFiles([SHIPPED_DRILLS], { knownProbes: PROBES });
      const fast = loadDrillFiles([compressDrills(dir, FAST)], { knownProbes: PROBES });
      expect(fast.map(claims)).toEqual(shipped.map(claims));
      expect(fast.every((d) => d.stages.every((s) => s.durationMs === FAST.stageMs && s.recoveryHoldMs === FAST.recoveryHoldMs))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
