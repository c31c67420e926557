/**
 * A fault must hold for the whole stage: a toxic the fault proxy accepted and that bit at first,
 * but that is gone from the proxy before the stage ends (removed by someone else, a proxy that
 * dropped it), leaves the stage inconclusive, never passed, even though the early measurements
 * showed the fault in effect and everything recovered. A fault proxy that cannot be read at the
 * stage's end leaves the same doubt. And a probe run that the probe framework could not even
 * start measured nothing: older samples do not stand in for it.
 */
import { describe, expect, it } from 'vitest';
import type { DrillProbes } from '../../src/drills/drill-probes.js';
import type { DrillRunResult } from '../../src/drills/drill-runner.js';
import type { ProxyState } from '../../src/drills/fault-driver.js';
import type { FakeProbes} from './helpers/memory-drill.js';
import { deliveryFailsUnderFault, MemoryFaultProxy, partitionDrillYaml, runMemoryDrill } from './helpers/memory-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newRoot = tempDirs('sentinel-held-');

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
  let faultyRuns = 0;
  const delivery = deliveryFailsUnderFault('timeout');
  return runMemoryDrill({
    yaml: YAML,
    file: 'held.yaml',
    knownProbes: ['delivery'],
    proxy,
    evidenceRoot: newRoot(),
    behaviours: {
      delivery: (ctx) => {
        if (ctx.faulty) onFaultyRun(++faultyRuns);
        return delivery(ctx);
      },
    },
    ...(wrap ? { probes: wrap } : {}),
  });
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
