/** Test helpers: a real-time ProbeContext with a bounded deadline, and instruments in a fresh registry. */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { RegistryInstruments } from '../../../src/probes/index.js';
import type { ProbeContext } from '../../../src/probes/index.js';
import { SystemClock } from '../../../src/time/index.js';

/** probeContext is one run's context on the wall clock (the lab is real), bounded by `timeoutMs`. */
export function probeContext(timeoutMs = 20_000): ProbeContext {
  const clock = new SystemClock();
  const now = clock.nowMs();
  return { signal: AbortSignal.timeout(timeoutMs), scheduledAtMs: now, deadlineMs: now + timeoutMs, clock, logger: pino({ level: 'silent' }) };
}

/** instruments returns RegistryInstruments over a fresh registry. */
export function instruments(): RegistryInstruments {
  return new RegistryInstruments(new Registry());
}

/** seriesValue reads one series of a snapshot. */
export async function seriesValue(inst: RegistryInstruments, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const samples = await inst.snapshot();
  const hit = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return hit?.value;
}
