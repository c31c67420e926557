/**
 * runtime-routing: the control service's runtime-routing endpoints (OpenAgents
 * `apps/openagents.com/service/src/runtime_admin.rs:224-286`, `runtime_routing.rs:32-415` at
 * 9b2b978949). Both need a Bearer *session* token (a PAT or a cookie is 401 `Unauthenticated.`);
 * evaluate's JSON body is extracted before that check. Canary bucketing uses the session user:
 * sha256(`<seed>|user|<user_id>`), first 4 bytes big-endian, % 100 < percent; the rollout
 * scripts' `cohort_key` is an unknown field and ignored.
 */
import { createHash } from 'node:crypto';
import type { LabRequest, LabResponse } from '../axum-router.js';
import type { StructSchema } from '../axum-json.js';
import { extractJson } from '../axum-json.js';
import { f64 } from '../serde-json.js';
import { errorResponse, forbidden, okData, unauthorized, validationError } from './api-envelope.js';
import { bearerToken } from './identity.js';
import type { LabIdentity } from './identity.js';

/** RUNTIME_ROUTING_STATUS_PATH and RUNTIME_ROUTING_EVALUATE_PATH are the two routes. */
export const RUNTIME_ROUTING_STATUS_PATH = '/api/v1/control/runtime-routing/status';
export const RUNTIME_ROUTING_EVALUATE_PATH = '/api/v1/control/runtime-routing/evaluate';

/** RuntimeDriver serializes as `control_service` / `runtime_service`. */
export type RuntimeDriver = 'control_service' | 'runtime_service';

/** RuntimeRoutingSettings are the routing configuration (`config.rs:56-64`, `:556-615`). */
export interface RuntimeRoutingSettings {
  readonly defaultDriver: RuntimeDriver;
  readonly forcedDriver: RuntimeDriver | null;
  readonly forceControlService: boolean;
  readonly overridesEnabled: boolean;
  readonly canaryUserPercent: number;
  readonly canaryAutopilotPercent: number;
  readonly canarySeed: string;
  readonly shadowEnabled: boolean;
  readonly shadowSampleRate: number;
  readonly shadowMaxCaptureBytes: number;
}

/** DEFAULT_RUNTIME_ROUTING is the control service's defaults. */
export const DEFAULT_RUNTIME_ROUTING: RuntimeRoutingSettings = {
  defaultDriver: 'control_service',
  forcedDriver: null,
  forceControlService: false,
  overridesEnabled: true,
  canaryUserPercent: 0,
  canaryAutopilotPercent: 0,
  canarySeed: 'runtime-canary-v1',
  shadowEnabled: false,
  shadowSampleRate: 1.0,
  shadowMaxCaptureBytes: 200_000,
};

/** RUNTIME_ROUTING_EVALUATE_REQUEST is `RuntimeRoutingEvaluateRequest` (`lib.rs:1075-1082`). */
export const RUNTIME_ROUTING_EVALUATE_REQUEST: StructSchema = {
  name: 'RuntimeRoutingEvaluateRequest',
  fields: [
    { name: 'thread_id', kind: 'string' },
    { name: 'user_id', kind: 'option_string', defaulted: true },
    { name: 'autopilot_id', kind: 'option_string', defaulted: true },
  ],
};

/** inCanary is `in_canary`. */
export function inCanary(seed: string, scope: string, scopeId: string, percent: number): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  const digest = createHash('sha256').update(`${seed}|${scope}|${scopeId}`).digest();
  return digest.readUInt32BE(0) % 100 < percent;
}

function shadowMirrored(s: RuntimeRoutingSettings, userId: string, threadId: string, driver: RuntimeDriver): boolean {
  if (!s.shadowEnabled || driver !== 'control_service') return false;
  const rate = Math.min(1, Math.max(0, s.shadowSampleRate));
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const digest = createHash('sha256').update(`${threadId}|${userId}`).digest();
  return digest.readUInt32BE(0) % 10_000 < Math.round(rate * 10_000);
}

/** routingStatus is `RuntimeRoutingStatus` (no overrides are stored in the lab). */
export function routingStatus(s: RuntimeRoutingSettings): Record<string, unknown> {
  return {
    default_driver: s.defaultDriver,
    forced_driver: s.forcedDriver,
    force_control_service: s.forceControlService,
    overrides_enabled: s.overridesEnabled,
    canary_user_percent: s.canaryUserPercent,
    canary_autopilot_percent: s.canaryAutopilotPercent,
    shadow: { enabled: s.shadowEnabled, sample_rate: f64(s.shadowSampleRate), max_capture_bytes: s.shadowMaxCaptureBytes },
    overrides: [],
  };
}

/** resolveRouting is `RuntimeRoutingService::resolve` without stored overrides or bindings. */
export function resolveRouting(s: RuntimeRoutingSettings, userId: string, threadId: string, autopilotId: string | undefined): Record<string, unknown> {
  const decide = (driver: RuntimeDriver, reason: string, canaryScope?: string): Record<string, unknown> => {
    const mirrored = shadowMirrored(s, userId, threadId, driver);
    return {
      driver,
      reason,
      default_driver: s.defaultDriver,
      forced_driver: s.forcedDriver ?? undefined,
      force_control_service: s.forceControlService,
      canary_scope: canaryScope,
      autopilot_id: autopilotId,
      shadow: { enabled: s.shadowEnabled, mirrored, sample_rate: f64(s.shadowSampleRate), shadow_driver: mirrored ? 'runtime_service' : undefined },
    };
  };
  if (s.forceControlService) return decide('control_service', 'force_control_service');
  if (s.forcedDriver !== null) return decide(s.forcedDriver, 'force_driver');
  if (s.canaryUserPercent > 0 && inCanary(s.canarySeed, 'user', userId, s.canaryUserPercent)) return decide('runtime_service', 'user_canary', 'user');
  if (autopilotId !== undefined && s.canaryAutopilotPercent > 0 && inCanary(s.canarySeed, 'autopilot', autopilotId, s.canaryAutopilotPercent)) {
    return decide('runtime_service', 'autopilot_canary', 'autopilot');
  }
  return decide(s.defaultDriver, 'default_driver');
}

/** RuntimeRoutingRouteDeps: the settings in effect and the lab's failure knob. */
export interface RuntimeRoutingRouteDeps {
  readonly identity: LabIdentity;
  readonly settings: () => RuntimeRoutingSettings;
  /** evaluateFailsWith, when a status, makes evaluate answer that 5xx with the internal_error envelope. */
  readonly evaluateFailsWith: () => number | null;
}

/** runtimeRoutingStatusHandler is `runtime_routing_status`. */
export function runtimeRoutingStatusHandler(deps: RuntimeRoutingRouteDeps): (req: LabRequest) => LabResponse {
  return (req) => {
    if (!deps.identity.session(bearerToken(req.headers))) return unauthorized();
    return okData(routingStatus(deps.settings()));
  };
}

/** runtimeRoutingEvaluateHandler is `runtime_routing_evaluate`. */
export function runtimeRoutingEvaluateHandler(deps: RuntimeRoutingRouteDeps): (req: LabRequest) => LabResponse {
  return (req) => {
    const body = extractJson(req, RUNTIME_ROUTING_EVALUATE_REQUEST);
    if (!body.ok) return body.response;
    const session = deps.identity.session(bearerToken(req.headers));
    if (!session) return unauthorized();
    const threadId = (body.value.thread_id as string).trim();
    if (threadId === '') return validationError('thread_id', 'Thread id is required.');
    const requestedUser = typeof body.value.user_id === 'string' ? body.value.user_id.trim() : '';
    const userId = requestedUser !== '' ? requestedUser : session.userId;
    if (userId !== session.userId) return forbidden('You may only evaluate runtime routing for your user.');
    const failStatus = deps.evaluateFailsWith();
    if (failStatus !== null) return errorResponse('internal_error', 'Internal server error.', failStatus);
    const autopilot = typeof body.value.autopilot_id === 'string' ? body.value.autopilot_id.trim() : '';
    return okData(resolveRouting(deps.settings(), userId.trim(), threadId, autopilot === '' ? undefined : autopilot));
  };
}
