/**
 * Canary probe timings against the lab (loopback, traffic on): resume run and resume (reconnect →
 * converged) durations, delivery send-to-receipt latency, and the handshake run. Prints figures;
 * the delivery p95 is compared with the production budget of 600 ms (PASS/MISS).
 *
 * Run: `npm run bench -- canary` (or `npx tsx bench/probes/probes/canary.bench.ts`).
 */
import os from 'node:os';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startLab } from '../../../src/lab/index.js';
import { RegistryInstruments } from '../../../src/probes/index.js';
import type { ProbeContext } from '../../../src/probes/index.js';
import { ConnectionsProbe, createSpacetimeTarget, DeliveryProbe, ResumeProbe } from '../../../src/probes/probes/index.js';
import { SystemClock } from '../../../src/time/index.js';

const RUNS = Number(process.env.CANARY_RUNS ?? 100);

function ctx(): ProbeContext {
  const clock = new SystemClock();
  const now = clock.nowMs();
  return { signal: AbortSignal.timeout(20_000), scheduledAtMs: now, deadlineMs: now + 20_000, clock, logger: pino({ level: 'silent' }) };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function line(name: string, xs: number[]): void {
  console.log(`${name.padEnd(34)} n=${String(xs.length).padStart(4)}  p50=${pct(xs, 50).toFixed(1)} ms  p95=${pct(xs, 95).toFixed(1)} ms  max=${Math.max(...xs).toFixed(1)} ms`);
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, ${RUNS} runs each`);
  const lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 } });
  const target = createSpacetimeTarget({ baseUrl: lab.urls.spacetimedb, database: lab.databaseName, timeoutMs: 5000 });
  const resume = new ResumeProbe({ target, instruments: new RegistryInstruments(new Registry()) });
  const delivery = new DeliveryProbe({ target, instruments: new RegistryInstruments(new Registry()) });
  const handshake = new ConnectionsProbe({ target, settleTimeoutMs: 5000, pollIntervalMs: 10 });
  try {
    const resumeRun: number[] = [];
    const resumeConverge: number[] = [];
    const deliveryLatency: number[] = [];
    const handshakeRun: number[] = [];
    let failures = 0;
    await resume.run(ctx());
    for (let i = 0; i < RUNS; i++) {
      const r = await resume.run(ctx());
      if (!r.ok) failures++;
      resumeRun.push(r.durationMs);
      const s = r.samples.find((x) => x.name === 'sentinel_resume_duration_seconds');
      if (s) resumeConverge.push(s.value * 1000);
      const d = await delivery.run(ctx());
      if (!d.ok) failures++;
      if (typeof d.detail.latency_ms === 'number') deliveryLatency.push(d.detail.latency_ms);
      if (i % 5 === 0) {
        const h = await handshake.run(ctx());
        if (!h.ok) failures++;
        handshakeRun.push(h.durationMs);
      }
    }
    line('resume run', resumeRun);
    line('resume reconnect→converged', resumeConverge);
    line('delivery send→receipt', deliveryLatency);
    line('handshake run (2 sessions)', handshakeRun);
    console.log(`failed runs on a healthy lab: ${failures}`);
    const p95 = pct(deliveryLatency, 95);
    console.log(`${p95 <= 600 ? 'PASS' : 'MISS'} delivery p95 ${p95.toFixed(1)} ms <= 600 ms budget`);
    console.log(`${failures === 0 ? 'PASS' : 'MISS'} zero failed canary runs on a healthy lab`);
  } finally {
    await Promise.all([resume.close(), delivery.close()]);
    await lab.close();
  }
}

await main();
