/**
 * The one way the lab suites run the daemon in-process: `buildDaemon` (what `sentinel run`
 * composes) with its components started, and stopped again with the same deadline.
 */
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import { buildDaemon } from '../../src/commands/run.js';
import type { Daemon, DaemonDeps } from '../../src/commands/run.js';
import type { Config } from '../../src/config/index.js';
import { startComponents, stopComponents } from '../../src/daemon/index.js';
import { createMetricsRegistry } from '../../src/telemetry/index.js';
import { SystemClock } from '../../src/time/index.js';

/** COMPONENT_DEADLINE_MS bounds starting and stopping the components. */
const COMPONENT_DEADLINE_MS = 10_000;

/** StartedDaemon is a daemon whose components run until `stop`. */
export interface StartedDaemon {
  readonly daemon: Daemon;
  /** stop stops the started components (idempotent). */
  stop(): Promise<void>;
}

/**
 * startDaemon builds the daemon for `config` and starts it. Deps not given are the command's:
 * the system clock, a metrics registry as `sentinel run` makes it, version `test`, no
 * environment; the logger is silent.
 */
export async function startDaemon(config: Config, deps: Partial<DaemonDeps> = {}): Promise<StartedDaemon> {
  const clock = deps.clock ?? new SystemClock();
  const logger = deps.logger ?? pino({ level: 'silent' });
  const version = deps.version ?? 'test';
  const daemon = await buildDaemon(config, { registry: createMetricsRegistry({ version }), tracer: trace.getTracer('sentinel-test'), env: {}, ...deps, clock, logger, version });
  const started = await startComponents(daemon.components, { signal: new AbortController().signal, logger, clock, deadlineMs: () => clock.nowMs() + COMPONENT_DEADLINE_MS });
  let stopped: Promise<unknown> | undefined;
  return {
    daemon,
    async stop() {
      stopped ??= stopComponents(started, { deadlineMs: clock.nowMs() + COMPONENT_DEADLINE_MS, clock, logger });
      await stopped;
    },
  };
}
