/**
 * runtime-routing: the control service's runtime-routing endpoints (OpenAgents
 * `apps/openagents.com/service/src/runtime_admin.rs:224-380`, `runtime_routing.rs:32-415`,
 * `domain_store.rs:112-122`, `:1151-1223` at 9b2b978949). Status, evaluate and override need a
 * Bearer *session* token (a PAT or a cookie is 401 `Unauthenticated.`); a body is extracted before
 * that check. Override is also behind the admin-email gate (403 `Forbidden.` unless the user's
 * email is in the control's admin list, empty by default). Canary bucketing uses the session
 * user: sha256(`<seed>|user|<user_id>`), first 4 bytes big-endian, % 100 < percent; the rollout
 * scripts' `cohort_key` is an unknown field and ignored.
 */
import { createHash, randomUUID } from 'node:crypto';
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
export const RUNTIME_ROUTING_OVERRIDE_PATH = '/api/v1/control/runtime-routing/override';

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

/** RUNTIME_ROUTING_OVERRIDE_REQUEST is `RuntimeRoutingOverrideRequest` (`lib.rs:1084-1095`). */
export const RUNTIME_ROUTING_OVERRIDE_REQUEST: StructSchema = {
  name: 'RuntimeRoutingOverrideRequest',
  fields: [
    { name: 'scope_type', kind: 'string' },
    { name: 'scope_id', kind: 'string' },
    { name: 'driver', kind: 'string' },
    { name: 'is_active', kind: 'option_bool', defaulted: true },
    { name: 'reason', kind: 'option_string', defaulted: true },
    { name: 'meta', kind: 'option_value', defaulted: true },
  ],
};

/** parseDriver is `RuntimeDriver::parse`. */
export function parseDriver(value: string): RuntimeDriver | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'control_service' || v === 'control') return 'control_service';
  if (v === 'runtime_service' || v === 'runtime') return 'runtime_service';
  return undefined;
}

/** OverrideRecord is `RuntimeDriverOverrideRecord`, in serialization order. */
export interface OverrideRecord {
  readonly id: string;
  readonly scope_type: string;
  readonly scope_id: string;
  driver: string;
  is_active: boolean;
  reason: string | null;
  meta: unknown;
  readonly created_at: string;
  updated_at: string;
  /** updatedAtOrder sorts the status list newest first (not serialized). */
  updatedAtOrder?: number;
}

/** OverrideStore is the domain store's override table (kept across control restarts, as a database is). */
export class OverrideStore {
  private readonly rows = new Map<string, OverrideRecord>();
  private sequence = 0;

  /** upsert is `upsert_runtime_driver_override`. */
  upsert(input: { scopeType: string; scopeId: string; driver: string; isActive: boolean; reason: string | null; meta: unknown }, now: string): OverrideRecord {
    const key = `${input.scopeType}:${input.scopeId}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { id: `rdo_${randomUUID().replaceAll('-', '')}`, scope_type: input.scopeType, scope_id: input.scopeId, driver: input.driver, is_active: input.isActive, reason: input.reason, meta: input.meta ?? null, created_at: now, updated_at: now };
      this.rows.set(key, row);
    }
    row.driver = input.driver;
    row.is_active = input.isActive;
    row.reason = input.reason;
    if (input.meta !== undefined && input.meta !== null) row.meta = input.meta;
    row.updated_at = now;
    this.sequence += 1;
    row.updatedAtOrder = this.sequence;
    return row;
  }

  /** active is `find_active_runtime_driver_override`: the row's driver when active. */
  active(scopeType: string, scopeId: string): RuntimeDriver | undefined {
    const row = this.rows.get(`${scopeType}:${scopeId.trim()}`);
    return row?.is_active ? parseDriver(row.driver) : undefined;
  }

  /** list is `list_runtime_driver_overrides`: newest update first. */
  list(): OverrideRecord[] {
    return [...this.rows.values()].sort((a, b) => (b.updatedAtOrder ?? 0) - (a.updatedAtOrder ?? 0));
  }
}

function serializeOverride(r: OverrideRecord): Record<string, unknown> {
  return { id: r.id, scope_type: r.scope_type, scope_id: r.scope_id, driver: r.driver, is_active: r.is_active, reason: r.reason, meta: r.meta, created_at: r.created_at, updated_at: r.updated_at };
}

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

/** routingStatus is `RuntimeRoutingStatus`. */
export function routingStatus(s: RuntimeRoutingSettings, overrides: readonly OverrideRecord[] = []): Record<string, unknown> {
  return {
    default_driver: s.defaultDriver,
    forced_driver: s.forcedDriver,
    force_control_service: s.forceControlService,
    overrides_enabled: s.overridesEnabled,
    canary_user_percent: s.canaryUserPercent,
    canary_autopilot_percent: s.canaryAutopilotPercent,
    shadow: { enabled: s.shadowEnabled, sample_rate: f64(s.shadowSampleRate), max_capture_bytes: s.shadowMaxCaptureBytes },
    overrides: overrides.map(serializeOverride),
  };
}

/** resolveRouting is `RuntimeRoutingService::resolve` (the lab has no autopilot bindings). */
export function resolveRouting(s: RuntimeRoutingSettings, userId: string, threadId: string, autopilotId: string | undefined, overrides?: OverrideStore): Record<string, unknown> {
  const decide = (driver: RuntimeDriver, reason: string, canaryScope?: string, extra: Record<string, unknown> = {}): Record<string, unknown> => {
    const mirrored = shadowMirrored(s, userId, threadId, driver);
    return {
      driver,
      reason,
      default_driver: s.defaultDriver,
      forced_driver: s.forcedDriver ?? undefined,
      force_control_service: s.forceControlService,
      user_override: extra.user_override,
      autopilot_override: extra.autopilot_override,
      canary_scope: canaryScope,
      autopilot_id: autopilotId,
      shadow: { enabled: s.shadowEnabled, mirrored, sample_rate: f64(s.shadowSampleRate), shadow_driver: mirrored ? 'runtime_service' : undefined },
    };
  };
  if (s.forceControlService) return decide('control_service', 'force_control_service');
  if (s.forcedDriver !== null) return decide(s.forcedDriver, 'force_driver');
  if (s.overridesEnabled && overrides) {
    const user = overrides.active('user', userId);
    if (user) return decide(user, 'user_override', undefined, { user_override: user });
    const autopilot = autopilotId !== undefined ? overrides.active('autopilot', autopilotId) : undefined;
    if (autopilot) return decide(autopilot, 'autopilot_override', undefined, { autopilot_override: autopilot });
  }
  if (s.canaryUserPercent > 0 && inCanary(s.canarySeed, 'user', userId, s.canaryUserPercent)) return decide('runtime_service', 'user_canary', 'user');
  if (autopilotId !== undefined && s.canaryAutopilotPercent > 0 && inCanary(s.canarySeed, 'autopilot', autopilotId, s.canaryAutopilotPercent)) {
    return decide('runtime_service', 'autopilot_canary', 'autopilot');
  }
  return decide(s.defaultDriver, 'default_driver');
}

/** RuntimeRoutingRouteDeps: the settings in effect, the override table and the lab's failure knob. */
export interface RuntimeRoutingRouteDeps {
  readonly identity: LabIdentity;
  readonly settings: () => RuntimeRoutingSettings;
  readonly overrides: OverrideStore;
  /** nowText is the current time as chrono serializes a `DateTime<Utc>`. */
  readonly nowText: () => string;
  /** evaluateFailsWith, when a status, makes evaluate answer that 5xx with the internal_error envelope. */
  readonly evaluateFailsWith: () => number | null;
}

/** runtimeRoutingStatusHandler is `runtime_routing_status`. */
export function runtimeRoutingStatusHandler(deps: RuntimeRoutingRouteDeps): (req: LabRequest) => LabResponse {
  return (req) => {
    if (!deps.identity.session(bearerToken(req.headers))) return unauthorized();
    return okData(routingStatus(deps.settings(), deps.overrides.list()));
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
    return okData(resolveRouting(deps.settings(), userId.trim(), threadId, autopilot === '' ? undefined : autopilot, deps.overrides));
  };
}

/** runtimeRoutingOverrideHandler is `runtime_routing_override` (the admin-email gate ran before). */
export function runtimeRoutingOverrideHandler(deps: RuntimeRoutingRouteDeps): (req: LabRequest) => LabResponse {
  return (req) => {
    const body = extractJson(req, RUNTIME_ROUTING_OVERRIDE_REQUEST);
    if (!body.ok) return body.response;
    if (!deps.identity.session(bearerToken(req.headers))) return unauthorized();
    const v = body.value;
    const scopeType = (v.scope_type as string).trim().toLowerCase();
    if (scopeType !== 'user' && scopeType !== 'autopilot') return validationError('scope_type', 'Scope type must be one of: user, autopilot.');
    const scopeId = (v.scope_id as string).trim();
    if (scopeId === '') return validationError('scope_id', 'Scope id is required.');
    if ([...scopeId].length > 160) return validationError('scope_id', 'Scope id may not be greater than 160 characters.');
    const driver = parseDriver(v.driver as string);
    if (!driver) return validationError('driver', 'Driver must be one of: control_service, runtime_service (legacy/elixir accepted).');
    const reason = typeof v.reason === 'string' && v.reason.trim() !== '' ? v.reason.trim() : null;
    if (reason !== null && [...reason].length > 255) return validationError('reason', 'Reason may not be greater than 255 characters.');
    const meta = v.meta !== null && typeof v.meta === 'object' && 'json' in v.meta ? v.meta.json : null;
    const record = deps.overrides.upsert({ scopeType, scopeId, driver, isActive: typeof v.is_active === 'boolean' ? v.is_active : true, reason, meta }, deps.nowText());
    return okData({ override: serializeOverride(record), status: routingStatus(deps.settings(), deps.overrides.list()) });
  };
}
