/**
 * buildDrillRuntime: composes what drills need from a validated Config — the drill files, the
 * Toxiproxy driver, the condition query (the sentinel's one PromQL engine over the store), the
 * probes at drill cadence, the evidence sources, where firing critical alerts are read — shared
 * by `sentinel run`, `sentinel drill`, `sentinel demo` and `sentinel gate`.
 */
import { hostname } from 'node:os';
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { resolveFileGlobs } from '../config/index.js';
import { daemonAlertsSource, DrillRunner, fileDrillLease, loadDrillFiles, PostgresDrillLease, queryAlertsSource, renderReport, TargetEvidenceSources, ToxiproxyFaultDriver } from '../drills/index.js';
import type { AlertCheck, DrillEventHandler, DrillLabels, DrillLease, DrillProbes, DrillSpec, FiringAlertsSource, QueryFn } from '../drills/index.js';
import type { ProbeScheduler } from '../probes/index.js';
import type { Engine } from '../promql/index.js';
import { ControlClient, RuntimeMetricsClient, SpacetimeHttpClient } from '../spacetime/index.js';
import type { SampleStore } from '../store/index.js';
import type { Clock } from '../time/index.js';
import { createConfiguredEngine, createConfiguredQuerySource } from './query-engine.js';

/** DrillRuntimeDeps are the daemon's shared parts the drills build on. */
export interface DrillRuntimeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: SampleStore;
  readonly scheduler: ProbeScheduler;
  /** engine is the sentinel's one PromQL engine, shared with the rules (default: `createConfiguredEngine(config)`). */
  readonly engine?: Engine;
  readonly version: string;
  readonly tracer?: Tracer;
  readonly events?: readonly DrillEventHandler[];
  /** onDrillLabels also receives the labels (the rule manager labels alerts with them). */
  readonly onDrillLabels?: (labels: DrillLabels | undefined) => void;
  /** alerts says where the preflight reads firing critical alerts (default: the ALERTS series in `store`). */
  readonly alerts?: AlertCheck;
  /** drills are the drill files already loaded and checked (default: load `config.drills.files` now). */
  readonly drills?: readonly DrillSpec[];
}

/** DrillRuntime is the composed drills part. */
export interface DrillRuntime {
  readonly drills: readonly DrillSpec[];
  readonly driver: ToxiproxyFaultDriver;
  readonly runner: DrillRunner;
  readonly query: QueryFn;
  /** alerts is the firing-alerts source over the store (the drill scheduler's refusal check). */
  readonly alerts: FiringAlertsSource;
}

/** schedulerProbes adapts the probe scheduler to what the drill runner needs. */
export function schedulerProbes(scheduler: ProbeScheduler, onDrillLabels?: (labels: DrillLabels | undefined) => void): DrillProbes {
  return {
    isBusy: (name) => scheduler.isBusy(name),
    async runProbe(name, labels, cutOff) {
      const [report] = await scheduler.runOnce(name, { labels, cutOff });
      const { outcome } = report;
      return { ok: outcome.result.ok, reason: outcome.reason, startedAtMs: outcome.startedAtMs, endedAtMs: outcome.completedAtMs, cutOff: report.cutOff === true };
    },
    setDrillLabels(labels) {
      if (labels) scheduler.setRunLabels(labels);
      else scheduler.clearRunLabels();
      onDrillLabels?.(labels);
    },
    reserve: (names) => scheduler.reserve(names),
    whenIdle: (names, signal) => scheduler.whenProbesIdle(names, signal),
  };
}

/**
 * runningDaemonAlerts is how a command outside the daemon (`drill run`, `gate`) reads firing
 * critical alerts: it asks the running daemon at `server.listen` (with the admin token when one is
 * configured). A daemon it cannot find or that does not answer is an error, never "no alerts".
 */
export function runningDaemonAlerts(config: Config): FiringAlertsSource {
  const { host, port } = config.server.listen;
  if (port === 0) {
    return {
      description: `the sentinel daemon (server.listen ${host}:0)`,
      firingAlerts: () => Promise.reject(new Error('server.listen uses port 0 (an ephemeral port), so the running daemon cannot be found; give server.listen a fixed port, or pass --skip-alert-check')),
    };
  }
  const hostPart = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return daemonAlertsSource({ baseUrl: `http://${hostPart}:${port}`, ...(config.server.adminToken ? { adminToken: config.server.adminToken.reveal() } : {}) });
}

/**
 * drillLease is the configured drill lease: the PostgreSQL lease shared by an HA pair when
 * `drills.lease` is set, else the file lock in the evidence directory.
 */
export function drillLease(config: Config, clock: Clock, logger: Logger): DrillLease {
  const lease = config.drills.lease;
  if (!lease) return fileDrillLease(config.drills.evidenceDir);
  const password = lease.postgres.password;
  return new PostgresDrillLease({
    url: lease.postgres.url,
    ...(password ? { password: () => password.reveal() } : {}),
    name: lease.name,
    holder: lease.holder ?? `${hostname()}:${process.pid}`.slice(0, 40),
    ttlMs: lease.ttlMs,
    clock,
    logger,
  });
}

/** buildDrillRuntime loads the drill files (every error at once) and wires the runner. */
export function buildDrillRuntime(config: Config, deps: DrillRuntimeDeps): DrillRuntime {
  const drills = deps.drills ?? loadDrillFiles(resolveFileGlobs(config.drills.files), { knownProbes: deps.scheduler.probeNames() });
  const driver = new ToxiproxyFaultDriver({ url: config.drills.toxiproxyUrl });
  const engine = deps.engine ?? createConfiguredEngine(config);
  const query: QueryFn = (expr, tMs) => engine.instantQuery(deps.store, expr, tMs);
  // With query_source: the conditions are judged on the external Prometheus; the report's panels
  // and the critical-alerts check stay on the sentinel's own store (its rules' ALERTS).
  const source = createConfiguredQuerySource(config);
  const storeAlerts = queryAlertsSource(query);
  const t = config.target;
  const sources = new TargetEvidenceSources({
    // Secrets go in as they are: the clients read them at every request.
    spacetime: new SpacetimeHttpClient({ baseUrl: t.spacetimedb.baseUrl, database: t.spacetimedb.database, ...(t.spacetimedb.token ? { token: t.spacetimedb.token } : {}), timeoutMs: t.spacetimedb.requestTimeoutMs }),
    runtime: new RuntimeMetricsClient({ baseUrl: t.runtime.baseUrl, token: t.runtime.token, metricsPath: t.runtime.metricsPath, timeoutMs: t.runtime.requestTimeoutMs }),
    control: new ControlClient({ baseUrl: t.control.baseUrl, sessionToken: t.control.sessionToken, timeoutMs: t.control.requestTimeoutMs }),
  });
  const runner = new DrillRunner({
    driver,
    store: deps.store,
    query,
    ...(source ? { conditionQuery: (expr: string, tMs: number) => source.instantQuery(expr, tMs) } : {}),
    alerts: deps.alerts ?? { source: storeAlerts },
    probes: schedulerProbes(deps.scheduler, deps.onDrillLabels),
    clock: deps.clock,
    environment: config.environment,
    allowProd: config.drills.allowProd,
    evidenceRoot: config.drills.evidenceDir,
    version: deps.version,
    ...(config.drills.manifestHmacKey ? { hmacKey: config.drills.manifestHmacKey } : {}),
    logger: deps.logger.child({ component: 'drills' }),
    ...(deps.tracer ? { tracer: deps.tracer } : {}),
    sources,
    events: deps.events ?? [],
    renderReport: (input) => renderReport(input),
    lease: drillLease(config, deps.clock, deps.logger.child({ component: 'drills' })),
  });
  return { drills, driver, runner, query, alerts: storeAlerts };
}
