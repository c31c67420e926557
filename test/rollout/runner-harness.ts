/**
 * A RolloutRunner wired to the control stand-in, a clock that jumps ahead whenever the runner
 * sleeps (so a 15-minute soak takes milliseconds), and a soak watch whose probes write real
 * samples (delivery latency histogram, probe run counters) into a MemoryStore that the SLO
 * queries read through the PromQL engine. A test scripts latency, probe failures and alerts as
 * functions of time and cohort.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../src/promql/index.js';
import {
  FileConfirmations,
  RolloutRunner,
  RoutingClient,
  RoutingRollbackDrill,
  ServiceSnapshots,
  HttpSloUrlSource,
  overrideForcer,
} from '../../src/rollout/index.js';
import type { CohortApplier, GateResult, ProbeRound, RolloutEvents, RolloutGate, RolloutOptions, RolloutResult, SoakWatch } from '../../src/rollout/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import type { StandIn } from './control-stand-in.js';

/** AutoClock is a ManualClock that moves to the end of every sleep at once. */
export class AutoClock extends ManualClock {
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const p = super.sleep(ms, signal);
    queueMicrotask(() => void this.advance(ms));
    return p;
  }
}

const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.5, 2.5, 5, 10];

/** Scenario scripts the watched system: what each probe run sees, which alerts fire. */
export interface Scenario {
  /** latencySeconds is the delivery latency of a run at `tMs` while `cohort` (percent) is in effect. */
  latencySeconds?: (tMs: number, cohort: number) => number;
  /** probeOk says whether a probe run succeeds. */
  probeOk?: (probe: string, tMs: number, cohort: number) => boolean;
  /** firing lists the critical alerts firing at `tMs`; throw to simulate an alerts source that cannot answer. */
  firing?: (tMs: number, cohort: number) => string[];
  /** applies: whether applying a cohort makes it show in routing status (default true). */
  applies?: (cohort: number) => boolean;
}

/** SampleWatch is the soak watch over a MemoryStore, with cumulative counters like the probe framework's. */
export class SampleWatch implements SoakWatch {
  readonly store = new MemoryStore();
  private readonly engine = createEngine({ lookbackDeltaMs: 300_000 });
  private readonly buckets = new Map<string, number>();
  private readonly runs = new Map<string, number>();
  cohort = 0;
  readonly query = (expr: string, tMs: number) => this.engine.instantQuery(this.store, expr, tMs);

  constructor(
    private readonly clock: ManualClock,
    private readonly scenario: Scenario,
  ) {
    for (const b of [...BUCKETS.map(String), '+Inf']) this.buckets.set(b, 0);
    this.flush(clock.nowMs());
  }

  private flush(t: number): void {
    const app = this.store.appender();
    for (const [le, v] of this.buckets) app.append({ __name__: 'sentinel_delivery_latency_seconds_bucket', le }, t, v);
    for (const [key, v] of this.runs) {
      const [probe, result] = key.split('|');
      app.append({ __name__: 'sentinel_probe_runs_total', probe, result }, t, v);
    }
    app.commit();
  }

  async runProbes(names: readonly string[]): Promise<ProbeRound[]> {
    const t = this.clock.nowMs();
    const out: ProbeRound[] = [];
    for (const probe of names) {
      const ok = this.scenario.probeOk?.(probe, t, this.cohort) ?? true;
      for (const result of ['ok', 'timeout']) if (!this.runs.has(`${probe}|${result}`)) this.runs.set(`${probe}|${result}`, 0);
      const key = `${probe}|${ok ? 'ok' : 'timeout'}`;
      this.runs.set(key, (this.runs.get(key) ?? 0) + 1);
      if (probe === 'delivery' && ok) {
        const latency = this.scenario.latencySeconds?.(t, this.cohort) ?? 0.15;
        for (const b of BUCKETS) if (b >= latency) this.buckets.set(String(b), (this.buckets.get(String(b)) ?? 0) + 1);
        this.buckets.set('+Inf', (this.buckets.get('+Inf') ?? 0) + 1);
      }
      out.push({ probe, ok, reason: ok ? 'ok' : 'timeout' });
    }
    this.flush(t);
    return out;
  }

  criticalAlerts(tMs: number): Promise<string[]> {
    try {
      return Promise.resolve(this.scenario.firing?.(tMs, this.cohort) ?? []);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}

/** stubGate is a gate named like the scripts' that passes unless `result` says otherwise. */
export function stubGate(name: string, result: Partial<GateResult> = {}): RolloutGate {
  return { name, command: `stub ${name}`, run: () => Promise.resolve({ status: 'passed', detail: `stub ${name} ok`, log: [`${name} ok`], ...result }) };
}

/** standInApplier sets the stand-in's canary percentages (a deploy of the env plan). */
export function standInApplier(standIn: StandIn, watch: SampleWatch, scenario: Scenario): CohortApplier {
  return {
    description: 'apply: stand-in canary knobs',
    apply(cohort) {
      watch.cohort = cohort;
      if (scenario.applies?.(cohort) ?? true) {
        standIn.knobs.canaryUserPercent = cohort;
        standIn.knobs.canaryAutopilotPercent = cohort;
      }
      return Promise.resolve({ ok: true, durationMs: 5, log: `applied ${cohort}\n` });
    },
  };
}

/** Harness is one runner with its parts. */
export interface Harness {
  readonly clock: AutoClock;
  readonly watch: SampleWatch;
  readonly runner: RolloutRunner;
  run(options: RolloutOptions, outputDir: string, opts?: { resume?: boolean; signal?: AbortSignal }): Promise<RolloutResult>;
}

/** T0 is 2026-01-01T00:00:00Z. */
export const T0 = 1_767_225_600_000;

/** buildHarness wires a runner; `gates` default to four passing stubs. */
export function buildHarness(standIn: StandIn, scenario: Scenario, extra: { gates?: RolloutGate[]; sloUrl?: string; events?: RolloutEvents[]; noApplier?: boolean; effectTimeoutMs?: number } = {}): Harness {
  const clock = new AutoClock(T0);
  const watch = new SampleWatch(clock, scenario);
  const routing = new RoutingClient({ baseUrl: standIn.url, sessionToken: standIn.sessionToken, timeoutMs: 5000 });
  const settings = {
    cohortEffectTimeoutMs: extra.effectTimeoutMs ?? 120_000,
    statusPollIntervalMs: 10_000,
    soakProbes: ['delivery', 'resume', 'token'],
    soakProbeIntervalMs: 30_000,
    failedProbeStreak: 3,
    sloWindowMs: 600_000,
    gateMaxAgeMs: 24 * 3600_000,
  };
  const rollbackDrill = new RoutingRollbackDrill({
    routing,
    forcer: overrideForcer(routing, () => Promise.resolve(standIn.userId)),
    runProbes: (names) => watch.runProbes(names),
    syncProbes: ['delivery', 'resume'],
    clock,
    recoveryTimeoutMs: 60_000,
    pollIntervalMs: 5000,
    writeEvidence: ({ dir, scenario: s }) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'results.jsonl'), JSON.stringify(s) + '\n');
      return Promise.resolve(dir);
    },
  });
  const make = (outputDir: string): RolloutRunner =>
    new RolloutRunner({
      clock,
      routing,
      snapshots: new ServiceSnapshots({ runtimeMetricsUrl: `${standIn.url}/internal/v1/spacetime/sync/metrics`, controlStatusUrl: `${standIn.url}/api/v1/control/status`, sessionToken: standIn.sessionToken, timeoutMs: 5000 }),
      gates: extra.gates ?? [stubGate('spacetime-provision-staging'), stubGate('spacetime-replay-resume'), stubGate('spacetime-chaos'), stubGate('sync-security')],
      watch,
      ...(extra.sloUrl ? { sloUrl: new HttpSloUrlSource(extra.sloUrl, 5000) } : {}),
      confirmations: new FileConfirmations(outputDir),
      ...(extra.noApplier ? {} : { applier: standInApplier(standIn, watch, scenario) }),
      rollbackDrill,
      events: extra.events ?? [],
      settings,
    });
  let runner = make('/nonexistent');
  return {
    clock,
    watch,
    get runner() {
      return runner;
    },
    run(options, outputDir, opts = {}) {
      runner = make(outputDir);
      return runner.run({ options, outputDir, resume: opts.resume ?? false }, opts.signal ?? new AbortController().signal);
    },
  };
}
