/**
 * preflight: the operators' provision check for one environment, with the semantics of
 * OpenAgents `scripts/spacetime/provision-check.sh:18-65` at 9b2b978949: the five required
 * `OA_SPACETIME_<ENV>_*` variables must be set and non-empty; the base URL must start with
 * `http://` or `https://`; then `GET <base without one trailing slash><OA_SPACETIME_<ENV>_HEALTH_PATH,
 * default /health>` with a 10 s limit must answer below 400 (`curl -fsS --max-time 10`; redirects
 * are not followed). Like the script, a failed stage stops the check. The signing key is checked
 * for presence only; no value from the environment reaches the result.
 */
import { ConfigError, RequestError } from '../../errors.js';
import { SpacetimeHttpClient } from '../../spacetime/index.js';
import { reasonFromError } from '../reason-class.js';
import type { Probe, ProbeContext, ProbeResult, ProbeSample, ReasonClass } from '../types.js';
import { errorDetail } from './probe-failure.js';

/** PREFLIGHT_ENVS are the environments the check knows. */
export const PREFLIGHT_ENVS = ['dev', 'staging', 'prod'] as const;
/** PreflightEnv is one of PREFLIGHT_ENVS. */
export type PreflightEnv = (typeof PREFLIGHT_ENVS)[number];

/** REQUIRED_SUFFIXES are the variables every environment must set. */
export const REQUIRED_SUFFIXES = ['HTTP_BASE_URL', 'DATABASE', 'TOKEN_ISSUER', 'TOKEN_AUDIENCE', 'JWT_SIGNING_KEY'] as const;

/** DEFAULT_PREFLIGHT_HEALTH_PATH is the script's default health path. */
export const DEFAULT_PREFLIGHT_HEALTH_PATH = '/health';

/** PREFLIGHT_HEALTH_TIMEOUT_MS is the script's `curl --max-time 10`. */
export const PREFLIGHT_HEALTH_TIMEOUT_MS = 10_000;

/** PreflightProbeOptions configure the probe. */
export interface PreflightProbeOptions {
  readonly env: PreflightEnv;
  /** environment is the process environment to check (the daemon passes its own). */
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
}

/** variableName is `OA_SPACETIME_<ENV>_<SUFFIX>`. */
export function variableName(env: PreflightEnv, suffix: string): string {
  return `OA_SPACETIME_${env.toUpperCase()}_${suffix}`;
}

/** PreflightProbe is the `preflight` probe. */
export class PreflightProbe implements Probe {
  readonly name = 'preflight';

  constructor(private readonly options: PreflightProbeOptions) {
    if (!(PREFLIGHT_ENVS as readonly string[]).includes(options.env)) throw new ConfigError(`preflight: env must be one of ${PREFLIGHT_ENVS.join(', ')}, got ${JSON.stringify(options.env)}`);
  }

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    const { env, environment } = this.options;
    // `[[ -z "${!key:-}" ]]`: unset and empty are missing; whitespace is a value.
    const get = (suffix: string): string | undefined => {
      const v = environment[variableName(env, suffix)];
      return v === undefined || v === '' ? undefined : v;
    };
    const checks: Array<{ check: string; ok: boolean; problem?: string }> = [];
    for (const suffix of REQUIRED_SUFFIXES) {
      const present = get(suffix) !== undefined;
      checks.push({ check: suffix.toLowerCase(), ok: present, problem: present ? undefined : `missing required env: ${variableName(env, suffix)}` });
    }
    const baseUrl = get('HTTP_BASE_URL');
    let health: Record<string, unknown> = { checked: false };
    let transportReason: ReasonClass | undefined;
    const healthPath = get('HEALTH_PATH') ?? DEFAULT_PREFLIGHT_HEALTH_PATH;
    if (checks.every((c) => c.ok) && baseUrl !== undefined) {
      const baseOk = /^https?:\/\//.test(baseUrl);
      checks.push({ check: 'http_base_url_scheme', ok: baseOk, problem: baseOk ? undefined : `invalid ${variableName(env, 'HTTP_BASE_URL')}: must start with http:// or https://` });
      if (baseOk) {
        try {
          if (!healthPath.startsWith('/')) throw new ConfigError(`${variableName(env, 'HEALTH_PATH')} ${JSON.stringify(healthPath)} does not start with '/', so ${baseUrl}${healthPath} is not the host's health URL`);
          const client = new SpacetimeHttpClient({ baseUrl: baseUrl.replace(/\/$/, ''), database: get('DATABASE') ?? 'unset', timeoutMs: Math.min(this.options.timeoutMs ?? PREFLIGHT_HEALTH_TIMEOUT_MS, PREFLIGHT_HEALTH_TIMEOUT_MS) });
          const res = await client.rawGet(healthPath, { signal: ctx.signal });
          const ok = res.status < 400;
          health = { checked: true, path: healthPath, status: res.status };
          checks.push({ check: 'health', ok, problem: ok ? undefined : `health probe failed: GET ${healthPath} answered HTTP ${res.status}` });
          if (!ok) transportReason = 'http_status';
        } catch (err) {
          health = { checked: true, path: healthPath, error: errorDetail(err) };
          transportReason = err instanceof RequestError ? reasonFromError(err) : 'contract_violation';
          checks.push({ check: 'health', ok: false, problem: `health probe failed: ${errorDetail(err).message}` });
        }
      }
    }
    const ok = checks.every((c) => c.ok);
    const configOk = checks.filter((c) => c.check !== 'health').every((c) => c.ok);
    const samples: ProbeSample[] = checks.map((c) => ({ name: 'sentinel_preflight_check_ok', labels: { env, check: c.check }, value: c.ok ? 1 : 0 }));
    samples.push({ name: 'sentinel_preflight_ok', labels: { env }, value: ok ? 1 : 0 });
    return {
      ok,
      reason: ok ? 'ok' : !configOk ? 'contract_violation' : (transportReason ?? 'error'),
      durationMs: ctx.clock.nowMs() - start,
      detail: { env, problems: checks.filter((c) => !c.ok).map((c) => c.problem), health },
      samples,
    };
  }
}
