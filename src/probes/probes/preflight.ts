/**
 * preflight: the operators' provision check for one environment (SYSTEM.md): the required
 * `OA_SPACETIME_<ENV>_*` variables are set, the base URL is http(s), the optional paths are
 * well-formed, and the health endpoint answers. The signing key is checked for presence only;
 * no value from the environment reaches the result.
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

/** DEFAULT_PREFLIGHT_HEALTH_PATH and DEFAULT_PREFLIGHT_WEBSOCKET_PATH are SYSTEM.md's defaults. */
export const DEFAULT_PREFLIGHT_HEALTH_PATH = '/health';
export const DEFAULT_PREFLIGHT_WEBSOCKET_PATH = '/v1/database/{database}/subscribe';

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
    const get = (suffix: string): string | undefined => {
      const v = environment[variableName(env, suffix)];
      return v === undefined || v.trim() === '' ? undefined : v.trim();
    };
    const checks: Array<{ check: string; ok: boolean; problem?: string }> = [];
    for (const suffix of REQUIRED_SUFFIXES) {
      const present = get(suffix) !== undefined;
      checks.push({ check: suffix.toLowerCase(), ok: present, problem: present ? undefined : `${variableName(env, suffix)} is not set` });
    }
    const baseUrl = get('HTTP_BASE_URL');
    let baseOk = false;
    if (baseUrl !== undefined) {
      try {
        const u = new URL(baseUrl);
        baseOk = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        baseOk = false;
      }
      checks.push({ check: 'http_base_url_scheme', ok: baseOk, problem: baseOk ? undefined : `${variableName(env, 'HTTP_BASE_URL')} must be an http(s) URL` });
    }
    const wsPath = get('WEBSOCKET_PATH') ?? DEFAULT_PREFLIGHT_WEBSOCKET_PATH;
    const wsOk = wsPath.startsWith('/');
    checks.push({ check: 'websocket_path', ok: wsOk, problem: wsOk ? undefined : `${variableName(env, 'WEBSOCKET_PATH')} must start with '/'` });
    const healthPath = get('HEALTH_PATH') ?? DEFAULT_PREFLIGHT_HEALTH_PATH;
    const healthPathOk = healthPath.startsWith('/');
    checks.push({ check: 'health_path', ok: healthPathOk, problem: healthPathOk ? undefined : `${variableName(env, 'HEALTH_PATH')} must start with '/'` });

    let transportReason: ReasonClass | undefined;
    let health: Record<string, unknown> = { checked: false };
    if (baseOk && healthPathOk && baseUrl !== undefined) {
      try {
        const client = new SpacetimeHttpClient({ baseUrl: baseUrl.replace(/\/+$/, ''), database: get('DATABASE') ?? 'unset', timeoutMs: this.options.timeoutMs });
        const res = await client.rawGet(healthPath, { signal: ctx.signal });
        const ok = res.status >= 200 && res.status < 300;
        health = { checked: true, path: healthPath, status: res.status };
        checks.push({ check: 'health', ok, problem: ok ? undefined : `GET ${healthPath} answered HTTP ${res.status}` });
        if (!ok) transportReason = 'http_status';
      } catch (err) {
        health = { checked: true, path: healthPath, error: errorDetail(err) };
        transportReason = err instanceof RequestError || err instanceof ConfigError ? reasonFromError(err) : 'error';
        checks.push({ check: 'health', ok: false, problem: `GET ${healthPath} failed: ${errorDetail(err).message}` });
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
      detail: { env, problems: checks.filter((c) => !c.ok).map((c) => c.problem), health, websocket_path: wsPath },
      samples,
    };
  }
}
