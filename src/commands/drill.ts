/**
 * `sentinel drill list|run NAME|cleanup [--config FILE] [--out DIR] [--dry-run] [--json]`.
 *
 * `run` executes one drill in this process: its probes run at drill cadence into an in-memory
 * store (the drill's conditions are judged on what this run measured), evidence goes under
 * `drills.evidence_dir` or `--out`. Firing critical alerts are asked of the running daemon
 * (`GET /api/v1/alerts` at `server.listen`); when it cannot answer the drill is refused (status
 * error, exit 1), unless `--skip-alert-check` skips that check, which the evidence then says.
 * Exit 0 allow, 1 block, 2 usage/configuration error.
 * `run --all` (every drill the environment allows) or `run --suite chaos` (`rollout.chaos_suite`)
 * runs them one after another as one suite, with the retired-routes and runtime-metrics probes as
 * scenarios too, and writes one SUMMARY.md with `- Failures: N` in the operators' chaos format
 * under `<evidence_dir>/../suites/` (or `--out`). Exit 0 when no scenario failed, else 1.
 * `cleanup` removes faults left behind by crashed runs (journals and owned toxic names).
 */
import { resolve } from 'node:path';
import pino from 'pino';
import type { Config } from '../config/index.js';
import { DrillValidationError, isSentinelError } from '../errors.js';
import { progressReporter, reconcileUnderLease, runDrillSuite, ToxiproxyFaultDriver } from '../drills/index.js';
import type { AlertCheck, DrillSpec, SuiteProbeCheck } from '../drills/index.js';
import { buildProbes, ProbeScheduler } from '../probes/index.js';
import { MemoryStore } from '../store/index.js';
import { createMetricsRegistry, startTracing } from '../telemetry/index.js';
import { formatDurationMs, SystemClock } from '../time/index.js';
import { sentinelVersion } from '../version.js';
import { checkedConfigOf, configFileOf } from './config-file.js';
import { buildDrillRuntime, drillLease, runningDaemonAlerts } from './drill-runtime.js';
import { createConfiguredEngine } from './query-engine.js';
import { suiteRoot } from './rollout-runtime.js';
import type { Command, CommandIO } from './types.js';
import { ExitCodes } from './types.js';

function describePlan(d: DrillSpec): string {
  const lines = [`${d.name}: ${d.description}`, `  environments: ${d.environments.join(', ')}; proxies: ${d.proxies.map((p) => p.name).join(', ')}`];
  for (const c of d.steadyState) lines.push(`  steady state: ${c.name}: ${c.query} ${c.op} ${c.threshold}`);
  d.stages.forEach((s, i) => {
    lines.push(`  stage ${i + 1} ${s.name}: ${formatDurationMs(s.durationMs)} every ${formatDurationMs(s.probeIntervalMs)} (probes ${s.probes.join(', ') || 'none'}), recovery within ${formatDurationMs(s.recoveryMs)}, then holding ${formatDurationMs(s.recoveryHoldMs)}`);
    for (const f of s.faults) {
      lines.push(f.kind === 'down' ? `    fault: ${f.proxy} disabled` : `    fault: ${f.proxy} ${f.type} ${f.stream} toxicity ${f.toxicity} ${JSON.stringify(f.attributes)}`);
    }
    if (s.verifyFault) lines.push(`    in effect when: ${s.verifyFault.query} ${s.verifyFault.op} ${s.verifyFault.threshold}`);
    for (const c of s.abortWhen) lines.push(`    abort when: ${c.query} ${c.op} ${c.threshold}`);
    for (const c of s.expect) {
      const exercised = c.exercised.map((x) => `${x.runs} ${x.probe} run${x.runs === 1 ? '' : 's'} (${x.phase})`).join(', ') || 'nothing';
      lines.push(`    expect: ${c.name}: ${c.query} ${c.op} ${c.threshold} (${c.count} measurements in the stage, every recovery round, and at the end; failure_limit ${c.failureLimit}; needs ${exercised}${c.exercisedFrom === 'inferred' ? ', inferred from the query' : ''})`);
    }
  });
  return lines.join('\n');
}

/** SKIP_ALERT_CHECK is the flag that runs a drill without checking firing critical alerts. */
const SKIP_ALERT_CHECK = '--skip-alert-check';

/** SUITE_NAMES are the suites `drill run --suite` knows (`--all` is the suite `all`). */
const SUITE_NAMES = ['all', 'chaos'] as const;

async function runSuite(config: Config, suite: (typeof SUITE_NAMES)[number], options: { out?: string; json: boolean; skipAlertCheck: boolean }, io: CommandIO): Promise<number> {
  const clock = new SystemClock();
  const logger = pino({ level: io.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const registry = createMetricsRegistry({ version: sentinelVersion() });
  const store = new MemoryStore();
  // OTEL_* configure tracing as for the daemon: the drill, its stages and fault actions become spans.
  const tracing = await startTracing({ serviceName: 'spacetime-sentinel', env: io.env });
  const { tracer } = tracing;
  const scheduler = new ProbeScheduler({ probes: buildProbes(config, { registry, clock, logger, env: io.env }), store, registry, clock, logger, tracer });
  const progress = progressReporter(io.stdout);
  const alerts: AlertCheck = options.skipAlertCheck ? { skipped: `skipped with ${SKIP_ALERT_CHECK}` } : { source: runningDaemonAlerts(config) };
  try {
    const runtime = buildDrillRuntime(config, { clock, logger, store, scheduler, engine: createConfiguredEngine(config), version: sentinelVersion(), tracer, events: options.json ? [] : [progress], alerts });
    const allowed = runtime.drills.filter((d) => d.environments.includes(config.environment)).map((d) => d.name);
    const drills = suite === 'chaos' ? (config.rollout.chaosSuite ?? allowed) : allowed;
    const probes: SuiteProbeCheck[] = ['retired_routes', 'runtime_metrics']
      .filter((p) => scheduler.probeNames().includes(p))
      .map((probe) => ({
        probe,
        run: async (signal) => {
          const [r] = await scheduler.runOnce(probe, signal);
          return { ok: r.outcome.result.ok, reason: r.outcome.reason, detail: r.outcome.result.detail };
        },
      }));
    if (drills.length === 0) {
      io.stderr.write(`sentinel drill run --${suite === 'all' ? 'all' : 'suite chaos'}: no drill of drills.files is allowed in environment '${config.environment}'\n`);
      return ExitCodes.usage;
    }
    if (options.skipAlertCheck) io.stderr.write(`sentinel drill run: ${SKIP_ALERT_CHECK}: firing critical alerts are NOT checked; the evidence says so\n`);
    const result = await runDrillSuite(
      {
        runDrill: (drill, signal) => runtime.runner.run(drill, signal),
        drills: runtime.drills,
        probes,
        evidenceRoot: config.drills.evidenceDir,
        suiteRoot: options.out ? resolve(io.cwd, options.out) : suiteRoot(config),
        ...(config.drills.manifestHmacKey ? { hmacKey: config.drills.manifestHmacKey.reveal() } : {}),
        reuseFreshMs: 0,
        clock,
        environment: config.environment,
      },
      suite,
      [...drills, ...probes.map((p) => p.probe)],
      io.signal,
      options.json ? {} : { scenarioFinished: (sc) => io.stdout.write(`scenario ${sc.scenario}: ${sc.status}${sc.operators_scenario ? ` [operators: ${sc.operators_scenario}]` : ''}${sc.reason ? ` (${sc.reason})` : ''}\n`) },
    );
    if (options.json) io.stdout.write(JSON.stringify({ dir: result.dir, failures: result.failures, scenarios: result.scenarios }) + '\n');
    else io.stdout.write(`suite ${suite}: ${result.scenarios.length} scenarios, Failures: ${result.failures}\n  SUMMARY: ${resolve(result.dir, 'SUMMARY.md')}\n`);
    return result.failures === 0 ? ExitCodes.ok : ExitCodes.failed;
  } finally {
    progress.stop();
    await scheduler.closeProbes();
    await store.close();
    await tracing.shutdown();
  }
}

async function runDrill(config: Config, name: string, options: { out?: string; dryRun: boolean; json: boolean; skipAlertCheck: boolean }, io: CommandIO): Promise<number> {
  const clock = new SystemClock();
  const logger = pino({ level: io.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const registry = createMetricsRegistry({ version: sentinelVersion() });
  const store = new MemoryStore();
  const probes = buildProbes(config, { registry, clock, logger, env: io.env });
  const tracing = await startTracing({ serviceName: 'spacetime-sentinel', env: io.env });
  const { tracer } = tracing;
  const scheduler = new ProbeScheduler({ probes, store, registry, clock, logger, tracer });
  const progress = progressReporter(io.stdout);
  const effective: Config = options.out ? { ...config, drills: { ...config.drills, evidenceDir: resolve(io.cwd, options.out) } } : config;
  const alerts: AlertCheck = options.skipAlertCheck ? { skipped: `skipped with ${SKIP_ALERT_CHECK}` } : { source: runningDaemonAlerts(config) };
  try {
    const runtime = buildDrillRuntime(effective, { clock, logger, store, scheduler, engine: createConfiguredEngine(config), version: sentinelVersion(), tracer, events: options.json ? [] : [progress], alerts });
    const drill = runtime.drills.find((d) => d.name === name);
    if (!drill) {
      io.stderr.write(`sentinel drill run: unknown drill '${name}'; known: ${runtime.drills.map((d) => d.name).join(', ')}\n`);
      return ExitCodes.usage;
    }
    if (options.dryRun) {
      io.stdout.write(`${describePlan(drill)}\n(dry run: nothing was changed)\n`);
      return ExitCodes.ok;
    }
    if (options.skipAlertCheck) io.stderr.write(`sentinel drill run: ${SKIP_ALERT_CHECK}: firing critical alerts are NOT checked; the evidence says so\n`);
    const result = await runtime.runner.run(drill, io.signal);
    if (options.json) io.stdout.write(JSON.stringify({ decision: result.decision, dir: result.dir, scenario: result.scenario }) + '\n');
    return result.decision.decision === 'allow' ? ExitCodes.ok : ExitCodes.failed;
  } catch (err) {
    if (err instanceof DrillValidationError) {
      for (const line of err.issues) io.stderr.write(`${line}\n`);
      return ExitCodes.usage;
    }
    throw err;
  } finally {
    progress.stop();
    await scheduler.closeProbes();
    await store.close();
    await tracing.shutdown();
  }
}

/** drillCommand implements `sentinel drill`. */
export const drillCommand: Command = {
  options: { config: { type: 'string' }, out: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, 'skip-alert-check': { type: 'boolean' }, all: { type: 'boolean' }, suite: { type: 'string' } },
  async run(args, io) {
    const [sub, name, ...extra] = args.positionals;
    const file = configFileOf(args, io);
    if (sub !== 'list' && sub !== 'run' && sub !== 'cleanup') {
      io.stderr.write('sentinel drill: say list, run NAME or cleanup\n');
      return ExitCodes.usage;
    }
    const suiteFlag = args.options.all === true ? 'all' : typeof args.options.suite === 'string' ? args.options.suite : undefined;
    if (suiteFlag !== undefined) {
      if (sub !== 'run' || name !== undefined || (args.options.all === true && typeof args.options.suite === 'string')) {
        io.stderr.write('sentinel drill run: --all and --suite NAME run a suite instead of one named drill; give one of them and no drill name\n');
        return ExitCodes.usage;
      }
      if (!(SUITE_NAMES as readonly string[]).includes(suiteFlag)) {
        io.stderr.write(`sentinel drill run --suite: unknown suite '${suiteFlag}'; known: ${SUITE_NAMES.join(', ')}\n`);
        return ExitCodes.usage;
      }
    } else if ((sub === 'run') !== (name !== undefined) || extra.length > 0) {
      io.stderr.write(sub === 'run' ? 'sentinel drill run: name exactly one drill; see sentinel drill list\n' : `sentinel drill ${sub}: takes no drill name\n`);
      return ExitCodes.usage;
    }
    const config = checkedConfigOf(file, io);
    if (config === undefined) return ExitCodes.usage;
    try {
      if (sub === 'list') {
        const clock = new SystemClock();
        const logger = pino({ level: 'silent' });
        const registry = createMetricsRegistry({ version: sentinelVersion() });
        const store = new MemoryStore();
        const scheduler = new ProbeScheduler({ probes: buildProbes(config, { registry, clock, logger, env: io.env }), store, registry, clock, logger });
        const runtime = buildDrillRuntime(config, { clock, logger, store, scheduler, engine: createConfiguredEngine(config), version: sentinelVersion() });
        if (args.options.json) io.stdout.write(JSON.stringify(runtime.drills.map((d) => ({ name: d.name, description: d.description, file: d.file, environments: d.environments, stages: d.stages.map((s) => s.name) }))) + '\n');
        else for (const d of runtime.drills) io.stdout.write(`${describePlan(d)}\n\n`);
        await scheduler.closeProbes();
        return ExitCodes.ok;
      }
      if (sub === 'cleanup') {
        const driver = new ToxiproxyFaultDriver({ url: config.drills.toxiproxyUrl });
        // Under the drill lease: a drill running elsewhere (the other sentinel of an HA pair) keeps its faults.
        const lease = drillLease(config, new SystemClock(), pino({ level: 'silent' }));
        const report = await reconcileUnderLease(lease, { driver, evidenceRoot: config.drills.evidenceDir, nowMs: Date.now() }, 'drill cleanup');
        if (report.leaseRefusal) io.stderr.write(`${report.leaseRefusal}; only expired sentinel toxics were removed (a drill holding the lease may still be running)\n`);
        for (const r of report.removed) io.stdout.write(`removed ${r}\n`);
        for (const f of report.failed) io.stderr.write(`could not remove ${f}\n`);
        if (report.removed.length === 0 && report.failed.length === 0) io.stdout.write(`no sentinel faults found on ${driver.endpoint}\n`);
        return report.failed.length === 0 ? ExitCodes.ok : ExitCodes.failed;
      }
      if (suiteFlag !== undefined) {
        return await runSuite(config, suiteFlag as (typeof SUITE_NAMES)[number], { out: typeof args.options.out === 'string' ? args.options.out : undefined, json: args.options.json === true, skipAlertCheck: args.options['skip-alert-check'] === true }, io);
      }
      return await runDrill(config, name as string, { out: typeof args.options.out === 'string' ? args.options.out : undefined, dryRun: args.options['dry-run'] === true, json: args.options.json === true, skipAlertCheck: args.options['skip-alert-check'] === true }, io);
    } catch (err) {
      if (err instanceof DrillValidationError) {
        for (const line of err.issues) io.stderr.write(`${line}\n`);
        return ExitCodes.usage;
      }
      if (isSentinelError(err)) {
        io.stderr.write(`sentinel drill ${sub}: ${err.message}\n`);
        return ExitCodes.usage;
      }
      throw err;
    }
  },
};
