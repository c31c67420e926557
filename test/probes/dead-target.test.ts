/**
 * An hour of a dead target at a 15 s cadence (240 runs, injected clock): every run is recorded as
 * a failure with a reason class, the loop never stops, and the sentinel's state stays bounded
 * (a fixed set of series; samples only as many as retention allows).
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ProbeScheduler, RegistryInstruments } from '../../src/probes/index.js';
import { ReplayLagProbe } from '../../src/probes/probes/replay-lag.js';
import { RuntimeMetricsProbe } from '../../src/probes/probes/runtime-metrics.js';
import { TokenProbe } from '../../src/probes/probes/token.js';
import { ControlClient, RuntimeMetricsClient, SpacetimeHttpClient } from '../../src/spacetime/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { freePort } from '../helpers/free-port.js';

describe('an hour of a dead target', () => {
  it('records 240 failed runs per probe with a reason class and keeps a fixed set of series', async () => {
    // A port nothing listens on (bound, then closed): every connect is refused.
    const base = `http://127.0.0.1:${await freePort()}`;
    const registry = new Registry();
    const clock = new ManualClock(1_700_000_000_000);
    const store = new MemoryStore({ retentionMs: 3600_000, registry });
    const logger = pino({ level: 'silent' });
    const tokenInstruments = new RegistryInstruments(registry);
    const scheduler = new ProbeScheduler({
      probes: [
        { probe: new RuntimeMetricsProbe({ runtime: new RuntimeMetricsClient({ baseUrl: base, token: 't', timeoutMs: 2000 }) }), schedule: '*/15 * * * * *', timeoutMs: 5000 },
        { probe: new ReplayLagProbe({ http: new SpacetimeHttpClient({ baseUrl: base, database: 'autopilot-sync', timeoutMs: 2000 }) }), schedule: '*/15 * * * * *', timeoutMs: 5000 },
        {
          probe: new TokenProbe({ control: new ControlClient({ baseUrl: base, sessionToken: 's', timeoutMs: 2000 }), instruments: tokenInstruments }),
          schedule: '*/15 * * * * *',
          timeoutMs: 5000,
          instruments: tokenInstruments,
        },
      ],
      store,
      registry,
      clock,
      logger,
      trigger: () => ({ stop: () => undefined }),
    });
    let seriesAfterFirstRuns = 0;
    for (let i = 0; i < 240; i++) {
      const reports = await scheduler.runOnce('all');
      for (const r of reports) {
        expect(r.outcome.result.ok).toBe(false);
        expect(r.outcome.reason).toBe('unreachable');
      }
      if (i === 1) seriesAfterFirstRuns = store.seriesCount;
      await clock.advance(15_000);
      store.applyRetention(clock.nowMs());
    }
    expect(store.seriesCount).toBe(seriesAfterFirstRuns);
    const text = await registry.metrics();
    expect(text).toContain('sentinel_probe_runs_total{probe="replay_lag",result="unreachable"} 240');
    expect(text).toContain('sentinel_probe_success{probe="token"} 0');
    const success = store.select([{ name: '__name__', type: '=', value: 'sentinel_probe_success' }, { name: 'probe', type: '=', value: 'runtime_metrics' }], 0, Infinity);
    expect(success[0].samples.length).toBeLessThanOrEqual(241);
    expect(success[0].samples.every((s) => s.v === 0)).toBe(true);
  }, 60_000);
});
