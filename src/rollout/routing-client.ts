/**
 * RoutingClient: the control service's runtime-routing routes, always with the session bearer
 * (status and evaluate refuse anything else, PATs included: OpenAgents
 * `apps/openagents.com/service/src/runtime_admin.rs:224-286` at 9b2b978949).
 *
 * - `GET  /api/v1/control/runtime-routing/status`: canary percentages, forced driver, overrides;
 * - `POST /api/v1/control/runtime-routing/evaluate`: the routing decision for the session user
 *   (`thread_id` required; `cohort_key` is ignored by the service, which buckets by session user);
 * - `POST /api/v1/control/runtime-routing/override`: a per-user or per-autopilot driver override
 *   (`runtime_admin.rs:288-378`), which the rollback drill uses to force `control_service`.
 */
import { credentialOf, httpRequest, isJsonObject, parseJsonBig, redactSecrets } from '../spacetime/index.js';
import type { Credential, CredentialInput, JsonObject, JsonValue } from '../spacetime/index.js';
import { RequestError } from '../errors.js';

/** RUNTIME_ROUTING_STATUS_PATH, RUNTIME_ROUTING_EVALUATE_PATH and RUNTIME_ROUTING_OVERRIDE_PATH are the control's routes. */
export const RUNTIME_ROUTING_STATUS_PATH = '/api/v1/control/runtime-routing/status';
export const RUNTIME_ROUTING_EVALUATE_PATH = '/api/v1/control/runtime-routing/evaluate';
export const RUNTIME_ROUTING_OVERRIDE_PATH = '/api/v1/control/runtime-routing/override';

/** RoutingStatus is the part of the status body the rollout reads. */
export interface RoutingStatus {
  readonly canaryUserPercent: number;
  readonly canaryAutopilotPercent: number;
  readonly forceControlService: boolean;
  readonly forcedDriver: string | null;
  readonly overridesEnabled: boolean;
  readonly overrides: readonly JsonObject[];
}

/** StatusRead is a status answer, or why there is none (the status is then "not reachable"). */
export type StatusRead = { readonly ok: true; readonly status: RoutingStatus } | { readonly ok: false; readonly problem: string; readonly httpStatus?: number };

/** RoutingCall is one POST's answer: any HTTP status; `httpStatus` 0 when no response came. */
export interface RoutingCall {
  readonly httpStatus: number;
  readonly body: string;
  readonly durationMs: number;
  /** error says why no response came (transport failure, timeout). */
  readonly error?: string;
  /** data is `body.data` when the body is `{"data": {...}}`. */
  readonly data?: JsonObject;
}

/** RoutingClientOptions configure the client; the session token never leaves it except in the header. */
export interface RoutingClientOptions {
  readonly baseUrl: string;
  /** sessionToken is read at every request, so a rotated secret file is in effect at the next one. */
  readonly sessionToken: CredentialInput;
  readonly timeoutMs: number;
}

const MAX_BYTES = 1024 * 1024;

function joined(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  return url;
}

function number(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

/** RoutingClient calls the runtime-routing routes. */
export class RoutingClient {
  private readonly sessionToken: Credential;

  constructor(private readonly options: RoutingClientOptions) {
    this.sessionToken = credentialOf(options.sessionToken);
  }

  /** endpoint names a route for messages (no token). */
  endpoint(path: string): string {
    return joined(this.options.baseUrl, path).href;
  }

  /** status reads the routing status; any failure is a `problem`, never a throw. */
  async status(signal?: AbortSignal): Promise<StatusRead> {
    let res;
    try {
      const token = this.sessionToken.reveal();
      res = await httpRequest({
        method: 'GET',
        url: joined(this.options.baseUrl, RUNTIME_ROUTING_STATUS_PATH),
        headers: { accept: 'application/json', authorization: `Bearer ${token}` },
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: MAX_BYTES,
        signal,
        secrets: [token],
      });
    } catch (err) {
      return { ok: false, problem: (err as Error).message };
    }
    if (res.status !== 200) return { ok: false, httpStatus: res.status, problem: `${res.endpoint}: HTTP ${res.status}` };
    let doc: JsonValue;
    try {
      doc = parseJsonBig(res.body);
    } catch {
      return { ok: false, httpStatus: res.status, problem: `${res.endpoint}: the body is not JSON` };
    }
    const data = isJsonObject(doc) && isJsonObject(doc.data) ? doc.data : undefined;
    const user = number(data?.canary_user_percent);
    const autopilot = number(data?.canary_autopilot_percent);
    if (!data || user === undefined || autopilot === undefined) {
      return { ok: false, httpStatus: res.status, problem: `${res.endpoint}: expected {"data": {"canary_user_percent": N, "canary_autopilot_percent": N, ...}}` };
    }
    const forced = data.forced_driver;
    return {
      ok: true,
      status: {
        canaryUserPercent: user,
        canaryAutopilotPercent: autopilot,
        forceControlService: data.force_control_service === true,
        forcedDriver: typeof forced === 'string' ? forced : null,
        overridesEnabled: data.overrides_enabled !== false,
        overrides: Array.isArray(data.overrides) ? data.overrides.filter((o): o is JsonObject => isJsonObject(o)) : [],
      },
    };
  }

  /** evaluate posts `body` to the evaluate route, exactly as given. */
  evaluate(body: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<RoutingCall> {
    return this.post(RUNTIME_ROUTING_EVALUATE_PATH, JSON.stringify(body), signal);
  }

  /** override posts a driver override (`scope_type`, `scope_id`, `driver`, `is_active`, `reason`). */
  override(body: Readonly<Record<string, string | boolean>>, signal?: AbortSignal): Promise<RoutingCall> {
    return this.post(RUNTIME_ROUTING_OVERRIDE_PATH, JSON.stringify(body), signal);
  }

  private async post(path: string, body: string, signal?: AbortSignal): Promise<RoutingCall> {
    const started = performance.now();
    try {
      const token = this.sessionToken.reveal();
      const res = await httpRequest({
        method: 'POST',
        url: joined(this.options.baseUrl, path),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: MAX_BYTES,
        signal,
        secrets: [token],
      });
      let data: JsonObject | undefined;
      try {
        const doc = parseJsonBig(res.body);
        if (isJsonObject(doc) && isJsonObject(doc.data)) data = doc.data;
      } catch {
        data = undefined;
      }
      return { httpStatus: res.status, body: redactSecrets(res.body, [token]), durationMs: performance.now() - started, ...(data ? { data } : {}) };
    } catch (err) {
      if (signal?.aborted) throw err;
      const message = err instanceof RequestError ? err.message : String(err);
      return { httpStatus: 0, body: '', durationMs: performance.now() - started, error: message };
    }
  }
}
