/**
 * The sabotage matrix's harness: run a shipped drill against a fresh lab, optionally sabotaging
 * the lab through its admin API (`POST /lab/knobs`) at the exact moment the drill claims to check:
 * a DrillEventHandler fires the knob change on the run's own events (stage start, faults added,
 * faults removed, steady state back), and every probe run and fault action the drill starts
 * waits for the knob changes fired before it, so "right after the removal" means before the
 * first recovery probe, not "probably by then".
 *
 * The drills are the shipped ones (`config/drills/staging.yaml`) with only their timing
 * compressed (`compressDrills`): every query, threshold, fault, steady state, expectation and
 * exercise requirement is what the release manager's drills claim. Used by the matrix tests and
 * by `bench/drills/healthy-runs.bench.ts`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { checkConfig } from '../../../src/config/index.js';
import { schedulerProbes, buildDrillRuntime } from '../../../src/commands/drill-runtime.js';
import { REPO_ROOT, startLabEnvironment } from '../../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../../src/commands/lab-environment.js';
import { DrillRunner } from '../../../src/drills/index.js';
import type { DrillEventHandler, DrillProbes, DrillRunResult, FaultDriver } from '../../../src/drills/index.js';
import { buildProbes, ProbeScheduler } from '../../../src/probes/index.js';
import { DEFAULT_RESUME_STREAM } from '../../../src/probes/probes/resume.js';
import { MemoryStore } from '../../../src/store/index.js';
import { createMetricsRegistry } from '../../../src/telemetry/index.js';
import { SystemClock } from '../../../src/time/index.js';
import { DRILL_PROBE_WAITS, setProbeTimings } from '../../helpers/probe-timings.js';
import { startDaemon } from '../../helpers/started-daemon.js';

/** SHIPPED_DRILLS is the file every shipped drill comes from. */
export const SHIPPED_DRILLS = join(REPO_ROOT, 'config', 'drills', 'staging.yaml');

/** InjectionPoint is a run event the sabotage fires on. */
export type InjectionPoint = 'runStarted' | 'stageStarted' | 'faultsAdded' | 'faultsRemoved' | 'recovered';

/** LabState is the part of `GET /lab/state` a sabotage may read. */
export interface LabState {
  readonly streams: ReadonlyArray<{ readonly stream_id: string; readonly head_seq: number }>;
}

/** Sabotage is one matrix case's knob changes, each at its moment. */
export interface Sabotage {
  readonly name: string;
  /** knobs per moment: a knob body, or a function of the lab's state returning one. */
  readonly at: Partial<Record<InjectionPoint, Record<string, unknown> | ((state: LabState) => Record<string, unknown>)>>;
  /** bypass points the sentinel's target straight at the lab's ports for these services (around the fault proxy). */
  readonly bypass?: ReadonlyArray<'spacetimedb' | 'control' | 'runtime'>;
}

/** Timing compresses a shipped drill for the suite; the claims stay the shipped ones. */
export interface Timing {
  readonly stageMs: number;
  readonly probeIntervalMs: number;
  readonly recoveryMs: number;
  readonly recoveryHoldMs: number;
}

/** FAST keeps every stage long enough for a probe stuck in the fault to time out inside it. */
export const FAST: Timing = { stageMs: 6000, probeIntervalMs: 1000, recoveryMs: 15_000, recoveryHoldMs: 2000 };

/** compressDrills writes the shipped drills with `timing` (null: unchanged) and returns the file. */
export function compressDrills(dir: string, timing: Timing | null): string {
  const doc = parseDocument(readFileSync(SHIPPED_DRILLS, 'utf8'));
  if (timing) {
    const drills = doc.get('drills') as { items: Array<{ get(k: string): { items: Array<{ set(k: string, v: unknown): void }> } }> };
    for (const drill of drills.items) {
      for (const stage of drill.get('stages').items) {
        stage.set('duration', `${timing.stageMs}ms`);
        stage.set('probe_interval', `${timing.probeIntervalMs}ms`);
        stage.set('recovery', `${timing.recoveryMs}ms`);
        stage.set('recovery_hold', `${timing.recoveryHoldMs}ms`);
      }
    }
  }
  const file = join(dir, 'drills.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

/** fastProbes shortens the probes' waits to fit the compressed stages. */
export function fastProbes(doc: Document): void {
  setProbeTimings(doc, {
    ...DRILL_PROBE_WAITS,
    resume: { timeout: '8s', params: { receive_timeout: '2s' } },
    // A shorter burst that completes inside a stage with seconds to spare while each mint takes the
    // storm's 1 s (on a loaded machine a 5-mint burst could outlast the 6 s stage: no data).
    token: { timeout: '8s', params: { mints_per_run: 3 } },
    replay_lag: { timeout: '4s' },
  });
}

/** KnobInjector fires a sabotage's knob changes on the run's events, in order. */
class KnobInjector implements DrillEventHandler {
  /** pending settles when every knob change fired so far has been answered by the lab. */
  pending: Promise<void> = Promise.resolve();
  readonly fired: string[] = [];
  readonly errors: string[] = [];
  private stageStartedOnce = false;

  constructor(
    private readonly adminUrl: string,
    private readonly sabotage: Sabotage | undefined,
  ) {}

  runStarted(): void {
    this.fire('runStarted');
  }
  stageStarted(): void {
    if (!this.stageStartedOnce) this.fire('stageStarted');
    this.stageStartedOnce = true;
  }
  faultsAdded(): void {
    this.fire('faultsAdded');
  }
  faultsRemoved(): void {
    this.fire('faultsRemoved');
  }
  recovered(): void {
    this.fire('recovered');
  }

  private fire(point: InjectionPoint): void {
    const knobs = this.sabotage?.at[point];
    if (!knobs) return;
    this.fired.push(point);
    this.pending = this.pending.then(async () => {
      try {
        const body = typeof knobs === 'function' ? knobs((await (await fetch(`${this.adminUrl}/lab/state`)).json()) as LabState) : knobs;
        const res = await fetch(`${this.adminUrl}/lab/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (!res.ok) this.errors.push(`${point}: HTTP ${res.status} ${await res.text()}`);
      } catch (err) {
        this.errors.push(`${point}: ${(err as Error).message}`);
      }
    });
  }
}

/** gated makes every probe run wait for the knob changes fired before it. */
function gated(probes: DrillProbes, injector: KnobInjector): DrillProbes {
  return {
    isBusy: (name) => probes.isBusy(name),
    async runProbe(name, labels, cutOff) {
      await injector.pending;
      return probes.runProbe(name, labels, cutOff);
    },
    setDrillLabels: (labels) => probes.setDrillLabels(labels),
    reserve: (names) => probes.reserve?.(names),
    whenIdle: async (names, signal) => probes.whenIdle?.(names, signal),
  };
}

/** gatedDriver makes every fault action wait for the knob changes fired before it. */
function gatedDriver(driver: FaultDriver, injector: KnobInjector): FaultDriver {
  const wait = async <T>(fn: () => Promise<T>): Promise<T> => {
    await injector.pending;
    return fn();
  };
  return {
    endpoint: driver.endpoint,
    version: () => driver.version(),
    listProxies: () => driver.listProxies(),
    ensureProxies: (proxies) => driver.ensureProxies(proxies),
    addToxic: (proxy, toxic) => wait(() => driver.addToxic(proxy, toxic)),
    removeToxic: (proxy, name) => wait(() => driver.removeToxic(proxy, name)),
    setProxyEnabled: (proxy, enabled) => wait(() => driver.setProxyEnabled(proxy, enabled)),
  };
}

/** MatrixRun is one drill run and what the sabotage did. */
export interface MatrixRun {
  readonly result: DrillRunResult;
  readonly fired: readonly string[];
  readonly injectionErrors: readonly string[];
  readonly seconds: number;
}

/** RunOptions choose the drill, the sabotage and the timing. */
export interface RunOptions {
  readonly drill: string;
  readonly sabotage?: Sabotage;
  readonly timing?: Timing | null;
  /** inspect sees the evidence directory before it is deleted. */
  readonly inspect?: (dir: string) => void;
}

/**
 * runMatrixCase starts a lab, runs one drill in-process with the shipped drill file (timing
 * compressed), the sabotage wired to its events, and tears everything down.
 */
export async function runMatrixCase(options: RunOptions): Promise<MatrixRun> {
  const work = mkdtempSync(join(tmpdir(), 'sentinel-matrix-'));
  const timing = options.timing === undefined ? FAST : options.timing;
  let env: LabEnvironment | undefined;
  const started = Date.now();
  try {
    const drillFile = compressDrills(work, timing);
    env = await startLabEnvironment({ workDir: join(work, 'env'), evidenceDir: join(work, 'evidence'), drillFiles: [drillFile], ...(timing ? { patchConfig: fastProbes } : {}) });
    if (options.sabotage?.bypass?.length) {
      const doc = parseDocument(readFileSync(env.configFile, 'utf8'));
      for (const service of options.sabotage.bypass) doc.setIn(['target', service, 'base_url'], env.stack.lab.urls[service]);
      writeFileSync(env.configFile, doc.toString());
    }
    const checked = checkConfig(env.configFile, { env: process.env, cwd: work });
    if (!checked.ok) throw new Error(checked.issues.join('\n'));
    const config = checked.config;
    const clock = new SystemClock();
    const logger = pino({ level: 'silent' });
    const registry = createMetricsRegistry({ version: 'matrix' });
    const store = new MemoryStore();
    const scheduler = new ProbeScheduler({ probes: buildProbes(config, { registry, clock, logger, env: process.env }), store, registry, clock, logger });
    const injector = new KnobInjector(env.urls.admin, options.sabotage);
    try {
      const runtime = buildDrillRuntime(config, { clock, logger, store, scheduler, version: 'matrix' });
      const drill = runtime.drills.find((d) => d.name === options.drill);
      if (!drill) throw new Error(`no drill ${options.drill}`);
      const runner = new DrillRunner({
        driver: gatedDriver(runtime.driver, injector),
        store,
        query: runtime.query,
        probes: gated(schedulerProbes(scheduler), injector),
        clock,
        environment: config.environment,
        allowProd: false,
        evidenceRoot: config.drills.evidenceDir,
        version: 'matrix',
        logger,
        events: [injector],
      });
      const result = await runner.run(drill, AbortSignal.timeout(240_000));
      await injector.pending;
      options.inspect?.(result.dir);
      return { result, fired: injector.fired, injectionErrors: injector.errors, seconds: (Date.now() - started) / 1000 };
    } finally {
      await scheduler.closeProbes();
      await store.close();
    }
  } finally {
    await env?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * runDaemonDrill runs one drill the way the daemon does: `buildDaemon` over a fresh lab (its probes
 * also on their cron schedules, its rule manager writing ALERTS), started, the drill run through
 * its DrillScheduler, everything stopped again.
 */
export async function runDaemonDrill(drill: string, timing: Timing | null): Promise<{ readonly result: DrillRunResult | undefined; readonly seconds: number }> {
  const work = mkdtempSync(join(tmpdir(), 'sentinel-matrix-daemon-'));
  const started = Date.now();
  let env: LabEnvironment | undefined;
  try {
    const drillFile = compressDrills(work, timing);
    env = await startLabEnvironment({ workDir: join(work, 'env'), evidenceDir: join(work, 'evidence'), drillFiles: [drillFile], ...(timing ? { patchConfig: fastProbes } : {}) });
    const checked = checkConfig(env.configFile, { env: process.env, cwd: work });
    if (!checked.ok) throw new Error(checked.issues.join('\n'));
    const { daemon, stop } = await startDaemon(checked.config, { version: 'matrix', env: process.env });
    try {
      const result = await daemon.drillScheduler.runNow(drill);
      return { result, seconds: (Date.now() - started) / 1000 };
    } finally {
      await stop();
    }
  } finally {
    await env?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** countedOutcomes lists the resume outcomes an evidence directory's samples counted above zero. */
export function countedOutcomes(dir: string): string[] {
  const out = new Set<string>();
  for (const line of readFileSync(join(dir, 'samples.jsonl'), 'utf8').split('\n')) {
    if (!line.includes('"sentinel_resume_total"')) continue;
    const s = JSON.parse(line) as { labels: { outcome?: string }; v: number | string };
    if (typeof s.v === 'number' && s.v > 0 && s.labels.outcome) out.add(s.labels.outcome);
  }
  return [...out].sort();
}

/** resumeHead reads the resume canary stream's head from the lab's state. */
export function resumeHead(state: LabState): number {
  const head = state.streams.find((s) => s.stream_id === DEFAULT_RESUME_STREAM)?.head_seq;
  // No head means the sabotage cannot aim: fail loudly instead of setting a floor that does nothing.
  if (head === undefined || head <= 0) throw new Error(`the lab has no resume stream ${DEFAULT_RESUME_STREAM} to put out of retention`);
  return head;
}

/** SABOTAGES are the matrix's cases, by name. */
export const SABOTAGES = {
  gapAfterFault: { name: 'gap on the first resume after the fault', at: { faultsAdded: { next_resume: 'gap' } } },
  duplicateAfterFault: { name: 'duplicate on the first resume after the fault', at: { faultsRemoved: { next_resume: 'duplicate' } } },
  reorderAfterFault: { name: 'reorder on the first resume after the fault', at: { faultsRemoved: { next_resume: 'reorder' } } },
  neverRecovers: { name: 'streaming stops right after the removal (never recovers)', at: { faultsRemoved: { streaming_stopped: true } } },
  relapses: { name: 'streaming stops once the steady state is back (relapse during recovery)', at: { recovered: { streaming_stopped: true } } },
  deliveryStopsMidFault: { name: 'delivery stops mid-fault', at: { faultsAdded: { streaming_stopped: true }, faultsRemoved: { streaming_stopped: false } } },
  leakAcrossRestart: { name: 'presence rows leak from the restart on', at: { stageStarted: { leak_connection_rows: true } } },
  tokenFailuresPersist: { name: 'token failures persist after the storm', at: { faultsRemoved: { token_failure_ratio: 1 } } },
  tokenFailuresLinger: { name: 'a third of token mints keep failing after the storm', at: { faultsRemoved: { token_failure_ratio: 0.3 } } },
  staleRebootstrapFails: {
    name: 'the stale-cursor rebootstrap fails',
    at: { faultsAdded: (s: LabState) => ({ retention_floor: resumeHead(s), next_rebootstrap: 'fail' }), faultsRemoved: { retention_floor: 0 } },
  },
  staleRebootstrapClean: {
    name: 'the cursor goes stale and the rebootstrap is clean (control: allow)',
    at: { faultsAdded: (s: LabState) => ({ retention_floor: resumeHead(s) }), faultsRemoved: { retention_floor: 0 } },
  },
  bypassSpacetime: { name: 'the fault never reaches the watched path (SpacetimeDB target around the proxy)', at: {}, bypass: ['spacetimedb'] },
  bypassControl: { name: 'the fault never reaches the watched path (control target around the proxy)', at: {}, bypass: ['control'] },
  // The real /readyz answers 503 not_ready while the service's own dependencies are unavailable.
  runtimeNotReady: { name: "the runtime's /readyz says not ready before the drill", at: { runStarted: { readiness: { runtime: false } } } },
  controlNotReady: { name: "the control service's /readyz says not ready before the drill", at: { runStarted: { readiness: { control: false } } } },
  runtimeNotReadyAfter: { name: "the runtime's /readyz says not ready from the removal on (never recovers)", at: { faultsRemoved: { readiness: { runtime: false } } } },
  controlNotReadyAfter: { name: "the control service's /readyz says not ready from the removal on (never recovers)", at: { faultsRemoved: { readiness: { control: false } } } },
} as const satisfies Record<string, Sabotage>;

/** MatrixCase is one cell: a sabotage (none: healthy) and the statuses an honest verdict may give. */
export interface MatrixCase {
  readonly sabotage?: Sabotage;
  /** statuses are the acceptable scenario statuses; `passed` only for the healthy runs and controls. */
  readonly statuses: ReadonlyArray<'passed' | 'failed' | 'inconclusive' | 'aborted'>;
  /** refused: the preflight must refuse with this reason, before any fault is added. */
  readonly refused?: RegExp;
  /** fires are the injection points that must have fired (the sabotage really happened). */
  readonly fires?: readonly InjectionPoint[];
  /** bites is a resume outcome the run must have counted: proof the sabotage reached a resume. */
  readonly bites?: string;
}

const HEALTHY: MatrixCase = { statuses: ['passed'] };
const BLOCKS = (sabotage: Sabotage, fires: readonly InjectionPoint[], bites?: string): MatrixCase => ({ sabotage, statuses: ['failed'], fires, ...(bites ? { bites } : {}) });
// Inconclusive is the honest answer; failed too when something else also broke (never allow).
const NEVER_REACHES = (sabotage: Sabotage): MatrixCase => ({ sabotage, statuses: ['inconclusive', 'failed'] });
const REFUSES = (sabotage: Sabotage, why: RegExp): MatrixCase => ({ sabotage, statuses: ['aborted'], fires: ['runStarted'], refused: why });
const RUNTIME_NOT_READY = REFUSES(SABOTAGES.runtimeNotReady, /preflight: services not ready: runtime not ready \(\/readyz\)/);
const CONTROL_NOT_READY = REFUSES(SABOTAGES.controlNotReady, /preflight: services not ready: control not ready \(\/readyz\)/);

/**
 * MATRIX: for every shipped drill a healthy run (allow) and sabotage cases injected at the moment
 * the drill claims to check: mid-fault, right after the removal, or once the steady state is back.
 * It runs in `npm test`; MATRIX_EXTRA adds cells only the bench runs (the suite's wall time).
 */
export const MATRIX: Readonly<Record<string, readonly MatrixCase[]>> = {
  'temporary-partition': [
    HEALTHY,
    BLOCKS(SABOTAGES.gapAfterFault, ['faultsAdded'], 'gap'),
    BLOCKS(SABOTAGES.duplicateAfterFault, ['faultsRemoved'], 'duplicate'),
    BLOCKS(SABOTAGES.neverRecovers, ['faultsRemoved']),
    NEVER_REACHES(SABOTAGES.bypassSpacetime),
    RUNTIME_NOT_READY,
  ],
  'service-restart': [HEALTHY, BLOCKS(SABOTAGES.gapAfterFault, ['faultsAdded'], 'gap'), BLOCKS(SABOTAGES.leakAcrossRestart, ['stageStarted']), BLOCKS(SABOTAGES.runtimeNotReadyAfter, ['faultsRemoved'])],
  'reconnect-storm': [HEALTHY, BLOCKS(SABOTAGES.duplicateAfterFault, ['faultsRemoved'], 'duplicate'), BLOCKS(SABOTAGES.relapses, ['recovered'])],
  'latency-slow-consumer': [HEALTHY, BLOCKS(SABOTAGES.deliveryStopsMidFault, ['faultsAdded', 'faultsRemoved']), BLOCKS(SABOTAGES.neverRecovers, ['faultsRemoved'])],
  'token-expiry-storm': [HEALTHY, BLOCKS(SABOTAGES.tokenFailuresPersist, ['faultsRemoved']), BLOCKS(SABOTAGES.relapses, ['recovered']), NEVER_REACHES(SABOTAGES.bypassControl), CONTROL_NOT_READY],
  'stale-cursor-retention': [
    HEALTHY,
    BLOCKS(SABOTAGES.staleRebootstrapFails, ['faultsAdded', 'faultsRemoved'], 'stale_rebootstrap_failed'),
    { sabotage: SABOTAGES.staleRebootstrapClean, statuses: ['passed'], fires: ['faultsAdded', 'faultsRemoved'], bites: 'stale_rebootstrap_ok' },
    BLOCKS(SABOTAGES.reorderAfterFault, ['faultsRemoved'], 'reorder'),
  ],
};

/** MATRIX_EXTRA are the cells the bench adds: every drill's fault bypassed, more resume faults. */
export const MATRIX_EXTRA: Readonly<Record<string, readonly MatrixCase[]>> = {
  'temporary-partition': [BLOCKS(SABOTAGES.reorderAfterFault, ['faultsRemoved'], 'reorder'), BLOCKS(SABOTAGES.relapses, ['recovered']), CONTROL_NOT_READY],
  'service-restart': [BLOCKS(SABOTAGES.neverRecovers, ['faultsRemoved']), NEVER_REACHES(SABOTAGES.bypassSpacetime), RUNTIME_NOT_READY],
  'reconnect-storm': [BLOCKS(SABOTAGES.neverRecovers, ['faultsRemoved']), NEVER_REACHES(SABOTAGES.bypassSpacetime), RUNTIME_NOT_READY],
  'latency-slow-consumer': [BLOCKS(SABOTAGES.relapses, ['recovered']), NEVER_REACHES(SABOTAGES.bypassSpacetime), RUNTIME_NOT_READY],
  'token-expiry-storm': [BLOCKS(SABOTAGES.neverRecovers, ['faultsRemoved']), BLOCKS(SABOTAGES.tokenFailuresLinger, ['faultsRemoved']), RUNTIME_NOT_READY, BLOCKS(SABOTAGES.controlNotReadyAfter, ['faultsRemoved'])],
  'stale-cursor-retention': [BLOCKS(SABOTAGES.gapAfterFault, ['faultsAdded'], 'gap'), NEVER_REACHES(SABOTAGES.bypassSpacetime), CONTROL_NOT_READY],
};
