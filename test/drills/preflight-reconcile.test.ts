/**
 * The preflight's leftover clean-up under a lease that leaves no lock file (the PostgreSQL lease
 * of an HA pair): a toxic of a dead holder that lands after the first listing is still removed
 * before any fault is added (remove, then re-list), and the run's own journal is never taken for
 * a crashed run's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillLease } from '../../src/drills/drill-lease.js';
import type { DrillRunResult } from '../../src/drills/drill-runner.js';
import type { ProxyState } from '../../src/drills/fault-driver.js';
import { ownedToxicName } from '../../src/drills/toxic-names.js';
import { ManualClock } from '../../src/time/index.js';
import { deliveryFailsUnderFault, MemoryFaultProxy, partitionDrillYaml, runMemoryDrill } from './helpers/memory-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newRoot = tempDirs('sentinel-preflight-reconcile-');

const YAML = partitionDrillYaml({ name: 'cut', description: 'a partition', duration: '3s' });

const START_MS = Date.UTC(2026, 10, 25, 17, 0, 0);

/** LateLandingProxy has a dead holder's toxic in place, and a second one lands just after the first listing. */
class LateLandingProxy extends MemoryFaultProxy {
  readonly early = ownedToxicName('dead-holder', 0, 0, START_MS + 3600_000);
  readonly late = ownedToxicName('dead-holder', 0, 1, START_MS + 3600_000);
  private listings = 0;
  constructor() {
    super();
    this.toxics.push({ name: this.early, type: 'timeout', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } });
  }
  override async listProxies(): Promise<ProxyState[]> {
    const state = await super.listProxies();
    if (++this.listings === 1) this.toxics.push({ name: this.late, type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } });
    return state;
  }
}

/** sharedLease stands for a lease held elsewhere than in the evidence root (no lock file). */
const sharedLease: DrillLease = {
  description: 'a lease without a lock file',
  acquire: () => Promise.resolve({ lost: new AbortController().signal, release: () => Promise.resolve() }),
  close: () => Promise.resolve(),
};

async function run(proxy: MemoryFaultProxy): Promise<DrillRunResult> {
  return runMemoryDrill({
    yaml: YAML,
    file: 'cut.yaml',
    knownProbes: ['delivery'],
    proxy,
    evidenceRoot: newRoot(),
    behaviours: { delivery: deliveryFailsUnderFault('timeout') },
    clock: new ManualClock(START_MS),
    runner: { lease: sharedLease },
  });
}

function journal(result: DrillRunResult): Array<{ type: string; event?: string; detail?: { removed?: string[] } }> {
  return readFileSync(join(result.dir, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; event?: string; detail?: { removed?: string[] } });
}

describe('the preflight removes every leftover sentinel toxic before the first fault', () => {
  it('removes a dead holder’s toxic that lands after the first listing, then runs', async () => {
    const proxy = new LateLandingProxy();
    const result = await run(proxy);
    expect(result.scenario.reasons).toEqual([]);
    expect(result.decision.decision).toBe('allow');
    const entries = journal(result);
    const removed = entries.find((e) => e.event === 'leftover_faults_removed')?.detail?.removed;
    expect(removed?.sort()).toEqual([`p/${proxy.early}`, `p/${proxy.late}`].sort());
    // Every leftover went before the run's own first fault was added.
    const cleanedAt = entries.findIndex((e) => e.event === 'leftover_faults_removed');
    expect(cleanedAt).toBeLessThan(entries.findIndex((e) => e.type === 'intent'));
    expect((await proxy.listProxies())[0].toxics).toEqual([]);
  });

  it('never closes its own journal as a crashed run’s (no lock file names the live run)', async () => {
    const result = await run(new LateLandingProxy());
    const entries = journal(result);
    expect(entries.some((e) => e.event === 'reconciled_after_crash')).toBe(false);
    expect(entries.filter((e) => e.type === 'run_end')).toHaveLength(1);
    expect(result.runStatus).toBe('completed');
  });
});
