/**
 * `sentinel demo` (`npm start`): the lab and its fault proxy, the daemon watching the lab through
 * the proxy, one staged drill with a live progress view, then the verdict and the report's path.
 *
 * Everything runs in this process on ephemeral loopback ports, so it needs no root, no network
 * and no free fixed port. The daemon's configuration is `config/lab.yaml` itself, with only the
 * addresses and paths of this run substituted, so the demo exercises the shipped configuration.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { progressReporter, readVerdict } from '../drills/index.js';
import type { DrillRunResult } from '../drills/index.js';
import { startComponents, stopComponents } from '../daemon/index.js';
import type { Component } from '../daemon/index.js';
import { createLogger, createMetricsRegistry, startTracing } from '../telemetry/index.js';
import { SystemClock } from '../time/index.js';
import { startLabEnvironment } from './lab-environment.js';
import { sentinelVersion } from '../version.js';
import { buildDaemon } from './run.js';
import { checkedConfigOf } from './config-file.js';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** DEMO_DRILL is the staged drill the demo runs. */
const DEMO_DRILL = 'temporary-partition';

/** demoCommand implements `sentinel demo`. */
export const demoCommand: Command = {
  options: { out: { type: 'string' } },
  async run(args, io) {
    const say = (line: string): void => void io.stdout.write(`${line}\n`);
    const work = mkdtempSync(join(tmpdir(), 'sentinel-demo-'));
    const evidence = resolve(io.cwd, typeof args.options.out === 'string' ? args.options.out : join('output', 'chaos', 'spacetime'));
    const clock = new SystemClock();
    const started: Component[] = [];
    say('sentinel demo: starting the lab (SpacetimeDB, runtime, control) and its fault proxy on ephemeral loopback ports');
    const env = await startLabEnvironment({ workDir: work, evidenceDir: evidence });
    // Errors only: the drill's progress is the demo's view, and probe warnings during a partition are expected.
    const logger = createLogger({ level: 'error', destination: io.stderr as NodeJS.WritableStream, base: { service: 'spacetime-sentinel' } });
    const tracing = await startTracing({ serviceName: 'spacetime-sentinel', env: io.env });
    let result: DrillRunResult | undefined;
    try {
      say(`  lab SpacetimeDB ${env.stack.lab.urls.spacetimedb}, watched through the fault proxy at ${env.urls.spacetimedb}`);
      say(`  lab admin ${env.urls.admin}/lab/state, fault proxy API ${env.urls.toxiproxy}`);
      const config = checkedConfigOf(env.configFile, io);
      if (config === undefined) return ExitCodes.usage;
      const version = sentinelVersion();
      const progress = progressReporter(io.stdout);
      const daemon = await buildDaemon(config, { clock, logger, registry: createMetricsRegistry({ version }), tracer: tracing.tracer, version, env: io.env, drillEvents: [progress] });
      try {
        started.push(...(await startComponents(daemon.components, { signal: io.signal, logger, clock, deadlineMs: () => clock.nowMs() + 10_000 })));
        say(`sentinel daemon: ${daemon.server.address()?.url ?? '?'} (try /metrics, /api/v1/status, /api/v1/alerts, /api/v1/drills)`);
        say(`running the staged drill '${DEMO_DRILL}'`);
        // Ctrl-C ends the wait; stopping the components then aborts the drill, which removes its faults.
        const interrupted = new Promise<undefined>((r) => (io.signal.aborted ? r(undefined) : io.signal.addEventListener('abort', () => r(undefined), { once: true })));
        result = await Promise.race([daemon.drillScheduler.runNow(DEMO_DRILL), interrupted]);
      } finally {
        progress.stop();
        await stopComponents(started, { deadlineMs: clock.nowMs() + 10_000, clock, logger });
      }
    } finally {
      await tracing.shutdown().catch(() => undefined);
      await env.close();
      rmSync(work, { recursive: true, force: true });
    }
    if (!result) {
      io.stderr.write(io.signal.aborted ? 'sentinel demo: interrupted\n' : 'sentinel demo: the drill could not run; see the log above\n');
      return ExitCodes.failed;
    }
    // The verdict is re-derived from the evidence on disk, as a release manager would.
    const verdict = await readVerdict(result.dir);
    say('');
    say(verdict.kind === 'invalid' ? `Verdict: invalid evidence (${verdict.problems.join('; ')})` : `Verdict: ${verdict.report.decision}`);
    say(`Evidence: ${result.dir}`);
    say(`Report:   ${join(result.dir, 'report.html')}`);
    say(`Check it: npx sentinel verdict ${result.dir}`);
    return verdict.kind === 'decided' && verdict.report.decision === 'allow' ? ExitCodes.ok : ExitCodes.failed;
  },
};
