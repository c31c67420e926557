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
  /** detail says why a part is not ready, or what it runs (never a secret). */
  readonly detail?: string;
}

/** ReadinessCheck is a part /readyz asks: a component, or any check with a name. */
export interface ReadinessCheck {
  readonly name: string;
  isReady(): boolean;
  /** detail, when given, is shown beside the answer. */
  detail?(): string | undefined;
}

/** ReadinessReport is the body of /readyz: ready only when every component is. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly components: readonly ComponentReadiness[];
}

/** readinessOf builds the report for a list of components or checks. */
export function readinessOf(checks: readonly ReadinessCheck[]): ReadinessReport {
  const lines = checks.map((c): ComponentReadiness => {
    const detail = safeDetail(c);
    return { name: c.name, ready: safeIsReady(c), ...(detail !== undefined ? { detail } : {}) };
  });
  return { ready: lines.every((l) => l.ready), components: lines };
}

function safeIsReady(c: ReadinessCheck): boolean {
  try {
    return c.isReady();
  } catch {
    // a component that cannot answer is not ready
    return false;
  }
}

function safeDetail(c: ReadinessCheck): string | undefined {
  try {
    return c.detail?.();
  } catch (err) {
    return `cannot tell: ${(err as Error).message}`;
  }
}
