/**
 * Memory under a dead target: the canary probes run back to back against a port nobody listens
 * on (each run fails with `unreachable`) and the heap is compared before and after, with GC
 * forced when available (`node --expose-gc`, which `tsx` passes through via NODE_OPTIONS).
 * An hour of one-minute schedules is 60 runs per probe; this runs many more.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { RegistryInstruments } from '../../../src/probes/index.js';
import type { Probe, ProbeContext } from '../../../src/probes/index.js';
import { ConnectionsProbe, createSpacetimeTarget, DeliveryProbe, ReplayLagProbe, ResumeProbe } from '../../../src/probes/probes/index.js';
import { SystemClock } from '../../../src/time/index.js';

const RUNS = Number(process.env.DEAD_RUNS ?? 1000);

function ctx(): ProbeContext {
  const clock = new SystemClock();
  const now = clock.nowMs();
  return { signal: AbortSignal.timeout(5000), scheduledAtMs: now, deadlineMs: now + 5000, clock, logger: pino({ level: 'silent' }) };
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function main(): Promise<void> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const target = createSpacetimeTarget({ baseUrl: `http://127.0.0.1:${port}`, database: 'autopilot-sync', timeoutMs: 500 });
  const probes: Probe[] = [
    new DeliveryProbe({ target, instruments: new RegistryInstruments(new Registry()), receiveTimeoutMs: 500 }),
    new ResumeProbe({ target, instruments: new RegistryInstruments(new Registry()), receiveTimeoutMs: 500 }),
    new ConnectionsProbe({ target, settleTimeoutMs: 100 }),
    new ReplayLagProbe({ http: target.http }),
  ];
  const warm = async (n: number): Promise<number> => {
    let failures = 0;
    for (let i = 0; i < n; i++) for (const p of probes) if (!(await p.run(ctx())).ok) failures++;
    return failures;
  };
  await warm(50);
  const before = heapMb();
  const t0 = Date.now();
  const failures = await warm(RUNS);
  const after = heapMb();
  const growth = after - before;
  console.log(`gc ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'forced' : 'not exposed (run with NODE_OPTIONS=--expose-gc)'}; ${RUNS} runs x ${probes.length} probes in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${failures} failed (expected all)`);
  console.log(`heap before ${before.toFixed(1)} MB, after ${after.toFixed(1)} MB, growth ${growth.toFixed(2)} MB`);
  console.log(`${growth < 5 ? 'PASS' : 'MISS'} heap growth under a dead target < 5 MB`);
}

await main();
