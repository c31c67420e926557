/**
 * buildDrillRuntime: composes what drills need from a validated Config — the drill files, the
 * Toxiproxy driver, the condition query over the store, the probes at drill cadence, the evidence
 * sources — shared by `sentinel run`, `sentinel drill`, `sentinel demo` and `sentinel gate`.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { resolveFileGlobs } from '../config/index.js';
import { DrillRunner, loadDrillFiles, renderReport, TargetEvidenceSources, ToxiproxyFaultDriver } from '../drills/index.js';
import type { DrillEventHandler, DrillLabels, DrillProbes, DrillSpec, QueryFn } from '../drills/index.js';
import type { ProbeScheduler } from '../probes/index.js';
import { createEngine } from '../promql/index.js';
import { ControlClient, RuntimeMetricsClient, SpacetimeHttpClient } from '../spacetime/index.js';
import type { SampleStore } from '../store/index.js';
import type { Clock } from '../time/index.js';

/** DrillRuntimeDeps are the daemon's shared parts the drills build on. */
export interface DrillRuntimeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: SampleStore;
  readonly scheduler: ProbeScheduler;
  readonly version: string;
  readonly events?: readonly DrillEventHandler[];
  /** onDrillLabels also receives the labels (the rule manager labels alerts with them). */
  readonly onDrillLabels?: (labels: DrillLabels | undefined) => void;
  /** alertsQuery reads firing alerts from another store than `store` (the CLI reads the daemon's). */
  readonly alertsQuery?: QueryFn;
}

/** DrillRuntime is the composed drills part. */
export interface DrillRuntime {
  readonly drills: readonly DrillSpec[];
  readonly driver: ToxiproxyFaultDriver;
  readonly runner: DrillRunner;
  readonly query: QueryFn;
}

/** schedulerProbes adapts the probe scheduler to what the drill runner needs. */
export function schedulerProbes(scheduler: ProbeScheduler, onDrillLabels?: (labels: DrillLabels | undefined) => void): DrillProbes {
  return {
    async runProbes(names, labels, signal) {
      scheduler.setRunLabels(labels);
      const known = new Set(scheduler.probeNames());
      await Promise.all(names.filter((n) => known.has(n)).map((n) => scheduler.runOnce(n, signal)));
    },
    setDrillLabels(labels) {
      if (labels) scheduler.setRunLabels(labels);
      else scheduler.clearRunLabels();
      onDrillLabels?.(labels);
    },
  };
}

/** buildDrillRuntime loads the drill files (every error at once) and wires the runner. */
export function buildDrillRuntime(config: Config, deps: DrillRuntimeDeps): DrillRuntime {
  const drills = loadDrillFiles(resolveFileGlobs(config.drills.files), { knownProbes: deps.scheduler.probeNames() });
  const driver = new ToxiproxyFaultDriver({ url: config.drills.toxiproxyUrl });
  const engine = createEngine({ lookbackDeltaMs: config.rules.lookbackDeltaMs, timeoutMs: config.rules.queryTimeoutMs });
  const query: QueryFn = (expr, tMs) => engine.instantQuery(deps.store, expr, tMs);
  const t = config.target;
  const sources = new TargetEvidenceSources({
    spacetime: new SpacetimeHttpClient({ baseUrl: t.spacetimedb.baseUrl, database: t.spacetimedb.database, ...(t.spacetimedb.token ? { token: t.spacetimedb.token.reveal() } : {}), timeoutMs: t.spacetimedb.requestTimeoutMs }),
    runtime: new RuntimeMetricsClient({ baseUrl: t.runtime.baseUrl, token: t.runtime.token?.reveal(), metricsPath: t.runtime.metricsPath, timeoutMs: t.runtime.requestTimeoutMs }),
    control: new ControlClient({ baseUrl: t.control.baseUrl, sessionToken: t.control.sessionToken.reveal(), timeoutMs: t.control.requestTimeoutMs }),
  });
  const runner = new DrillRunner({
    driver,
    store: deps.store,
    query,
    ...(deps.alertsQuery ? { alertsQuery: deps.alertsQuery } : {}),
    probes: schedulerProbes(deps.scheduler, deps.onDrillLabels),
    clock: deps.clock,
    environment: config.environment,
    allowProd: config.drills.allowProd,
    evidenceRoot: config.drills.evidenceDir,
    version: deps.version,
    ...(config.drills.manifestHmacKey ? { hmacKey: config.drills.manifestHmacKey.reveal() } : {}),
    logger: deps.logger.child({ component: 'drills' }),
    sources,
    events: deps.events ?? [],
    renderReport: (input) => renderReport(input),
  });
  return { drills, driver, runner, query };
}
