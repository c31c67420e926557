/**
 * A fault must hold for the whole stage: a toxic the fault proxy accepted and that bit at first,
 * but that is gone from the proxy before the stage ends (removed by someone else, a proxy that
 * dropped it), leaves the stage inconclusive, never passed, even though the early measurements
 * showed the fault in effect and everything recovered. A fault proxy that cannot be read at the
 * stage's end leaves the same doubt. And a probe run that the probe framework could not even
 * start measured nothing: older samples do not stand in for it.
 */
import { describe, expect, it } from 'vitest';
import { parseYamlSource } from '../../src/config/index.js';
import { parseDrillSource } from '../../src/drills/drill-file.js';
import type { DrillProbes } from '../../src/drills/drill-probes.js';
import { DrillRunner } from '../../src/drills/drill-runner.js';
import type { DrillRunResult } from '../../src/drills/drill-runner.js';
import type { ProxyState } from '../../src/drills/fault-driver.js';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { FakeProbes, MemoryFaultProxy, partitionDrillYaml, tempRoots } from './helpers/memory-drill.js';

const newRoot = tempRoots('sentinel-held-');

const YAML = partitionDrillYaml({ name: 'held', description: 'a partition that must hold for the whole stage', duration: '6s' });

/** VanishingProxy loses its toxics when told to; `unreadable` makes listing fail from then on. */
class VanishingProxy extends MemoryFaultProxy {
  unreadable = false;
  vanish(): void {
    this.toxics.splice(0);
  }
  override listProxies(): Promise<ProxyState[]> {
    return this.unreadable ? Promise.reject(new Error('GET /proxies at memory://fault-proxy failed: socket hang up')) : super.listProxies();
  }
}

async function run(proxy: VanishingProxy, onFaultyRun: (n: number) => void, wrap?: (p: DrillProbes) => DrillProbes): Promise<DrillRunResult> {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 17, 0, 0));
  const store = new MemoryStore();
  const engine = createEngine();
  const root = newRoot();
  let faultyRuns = 0;
  const fake = new FakeProbes(clock, store, proxy, {
    delivery: ({ faulty }) => {
      if (faulty) onFaultyRun(++faultyRuns);
      return { durationMs: 50, ok: !faulty, reason: faulty ? 'timeout' : 'ok' };
    },
  });
  const runner = new DrillRunner({
    driver: proxy,
    store,
    query: (e, t) => engine.instantQuery(store, e, t),
    probes: wrap ? wrap(fake) : fake,
    clock,
    environment: 'dev',
    allowProd: false,
    evidenceRoot: root,
    version: 'test',
  });
  const [drill] = parseDrillSource(parseYamlSource('held.yaml', YAML), { knownProbes: ['delivery'] });
  let result: DrillRunResult | undefined;
  const done = runner.run(drill, new AbortController().signal).then((r) => (result = r));
  for (let i = 0; i < 5000 && result === undefined; i++) await clock.advance(50);
  await done;
  return result as DrillRunResult;
}

describe('a fault holds for the whole stage', () => {
  it('allows when the fault stays in place (control)', async () => {
    const result = await run(new VanishingProxy(), () => undefined);
    expect(result.decision.decision).toBe('allow');
  });

  it('is inconclusive when the toxic is gone from the proxy before the stage ends, though it bit at first', async () => {
    const proxy = new VanishingProxy();
    const result = await run(proxy, (n) => n === 2 && proxy.vanish());
    expect(result.decision.decision).toBe('block');
    expect(result.scenario.status).toBe('inconclusive');
    // It did bite: the fault was shown in effect, and the system recovered.
    expect(result.scenario.conditions.find((c) => c.kind === 'fault_in_effect')?.status).toBe('passed');
    expect(result.scenario.conditions.find((c) => c.kind === 'recovery')?.status).toBe('passed');
    expect(result.scenario.reasons.join('\n')).toMatch(/cut: the fault proxy no longer showed p\/sentinel-[^ ]+ at the end of the stage: the fault was not in effect for the whole stage/);
  });

  it('is inconclusive when the fault proxy cannot be read at the end of the stage', async () => {
    const proxy = new VanishingProxy();
    const result = await run(proxy, (n) => {
      if (n === 3) proxy.unreadable = true;
    });
    expect(result.decision.decision).toBe('block');
    expect(result.scenario.reasons.join('\n')).toMatch(/the fault proxy could not be read: GET \/proxies at memory:\/\/fault-proxy failed: socket hang up/);
  });
});

describe('a probe run the framework could not start', () => {
  it('is no measurement: the steady state is not taken from older samples', async () => {
    const wrap = (p: DrillProbes): DrillProbes => ({
      isBusy: (n) => p.isBusy(n),
      runProbe: (n, l, c) => (n === 'delivery' ? Promise.reject(new Error('the probe scheduler is stopped')) : p.runProbe(n, l, c)),
      setDrillLabels: (l) => p.setDrillLabels(l),
    });
    const proxy = new VanishingProxy();
    // A healthy delivery sample from a scheduled run a minute ago is still within the lookback.
    const result = await run(proxy, () => undefined, (p) => {
      const fake = p as FakeProbes;
      void fake.runProbe('delivery', { drill: 'held', stage: 'preflight' }, new AbortController().signal);
      return wrap(p);
    });
    expect(result.decision.decision).toBe('block');
    expect(result.scenario.status).toBe('inconclusive');
    expect(result.scenario.faults).toEqual([]);
    expect(result.scenario.reasons.join('\n')).toMatch(/preflight: steady state 'delivery works' inconclusive/);
  });
});
