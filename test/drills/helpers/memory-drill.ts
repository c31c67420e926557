/**
 * In-memory stand-ins for the runner's timing tests: a FaultDriver holding one proxy `p`, and
 * probes whose runs take a set time on a ManualClock and report what a behaviour says given the
 * fault state, writing samples the way the probe recorder does (per-run series labelled with the
 * phase and stale-marked when the phase changes; the resume gap counter without labels); and
 * `runMemoryDrill`, the real DrillRunner over both, stepped on the ManualClock.
 */
import { parseYamlSource } from '../../../src/config/index.js';
import { parseDrillSource } from '../../../src/drills/drill-file.js';
import type { DrillLabels, DrillProbeRun, DrillProbes } from '../../../src/drills/drill-probes.js';
import { DrillRunner } from '../../../src/drills/drill-runner.js';
import type { DrillRunnerOptions, DrillRunResult } from '../../../src/drills/drill-runner.js';
import type { FaultDriver, ProxySpec, ProxyState, ToxicSpec } from '../../../src/drills/fault-driver.js';
import { createEngine } from '../../../src/promql/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { ManualClock } from '../../../src/time/index.js';

/** MemoryFaultProxy is an in-memory FaultDriver: one proxy `p`, toxics kept in a list. */
export class MemoryFaultProxy implements FaultDriver {
  readonly endpoint = 'memory://fault-proxy';
  protected readonly toxics: ToxicSpec[] = [];
  private enabled = true;
  version(): Promise<string> {
    return Promise.resolve('2.12.0');
  }
  listProxies(): Promise<ProxyState[]> {
    return Promise.resolve([{ name: 'p', listen: '127.0.0.1:1', upstream: '127.0.0.1:2', enabled: this.enabled, toxics: [...this.toxics] }]);
  }
  ensureProxies(_proxies: readonly ProxySpec[]): Promise<void> {
    return Promise.resolve();
  }
  addToxic(_proxy: string, toxic: ToxicSpec): Promise<void> {
    this.toxics.push(toxic);
    return Promise.resolve();
  }
  removeToxic(_proxy: string, name: string): Promise<void> {
    const i = this.toxics.findIndex((t) => t.name === name);
    if (i >= 0) this.toxics.splice(i, 1);
    return Promise.resolve();
  }
  setProxyEnabled(_proxy: string, enabled: boolean): Promise<void> {
    this.enabled = enabled;
    return Promise.resolve();
  }
  get faulty(): boolean {
    return this.toxics.length > 0 || !this.enabled;
  }
}

/** ProbeBehaviour says how long a run takes and what it reports, given the fault state (`runsSinceFault` counts this probe's runs after the removal). */
export type ProbeBehaviour = (ctx: { faulty: boolean; runsSinceFault: number; afterFault: boolean }) => { durationMs: number; ok: boolean; reason: string; gaps?: number };

/** Readiness is what the fake `health` probe reports per service (1 healthy/ready, 0 not). */
export interface Readiness {
  runtime?: { healthy: number; ready: number };
  control?: { healthy: number; ready: number };
}

/** appendHealthSamples writes one health run's samples the way the health probe and the recorder do. */
export function appendHealthSamples(store: MemoryStore, t: number, labels: DrillLabels, readiness: Readiness = { runtime: { healthy: 1, ready: 1 }, control: { healthy: 1, ready: 1 } }): boolean {
  const app = store.appender();
  let ok = true;
  for (const service of ['runtime', 'control'] as const) {
    const r = readiness[service];
    if (!r) continue;
    app.append({ __name__: 'sentinel_service_healthy', service, drill: labels.drill, stage: labels.stage }, t, r.healthy);
    app.append({ __name__: 'sentinel_service_ready', service, drill: labels.drill, stage: labels.stage }, t, r.ready);
    ok &&= r.healthy === 1 && r.ready === 1;
  }
  app.commit();
  return ok;
}

/**
 * FakeProbes runs behaviours on the manual clock and writes samples like the recorder. A `health`
 * probe is built in (every service healthy and ready, unless `readiness` says otherwise); a
 * `health` behaviour replaces it.
 */
export class FakeProbes implements DrillProbes {
  /** readiness is what the built-in health probe reports. */
  readiness: Readiness = { runtime: { healthy: 1, ready: 1 }, control: { healthy: 1, ready: 1 } };
  private readonly busy = new Set<string>();
  private readonly last = new Map<string, Record<string, string>>();
  private readonly counters = new Map<string, number>();
  private faultSeen = false;
  private readonly runsSinceFault = new Map<string, number>();
  constructor(
    private readonly clock: ManualClock,
    private readonly store: MemoryStore,
    private readonly proxy: MemoryFaultProxy,
    private readonly behaviours: Record<string, ProbeBehaviour>,
  ) {}

  isBusy(name: string): boolean {
    return this.busy.has(name);
  }

  async runProbe(name: string, labels: DrillLabels, cutOff: AbortSignal): Promise<DrillProbeRun> {
    const startedAtMs = this.clock.nowMs();
    if (name === 'health' && !this.behaviours.health) {
      const ok = appendHealthSamples(this.store, startedAtMs, labels, this.readiness);
      return { ok, reason: ok ? 'ok' : 'http_status', startedAtMs, endedAtMs: startedAtMs, cutOff: false };
    }
    if (this.proxy.faulty) this.faultSeen = true;
    const afterFault = this.faultSeen && !this.proxy.faulty;
    if (afterFault) this.runsSinceFault.set(name, (this.runsSinceFault.get(name) ?? 0) + 1);
    const b = this.behaviours[name]({ faulty: this.proxy.faulty, runsSinceFault: this.runsSinceFault.get(name) ?? 0, afterFault });
    this.busy.add(name);
    try {
      await this.clock.sleep(b.durationMs, cutOff);
    } catch {
      return { ok: false, reason: 'timeout', startedAtMs, endedAtMs: this.clock.nowMs(), cutOff: true };
    } finally {
      this.busy.delete(name);
    }
    const t = this.clock.nowMs();
    const app = this.store.appender();
    const series = { __name__: 'sentinel_probe_success', probe: name, drill: labels.drill, stage: labels.stage };
    const prev = this.last.get(name);
    if (prev && prev.stage !== labels.stage) app.appendStale(prev, t);
    app.append(series, t, b.ok ? 1 : 0);
    this.last.set(name, series);
    if (name === 'resume') {
      const gaps = (this.counters.get('gap') ?? 0) + (b.gaps ?? 0);
      this.counters.set('gap', gaps);
      app.append({ __name__: 'sentinel_resume_total', outcome: 'gap' }, t, gaps);
    }
    app.commit();
    return { ok: b.ok, reason: b.reason, startedAtMs, endedAtMs: t, cutOff: false };
  }

  setDrillLabels(): void {
    return undefined;
  }

  reserve(): void {
    return undefined;
  }

  async whenIdle(names: readonly string[]): Promise<void> {
    while (names.some((n) => this.busy.has(n))) await this.clock.sleep(10);
  }
}


/** readyServicesOnly is a DrillProbes with only the `health` probe, every service ready (for drills that need no other probe). */
export function readyServicesOnly(store: MemoryStore, clock: { nowMs(): number }): DrillProbes {
  return {
    isBusy: () => false,
    runProbe(name, labels) {
      if (name !== 'health') return Promise.reject(new Error(`no probe ${name} here`));
      const t = clock.nowMs();
      appendHealthSamples(store, t, labels);
      return Promise.resolve({ ok: true, reason: 'ok', startedAtMs: t, endedAtMs: t, cutOff: false });
    },
    setDrillLabels: () => undefined,
    reserve: () => undefined,
    whenIdle: () => Promise.resolve(),
  };
}

/** PARTITION is the fault of partitionDrillYaml unless a test names others. */
const PARTITION = ['{ proxy: p, type: timeout, attributes: { timeout: 0 } }'];

/**
 * partitionDrillYaml is a drill file of one drill: delivery works before, a stage `cut` whose
 * faults on proxy `p` delivery must feel (verify_fault), 10 s of recovery.
 */
export function partitionDrillYaml(drill: { name: string; description: string; duration: string; faults?: readonly string[] }): string {
  return `drills:
  - name: ${drill.name}
    description: ${drill.description}
    environments: [dev]
    proxies:
      - name: p
    steady_state:
      - { name: delivery works, query: 'min(sentinel_probe_success{probe="delivery"})', op: '>=', threshold: 1 }
    stages:
      - name: cut
        duration: ${drill.duration}
        probe_interval: 1s
        probes: [delivery]
        faults:
${(drill.faults ?? PARTITION).map((f) => `          - ${f}`).join('\n')}
        verify_fault: { name: delivery fails, query: 'min(sentinel_probe_success{probe="delivery",stage="$stage"})', op: '==', threshold: 0 }
        recovery: 10s
`;
}

/** MEMORY_DRILL_START is when a memory drill's clock starts unless a test gives its own clock. */
const MEMORY_DRILL_START = Date.UTC(2026, 10, 25, 17, 0, 0);

/** deliveryFailsUnderFault is the usual delivery behaviour: 50 ms runs that fail with `reason` while a fault is in place. */
export function deliveryFailsUnderFault(reason: string): ProbeBehaviour {
  return ({ faulty }) => ({ durationMs: 50, ok: !faulty, reason: faulty ? reason : 'ok' });
}

/** MemoryDrill is one drill run by the real DrillRunner over the in-memory proxy and probes. */
export interface MemoryDrill {
  /** yaml is the drill file (`file` names it in messages); its first drill runs. */
  readonly yaml: string;
  readonly file: string;
  readonly knownProbes: readonly string[];
  readonly proxy: MemoryFaultProxy;
  readonly evidenceRoot: string;
  readonly behaviours: Record<string, ProbeBehaviour>;
  /** probes turns the FakeProbes into what the runner sees (set readiness, wrap; default: as is). */
  readonly probes?: (fake: FakeProbes) => DrillProbes;
  readonly clock?: ManualClock;
  readonly store?: MemoryStore;
  /** runner adds runner options (hmacKey, tracer, lease, alerts, ...). */
  readonly runner?: Partial<DrillRunnerOptions>;
  /** maxSteps bounds the 50 ms clock steps the run may take (default 5000: about four minutes). */
  readonly maxSteps?: number;
}

/** runMemoryDrill runs the drill, stepping the manual clock 50 ms at a time until it is over. */
export async function runMemoryDrill(drill: MemoryDrill): Promise<DrillRunResult> {
  const clock = drill.clock ?? new ManualClock(MEMORY_DRILL_START);
  const store = drill.store ?? new MemoryStore();
  const engine = createEngine();
  const fake = new FakeProbes(clock, store, drill.proxy, drill.behaviours);
  const runner = new DrillRunner({
    driver: drill.proxy,
    store,
    query: (e, t) => engine.instantQuery(store, e, t),
    probes: drill.probes ? drill.probes(fake) : fake,
    clock,
    environment: 'dev',
    allowProd: false,
    evidenceRoot: drill.evidenceRoot,
    version: 'test',
    ...drill.runner,
  });
  const [spec] = parseDrillSource(parseYamlSource(drill.file, drill.yaml), { knownProbes: drill.knownProbes });
  let result: DrillRunResult | undefined;
  const done = runner.run(spec, new AbortController().signal).then((r) => (result = r));
  const maxSteps = drill.maxSteps ?? 5000;
  for (let i = 0; i < maxSteps && result === undefined; i++) await clock.advance(50);
  return done;
}
