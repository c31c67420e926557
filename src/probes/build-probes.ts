/**
 * buildProbes: the configured probes as `ScheduledProbe`s, from `config.probes.<name>` and the
 * probe constructors of `./probes/`. Used by `sentinel run` and `sentinel probe` (and the drills,
 * which run probes at drill cadence through the scheduler's `runOnce`).
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config, ProbeConfig, ProbeName } from '../config/index.js';
import type { MetricDescriber } from '../store/index.js';
import { ConfigError } from '../errors.js';
import { ControlClient, RuntimeMetricsClient } from '../spacetime/index.js';
import type { Clock } from '../time/index.js';
import { CanaryWrites } from './probes/canary-writes.js';
import { ConnectionChurnLock } from './probes/churn-lock.js';
import { ConnectionsProbe } from './probes/connections.js';
import { CutoverStateProbe } from './probes/cutover-state.js';
import { DeliveryProbe } from './probes/delivery.js';
import { HealthProbe } from './probes/health.js';
import { PreflightProbe } from './probes/preflight.js';
import { ReplayLagProbe } from './probes/replay-lag.js';
import { ResumeProbe } from './probes/resume.js';
import { RetiredRoutesProbe } from './probes/retired-routes.js';
import { RuntimeMetricsProbe } from './probes/runtime-metrics.js';
import { createSpacetimeTarget } from './probes/spacetime-target.js';
import type { SpacetimeTarget } from './probes/spacetime-target.js';
import { TokenProbe } from './probes/token.js';
import { RegistryInstruments } from './registry-instruments.js';
import type { ScheduledProbe } from './scheduler.js';
import type { Probe, ProbeInstruments } from './types.js';

/** ProbeFactoryContext is what a factory receives to construct one probe. */
export interface ProbeFactoryContext<N extends ProbeName = ProbeName> {
  readonly config: Config;
  readonly probeConfig: ProbeConfig<N>;
  /** instruments create the probe's counters/histograms (appended to the store after each run). */
  readonly instruments: ProbeInstruments;
  /** targets are the clients of the watched system, shared by every probe of one build. */
  readonly targets: ProbeTargets;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * ProbeTargets are the clients of `config.target`, created on first use and shared, plus the
 * churn lock that keeps the sentinel's own connects out of the handshake count.
 */
export interface ProbeTargets {
  spacetime(): SpacetimeTarget;
  control(): ControlClient;
  runtime(): RuntimeMetricsClient;
  readonly churnLock: ConnectionChurnLock;
  /** canary governs the canaries' writes (read-only mode, namespace, daily event budget). */
  readonly canary: CanaryWrites;
  /** env is the process environment (the preflight probe checks it). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** createProbeTargets builds the shared clients lazily, so a config with only HTTP probes never opens a WebSocket. */
export function createProbeTargets(config: Config, env: Readonly<Record<string, string | undefined>>): ProbeTargets {
  const t = config.target;
  let spacetime: SpacetimeTarget | undefined;
  let control: ControlClient | undefined;
  let runtime: RuntimeMetricsClient | undefined;
  return {
    spacetime: () =>
      (spacetime ??= createSpacetimeTarget({
        baseUrl: t.spacetimedb.baseUrl,
        database: t.spacetimedb.database,
        websocketPath: t.spacetimedb.websocketPath,
        token: t.spacetimedb.token,
        timeoutMs: t.spacetimedb.requestTimeoutMs,
        maxResponseBytes: t.spacetimedb.maxResponseBytes,
      })),
    // Secrets go in as they are: the clients read them at every request, so a rotated file is in effect at the next run.
    control: () => (control ??= new ControlClient({ baseUrl: t.control.baseUrl, sessionToken: t.control.sessionToken, timeoutMs: t.control.requestTimeoutMs })),
    runtime: () => (runtime ??= new RuntimeMetricsClient({ baseUrl: t.runtime.baseUrl, token: t.runtime.token, metricsPath: t.runtime.metricsPath, timeoutMs: t.runtime.requestTimeoutMs })),
    churnLock: new ConnectionChurnLock(),
    canary: new CanaryWrites({ readOnly: config.canary.readOnly, namespace: config.canary.namespace, dailyEventBudget: config.canary.dailyEventBudget }),
    env,
  };
}

/** ProbeFactory constructs one probe from its configuration. */
export type ProbeFactory<N extends ProbeName = ProbeName> = (ctx: ProbeFactoryContext<N>) => Probe;

/** ProbeFactories maps each probe name to its factory. */
export type ProbeFactories = { readonly [N in ProbeName]?: ProbeFactory<N> };

/** BuildProbesDeps are the shared collaborators of every probe. */
export interface BuildProbesDeps {
  readonly registry: Registry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** env is the process environment (default: none, so preflight reports every variable missing). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** metadata receives the HELP/TYPE of what the probes declare (for /metrics); optional. */
  readonly metadata?: MetricDescriber;
  /** factories default to the probes implemented in `./probes/` (tests pass their own). */
  readonly factories?: ProbeFactories;
}

/**
 * DEFAULT_PROBE_FACTORIES wires each fixed probe name to its implementation in `./probes/`.
 * A configured probe without a factory is a configuration error naming it.
 */
export const DEFAULT_PROBE_FACTORIES: ProbeFactories = {
  runtime_metrics: ({ targets }) => new RuntimeMetricsProbe({ runtime: targets.runtime() }),
  replay_lag: ({ targets, probeConfig }) =>
    new ReplayLagProbe({ http: targets.spacetime().http, streams: probeConfig.params.streams, activityWindowMs: probeConfig.params.activityWindowMs, canaryNamespace: targets.canary.namespace }),
  delivery: ({ targets, instruments, probeConfig }) =>
    new DeliveryProbe({ target: targets.spacetime(), instruments, canaryStream: probeConfig.params.canaryStream, receiveTimeoutMs: probeConfig.params.receiveTimeoutMs, canary: targets.canary }),
  resume: ({ targets, instruments, probeConfig }) =>
    new ResumeProbe({
      target: targets.spacetime(),
      instruments,
      stream: probeConfig.params.stream,
      clientId: probeConfig.params.clientId,
      eventsWhileAway: probeConfig.params.eventsWhileAway,
      receiveTimeoutMs: probeConfig.params.receiveTimeoutMs,
      churnLock: targets.churnLock,
      canary: targets.canary,
    }),
  connections: ({ targets, probeConfig }) =>
    new ConnectionsProbe({ target: targets.spacetime(), sessions: probeConfig.params.sessions, settleTimeoutMs: probeConfig.params.settleTimeoutMs, churnLock: targets.churnLock }),
  token: ({ targets, instruments, config, probeConfig }) =>
    new TokenProbe({
      control: targets.control(),
      instruments,
      jwtSigningKey: config.target.control.jwtSigningKey,
      jwtFallbackSigningKeys: config.target.control.jwtFallbackSigningKeys,
      clockSkewSeconds: probeConfig.params.clockSkewMs / 1000,
      mintsPerRun: probeConfig.params.mintsPerRun,
      scopes: probeConfig.params.scopes,
      ttlSeconds: probeConfig.params.ttlSeconds,
      issuer: probeConfig.params.issuer,
      audience: probeConfig.params.audience,
    }),
  cutover_state: ({ targets }) => new CutoverStateProbe({ control: targets.control(), runtime: targets.runtime() }),
  retired_routes: ({ targets, probeConfig }) => new RetiredRoutesProbe({ control: targets.control(), runtime: targets.runtime(), extraRoutes: probeConfig.params.extraRoutes }),
  health: ({ targets, probeConfig, config }) =>
    new HealthProbe({
      runtime: targets.runtime(),
      control: targets.control(),
      ...(probeConfig.params.services.includes('spacetimedb') ? { spacetimedb: { http: targets.spacetime().http, healthPath: config.target.spacetimedb.healthPath } } : {}),
      services: probeConfig.params.services,
    }),
  preflight: ({ targets, probeConfig }) => new PreflightProbe({ env: probeConfig.params.env, environment: targets.env, timeoutMs: probeConfig.timeoutMs }),
};

/**
 * buildProbes constructs every enabled probe of `config.probes`, in configuration order, each with
 * its own `RegistryInstruments` so its cumulative metrics reach the store after its runs.
 */
export function buildProbes(config: Config, deps: BuildProbesDeps): ScheduledProbe[] {
  const factories = deps.factories ?? DEFAULT_PROBE_FACTORIES;
  const targets = createProbeTargets(config, deps.env ?? {});
  const out: ScheduledProbe[] = [];
  const issues: string[] = [];
  for (const name of Object.keys(config.probes) as ProbeName[]) {
    const probeConfig = config.probes[name];
    if (!probeConfig || !probeConfig.enabled) continue;
    const factory = factories[name] as ProbeFactory | undefined;
    if (!factory) {
      issues.push(`${config.file}: probes.${name}: this build has no '${name}' probe; remove it from the configuration or set enabled: false`);
      continue;
    }
    const instruments = new RegistryInstruments(deps.registry, deps.metadata);
    const probe = factory({ config, probeConfig: probeConfig as ProbeConfig, instruments, targets, clock: deps.clock, logger: deps.logger.child({ probe: name }) });
    out.push({
      probe,
      schedule: probeConfig.schedule,
      timeoutMs: probeConfig.timeoutMs,
      retries: probeConfig.retries,
      jitterMs: probeConfig.jitterMs,
      instruments,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues[0], issues);
  return out;
}
