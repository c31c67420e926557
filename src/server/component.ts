/**
 * Component: one long-lived part of the daemon (store, probe scheduler, rule manager, drill
 * scheduler, HTTP server). `sentinel run` starts components in order and stops them in reverse.
 * Implement the shape structurally; there is no need to import this type.
 */

/** Component is what `sentinel run` starts, stops and asks for readiness. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  /** stop finishes or aborts in-flight work by `deadlineMs` (epoch ms), then releases resources. */
  stop(deadlineMs: number): Promise<void>;
  isReady(): boolean;
}

/** ComponentReadiness is one line of the /readyz report. */
export interface ComponentReadiness {
  readonly name: string;
  readonly ready: boolean;
}

/** ReadinessReport is the body of /readyz: ready only when every component is. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly components: readonly ComponentReadiness[];
}

/** readinessOf builds the report for a list of components. */
export function readinessOf(components: readonly Pick<Component, 'name' | 'isReady'>[]): ReadinessReport {
  const lines = components.map((c) => ({ name: c.name, ready: safeIsReady(c) }));
  return { ready: lines.every((l) => l.ready), components: lines };
}

function safeIsReady(c: Pick<Component, 'isReady'>): boolean {
  try {
    return c.isReady();
  } catch {
    // a component that cannot answer is not ready
    return false;
  }
}
