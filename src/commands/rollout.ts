/**
 * `sentinel rollout staging|production [flags as the operators' scripts] [--config FILE]
 * [--resume DIR] [--daemon-url URL] [--json]`: the staging canary or the production phased
 * rollout, supervised by this process. Its probes run here, into their own store; critical
 * alerts come from the running daemon (`GET /api/v1/alerts`), and a rollout that cannot ask
 * blocks. `sentinel rollout confirm --output-dir DIR --cohort N [--by NAME]` tells a waiting
 * rollout that a cohort is in effect when runtime-routing status cannot show it.
 * Exit 0 allow, 1 block (interrupted included), 2 usage or configuration error.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import type { Config } from '../config/index.js';
import { isSentinelError, UsageError } from '../errors.js';
import { buildProbes, ProbeScheduler } from '../probes/index.js';
import { daemonAlertsSource } from '../drills/index.js';
import { JOURNAL_FILE, parseRolloutOptions, recordConfirmation, ROLLOUT_FLAGS, rolloutProgress } from '../rollout/index.js';
import type { RolloutKind } from '../rollout/index.js';
import { MemoryStore } from '../store/index.js';
import { createMetricsRegistry } from '../telemetry/index.js';
import { SystemClock } from '../time/index.js';
import { sentinelVersion } from '../version.js';
import { checkedConfigOf, configFileOf } from './config-file.js';
import { buildDrillRuntime, runningDaemonAlerts } from './drill-runtime.js';
import { createConfiguredEngine } from './query-engine.js';
import { buildRolloutRunner, criticalAlertsOf, defaultOutputDir } from './rollout-runtime.js';
import type { Command, CommandIO } from './types.js';
import { ExitCodes } from './types.js';

async function runRollout(kind: RolloutKind, config: Config, flags: Readonly<Record<string, string | boolean | undefined>>, io: CommandIO): Promise<number> {
  const options = parseRolloutOptions(kind, flags, io.env);
  const clock = new SystemClock();
  const resume = typeof flags.resume === 'string' ? resolve(io.cwd, flags.resume) : undefined;
  if (resume && options.outputDir && resolve(io.cwd, options.outputDir) !== resume) throw new UsageError('give either --resume DIR or --output-dir DIR, not two different directories');
  const outputDir = resume ?? (options.outputDir ? resolve(io.cwd, options.outputDir) : defaultOutputDir(config, kind, clock.nowMs()));
  const version = sentinelVersion();
  const logger = pino({ level: io.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const registry = createMetricsRegistry({ version });
  const store = new MemoryStore();
  const engine = createConfiguredEngine(config);
  const scheduler = new ProbeScheduler({ probes: buildProbes(config, { registry, clock, logger, env: io.env }), store, registry, clock, logger });
  // Firing critical alerts are the daemon's: the soaks and the chaos suite's drills ask it, fail closed.
  const daemonFlag = typeof flags['daemon-url'] === 'string' ? flags['daemon-url'] : undefined;
  const alerts = daemonFlag ? daemonAlertsSource({ baseUrl: daemonFlag, ...(config.server.adminToken ? { adminToken: config.server.adminToken.reveal() } : {}) }) : runningDaemonAlerts(config);
  const drills = buildDrillRuntime(config, { clock, logger, store, scheduler, engine, version, alerts: { source: alerts } });
  const json = flags.json === true;
  try {
    const runner = buildRolloutRunner(config, options, outputDir, {
      clock,
      logger,
      registry,
      env: io.env,
      cwd: io.cwd,
      store,
      query: (expr, tMs) => engine.instantQuery(store, expr, tMs),
      scheduler,
      criticalAlerts: criticalAlertsOf(alerts),
      drills: drills.drills,
      runDrill: (drill, signal) => drills.runner.run(drill, signal),
      version,
      events: json ? [] : [rolloutProgress(io.stdout)],
    });
    for (const note of options.notes) io.stderr.write(`sentinel rollout: ${note}\n`);
    const result = await runner.run({ options, outputDir, resume: resume !== undefined }, io.signal);
    if (json) io.stdout.write(JSON.stringify({ decision: result.decision.decision, interrupted: result.interrupted, outputDir, reasons: result.decision.reasons, counts: result.decision.counts }) + '\n');
    return result.decision.decision === 'allow' ? ExitCodes.ok : ExitCodes.failed;
  } finally {
    await scheduler.closeProbes();
    await store.close();
  }
}

function confirm(flags: Readonly<Record<string, string | boolean | undefined>>, io: CommandIO): number {
  const dir = typeof flags['output-dir'] === 'string' ? resolve(io.cwd, flags['output-dir']) : undefined;
  const cohortText = typeof flags.cohort === 'string' ? flags.cohort : undefined;
  if (!dir || cohortText === undefined) throw new UsageError('sentinel rollout confirm needs --output-dir DIR (the waiting rollout) and --cohort N');
  if (!/^[0-9]+$/.test(cohortText) || Number(cohortText) > 100) throw new UsageError(`Invalid cohort percentage: ${cohortText}`);
  if (!existsSync(join(dir, JOURNAL_FILE))) throw new UsageError(`${dir} holds no rollout (no ${JOURNAL_FILE}); give the output directory the rollout prints`);
  recordConfirmation(dir, Number(cohortText), Date.now(), typeof flags.by === 'string' ? flags.by : io.env.USER);
  io.stdout.write(`confirmed: cohort ${cohortText}% is in effect (recorded in ${dir})\n`);
  return ExitCodes.ok;
}

/** rolloutCommand implements `sentinel rollout`. */
export const rolloutCommand: Command = {
  options: {
    config: { type: 'string' },
    resume: { type: 'string' },
    'daemon-url': { type: 'string' },
    json: { type: 'boolean' },
    cohort: { type: 'string' },
    by: { type: 'string' },
    ...(Object.fromEntries(Object.entries(ROLLOUT_FLAGS).map(([k, type]) => [k, { type }])) as Record<keyof typeof ROLLOUT_FLAGS, { type: 'string' | 'boolean' }>),
  },
  async run(args, io) {
    const [sub, ...extra] = args.positionals;
    if (sub !== 'staging' && sub !== 'production' && sub !== 'confirm') {
      io.stderr.write('sentinel rollout: say staging, production or confirm; e.g. sentinel rollout staging --cohorts 5,10,25,50,100\n');
      return ExitCodes.usage;
    }
    if (extra.length > 0) {
      io.stderr.write(`sentinel rollout ${sub}: unexpected argument '${extra[0]}'\n`);
      return ExitCodes.usage;
    }
    try {
      if (sub === 'confirm') return confirm(args.options, io);
      const file = configFileOf(args, io);
      const config = checkedConfigOf(file, io);
      if (config === undefined) return ExitCodes.usage;
      return await runRollout(sub, config, args.options, io);
    } catch (err) {
      if (isSentinelError(err)) {
        io.stderr.write(`sentinel rollout ${sub}: ${err.message}\n`);
        return ExitCodes.usage;
      }
      throw err;
    }
  },
};
