/**
 * The rollout's inputs, read like the operators' scripts read theirs: the same flags, the same
 * environment variables, the same defaults and the same validation messages (OpenAgents
 * `scripts/spacetime/run-staging-canary-rollout.sh:6-122` and
 * `scripts/spacetime/run-production-phased-rollout.sh:6-168` at 9b2b978949). What the scripts take
 * and the sentinel does differently is refused or explained in one sentence.
 */
import { UsageError } from '../errors.js';

/** ROLLOUT_KINDS are the two procedures. */
export const ROLLOUT_KINDS = ['staging', 'production'] as const;
/** RolloutKind is one of ROLLOUT_KINDS. */
export type RolloutKind = (typeof ROLLOUT_KINDS)[number];

/** RolloutOptions are one rollout's validated inputs. */
export interface RolloutOptions {
  readonly kind: RolloutKind;
  /** cohortsCsv is the list as given (SUMMARY.md's "Cohort Sequence" prints it raw, as the script does). */
  readonly cohortsCsv: string;
  readonly cohorts: readonly number[];
  readonly soakSeconds: number;
  readonly skipGates: boolean;
  readonly skipRollbackDrill: boolean;
  readonly sloSnapshotUrl?: string;
  readonly maxP95LatencyMs: number;
  /** maxErrorBudgetRatioText is the threshold as given (`0.020`), printed as the script prints it. */
  readonly maxErrorBudgetRatioText: string;
  readonly maxErrorBudgetRatio: number;
  readonly outputDir?: string;
  /** controlBaseUrl overrides `target.control.base_url`. */
  readonly controlBaseUrl?: string;
  /** authToken overrides `target.control.session_token` (a secret: never written anywhere). */
  readonly authToken?: string;
  /** runtimeMetricsUrl overrides the runtime metrics snapshot URL (no auth, as the real route). */
  readonly runtimeMetricsUrl?: string;
  /** controlStatusUrl overrides the control status snapshot URL (fetched with the session bearer). */
  readonly controlStatusUrl?: string;
  /** applyCommand runs per cohort with the cohort's env plan in its environment (sentinel's own). */
  readonly applyCommand?: string;
  /** notes are things said about the inputs (an ignored variable) for SUMMARY.md and the terminal. */
  readonly notes: readonly string[];
}

/** RolloutFlags are the parsed command-line options (`--name value` / `--flag`). */
export type RolloutFlags = Readonly<Record<string, string | boolean | undefined>>;

/** ROLLOUT_FLAGS are the accepted flags and whether they take a value. */
export const ROLLOUT_FLAGS = {
  'output-dir': 'string',
  'control-base-url': 'string',
  'auth-token': 'string',
  cohorts: 'string',
  'cohort-soak-seconds': 'string',
  'runtime-metrics-url': 'string',
  'control-status-url': 'string',
  'slo-snapshot-url': 'string',
  'max-p95-latency-ms': 'string',
  'max-error-budget-ratio': 'string',
  'rollback-drill-command': 'string',
  'apply-command': 'string',
  'skip-gates': 'boolean',
  'skip-rollback-drill': 'boolean',
} as const;

interface KindDefaults {
  readonly controlBaseEnv: string;
  readonly authTokenEnv: string;
  readonly cohortsEnv: string;
  readonly cohortsDefault: string;
  readonly soakEnv: string;
  readonly soakDefault: string;
  /** noCohortsMessage is the script's wording when the list is empty. */
  readonly noCohortsMessage: string;
}

const DEFAULTS: Readonly<Record<RolloutKind, KindDefaults>> = {
  staging: {
    controlBaseEnv: 'OA_STAGING_CONTROL_BASE_URL',
    authTokenEnv: 'OA_STAGING_CONTROL_AUTH_TOKEN',
    cohortsEnv: 'OA_STAGING_CANARY_COHORTS',
    cohortsDefault: '5,10,25,50,100',
    soakEnv: 'OA_STAGING_CANARY_COHORT_SOAK_SECONDS',
    soakDefault: '900',
    noCohortsMessage: 'No valid canary cohorts provided.',
  },
  production: {
    controlBaseEnv: 'OA_PROD_CONTROL_BASE_URL',
    authTokenEnv: 'OA_PROD_CONTROL_AUTH_TOKEN',
    cohortsEnv: 'OA_PROD_ROLLOUT_COHORTS',
    cohortsDefault: '1,5,10,25,50,100',
    soakEnv: 'OA_PROD_ROLLOUT_COHORT_SOAK_SECONDS',
    soakDefault: '1800',
    noCohortsMessage: 'No valid production cohorts provided.',
  },
};

function text(flags: RolloutFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function httpUrl(what: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${what} ${JSON.stringify(value)} is not a URL; give an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${what} must be an http(s) URL, got ${JSON.stringify(value)}`);
  return value;
}

/** parseCohorts splits and checks a cohort list exactly as the scripts do (whitespace dropped, empties skipped, 0..100). */
export function parseCohorts(csv: string, noCohortsMessage: string): number[] {
  const cohorts: number[] = [];
  for (const raw of csv.split(',')) {
    const value = raw.replace(/\s/g, '');
    if (value === '') continue;
    if (!/^[0-9]+$/.test(value) || Number(value) > 100) throw new UsageError(`Invalid cohort percentage: ${raw}`);
    cohorts.push(Number(value));
  }
  if (cohorts.length === 0) throw new UsageError(noCohortsMessage);
  return cohorts;
}

/** parseRolloutOptions reads flags over environment over defaults; a bad value is a UsageError (exit 2). */
export function parseRolloutOptions(kind: RolloutKind, flags: RolloutFlags, env: Readonly<Record<string, string | undefined>>): RolloutOptions {
  const d = DEFAULTS[kind];
  const notes: string[] = [];
  if (text(flags, 'rollback-drill-command') !== undefined) {
    throw new UsageError('--rollback-drill-command is not supported: the sentinel runs its own rollback drill (forcing the control_service driver and watching routing and sync recover); use --skip-rollback-drill to skip it explicitly');
  }
  if (nonEmpty(env.OA_SPACETIME_ROLLBACK_DRILL_COMMAND) !== undefined && kind === 'production') {
    notes.push('OA_SPACETIME_ROLLBACK_DRILL_COMMAND is ignored: the sentinel runs its own rollback drill');
  }
  if (kind === 'staging' && flags['skip-rollback-drill'] === true) throw new UsageError('--skip-rollback-drill is for production: the staging canary has no rollback drill');

  const soakText = text(flags, 'cohort-soak-seconds') ?? nonEmpty(env[d.soakEnv]) ?? d.soakDefault;
  if (!/^[0-9]+$/.test(soakText)) throw new UsageError(`Invalid cohort soak seconds: ${soakText}`);
  const p95Text = text(flags, 'max-p95-latency-ms') ?? nonEmpty(env.OA_SPACETIME_SLO_MAX_P95_LATENCY_MS) ?? '600';
  if (!/^[0-9]+$/.test(p95Text)) throw new UsageError(`Invalid max p95 latency: ${p95Text}`);
  const ratioText = text(flags, 'max-error-budget-ratio') ?? nonEmpty(env.OA_SPACETIME_SLO_MAX_ERROR_BUDGET_RATIO) ?? '0.020';
  if (!/^[0-9]+(\.[0-9]+)?$/.test(ratioText)) throw new UsageError(`Invalid max error budget ratio: ${ratioText}`);
  const cohortsCsv = text(flags, 'cohorts') ?? nonEmpty(env[d.cohortsEnv]) ?? d.cohortsDefault;
  const cohorts = parseCohorts(cohortsCsv, d.noCohortsMessage);

  const sloSnapshotUrl = httpUrl('--slo-snapshot-url', nonEmpty(text(flags, 'slo-snapshot-url')) ?? nonEmpty(env.OA_SPACETIME_SLO_SNAPSHOT_URL));
  const controlBaseUrl = httpUrl('--control-base-url', nonEmpty(text(flags, 'control-base-url')) ?? nonEmpty(env[d.controlBaseEnv]));
  const runtimeMetricsUrl = httpUrl('--runtime-metrics-url', nonEmpty(text(flags, 'runtime-metrics-url')) ?? nonEmpty(env.OA_RUNTIME_METRICS_URL));
  const controlStatusUrl = httpUrl('--control-status-url', nonEmpty(text(flags, 'control-status-url')) ?? nonEmpty(env.OA_CONTROL_STATUS_URL));
  const authToken = nonEmpty(text(flags, 'auth-token')) ?? nonEmpty(env[d.authTokenEnv]);
  if (authToken !== undefined && /\s/.test(authToken)) throw new UsageError(`--auth-token / ${d.authTokenEnv} must not contain whitespace`);
  const applyCommand = nonEmpty(text(flags, 'apply-command'));
  const outputDir = nonEmpty(text(flags, 'output-dir'));

  return {
    kind,
    cohortsCsv,
    cohorts,
    soakSeconds: Number(soakText),
    skipGates: flags['skip-gates'] === true,
    skipRollbackDrill: flags['skip-rollback-drill'] === true,
    ...(sloSnapshotUrl ? { sloSnapshotUrl } : {}),
    maxP95LatencyMs: Number(p95Text),
    maxErrorBudgetRatioText: ratioText,
    maxErrorBudgetRatio: Number(ratioText),
    ...(outputDir ? { outputDir } : {}),
    ...(controlBaseUrl ? { controlBaseUrl } : {}),
    ...(authToken ? { authToken } : {}),
    ...(runtimeMetricsUrl ? { runtimeMetricsUrl } : {}),
    ...(controlStatusUrl ? { controlStatusUrl } : {}),
    ...(applyCommand ? { applyCommand } : {}),
    notes,
  };
}

/** publicOptions is what the journal and evidence may record: the options without the token. */
export function publicOptions(o: RolloutOptions): Record<string, unknown> {
  const { authToken, ...rest } = o;
  return { ...rest, authToken: authToken === undefined ? undefined : '<set>' };
}
