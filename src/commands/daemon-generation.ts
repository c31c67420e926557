/**
 * A daemon generation: the parts of `sentinel run` built from one Config (probes and their
 * schedules, the drills with their runner and schedules, the PromQL engine, the /metrics
 * exposition, the rule and notifier settings). The process-long parts (store, HTTP server, rule
 * manager, rollout service) stay; a reload builds a new generation and swaps it in.
 *
 * Building is two steps, so that nothing is opened for a configuration that will be refused:
 * `planGeneration` checks everything that can refuse it (probe factories and clients, drill
 * files, drill schedules, rule files) and opens nothing; `assembleGeneration` then wires the
 * plan to the open store (it cannot refuse a planned configuration).
 */
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { checkPromqlExpr, loadRuleFiles } from '../alerts/index.js';
import type { DrillLabels, RuleSettings } from '../alerts/index.js';
import { resolveFileGlobs } from '../config/index.js';
import type { Config } from '../config/index.js';
import { DrillScheduler, loadDrillFiles } from '../drills/index.js';
import type { DrillEventHandler, DrillSpec, EvidenceIndex } from '../drills/index.js';
import { ConfigError } from '../errors.js';
import { createMetricsExposition } from '../export/create-metrics-exposition.js';
import type { RecordedNames } from '../export/index.js';
import { buildProbes, ProbeScheduler } from '../probes/index.js';
import type { SampleSink, ScheduledProbe } from '../probes/index.js';
import { exprToString, parseExpr } from '../promql/index.js';
import type { Engine } from '../promql/index.js';
import type { MetricsBody } from '../server/index.js';
import type { LatestReader, MetricMetadataRegistry, SampleStore } from '../store/index.js';
import type { Clock } from '../time/index.js';
import { buildDrillRuntime } from './drill-runtime.js';
import type { DrillRuntime } from './drill-runtime.js';
import { createConfiguredEngine, createConfiguredQuerySource } from './query-engine.js';

/** GenerationShared are the process-long collaborators every generation is built with. */
export interface GenerationShared {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly tracer: Tracer;
  readonly version: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** metadata receives the HELP/TYPE the probes declare (for /metrics). */
  readonly metadata: MetricMetadataRegistry;
}

/** GenerationPlan is a configuration checked and turned into unopened parts. */
export interface GenerationPlan {
  readonly config: Config;
  readonly engine: Engine;
  readonly probes: readonly ScheduledProbe[];
  readonly drillSpecs: readonly DrillSpec[];
}

/**
 * planGeneration checks what `config` asks for and builds the parts that open nothing (probe
 * clients connect lazily). It throws a ConfigError or DrillValidationError (with every issue)
 * when the configuration cannot run.
 */
export function planGeneration(config: Config, shared: GenerationShared): GenerationPlan {
  const probes = buildProbes(config, { registry: shared.registry, clock: shared.clock, logger: shared.logger, env: shared.env, metadata: shared.metadata });
  const drillSpecs = loadDrillFiles(resolveFileGlobs(config.drills.files), { knownProbes: probes.map((p) => p.probe.name) });
  const known = new Set(drillSpecs.map((d) => d.name));
  const unknown = config.drills.schedules.filter((s) => !known.has(s.drill));
  if (unknown.length > 0) {
    const issues = unknown.map((s) => `${config.file}: drills.schedules: drill '${s.drill}' is not defined in any drill file (known: ${[...known].join(', ') || 'none'})`);
    throw new ConfigError(issues[0], issues);
  }
  return { config, engine: createConfiguredEngine(config), probes, drillSpecs };
}

/** checkRuleFiles loads the rule files of `config` to refuse invalid ones (a RuleFileError with every issue). */
export async function checkRuleFiles(config: Config): Promise<void> {
  await loadRuleFiles(resolveFileGlobs(config.rules.files), { checkExpr: checkPromqlExpr });
}

/**
 * ruleSettingsOf are the rule manager's settings under `config`, querying `store` with `engine`,
 * or the external query source when `query_source:` names one.
 */
export function ruleSettingsOf(config: Config, engine: Engine, store: SampleStore): Required<RuleSettings> {
  const source = createConfiguredQuerySource(config);
  return {
    resolveFiles: () => resolveFileGlobs(config.rules.files),
    sourceQuery: source ? (expr, tMs, signal) => source.instantQuery(expr, tMs, signal) : null,
    query: (expr, tMs, signal) => engine.instantQuery(store, expr, tMs, signal),
    formatExpr: (expr) => exprToString(parseExpr(expr)),
    defaultIntervalMs: config.rules.evaluationIntervalMs,
    resendDelayMs: config.alerting.resendDelayMs,
    externalLabels: config.alerting.externalLabels,
    externalUrl: config.alerting.externalUrl,
  };
}

/** GenerationWiring is what a plan is wired to: the open store and the process-long parts. */
export interface GenerationWiring {
  readonly store: SampleStore & LatestReader;
  /** probeSink is where probe runs append (the store, tapped for /metrics). */
  readonly probeSink: SampleSink;
  readonly recorded: RecordedNames;
  /** evidence indexes the drill evidence root (a restart-only setting, so one index serves every generation). */
  readonly evidence: EvidenceIndex;
  /** drillEvents observe every drill run (metrics, the demo's progress view). */
  readonly drillEvents: readonly DrillEventHandler[];
  /** onDrillLabels tells the rule manager which drill stage runs, so its alerts carry it. */
  readonly onDrillLabels: (labels: DrillLabels | undefined) => void;
}

/** DaemonGeneration is one configuration's parts, ready to start. */
export interface DaemonGeneration {
  readonly config: Config;
  readonly engine: Engine;
  readonly probes: readonly ScheduledProbe[];
  readonly probeScheduler: ProbeScheduler;
  readonly drills: DrillRuntime;
  readonly drillScheduler: DrillScheduler;
  /** exposition is the /metrics body under this configuration's export settings. */
  readonly exposition: MetricsBody;
}

/** assembleGeneration wires a plan to the open store; it starts nothing. */
export function assembleGeneration(plan: GenerationPlan, shared: GenerationShared, wiring: GenerationWiring): DaemonGeneration {
  const { config, engine } = plan;
  const { clock, logger, registry, tracer } = shared;
  const probeScheduler = new ProbeScheduler({ probes: plan.probes, store: wiring.probeSink, registry, clock, logger: logger.child({ component: 'probes' }), tracer });
  // Drills: on their cron schedules and on request, one at a time; faults left by a crashed run
  // are removed at start and expired owned toxics swept while running.
  const drills = buildDrillRuntime(config, {
    clock,
    logger,
    store: wiring.store,
    scheduler: probeScheduler,
    engine,
    tracer,
    version: shared.version,
    events: wiring.drillEvents,
    onDrillLabels: wiring.onDrillLabels,
    drills: plan.drillSpecs,
  });
  const drillScheduler = new DrillScheduler({
    runner: drills.runner,
    drills: drills.drills,
    schedules: config.drills.schedules,
    driver: drills.driver,
    evidenceRoot: config.drills.evidenceDir,
    evidence: wiring.evidence,
    retention: config.drills.evidenceRetention,
    environment: config.environment,
    allowProd: config.drills.allowProd,
    alerts: drills.alerts,
    clock,
    logger: logger.child({ component: 'drills' }),
  });
  // Every series the probes record is on /metrics, read from the store at scrape time.
  const exposition = createMetricsExposition({
    registry,
    store: wiring.store,
    names: wiring.recorded,
    metadata: shared.metadata,
    lookbackDeltaMs: config.rules.lookbackDeltaMs,
    clock,
    ...(config.export.compatMetrics ? { compat: { appVersion: shared.version } } : {}),
  });
  return { config, engine, probes: plan.probes, probeScheduler, drills, drillScheduler, exposition };
}
