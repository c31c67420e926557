/**
 * buildRolloutRunner: composes one rollout from a validated Config and the parts of the process
 * that runs it (`sentinel rollout` builds its own probes and store; the daemon lends its own):
 * the control's runtime-routing client with the session bearer, the service snapshots, the gate
 * set (preflight for the rollout's environment, resume, the chaos drill suite, sync security),
 * the soak watch, the SLO snapshot URL, the operator confirmations, the `--apply-command`, and
 * production's rollback drill with drill evidence.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config, ProbeConfig } from '../config/index.js';
import { checkCriticalAlerts, evidenceDirName, finishEvidence, runDrillSuite } from '../drills/index.js';
import type { DrillRunResult, DrillSpec, FiringAlertsSource, QueryFn, SuiteProbeCheck } from '../drills/index.js';
import { buildProbes, ProbeScheduler } from '../probes/index.js';
import {
  applyForcer,
  chaosGate,
  cohortEnv,
  CommandApplier,
  FileConfirmations,
  HttpSloUrlSource,
  overrideForcer,
  provisionGate,
  replayResumeGate,
  RolloutRunner,
  RoutingClient,
  RoutingRollbackDrill,
  runCallerAuthChecks,
  ServiceSnapshots,
  syncSecurityGate,
} from '../rollout/index.js';
import type { DrillSuite, GateProbes, ProbeRound, RolloutEvents, RolloutGate, RolloutOptions, SoakWatch } from '../rollout/index.js';
import { ControlClient } from '../spacetime/index.js';
import type { SampleStore } from '../store/index.js';
import type { Clock } from '../time/index.js';

/** CriticalAlerts lists the critical alerts firing now; it throws when it cannot tell. */
export type CriticalAlerts = (tMs: number, signal: AbortSignal) => Promise<string[]>;

/** RolloutParts are what the running process lends the rollout. */
export interface RolloutParts {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** store receives the rollout's probe samples; `query` reads the SLO values (usually over it). */
  readonly store: SampleStore;
  readonly query: QueryFn;
  /** scheduler runs the configured probes (soak probes, resume, token, retired routes). */
  readonly scheduler: ProbeScheduler;
  /** criticalAlerts lists firing critical alerts; it throws when it cannot tell (fail closed). */
  readonly criticalAlerts: CriticalAlerts;
  /** drills and runDrill are the configured drills and their runner (for the chaos suite). */
  readonly drills: readonly DrillSpec[];
  readonly runDrill: (drill: DrillSpec, signal: AbortSignal) => Promise<DrillRunResult>;
  readonly version: string;
  readonly events?: readonly RolloutEvents[];
}

/**
 * criticalAlertsOf adapts the drills' one fail-closed "critical alerts firing" check: firing
 * alerts are listed; a source that cannot answer throws, and the soak blocks on it.
 */
export function criticalAlertsOf(source: FiringAlertsSource): CriticalAlerts {
  return async (tMs, signal) => {
    const check = await checkCriticalAlerts(source, tMs, signal);
    if (check.status === 'error') throw new Error(check.reason);
    return check.status === 'firing' ? [...check.alerts] : [];
  };
}

/** SYNC_SECURITY_STREAM is the sentinel's own stream the caller-auth reducer calls ack. */
export const SYNC_SECURITY_STREAM = 'sentinel.canary.sync-security';

/** defaultOutputDir is `<rollout.output_dir>/<kind>-<UTC>`, as the scripts name theirs. */
export function defaultOutputDir(config: Config, kind: RolloutOptions['kind'], nowMs: number): string {
  return join(config.rollout.outputDir, `${kind}-${evidenceDirName(nowMs)}`);
}

/** suiteRoot is where suite runs go: beside the drills' evidence root. */
export function suiteRoot(config: Config): string {
  return resolve(config.drills.evidenceDir, '..', 'suites');
}

/** preflightScheduler builds the preflight probe for `env`, enabled whatever the config says. */
function preflightScheduler(config: Config, env: 'staging' | 'prod', parts: RolloutParts): ProbeScheduler {
  const base = config.probes.preflight;
  const preflight: ProbeConfig<'preflight'> = { name: 'preflight', enabled: true, schedule: base?.schedule ?? '0 0 * * * *', timeoutMs: base?.timeoutMs ?? 10_000, retries: 0, jitterMs: 0, params: { env } };
  const probes = buildProbes({ ...config, probes: { preflight } }, { registry: parts.registry, clock: parts.clock, logger: parts.logger, env: parts.env });
  return new ProbeScheduler({ probes, store: parts.store, registry: parts.registry, clock: parts.clock, logger: parts.logger });
}

async function runOnce(scheduler: ProbeScheduler, name: string, signal: AbortSignal): Promise<{ ok: boolean; reason: string; detail: Readonly<Record<string, unknown>> }> {
  const [report] = await scheduler.runOnce(name, signal);
  return { ok: report.outcome.result.ok, reason: report.outcome.reason, detail: report.outcome.result.detail };
}

/** rolloutSuite adapts the drill suite runner to the gates: fresh allow evidence is reused. */
export function rolloutSuite(config: Config, parts: Pick<RolloutParts, 'drills' | 'runDrill' | 'clock' | 'scheduler'>): DrillSuite {
  const allowed = parts.drills.filter((d) => d.environments.includes(config.environment)).map((d) => d.name);
  const chaos = config.rollout.chaosSuite ?? allowed;
  const probes: SuiteProbeCheck[] = ['retired_routes', 'runtime_metrics']
    .filter((p) => parts.scheduler.probeNames().includes(p))
    .map((probe) => ({ probe, run: (signal) => runOnce(parts.scheduler, probe, signal) }));
  const options = {
    runDrill: parts.runDrill,
    drills: parts.drills,
    probes,
    evidenceRoot: config.drills.evidenceDir,
    suiteRoot: suiteRoot(config),
    ...(config.drills.manifestHmacKey ? { hmacKey: config.drills.manifestHmacKey.reveal() } : {}),
    reuseFreshMs: config.drills.gate.maxEvidenceAgeMs,
    clock: parts.clock,
    environment: config.environment,
  };
  return {
    replayResumeDrills: () => chaos.filter((d) => /partition|restart/.test(d)),
    chaosDrills: () => [...chaos, ...probes.map((p) => p.probe)],
    run: (drills, name, signal) =>
      runDrillSuite(options, name, drills, signal).then((r) => ({
        dir: r.dir,
        failures: r.failures,
        scenarios: r.scenarios.map((s) => ({ scenario: s.scenario, status: s.status, ...(s.operators_scenario ? { operatorsScenario: s.operators_scenario } : {}), ...(s.evidence ? { evidence: s.evidence } : {}), ...(s.reason ? { reason: s.reason } : {}) })),
      })),
  };
}

/** buildRolloutRunner wires one rollout writing to `outputDir`. */
export function buildRolloutRunner(config: Config, options: RolloutOptions, outputDir: string, parts: RolloutParts): RolloutRunner {
  const t = config.target;
  // The configured secrets go in as they are: the clients read them at every request.
  const sessionToken = options.authToken ?? t.control.sessionToken;
  const controlBase = options.controlBaseUrl ?? t.control.baseUrl;
  const routing = new RoutingClient({ baseUrl: controlBase, sessionToken, timeoutMs: t.control.requestTimeoutMs });
  const control = new ControlClient({ baseUrl: controlBase, sessionToken, timeoutMs: t.control.requestTimeoutMs });
  const snapshots = new ServiceSnapshots({
    runtimeMetricsUrl: options.runtimeMetricsUrl ?? `${t.runtime.baseUrl}${t.runtime.metricsPath}`,
    // The real metrics route takes no credentials; a configured token is sent to the configured target only.
    ...(options.runtimeMetricsUrl === undefined && t.runtime.token ? { runtimeToken: t.runtime.token } : {}),
    controlStatusUrl: options.controlStatusUrl ?? `${controlBase}/api/v1/control/status`,
    sessionToken,
    timeoutMs: Math.max(t.control.requestTimeoutMs, t.runtime.requestTimeoutMs),
  });
  const known = new Set(parts.scheduler.probeNames());
  const soakProbes = config.rollout.soak.probes.filter((p) => known.has(p));
  const preflight = preflightScheduler(config, options.kind === 'staging' ? 'staging' : 'prod', parts);
  const gateProbes: GateProbes = {
    has: (name) => name === 'preflight' || known.has(name),
    run: (name, signal) => (name === 'preflight' ? runOnce(preflight, 'preflight', signal) : runOnce(parts.scheduler, name, signal)),
  };
  const suite = rolloutSuite(config, parts);
  const gates: RolloutGate[] = [
    provisionGate(options.kind, gateProbes),
    replayResumeGate(gateProbes, suite),
    chaosGate(suite),
    syncSecurityGate(gateProbes, (signal) =>
      runCallerAuthChecks(
        {
          baseUrl: t.spacetimedb.baseUrl,
          database: t.spacetimedb.database,
          websocketPath: t.spacetimedb.websocketPath,
          timeoutMs: t.spacetimedb.requestTimeoutMs,
          mintSyncToken: async (s) => (await control.mintSyncToken({ signal: s })).token,
          ...(t.control.jwtSigningKey ? { signingKey: t.control.jwtSigningKey.reveal() } : {}),
          stream: SYNC_SECURITY_STREAM,
          nowMs: () => parts.clock.nowMs(),
        },
        signal,
      ),
    ),
  ];
  const runProbes = async (names: readonly string[], signal: AbortSignal): Promise<ProbeRound[]> => {
    const runs = await Promise.all(names.filter((n) => known.has(n)).map((n) => runOnce(parts.scheduler, n, signal).then((r) => ({ probe: n, ok: r.ok, reason: r.reason }))));
    return runs;
  };
  const watch: SoakWatch = { runProbes, criticalAlerts: parts.criticalAlerts, query: parts.query };
  const hmacKey = config.drills.manifestHmacKey?.reveal();
  const applier = options.applyCommand ? new CommandApplier(options.applyCommand, { timeoutMs: config.rollout.cohortEffectTimeoutMs, env: parts.env, cwd: parts.cwd }) : undefined;
  const lastCohort = options.cohorts[options.cohorts.length - 1];
  // With an apply command the rollback goes the way a cohort goes (the control's force switch);
  // without one, through the control's per-user override route.
  const forcer = applier
    ? applyForcer(applier, lastCohort, cohortEnv(lastCohort, options.soakSeconds))
    : overrideForcer(routing, async (signal) => {
        if (config.rollout.rollbackDrill.userId) return config.rollout.rollbackDrill.userId;
        const subject = (await control.mintSyncToken({ signal })).data.subject;
        if (typeof subject !== 'string' || !subject.startsWith('user:')) throw new Error('the minted sync token has no `subject: user:<id>`; set rollout.rollback_drill.user_id');
        return subject.slice('user:'.length);
      });
  const rollbackDrill =
    options.kind === 'production'
      ? new RoutingRollbackDrill({
          routing,
          forcer,
          runProbes,
          syncProbes: ['delivery', 'resume'].filter((p) => known.has(p)),
          clock: parts.clock,
          recoveryTimeoutMs: config.rollout.rollbackDrill.recoveryTimeoutMs,
          pollIntervalMs: config.rollout.statusPollIntervalMs,
          writeEvidence: async ({ dir, scenario, startedMs, endedMs }) => {
            mkdirSync(dir, { recursive: true });
            await finishEvidence({
              dir,
              run: { run_id: `rollback-${evidenceDirName(startedMs).toLowerCase()}`, drills: ['rollback-drill'], environment: config.environment, started_at: new Date(startedMs).toISOString(), finished_at: new Date(endedMs).toISOString(), status: 'completed', deviated: scenario.status !== 'passed', sentinel_version: parts.version },
              scenarios: [scenario],
              facts: [
                ['Environment', config.environment],
                ['Control', controlBase],
                ['Rollback path', 'POST /api/v1/control/runtime-routing/override (user scope, driver control_service), then restore'],
              ],
              ...(hmacKey ? { hmacKey } : {}),
            });
            return dir;
          },
        })
      : undefined;
  return new RolloutRunner({
    clock: parts.clock,
    routing,
    snapshots,
    gates,
    watch,
    ...(options.sloSnapshotUrl ? { sloUrl: new HttpSloUrlSource(options.sloSnapshotUrl, 10_000) } : {}),
    confirmations: new FileConfirmations(outputDir),
    ...(applier ? { applier } : {}),
    ...(rollbackDrill ? { rollbackDrill } : {}),
    events: parts.events ?? [],
    settings: {
      cohortEffectTimeoutMs: config.rollout.cohortEffectTimeoutMs,
      statusPollIntervalMs: config.rollout.statusPollIntervalMs,
      soakProbes,
      soakProbeIntervalMs: config.rollout.soak.probeIntervalMs,
      failedProbeStreak: config.rollout.soak.failedProbeStreak,
      sloWindowMs: config.rollout.sloWindowMs,
      gateMaxAgeMs: config.drills.gate.maxEvidenceAgeMs,
    },
  });
}
