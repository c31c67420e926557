/**
 * Service readiness in the drill preflight: the health probe runs once before the first fault,
 * and the drill starts only when that run answered and said the runtime and the control service
 * are healthy and ready. A service that is not ready refuses the drill (block, its reason in
 * results.jsonl and SUMMARY.md, no fault added); a health run that did not complete, wrote no
 * readiness, or that the sentinel cannot run at all is never a pass. A healthy system still allows.
 * After the last stage the check runs again: a service still not ready then fails the drill.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillProbes } from '../../src/drills/drill-probes.js';
import type { DrillRunResult } from '../../src/drills/drill-runner.js';
import type { ScenarioResult } from '../../src/drills/outcomes.js';
import { readVerdict } from '../../src/drills/verdict.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { appendHealthSamples, deliveryFailsUnderFault, MemoryFaultProxy, partitionDrillYaml, runMemoryDrill } from './helpers/memory-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import type { ProbeBehaviour, Readiness , FakeProbes} from './helpers/memory-drill.js';

const newRoot = tempDirs('sentinel-readiness-');

const YAML = partitionDrillYaml({ name: 'guarded', description: 'a short partition behind the readiness check', duration: '2s' });

class CountingProxy extends MemoryFaultProxy {
  added = 0;
  override addToxic(proxy: string, toxic: Parameters<MemoryFaultProxy['addToxic']>[1]): Promise<void> {
    this.added += 1;
    return super.addToxic(proxy, toxic);
  }
}

interface Setup {
  readiness?: Readiness;
  health?: ProbeBehaviour;
  /** wrap changes the probes the runner sees (e.g. a framework without the health probe). */
  wrap?: (p: DrillProbes) => DrillProbes;
  /** before runs against the store before the drill starts. */
  before?: (store: MemoryStore, nowMs: number) => void;
}

async function run(setup: Setup): Promise<{ result: DrillRunResult; proxy: CountingProxy }> {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 17, 0, 0));
  const store = new MemoryStore();
  const proxy = new CountingProxy();
  setup.before?.(store, clock.nowMs());
  const result = await runMemoryDrill({
    yaml: YAML,
    file: 'guarded.yaml',
    knownProbes: ['delivery', 'health'],
    proxy,
    evidenceRoot: newRoot(),
    clock,
    store,
    behaviours: { delivery: deliveryFailsUnderFault('unreachable'), ...(setup.health ? { health: setup.health } : {}) },
    probes: (fake) => {
      if (setup.readiness) fake.readiness = setup.readiness;
      return setup.wrap ? setup.wrap(fake) : fake;
    },
  });
  return { result, proxy };
}

async function expectBlockedBeforeAnyFault(result: DrillRunResult, proxy: CountingProxy, status: ScenarioResult['status'], why: RegExp): Promise<void> {
  expect(result.decision.decision).toBe('block');
  expect(result.scenario.status).toBe(status);
  expect(result.scenario.reasons.join('\n')).toMatch(why);
  expect(proxy.added).toBe(0);
  expect(result.scenario.faults).toEqual([]);
  expect(result.scenario.stages).toEqual([]);
  const line = JSON.parse(readFileSync(join(result.dir, 'results.jsonl'), 'utf8').trim().split('\n')[0]) as ScenarioResult;
  expect(line.reasons.join('\n')).toMatch(why);
  expect(line.conditions.find((c) => c.kind === 'health')?.status).not.toBe('passed');
  expect(readFileSync(join(result.dir, 'SUMMARY.md'), 'utf8')).toMatch(why);
  const verdict = await readVerdict(result.dir);
  expect(verdict.kind === 'decided' && verdict.report.decision).toBe('block');
}

describe('service readiness in the drill preflight', () => {
  it('allows a healthy system, recording the health run and its check', async () => {
    const { result, proxy } = await run({});
    expect(result.decision.decision).toBe('allow');
    expect(proxy.added).toBe(1);
    const checks = result.scenario.conditions.filter((c) => c.kind === 'health');
    expect(checks).toHaveLength(2);
    for (const check of checks) expect(check).toMatchObject({ status: 'passed', observed: 1, detail: 'control, runtime healthy; control, runtime ready' });
    const runs = readFileSync(join(result.dir, 'probe-runs.jsonl'), 'utf8');
    expect(runs).toMatch(/"probe":"health","phase":"preflight"/);
    expect(runs).toMatch(/"probe":"health","phase":"after"/);
  });

  it("refuses when the runtime's /readyz says not ready", async () => {
    const { result, proxy } = await run({ readiness: { runtime: { healthy: 1, ready: 0 }, control: { healthy: 1, ready: 1 } } });
    await expectBlockedBeforeAnyFault(result, proxy, 'aborted', /services not ready: runtime not ready \(\/readyz\)/);
  });

  it('refuses when the control service is not healthy', async () => {
    const { result, proxy } = await run({ readiness: { runtime: { healthy: 1, ready: 1 }, control: { healthy: 0, ready: 0 } } });
    await expectBlockedBeforeAnyFault(result, proxy, 'aborted', /services not ready: control not healthy \(\/healthz\), control not ready \(\/readyz\)/);
  });

  it('is inconclusive when the health run reports success but wrote no readiness (nothing was checked)', async () => {
    const { result, proxy } = await run({ health: () => ({ durationMs: 20, ok: true, reason: 'ok' }) });
    await expectBlockedBeforeAnyFault(result, proxy, 'inconclusive', /service readiness unknown: the health probe's run \(ok\) reported no health or readiness for runtime and control/);
  });

  it('does not read an earlier run: ready samples from before, then a run that wrote none, is inconclusive', async () => {
    const { result, proxy } = await run({
      health: () => ({ durationMs: 20, ok: true, reason: 'ok' }),
      before: (store, now) => appendHealthSamples(store, now - 10_000, { drill: 'guarded', stage: 'preflight' }),
    });
    await expectBlockedBeforeAnyFault(result, proxy, 'inconclusive', /reported no health or readiness for runtime and control/);
  });

  it('is inconclusive when the health run times out', async () => {
    const { result, proxy } = await run({ health: () => ({ durationMs: 5000, ok: false, reason: 'timeout' }) });
    await expectBlockedBeforeAnyFault(result, proxy, 'inconclusive', /service readiness unknown: the health probe did not complete \(timeout\)/);
  });

  it('is inconclusive when the health run never ends (cut off at its bound)', async () => {
    const { result, proxy } = await run({ health: () => ({ durationMs: 3_600_000, ok: true, reason: 'ok' }) });
    await expectBlockedBeforeAnyFault(result, proxy, 'inconclusive', /service readiness unknown: the health probe did not complete within 60s/);
  });

  it('refuses with an error when the health probe is not configured', async () => {
    const wrap = (p: DrillProbes): DrillProbes => ({
      isBusy: (n) => p.isBusy(n),
      runProbe: (n, l, c) => (n === 'health' ? Promise.reject(new Error("unknown probe 'health'; configured probes: delivery")) : p.runProbe(n, l, c)),
      setDrillLabels: (l) => p.setDrillLabels(l),
    });
    const { result, proxy } = await run({ wrap });
    await expectBlockedBeforeAnyFault(result, proxy, 'error', /the health probe could not run \(unknown probe 'health'; configured probes: delivery\); configure probes\.health/);
    expect(result.runStatus).toBe('failed');
  });

  it('fails the drill when a service is not ready after the last stage (it did not recover)', async () => {
    const wrap = (p: DrillProbes): DrillProbes => ({
      isBusy: (n) => p.isBusy(n),
      runProbe(n, l, c) {
        if (n === 'health' && l.stage === 'after') (p as FakeProbes).readiness = { runtime: { healthy: 1, ready: 1 }, control: { healthy: 1, ready: 0 } };
        return p.runProbe(n, l, c);
      },
      setDrillLabels: (l) => p.setDrillLabels(l),
    });
    const { result, proxy } = await run({ wrap });
    expect(proxy.added).toBe(1);
    expect(result.decision.decision).toBe('block');
    expect(result.scenario.status).toBe('failed');
    expect(result.scenario.reasons).toContain('after the drill: services not ready: control not ready (/readyz)');
    const checks = result.scenario.conditions.filter((c) => c.kind === 'health');
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['runtime and control healthy and ready', 'passed'],
      ['runtime and control healthy and ready after the drill', 'failed'],
    ]);
    expect(readFileSync(join(result.dir, 'SUMMARY.md'), 'utf8')).toContain('after the drill: services not ready: control not ready (/readyz)');
  });
});
