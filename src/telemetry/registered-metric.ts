/**
 * registeredMetric: the instrument of that name a registry already holds, or a new one registered
 * there. Components built again on a reload (and several endpoints or probes sharing one
 * family) reuse the registry's instrument instead of failing on the duplicate name.
 */
import type { Registry } from 'prom-client';

/** registeredMetric finds `config.name` in `registry`, or builds `new Kind(config)` registered there. */
export function registeredMetric<C extends { readonly name: string }, M>(registry: Registry, Kind: new (config: C & { registers: Registry[] }) => M, config: C): M {
  return (registry.getSingleMetric(config.name) as M | undefined) ?? new Kind({ ...config, registers: [registry] });
}
