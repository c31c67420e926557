/**
 * `sentinel run [--config FILE]`: the daemon. `buildDaemon` composes it from a validated Config:
 * the parts that live as long as the process (sample store, HTTP server, rule manager, rollout
 * service) and a generation of the parts one configuration decides (probes, drills, engine,
 * exposition; see daemon-generation.ts). `runDaemon` starts the components in order and, on
 * SIGINT/SIGTERM, stops them in reverse within `server.shutdown_timeout`; SIGHUP and
 * `POST /-/reload` reload the whole configuration.
 *
 * Start-up order: everything that can refuse the configuration (probes, drill files and
 * schedules, rule files) is checked before anything is opened (store, notification queues, the
 * listening socket), so a refused configuration leaves no file or socket behind.
 *
 * A reload builds and checks the new generation first and refuses it (with every `FILE:LINE:COL`
 * problem) without touching what runs. A good one takes effect in two hand-overs: the rules,
 * notifiers, exposition, admin token and API settings at once; the probes, targets and drills
 * as soon as no drill or rollout is in progress, so one that is keeps the configuration it
 * started with (its probes and faults are not torn down). Settings only a restart can change
 * are kept at their running values and named (daemon/restart-only.ts).
 */
import type { Gauge } from 'prom-client';
import { checkPromqlExpr, createNotifiers, RuleManager } from '../alerts/index.js';
import type { Notifier } from '../alerts/index.js';
import { checkConfig } from '../config/index.js';
import type { Config, ConfigCheck, ConfigOverrides } from '../config/index.js';
import { isSentinelError } from '../errors.js';
import { appliedV8Flags, logSecretFileChanges, pinRestartOnly, readinessOf, ReloadStatus, restartOnlyChanges, startComponents, stopComponents, WriteCheck } from '../daemon/index.js';
import type { Component } from '../daemon/index.js';
import { drillMetrics, EvidenceIndex } from '../drills/index.js';
import type { DrillEventHandler, DrillScheduler } from '../drills/index.js';
// From their modules, not the export barrel, which would load the remote_write code with it.
import { tapAppends } from '../export/append-tap.js';
import { RecordedNames } from '../export/recorded-names.js';
import { buildStatusInfo, createHttpServer, QueryWorker, registerDrillsApi, registerPrometheusApi, registerReloadRoute, registerRolloutsApi, registerSloSnapshotRoute } from '../server/index.js';
import type { HttpServer, ReloadAnswer, ScheduleStatus } from '../server/index.js';
import { MetricMetadataRegistry, openSampleStore, StoreComponent } from '../store/index.js';
import { apiQueryEngineOptions } from './query-engine.js';
import { createLogger, createMetricsRegistry, startTracing } from '../telemetry/index.js';
import { CronSchedule, SystemClock } from '../time/index.js';
import { sentinelVersion } from '../version.js';
import type { Clock } from '../time/index.js';
import { configFileOf } from './config-file.js';
import { effectiveConfig } from './effective-config.js';
import { assembleGeneration, checkRuleFiles, planGeneration, ruleSettingsOf } from './daemon-generation.js';
import type { DaemonGeneration, GenerationShared, GenerationWiring } from './daemon-generation.js';
import { remoteWritersFor } from './export-runtime.js';
import { buildRolloutRunner, criticalAlertsOf, defaultOutputDir } from './rollout-runtime.js';
import { RolloutService } from '../rollout/index.js';
import type { Command, CommandIO } from './types.js';
import { ExitCodes } from './types.js';

export type { DaemonGeneration } from './daemon-generation.js';

/**
 * DaemonDeps are the collaborators every component shares, built once by the run command (all
 * of a generation's but the metric metadata, which buildDaemon creates).
 */
export interface DaemonDeps extends Omit<GenerationShared, 'metadata'> {
  /** drillEvents observe drill runs (the demo's progress view). */
  readonly drillEvents?: readonly DrillEventHandler[];
  /**
   * loadConfig reads the configuration again for a reload, as the command line first read it
   * (same file, working directory, flags and environment); default: `config.file` with `env`.
   */
  readonly loadConfig?: () => ConfigCheck;
}

/** ReloadOutcome is what a reload did: the new generation in effect, or the problems that refused it. */
export type ReloadOutcome =
  | {
      readonly ok: true;
      readonly generation: number;
      readonly groups: number;
      readonly rules: number;
      /** restartRequired names the changed settings only a restart applies (their running values stay). */
      readonly restartRequired: readonly string[];
      /** deferred says what waits for a drill or rollout in progress, when something does. */
      readonly deferred?: string;
    }
  | { readonly ok: false; readonly issues: readonly string[] };

/** Daemon is the composed daemon: its components in start order and its reload. */
export interface Daemon {
  readonly server: HttpServer;
  /** components start in this order and stop in reverse. */
  readonly components: readonly Component[];
  readonly rules: RuleManager;
  /** rollouts runs the rollouts started through the admin API. */
  readonly rollouts: RolloutService;
  /** generation is what the probes and drills run under now. */
  generation(): DaemonGeneration;
  /** drillScheduler runs drills on schedule and on request (the current generation's). */
  readonly drillScheduler: DrillScheduler;
  /** reload reads the configuration again and swaps it in, or refuses it and keeps the running one. */
  reload(): Promise<ReloadOutcome>;
  /** idle resolves once a reload and the hand-over it waits for are done (tests). */
  idle(): Promise<void>;
}

/** issuesOf turns whatever refused a configuration into its `FILE:LINE:COL` lines. */
function issuesOf(err: unknown): string[] {
  if (isSentinelError(err) && 'issues' in err && Array.isArray(err.issues)) return err.issues as string[];
  return [err instanceof Error ? err.message : String(err)];
}

/**
 * buildDaemon composes the daemon from a validated Config. It checks everything the
 * configuration asks for before it opens anything, and starts nothing. To add a part: construct
 * it below at its place (process-long parts here, configuration-bound ones in
 * daemon-generation.ts), push it on `components` at its place in the start order, and register
 * its routes on `server`.
 */
export async function buildDaemon(config: Config, deps: DaemonDeps): Promise<Daemon> {
  const { clock, logger, registry, tracer } = deps;
  const shared: GenerationShared = { clock, logger, registry, tracer, version: deps.version, env: deps.env, metadata: new MetricMetadataRegistry() };
  const startTimeMs = clock.nowMs();
  const loadConfig = deps.loadConfig ?? (() => checkConfig(config.file, { env: deps.env }));

  // 1. Everything that can refuse the configuration; nothing is opened yet.
  const plan = planGeneration(config, shared);
  await checkRuleFiles(config);
  const buildRemoteWriters = await remoteWritersFor(config);

  // 2. The sample store: everything else reads or writes it. Stopped last, it closes the store.
  const store = openSampleStore({
    dataDir: config.storage.dataDir,
    retentionMs: config.storage.retentionMs,
    maxSeries: config.storage.maxSeries,
    logger: logger.child({ component: 'store' }),
    registry,
    // The query thread reads the samples in place.
    sharedBuffers: true,
  });
  const storeComponent = new StoreComponent({ store, clock, logger: logger.child({ component: 'store' }) });
  const writeCheck = new WriteCheck({ dir: config.storage.dataDir, clock, logger: logger.child({ component: 'store' }) });
  // Every series the probes record is on /metrics (the tap names them for the exposition) and is
  // sent to each remote-write endpoint (their queues open before the probes start, close after).
  const recorded = new RecordedNames();
  const remoteWriters = buildRemoteWriters({ store, registry, clock, logger, version: deps.version });
  const probeSink = tapAppends(store, [recorded, ...remoteWriters]);

  // The notifiers' queues open with them; a failure below closes them and the store again.
  let notifiers: readonly Notifier[] = [];
  try {
    // 3. Rule evaluation and notification: the rule manager over `store` (it starts and stops the
    //    notifiers).
    const notifierDeps = { clock, registry, logger: logger.child({ component: 'notify' }), tracer };
    notifiers = createNotifiers(config.alerting, notifierDeps);
    const rules = new RuleManager({
      ...ruleSettingsOf(config, plan.engine, store),
      store,
      checkExpr: checkPromqlExpr,
      clock,
      notifiers,
      stateFile: `${config.storage.dataDir}/alerts/state.json`,
      registry,
      logger: logger.child({ component: 'rules' }),
      tracer,
    });
    const wiring: GenerationWiring = {
      store,
      probeSink,
      recorded,
      evidence: new EvidenceIndex(config.drills.evidenceDir),
      drillEvents: [drillMetrics(registry, () => clock.nowMs()), ...(deps.drillEvents ?? [])],
      onDrillLabels: (labels) => (labels ? rules.setDrillLabels(labels) : rules.clearDrillLabels()),
    };

    // The generations: `newest` is the last accepted configuration (rules, notifiers, export, API);
    // `running` is what the probes and drills run under, which waits for a drill or rollout in progress.
    let newest = assembleGeneration(plan, shared, wiring);
    let running = newest;
    let pending: DaemonGeneration | undefined;
    const reloadStatus = new ReloadStatus(registry, startTimeMs);
    const secretLogger = logger.child({ component: 'secrets' });
    const secretLogs = new Map<DaemonGeneration, () => void>([[newest, logSecretFileChanges(config, secretLogger)]]);
    const forget = (g: DaemonGeneration): void => {
      if (g === newest || g === running || g === pending) return;
      secretLogs.get(g)?.();
      secretLogs.delete(g);
    };

    // 4. The HTTP server: up before the schedulers so /healthz and /readyz answer during startup.
    const nextCronRunMs = (expression: string): number | null => CronSchedule.parse(expression)?.nextAfter(clock.nowMs()) ?? null;
    const schedules = (): ScheduleStatus[] => [
      ...running.probes.map((p) => ({ kind: 'probe' as const, name: p.probe.name, schedule: p.schedule, nextRunMs: nextCronRunMs(p.schedule) })),
      ...rules.ruleGroups().map((g) => ({ kind: 'rules' as const, name: g.name, schedule: `every ${g.intervalMs / 1000}s`, nextRunMs: null })),
      ...running.config.drills.schedules.map((s) => ({ kind: 'drill' as const, name: s.drill, schedule: s.cron, nextRunMs: nextCronRunMs(s.cron) })),
    ];
    const server = createHttpServer({
      listen: config.server.listen,
      logger: logger.child({ component: 'http' }),
      registry,
      metrics: { contentType: registry.contentType, metrics: () => newest.exposition.metrics() },
      clock,
      adminToken: () => newest.config.server.adminToken,
      status: () =>
        buildStatusInfo({
          version: deps.version,
          startTimeMs,
          nowMs: clock.nowMs(),
          config: running.config,
          schedules: schedules(),
          configStatus: { generation: reloadStatus.generation, lastReload: reloadStatus.lastAttempt, ...(pending ? { pending: waitingFor() ?? 'starting' } : {}) },
        }),
      readiness: () => readiness(),
    });

    // 5. Probes on their cron schedules and 6. drills on theirs and on request: the running
    //    generation's, handed over on reload.
    let isStarted = false;
    let isStopping = false;
    let handOver: Promise<void> | undefined;
    const probes: Component = {
      name: 'probes',
      start: async () => {
        isStarted = true;
        await running.probeScheduler.start();
      },
      stop: async (deadlineMs) => {
        isStopping = true;
        await handOver;
        await running.probeScheduler.stop(deadlineMs);
        if (pending) await pending.probeScheduler.closeProbes();
      },
      isReady: () => running.probeScheduler.isReady(),
    };
    const drills: Component = {
      name: 'drills',
      start: () => running.drillScheduler.start(),
      stop: async (deadlineMs) => {
        isStopping = true;
        await handOver;
        await running.drillScheduler.stop(deadlineMs);
      },
      isReady: () => running.drillScheduler.isReady(),
    };

    // 7. Rollouts on request (admin API), supervised with the running generation's probes, samples and alerts.
    const rollouts = new RolloutService({
      create: (options, outputDir, events) => {
        const g = running;
        const query = (expr: string, tMs: number) => g.engine.instantQuery(store, expr, tMs);
        return buildRolloutRunner(g.config, options, outputDir, {
          clock,
          logger: logger.child({ component: 'rollout' }),
          registry,
          env: deps.env,
          cwd: g.config.baseDir,
          store,
          query,
          scheduler: g.probeScheduler,
          criticalAlerts: criticalAlertsOf(g.drills.alerts),
          drills: g.drills.drills,
          runDrill: (drill, signal) => g.drills.runner.run(drill, signal),
          version: deps.version,
          events: [events],
        });
      },
      defaultOutputDir: (kind) => defaultOutputDir(running.config, kind, clock.nowMs()),
      baseDir: config.baseDir,
      env: deps.env,
      clock,
      logger: logger.child({ component: 'rollout' }),
    });

    // /readyz: whether the sentinel can do its job. The watched system's health is the probes' and alerts' business.
    const readiness = () =>
      readinessOf([
        { name: 'config', isReady: () => true, detail: () => `generation ${reloadStatus.generation}${reloadStatus.lastAttempt.ok ? '' : '; the last reload was refused, the previous configuration runs'}` },
        { name: 'store', isReady: () => storeComponent.isReady() && writeCheck.isReady(), detail: () => writeCheck.lastProblem() },
        probes,
        rules,
        drills,
        rollouts,
      ]);

    /** waitingFor names the drill or rollout the running generation is held for, if any. */
    const waitingFor = (): string | undefined => {
      const drill = running.drillScheduler.activeDrill();
      if (drill !== undefined) return `drill '${drill}'`;
      if (rollouts.status().state === 'running') return `the ${rollouts.status().kind ?? ''} rollout in ${rollouts.status().outputDir ?? '?'}`;
      return undefined;
    };

    /** retireProbeSeries ends the series of probes the next generation no longer runs, so their alerts resolve. */
    const retireProbeSeries = (names: readonly string[]): void => {
      if (names.length === 0) return;
      const t = clock.nowMs();
      const app = store.appender();
      for (const metric of ['sentinel_probe_success', 'sentinel_probe_duration_seconds']) {
        const gauge = registry.getSingleMetric(metric) as Gauge<'probe'> | undefined;
        for (const probe of names) {
          app.appendStale({ __name__: metric, probe }, t);
          gauge?.remove({ probe });
        }
      }
      app.commit();
    };

    /** swapRunning hands the probes and drills over from `running` to `next`. */
    const swapRunning = async (next: DaemonGeneration): Promise<void> => {
      const old = running;
      if (old === next) return;
      if (isStarted && !isStopping) {
        const deadlineMs = clock.nowMs() + next.config.server.shutdownTimeoutMs;
        // In-flight runs finish first: an aborted run would be recorded as a failure nobody had.
        await old.probeScheduler.retire(deadlineMs);
        await old.drillScheduler.stop(deadlineMs);
        const kept = new Set(next.probes.map((p) => p.probe.name));
        retireProbeSeries(old.probes.map((p) => p.probe.name).filter((n) => !kept.has(n)));
        await next.drillScheduler.start();
        await next.probeScheduler.start();
      } else {
        await old.probeScheduler.closeProbes();
      }
      running = next;
      forget(old);
      logger.info({ generation: reloadStatus.generation, probes: next.probes.map((p) => p.probe.name) }, 'probes and drills now run the reloaded configuration');
    };

    /** handOverWhenIdle swaps `pending` in once no drill or rollout holds the running generation. */
    const handOverWhenIdle = async (): Promise<void> => {
      while (!isStopping && waitingFor() !== undefined) {
        await Promise.all([running.drillScheduler.whenIdle(), rollouts.whenIdle().catch(() => undefined)]);
      }
      const next = pending;
      pending = undefined;
      if (next && !isStopping) await serial(() => swapRunning(next));
      else if (next) await next.probeScheduler.closeProbes();
    };

    let chain: Promise<unknown> = Promise.resolve();
    const serial = <T>(task: () => Promise<T>): Promise<T> => {
      const run = chain.then(task, task);
      chain = run.catch(() => undefined);
      return run;
    };

    const refuse = (atMs: number, issues: readonly string[]): ReloadOutcome => {
      reloadStatus.failed({ atMs, issues });
      logger.error({ issues }, 'configuration reload refused; the running configuration stays');
      return { ok: false, issues };
    };

    const doReload = async (): Promise<ReloadOutcome> => {
      const atMs = clock.nowMs();
      let checked: ConfigCheck;
      try {
        checked = loadConfig();
      } catch (err) {
        return refuse(atMs, issuesOf(err));
      }
      if (!checked.ok) return refuse(atMs, checked.issues);
      const restartRequired = restartOnlyChanges(newest.config, checked.config);
      const next = pinRestartOnly(checked.config, newest.config);
      let candidate: DaemonGeneration;
      let prepared;
      try {
        const nextPlan = planGeneration(next, shared);
        prepared = await rules.prepare(ruleSettingsOf(next, nextPlan.engine, store));
        candidate = assembleGeneration(nextPlan, shared, wiring);
      } catch (err) {
        return refuse(atMs, issuesOf(err));
      }
      // Accepted: the supervising parts change now.
      const result = await rules.update(prepared, { createNotifiers: () => createNotifiers(next.alerting, notifierDeps) });
      const previous = newest;
      newest = candidate;
      secretLogs.set(candidate, logSecretFileChanges(next, secretLogger));
      forget(previous);
      // The probes and drills change now, or when the drill or rollout in progress is done.
      const holder = isStarted && !isStopping ? waitingFor() : undefined;
      let deferred: string | undefined;
      if (holder === undefined) {
        if (pending) await pending.probeScheduler.closeProbes();
        pending = undefined;
        await swapRunning(candidate);
      } else {
        if (pending) {
          await pending.probeScheduler.closeProbes();
          forget(pending);
        }
        pending = candidate;
        deferred = `probes, targets and drills keep the previous configuration until ${holder} finishes`;
        handOver ??= handOverWhenIdle().finally(() => {
          handOver = undefined;
        });
      }
      reloadStatus.succeeded({ atMs, ...(restartRequired.length > 0 ? { restartRequired } : {}), ...(deferred ? { deferred } : {}) });
      if (restartRequired.length > 0) logger.warn({ settings: restartRequired }, 'the configuration file changes settings only a restart applies; they keep their running values');
      const groups = result.ok ? result.groups : 0;
      const ruleCount = result.ok ? result.rules : 0;
      logger.info({ generation: reloadStatus.generation, groups, rules: ruleCount, restartRequired, ...(deferred ? { deferred } : {}) }, 'configuration reloaded');
      return { ok: true, generation: reloadStatus.generation, groups, rules: ruleCount, restartRequired, ...(deferred ? { deferred } : {}) };
    };
    const reload = (): Promise<ReloadOutcome> => serial(doReload);

    // Routes. The handlers read the generation at each request.
    // API queries run in a thread of their own, so a heavy one never holds up probes or rule groups.
    const queries = new QueryWorker({ store, engine: () => apiQueryEngineOptions(newest.config), logger: logger.child({ component: 'queries' }) });
    registerPrometheusApi(server, {
      store,
      instantQuery: (expr, tMs, signal) => queries.instantQuery(expr, tMs, signal),
      rangeQuery: (expr, startMs, endMs, stepMs, signal) => queries.rangeQuery(expr, startMs, endMs, stepMs, signal),
      rules,
      clock,
    });
    registerReloadRoute(server, {
      reload: async (): Promise<ReloadAnswer> => {
        const outcome = await reload();
        if (!outcome.ok) return outcome;
        const { ok: _ok, restartRequired, ...data } = outcome;
        return { ok: true, data: { ...data, restart_required: restartRequired } };
      },
    });
    registerSloSnapshotRoute(server, {
      query: (expr, tMs) => newest.engine.instantQuery(store, expr, tMs),
      clock,
      get windowMs() {
        return newest.config.rollout.sloWindowMs;
      },
    });
    registerDrillsApi(server, {
      get scheduler() {
        return running.drillScheduler;
      },
      get drills() {
        return running.drills.drills;
      },
      get evidenceRoot() {
        return running.config.drills.evidenceDir;
      },
      evidence: wiring.evidence,
      get hmacKey() {
        try {
          return running.config.drills.manifestHmacKey?.reveal();
        } catch {
          // An unreadable key verifies nothing: manifests show as unverifiable rather than failing the listing.
          return undefined;
        }
      },
    });
    registerRolloutsApi(server, { service: rollouts });

    return {
      server,
      // Start order: store, its write check, remote-write queues, query thread, HTTP, probes,
      // rules, drills, rollouts; stopped in reverse.
      components: [storeComponent, writeCheck, ...remoteWriters, queries, server, probes, rules, drills, rollouts],
      rules,
      rollouts,
      generation: () => running,
      get drillScheduler() {
        return running.drillScheduler;
      },
      reload,
      idle: async () => {
        await chain;
        await handOver;
      },
    };
  } catch (err) {
    for (const n of notifiers) await n.stop(clock.nowMs()).catch(() => undefined);
    await store.close();
    throw err;
  }
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
 * flags or the environment). SIGHUP reloads the configuration through `loadConfig` (default: the
 * same file with `io`'s environment and working directory).
 */
export async function runDaemon(
  config: Config,
  io: CommandIO,
  deps: { clock?: Clock; overridden?: Readonly<Record<string, string>>; loadConfig?: () => ConfigCheck } = {},
): Promise<number> {
  const clock = deps.clock ?? new SystemClock();
  const version = sentinelVersion();
  const logger = createLogger({ level: config.log.level, destination: io.stdout, base: { service: 'spacetime-sentinel' } });
  logger.info({ version, config: effectiveConfig(config, deps.overridden) }, 'effective configuration');
  const registry = createMetricsRegistry({ version });
  const tracing = await startTracing({ serviceName: 'spacetime-sentinel', env: io.env });
  let daemon: Daemon;
  try {
    daemon = await buildDaemon(config, {
      clock,
      logger,
      registry,
      tracer: tracing.tracer,
      version,
      env: io.env,
      loadConfig: deps.loadConfig ?? (() => checkConfig(config.file, { env: io.env, cwd: io.cwd })),
    });
  } catch (err) {
    await tracing.shutdown();
    throw err;
  }
  const onHangup = (): void => {
    logger.info('SIGHUP: reloading the configuration');
    // reload logs its own outcome; a failure keeps the running configuration.
    void daemon.reload();
  };
  process.on('SIGHUP', onHangup);
  const shutdownTimeoutMs = (): number => daemon.generation().config.server.shutdownTimeoutMs;
  const shutdownDeadlineMs = (): number => clock.nowMs() + shutdownTimeoutMs();
  try {
    const started = await startComponents(daemon.components, { signal: io.signal, logger, clock, deadlineMs: shutdownDeadlineMs });
    if (!io.signal.aborted) {
      logger.info({ address: daemon.server.address()?.url, environment: config.environment, config: config.file, version, v8Flags: appliedV8Flags() }, 'sentinel running');
      await waitForAbort(io.signal);
    }
    const reason: unknown = io.signal.reason;
    logger.info({ reason: reason instanceof Error ? reason.message : String(reason), shutdownTimeoutMs: shutdownTimeoutMs() }, 'shutting down');
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
    const overrides: ConfigOverrides = { listen: stringOption(args.options.listen), logLevel: stringOption(args.options['log-level']) };
    // A reload reads the file exactly as this first load did: same working directory, flags and environment.
    const load = (): ConfigCheck => checkConfig(file, { env: io.env, cwd: io.cwd, overrides });
    const checked = load();
    if (!checked.ok) {
      for (const line of checked.issues) io.stderr.write(`${line}\n`);
      return ExitCodes.usage;
    }
    try {
      return await runDaemon(checked.config, io, { overridden: checked.overridden, loadConfig: load });
    } catch (err) {
      if (isSentinelError(err)) {
        for (const line of issuesOf(err)) io.stderr.write(`sentinel run: ${line}\n`);
        return ExitCodes.usage;
      }
      throw err;
    }
  },
};
