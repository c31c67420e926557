/**
 * createProbeFactories wires configuration (`config.probes.<name>.params` and `config.target`) to
 * the probe constructors, for `buildProbes`. The clients are built once per factory table, so the
 * probes of one daemon share them; one ConnectionChurnLock keeps the resume canary's connects out
 * of the handshake count.
 */
import type { Config } from '../../config/index.js';
import { ControlClient, RuntimeMetricsClient } from '../../spacetime/index.js';
import type { ProbeFactories, ProbeFactoryContext } from '../build-probes.js';
import { ConnectionChurnLock } from './churn-lock.js';
import { ConnectionsProbe } from './connections.js';
import { CutoverStateProbe } from './cutover-state.js';
import { DeliveryProbe } from './delivery.js';
import { PreflightProbe } from './preflight.js';
import { ReplayLagProbe } from './replay-lag.js';
import { ResumeProbe } from './resume.js';
import { RetiredRoutesProbe } from './retired-routes.js';
import { RuntimeMetricsProbe } from './runtime-metrics.js';
import { createSpacetimeTarget } from './spacetime-target.js';
import type { SpacetimeTarget } from './spacetime-target.js';
import { TokenProbe } from './token.js';

/** ProbeFactoryDeps are what the factories need beyond the config. */
export interface ProbeFactoryDeps {
  /** environment is the process environment the preflight probe checks. */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** createProbeFactories returns a factory table with shared, lazily built clients. */
export function createProbeFactories(deps: ProbeFactoryDeps): ProbeFactories {
  const lock = new ConnectionChurnLock();
  let spacetime: SpacetimeTarget | undefined;
  let runtime: RuntimeMetricsClient | undefined;
  let control: ControlClient | undefined;
  const st = (config: Config): SpacetimeTarget => {
    const t = config.target.spacetimedb;
    spacetime ??= createSpacetimeTarget({ baseUrl: t.baseUrl, database: t.database, websocketPath: t.websocketPath, token: t.token?.reveal(), timeoutMs: t.requestTimeoutMs, maxResponseBytes: t.maxResponseBytes });
    return spacetime;
  };
  const rt = (config: Config): RuntimeMetricsClient => {
    const t = config.target.runtime;
    runtime ??= new RuntimeMetricsClient({ baseUrl: t.baseUrl, token: t.token.reveal(), metricsPath: t.metricsPath, timeoutMs: t.requestTimeoutMs });
    return runtime;
  };
  const ctl = (config: Config): ControlClient => {
    const t = config.target.control;
    control ??= new ControlClient({ baseUrl: t.baseUrl, sessionToken: t.sessionToken.reveal(), timeoutMs: t.requestTimeoutMs });
    return control;
  };
  return {
    runtime_metrics: (ctx: ProbeFactoryContext<'runtime_metrics'>) => new RuntimeMetricsProbe({ runtime: rt(ctx.config) }),
    replay_lag: (ctx: ProbeFactoryContext<'replay_lag'>) => new ReplayLagProbe({ http: st(ctx.config).http, streams: ctx.probeConfig.params.streams }),
    delivery: (ctx: ProbeFactoryContext<'delivery'>) =>
      new DeliveryProbe({ target: st(ctx.config), instruments: ctx.instruments, canaryStream: ctx.probeConfig.params.canaryStream, receiveTimeoutMs: ctx.probeConfig.params.receiveTimeoutMs }),
    resume: (ctx: ProbeFactoryContext<'resume'>) =>
      new ResumeProbe({
        target: st(ctx.config),
        instruments: ctx.instruments,
        stream: ctx.probeConfig.params.stream,
        eventsWhileAway: ctx.probeConfig.params.eventsWhileAway,
        receiveTimeoutMs: ctx.probeConfig.params.receiveTimeoutMs,
        churnLock: lock,
      }),
    connections: (ctx: ProbeFactoryContext<'connections'>) =>
      new ConnectionsProbe({ target: st(ctx.config), sessions: ctx.probeConfig.params.sessions, settleTimeoutMs: ctx.probeConfig.params.settleTimeoutMs, churnLock: lock }),
    token: (ctx: ProbeFactoryContext<'token'>) => new TokenProbe({ control: ctl(ctx.config), instruments: ctx.instruments, jwtSigningKey: ctx.config.target.control.jwtSigningKey?.reveal() }),
    cutover_state: (ctx: ProbeFactoryContext<'cutover_state'>) => new CutoverStateProbe({ control: ctl(ctx.config), runtime: rt(ctx.config) }),
    retired_routes: (ctx: ProbeFactoryContext<'retired_routes'>) => new RetiredRoutesProbe({ control: ctl(ctx.config), runtime: rt(ctx.config), extraRoutes: ctx.probeConfig.params.extraRoutes }),
    preflight: (ctx: ProbeFactoryContext<'preflight'>) => new PreflightProbe({ env: ctx.probeConfig.params.env, environment: deps.environment, timeoutMs: ctx.config.target.spacetimedb.requestTimeoutMs }),
  };
}
