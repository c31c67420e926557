/**
 * The rollout's gate set, mapped from the operators' (OpenAgents
 * `scripts/spacetime/run-staging-canary-rollout.sh:218-222` at 9b2b978949: provision check,
 * `local-ci.sh spacetime-replay-resume`, `spacetime-chaos`, `sync-security`) to the sentinel's
 * own checks of the live system:
 *
 * - `spacetime-provision-<env>`: the preflight probe for the rollout's environment;
 * - `spacetime-replay-resume`: the resume probe, several runs in a row, plus the drills that stand
 *   for the operators' replay/resume harness (fresh allow evidence or a new run);
 * - `spacetime-chaos`: the chaos drill suite (fresh allow evidence or a new run), `Failures: 0`;
 * - `sync-security`: the token contract and retired routes probes, and callers without a valid
 *   sync token refused (see sync-security-checks.ts).
 */
import type { GateResult, RolloutGate } from './rollout-deps.js';
import type { RolloutKind } from './rollout-options.js';
import type { CallerAuthReport } from './sync-security-checks.js';

/** GateProbeRun is one probe run a gate asked for. */
export interface GateProbeRun {
  readonly ok: boolean;
  readonly reason: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** GateProbes runs probes once; env-specific ones (preflight) are built for the rollout's environment. */
export interface GateProbes {
  has(name: string): boolean;
  run(name: string, signal: AbortSignal): Promise<GateProbeRun>;
}

/** SuiteScenarioResult is one scenario of a drill suite. */
export interface SuiteScenarioResult {
  readonly scenario: string;
  readonly status: 'passed' | 'failed';
  /** operatorsScenario names the operators' chaos scenario this one stands for. */
  readonly operatorsScenario?: string;
  readonly evidence?: string;
  readonly reason?: string;
}

/** SuiteRun is a finished suite: its directory (SUMMARY.md with `Failures: N`) and scenarios. */
export interface SuiteRun {
  readonly dir: string;
  readonly failures: number;
  readonly scenarios: readonly SuiteScenarioResult[];
}

/** DrillSuite runs drills as one suite, reusing fresh allow evidence. */
export interface DrillSuite {
  /** replayResumeDrills are the suite's drills that stand for the operators' replay/resume harness. */
  replayResumeDrills(): readonly string[];
  /** chaosDrills are the drills of the chaos gate. */
  chaosDrills(): readonly string[];
  run(drills: readonly string[], name: string, signal: AbortSignal): Promise<SuiteRun>;
}

/** CallerAuthRunner runs the caller-auth negative checks. */
export type CallerAuthRunner = (signal: AbortSignal) => Promise<CallerAuthReport>;

function describeRun(name: string, r: GateProbeRun): string {
  return `${name}: ${r.ok ? 'ok' : `FAILED (${r.reason})`} ${JSON.stringify(r.detail)}`;
}

/** READINESS_SERVICES must each be reported healthy and ready by the health probe's run. */
const READINESS_SERVICES = ['runtime', 'control'] as const;

/**
 * provisionGate is `spacetime-provision-<env>`: the preflight probe for the rollout's environment,
 * then the health probe (`/healthz` and `/readyz` of the runtime and the control service): a
 * rollout onto services that are not ready, or whose readiness could not be read, fails the gate.
 */
export function provisionGate(kind: RolloutKind, probes: GateProbes): RolloutGate {
  const env = kind === 'staging' ? 'staging' : 'prod';
  return {
    name: `spacetime-provision-${env}`,
    command: `preflight probe (env ${env}: OA_SPACETIME_${env.toUpperCase()}_* set, health endpoint answers) + health probe (runtime and control /healthz, /readyz)`,
    async run(signal): Promise<GateResult> {
      const r = await probes.run('preflight', signal);
      const problems = Array.isArray(r.detail.problems) ? (r.detail.problems as unknown[]).map(String) : [];
      const log = [describeRun('preflight', r)];
      if (!r.ok) return { status: 'failed', detail: `preflight ${env} failed (${r.reason}): ${problems.join('; ') || 'see the log'}`, log };
      if (!probes.has('health')) return { status: 'failed', detail: `preflight ${env} ok, but the health probe is not configured (probes.health): runtime and control readiness cannot be checked`, log };
      const h = await probes.run('health', signal);
      log.push(describeRun('health', h));
      const silent = READINESS_SERVICES.filter((s) => typeof h.detail[s] !== 'object' || h.detail[s] === null);
      if (!h.ok) return { status: 'failed', detail: `preflight ${env} ok; services not healthy and ready (health: ${h.reason}): ${notReady(h.detail).join(', ') || 'see the log'}`, log };
      if (silent.length > 0) return { status: 'failed', detail: `preflight ${env} ok; the health probe reported nothing for ${silent.join(' and ')}: readiness unknown`, log };
      return { status: 'passed', detail: `preflight ${env} ok; runtime and control healthy and ready`, log };
    },
  };
}

/** notReady names the checks a health run's detail shows failing, e.g. `control /readyz 503`. */
function notReady(detail: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const [service, d] of Object.entries(detail)) {
    if (typeof d !== 'object' || d === null) continue;
    for (const [check, c] of Object.entries(d as Record<string, unknown>)) {
      const r = typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : {};
      const status = typeof r.status === 'number' ? r.status : undefined;
      if (status === undefined || status < 200 || status > 299 || r.problem !== undefined) out.push(`${service} /${check} ${status ?? 'no answer'}`);
    }
  }
  return out;
}

/** replayResumeGate is `spacetime-replay-resume`: `runs` resume probe runs in a row, then the replay/resume drills. */
export function replayResumeGate(probes: GateProbes, suite: DrillSuite | undefined, runs = 3): RolloutGate {
  const drills = suite?.replayResumeDrills() ?? [];
  return {
    name: 'spacetime-replay-resume',
    command: `resume probe x${runs}${drills.length > 0 ? ` + drills ${drills.join(', ')}` : ''}`,
    async run(signal): Promise<GateResult> {
      const log: string[] = [];
      if (!probes.has('resume')) return { status: 'failed', detail: 'the resume probe is not configured (probes.resume); replay/resume cannot be checked', log: ['resume probe not configured'] };
      for (let i = 1; i <= runs; i++) {
        const r = await probes.run('resume', signal);
        log.push(`run ${i}: ${describeRun('resume', r)}`);
        if (!r.ok) return { status: 'failed', detail: `resume probe run ${i} of ${runs} failed (${r.reason})`, log };
      }
      if (drills.length === 0 || !suite) {
        log.push('no replay/resume drill in the chaos suite; the resume probe runs are the check');
        return { status: 'passed', detail: `resume probe x${runs} ok (no replay/resume drill configured)`, log };
      }
      const run = await suite.run(drills, 'replay-resume', signal);
      for (const s of run.scenarios) log.push(`${s.scenario}: ${s.status}${s.reason ? ` (${s.reason})` : ''}${s.evidence ? ` evidence ${s.evidence}` : ''}`);
      log.push(`suite: ${run.dir} (Failures: ${run.failures})`);
      const failed = run.scenarios.filter((s) => s.status !== 'passed');
      return {
        status: run.failures === 0 && failed.length === 0 && run.scenarios.length > 0 ? 'passed' : 'failed',
        detail: failed.length === 0 ? `resume probe x${runs} ok; drills ${drills.join(', ')} allow` : `drill(s) ${failed.map((s) => `${s.scenario} (${s.reason ?? s.status})`).join(', ')} not allow`,
        log,
        evidence: run.dir,
      };
    },
  };
}

/** chaosGate is `spacetime-chaos`: the chaos suite must end with `Failures: 0` over at least one scenario. */
export function chaosGate(suite: DrillSuite | undefined): RolloutGate {
  const drills = suite?.chaosDrills() ?? [];
  return {
    name: 'spacetime-chaos',
    command: drills.length > 0 ? `drill suite: ${drills.join(', ')} (SUMMARY.md Failures: 0)` : 'drill suite (none configured)',
    async run(signal): Promise<GateResult> {
      if (!suite || drills.length === 0) return { status: 'failed', detail: 'no drill in the chaos suite (rollout.chaos_suite, drills.files): nothing was exercised', log: ['empty chaos suite'] };
      const run = await suite.run(drills, 'chaos', signal);
      const log = run.scenarios.map((s) => `${s.scenario}: ${s.status}${s.operatorsScenario ? ` [operators: ${s.operatorsScenario}]` : ''}${s.reason ? ` (${s.reason})` : ''}${s.evidence ? ` evidence ${s.evidence}` : ''}`);
      log.push(`suite: ${run.dir} (Failures: ${run.failures})`);
      const failed = run.scenarios.filter((s) => s.status !== 'passed');
      return {
        status: run.failures === 0 && failed.length === 0 && run.scenarios.length > 0 ? 'passed' : 'failed',
        detail: failed.length === 0 ? `suite ${run.dir}: Failures: 0 over ${run.scenarios.length} scenarios` : `suite ${run.dir}: Failures: ${run.failures} (${failed.map((s) => s.scenario).join(', ')})`,
        log,
        evidence: run.dir,
      };
    },
  };
}

/** syncSecurityGate is `sync-security`: token contract, retired routes, and unauthenticated or expired callers refused. */
export function syncSecurityGate(probes: GateProbes, callerAuth: CallerAuthRunner): RolloutGate {
  return {
    name: 'sync-security',
    command: 'token contract + retired routes probes; subscribe and reducer call without a token / with an expired token must be refused',
    async run(signal): Promise<GateResult> {
      const log: string[] = [];
      const problems: string[] = [];
      for (const name of ['token', 'retired_routes']) {
        if (!probes.has(name)) {
          problems.push(`the ${name} probe is not configured`);
          log.push(`${name}: not configured`);
          continue;
        }
        const r = await probes.run(name, signal);
        log.push(describeRun(name, r));
        if (!r.ok) problems.push(`${name} probe failed (${r.reason})`);
      }
      const report = await callerAuth(signal);
      for (const c of report.checks) log.push(`${c.name}: ${c.outcome}: ${c.detail}`);
      problems.push(...report.problems);
      return {
        status: problems.length === 0 ? 'passed' : 'failed',
        detail: problems.length === 0 ? 'token contract ok, retired routes 404, unauthenticated and expired callers refused' : problems.join('; '),
        log,
      };
    },
  };
}
