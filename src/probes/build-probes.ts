/**
 * buildProbes: the configured probes as `ScheduledProbe`s, from `config.probes.<name>` and the
 * probe constructors of `./probes/`. Used by `sentinel run` and `sentinel probe` (and the drills,
 * which run probes at drill cadence through the scheduler's `runOnce`).
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config, ProbeConfig, ProbeName } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { Clock } from '../time/index.js';
import { RegistryInstruments } from './registry-instruments.js';
import type { ScheduledProbe } from './scheduler.js';
import type { Probe, ProbeInstruments } from './types.js';

/** ProbeFactoryContext is what a factory receives to construct one probe. */
export interface ProbeFactoryContext<N extends ProbeName = ProbeName> {
  readonly config: Config;
  readonly probeConfig: ProbeConfig<N>;
  /** instruments create the probe's counters/histograms (appended to the store after each run). */
  readonly instruments: ProbeInstruments;
  readonly clock: Clock;
  readonly logger: Logger;
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
  /** factories default to the probes implemented in `./probes/` (tests pass their own). */
  readonly factories?: ProbeFactories;
}

/**
 * DEFAULT_PROBE_FACTORIES wires each fixed probe name to its implementation in `./probes/`.
 * A configured probe without a factory is a configuration error naming it.
 */
export const DEFAULT_PROBE_FACTORIES: ProbeFactories = {};

/**
 * buildProbes constructs every enabled probe of `config.probes`, in configuration order, each with
 * its own `RegistryInstruments` so its cumulative metrics reach the store after its runs.
 */
export function buildProbes(config: Config, deps: BuildProbesDeps): ScheduledProbe[] {
  const factories = deps.factories ?? DEFAULT_PROBE_FACTORIES;
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
    const instruments = new RegistryInstruments(deps.registry);
    const probe = factory({ config, probeConfig: probeConfig as ProbeConfig, instruments, clock: deps.clock, logger: deps.logger.child({ probe: name }) });
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
