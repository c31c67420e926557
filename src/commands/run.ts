/**
 * `sentinel run [--config FILE]`: the daemon. Loads and validates the config, builds the
 * logger, metrics registry, tracing and HTTP server, composes the daemon's components with
 * `buildDaemon`, starts them in order and, on SIGINT/SIGTERM, stops them in reverse within
 * `server.shutdown_timeout`.
 */
import { join } from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { checkPromqlExpr, createNotifiers, RuleManager } from '../alerts/index.js';
import { checkConfig, resolveFileGlobs } from '../config/index.js';
import type { Config } from '../config/index.js';
import { isSentinelError } from '../errors.js';
import { DrillScheduler, drillMetrics, EvidenceIndex } from '../drills/index.js';
import type { DrillEventHandler } from '../drills/index.js';
import { createMetricsExposition, RecordedNames, tapAppends } from '../export/index.js';
import { buildProbes, ProbeScheduler } from '../probes/index.js';
import { buildStatusInfo, createHttpServer, nextCronRunMs, readinessOf, registerDrillsApi, registerPrometheusApi, registerReloadRoute, registerRolloutsApi, registerSloSnapshotRoute, startComponents, stopComponents } from '../server/index.js';
import type { Component, HttpServer, MetricsBody, ScheduleStatus } from '../server/index.js';
import { MetricMetadataRegistry, openSampleStore, StoreComponent } from '../store/index.js';
import { exprToString, parseExpr } from '../promql/index.js';
import { createLogger, createMetricsRegistry, startTracing } from '../telemetry/index.js';
import { SystemClock } from '../time/index.js';
import { sentinelVersion } from '../version.js';
import type { Clock } from '../time/index.js';
import { configFileOf } from './config-file.js';
import { effectiveConfig } from './effective-config.js';
import { buildDrillRuntime } from './drill-runtime.js';
import { buildRolloutRunner, criticalAlertsOf, defaultOutputDir } from './rollout-runtime.js';
import { RolloutService } from '../rollout/index.js';
import { createConfiguredEngine } from './query-engine.js';
import type { Command, CommandIO } from './types.js';
import { ExitCodes } from './types.js';

/** DaemonDeps are the collaborators every component shares, built once by the run command. */
export interface DaemonDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly tracer: Tracer;
  readonly version: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** drillEvents observe drill runs (the demo's progress view). */
  readonly drillEvents?: readonly DrillEventHandler[];
}

/** Daemon is the composed daemon: its components in start order and its SIGHUP hooks. */
export interface Daemon {
  readonly server: HttpServer;
  /** components start in this order and stop in reverse. */
  readonly components: readonly Component[];
  /** reloaders run on SIGHUP (the rule manager registers its reload here). */
  readonly reloaders: ReadonlyArray<() => Promise<void>>;
  /** drillScheduler runs drills on schedule and on request. */
  readonly drillScheduler: DrillScheduler;
  /** rollouts runs the rollouts started through the admin API. */
  readonly rollouts: RolloutService;
}

/**
 * buildDaemon composes the daemon from a validated Config. It constructs everything and starts
 * nothing. To add a part: construct it here, push it on `components` at its place in the start
 * order, register its routes on `server`, and its schedules on `schedules`.
 */
export function buildDaemon(config: Config, deps: DaemonDeps): Daemon {
  const { clock, logger, registry, tracer } = deps;
  const components: Component[] = [];
  const reloaders: Array<() => Promise<void>> = [];
  const schedules: Array<() => ScheduleStatus[]> = [];
  const startTimeMs = clock.nowMs();
  // /metrics serves the exposition composed below, once the store it reads is open.
  let exposition: MetricsBody = registry;

  const server = createHttpServer({
    listen: config.server.listen,
    logger: logger.child({ component: 'http' }),
    registry,
    metrics: { contentType: registry.contentType, metrics: () => exposition.metrics() },
    clock,
    ...(config.server.adminToken ? { adminToken: config.server.adminToken } : {}),
    status: () => buildStatusInfo({ version: deps.version, startTimeMs, nowMs: clock.nowMs(), config, schedules: schedules.flatMap((s) => s()) }),
    // The server itself is not listed: /readyz is only reachable while it serves.
    readiness: () => readinessOf(components.filter((c) => c !== server)),
  });

  // Everything that can still reject the configuration comes before anything opens a file.
  const metadata = new MetricMetadataRegistry();
  const probes = buildProbes(config, { registry, clock, logger, env: deps.env, metadata });

  // 1. The sample store first: everything else reads or writes it. Stopped last, it closes the store.
  const store = openSampleStore({
    dataDir: config.storage.dataDir,
    retentionMs: config.storage.retentionMs,
    maxSeries: config.storage.maxSeries,
    logger: logger.child({ component: 'store' }),
    registry,
  });
  components.push(new StoreComponent({ store, clock, logger: logger.child({ component: 'store' }) }));
  // Every series the probes record is on /metrics, read from the store at scrape time.
  const recorded = new RecordedNames();
  const probeSink = tapAppends(store, [recorded]);
  exposition = createMetricsExposition({
    registry,
    store,
    names: recorded,
    metadata,
    lookbackDeltaMs: config.rules.lookbackDeltaMs,
    clock,
    ...(config.export.compatMetrics ? { compat: { appVersion: deps.version } } : {}),
  });

  // 2. The HTTP server: up before the schedulers so /healthz and /readyz answer during startup.
  components.push(server);

  // 3. Probes on their cron schedules, writing to the store.
  const probeScheduler = new ProbeScheduler({ probes, store: probeSink, registry, clock, logger: logger.child({ component: 'probes' }), tracer });
  components.push(probeScheduler);
  schedules.push(() =>
    probes.map((p) => ({ kind: 'probe' as const, name: p.probe.name, schedule: p.schedule, nextRunMs: nextCronRunMs(p.schedule, clock.nowMs()) })),
  );

  // 4. Rule evaluation and notification: the rule manager over `store` (it starts
  //    and stops the notifiers), the Prometheus API routes, POST /-/reload and SIGHUP.
  const engine = createConfiguredEngine(config);
  const rulesLogger = logger.child({ component: 'rules' });
  const manager = new RuleManager({
    resolveFiles: () => resolveFileGlobs(config.rules.files),
    store,
    query: (expr, tMs, signal) => engine.instantQuery(store, expr, tMs, signal),
    checkExpr: checkPromqlExpr,
    formatExpr: (expr) => exprToString(parseExpr(expr)),
    clock,
    defaultIntervalMs: config.rules.evaluationIntervalMs,
    resendDelayMs: config.alerting.resendDelayMs,
    externalLabels: config.alerting.externalLabels,
    externalUrl: config.alerting.externalUrl,
    notifiers: createNotifiers(config.alerting, { clock, registry, logger: logger.child({ component: 'notify' }) }),
    stateFile: join(config.storage.dataDir, 'alerts', 'state.json'),
    registry,
    logger: rulesLogger,
  });
  components.push(manager);
  registerPrometheusApi(server, {
    store,
    instantQuery: (expr, tMs, signal) => engine.instantQuery(store, expr, tMs, signal),
    rangeQuery: (expr, startMs, endMs, stepMs, signal) => engine.rangeQuery(store, expr, startMs, endMs, stepMs, signal),
    rules: manager,
    clock,
  });
  registerReloadRoute(server, manager);
  registerSloSnapshotRoute(server, { query: (expr, tMs) => engine.instantQuery(store, expr, tMs), clock, windowMs: config.rollout.sloWindowMs });
  reloaders.push(async () => {
    const result = await manager.reload();
    if (!result.ok) throw result.error;
  });
  schedules.push(() => manager.ruleGroups().map((g) => ({ kind: 'rules' as const, name: g.name, schedule: `every ${g.intervalMs / 1000}s`, nextRunMs: null })));
  // 5. Drills: on their cron schedules and on request, one at a time; faults left by a crashed run
  //    are removed at start and expired owned toxics swept while running.
  const drills = buildDrillRuntime(config, {
    clock,
    logger,
    store,
    scheduler: probeScheduler,
    engine,
    tracer,
    version: deps.version,
    events: [drillMetrics(registry, () => clock.nowMs()), ...(deps.drillEvents ?? [])],
    onDrillLabels: (labels) => (labels ? manager.setDrillLabels(labels) : manager.clearDrillLabels()),
  });
  const evidence = new EvidenceIndex(config.drills.evidenceDir);
  const drillScheduler = new DrillScheduler({
    runner: drills.runner,
    drills: drills.drills,
    schedules: config.drills.schedules,
    driver: drills.driver,
    evidenceRoot: config.drills.evidenceDir,
    environment: config.environment,
    allowProd: config.drills.allowProd,
    alerts: drills.alerts,
    clock,
    logger: logger.child({ component: 'drills' }),
    evidence,
    retention: config.drills.evidenceRetention,
  });
  components.push(drillScheduler);
  registerDrillsApi(server, {
    scheduler: drillScheduler,
    drills: drills.drills,
    evidenceRoot: config.drills.evidenceDir,
    evidence,
    ...(config.drills.manifestHmacKey ? { hmacKey: config.drills.manifestHmacKey.reveal() } : {}),
  });
  schedules.push(() => config.drills.schedules.map((s) => ({ kind: 'drill' as const, name: s.drill, schedule: s.cron, nextRunMs: nextCronRunMs(s.cron, clock.nowMs()) })));

  // 6. Rollouts on request (admin API), supervised with the daemon's own probes, samples and alerts.
  const rolloutQuery = (expr: string, tMs: number) => engine.instantQuery(store, expr, tMs);
  const rollouts = new RolloutService({
    create: (options, outputDir, events) =>
      buildRolloutRunner(config, options, outputDir, {
        clock,
        logger: logger.child({ component: 'rollout' }),
        registry,
        env: deps.env,
        cwd: config.baseDir,
        store,
        query: rolloutQuery,
        scheduler: probeScheduler,
        criticalAlerts: criticalAlertsOf(drills.alerts),
        drills: drills.drills,
        runDrill: (drill, signal) => drills.runner.run(drill, signal),
        version: deps.version,
        events: [events],
      }),
    defaultOutputDir: (kind) => defaultOutputDir(config, kind, clock.nowMs()),
    baseDir: config.baseDir,
    env: deps.env,
    clock,
    logger: logger.child({ component: 'rollout' }),
  });
  components.push(rollouts);
  registerRolloutsApi(server, { service: rollouts });

  return { server, components, reloaders, drillScheduler, rollouts };
}

/**
 * reloadAll runs every reloader in order and returns how many ran; the first failure is thrown
 * after the others have run, so one bad rule file does not block another part's reload.
 */
export async function reloadAll(reloaders: ReadonlyArray<() => Promise<void>>): Promise<number> {
  let firstError: unknown;
  for (const reload of reloaders) {
    try {
      await reload();
    } catch (err) {
      firstError ??= err;
    }
  }
  if (firstError !== undefined) throw firstError;
  return reloaders.length;
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * runDaemon runs until `io.signal` aborts; exported for tests that run it in-process. It logs the
 * effective configuration first (secrets redacted; `overridden` says which settings came from
 * flags or the environment).
 */
export async function runDaemon(config: Config, io: CommandIO, deps: { clock?: Clock; overridden?: Readonly<Record<string, string>> } = {}): Promise<number> {
  const clock = deps.clock ?? new SystemClock();
  const version = sentinelVersion();
  const logger = createLogger({ level: config.log.level, destination: io.stdout, base: { service: 'spacetime-sentinel' } });
  logger.info({ version, config: effectiveConfig(config, deps.overridden) }, 'effective configuration');
  const registry = createMetricsRegistry({ version });
  const tracing = await startTracing({ serviceName: 'spacetime-sentinel', env: io.env });
  let daemon: Daemon;
  try {
    daemon = buildDaemon(config, { clock, logger, registry, tracer: tracing.tracer, version, env: io.env });
  } catch (err) {
    await tracing.shutdown();
    throw err;
  }
  const onHangup = (): void => {
    logger.info('SIGHUP: reloading');
    // The daemon's own settings need a restart; say so if the file on disk no longer validates.
    const recheck = checkConfig(config.file, { env: io.env });
    if (!recheck.ok) logger.error({ issues: recheck.issues }, 'the config file on disk is invalid; the running configuration stays; fix it before the next restart');
    reloadAll(daemon.reloaders).then(
      (count) => logger.info({ reloaded: count }, 'reload done'),
      (err: unknown) => logger.error({ err }, 'reload failed; keeping the previous configuration'),
    );
  };
  process.on('SIGHUP', onHangup);
  const shutdownDeadlineMs = (): number => clock.nowMs() + config.server.shutdownTimeoutMs;
  try {
    const started = await startComponents(daemon.components, { signal: io.signal, logger, clock, deadlineMs: shutdownDeadlineMs });
    if (!io.signal.aborted) {
      logger.info({ address: daemon.server.address()?.url, environment: config.environment, config: config.file, version }, 'sentinel running');
      await waitForAbort(io.signal);
    }
    const reason: unknown = io.signal.reason;
    logger.info({ reason: reason instanceof Error ? reason.message : String(reason), shutdownTimeoutMs: config.server.shutdownTimeoutMs }, 'shutting down');
    const report = await stopComponents(started, { deadlineMs: shutdownDeadlineMs(), clock, logger });
    logger.info({ isClean: report.isClean, overrun: report.overrun, failed: report.failed }, 'sentinel stopped');
    return ExitCodes.ok;
  } finally {
    process.off('SIGHUP', onHangup);
    await tracing.shutdown().catch((err: unknown) => logger.warn({ err }, 'tracing shutdown failed'));
  }
}

function stringOption(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** runCommand implements `sentinel run`. */
export const runCommand: Command = {
  options: { config: { type: 'string' }, listen: { type: 'string' }, 'log-level': { type: 'string' } },
  async run(args, io) {
    const file = configFileOf(args, io);
    if (args.positionals.length > 0) {
      io.stderr.write(`sentinel run: unexpected argument '${args.positionals[0]}'; pass the file with --config FILE\n`);
      return ExitCodes.usage;
    }
    const overrides = { listen: stringOption(args.options.listen), logLevel: stringOption(args.options['log-level']) };
    const checked = checkConfig(file, { env: io.env, cwd: io.cwd, overrides });
    if (!checked.ok) {
      for (const line of checked.issues) io.stderr.write(`${line}\n`);
      return ExitCodes.usage;
    }
    try {
      return await runDaemon(checked.config, io, { overridden: checked.overridden });
    } catch (err) {
      if (isSentinelError(err)) {
        const lines = 'issues' in err && Array.isArray(err.issues) ? (err.issues as string[]) : [err.message];
        for (const line of lines) io.stderr.write(`sentinel run: ${line}\n`);
        return ExitCodes.usage;
      }
      throw err;
    }
  },
};
