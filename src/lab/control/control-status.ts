/**
 * control-status: `GET /api/v1/control/status` (OpenAgents
 * `apps/openagents.com/service/src/lib.rs:14529-14567` at 9b2b978949). After the router's gates
 * the handler wants `Authorization: Bearer` with a live *session* token (no PAT, no cookie): else
 * 401 `Unauthenticated.`. The body carries no counters of any kind.
 */
import type { LabRequest, LabResponse } from '../axum-router.js';
import { jsonResponse } from '../axum-router.js';
import { unauthorized } from './api-envelope.js';
import { ROUTE_SPLIT_STATUS, RUNTIME_ROUTE_OWNERSHIP } from './control-status-data.js';
import { CONTROL_SERVICE_NAME } from './health.js';
import { bearerToken } from './identity.js';
import type { LabIdentity } from './identity.js';
import { routingStatus } from './runtime-routing.js';
import type { OverrideStore, RuntimeRoutingSettings } from './runtime-routing.js';
import { SYNC_TOKEN_PATH } from './sync-token.js';

/** CONTROL_STATUS_PATH is `ROUTE_V1_CONTROL_STATUS`. */
export const CONTROL_STATUS_PATH = '/api/v1/control/status';

/** ControlStatusDeps: who may ask and the routing settings in effect. */
export interface ControlStatusDeps {
  readonly identity: LabIdentity;
  readonly runtimeRouting: () => RuntimeRoutingSettings;
  readonly overrides: OverrideStore;
  /** defaultTransport is `syncCutover.defaultTransport` (the lab's `control_default_transport` knob). */
  readonly defaultTransport: () => string;
}

/** controlStatusHandler is `control_status`. */
export function controlStatusHandler(deps: ControlStatusDeps): (req: LabRequest) => LabResponse {
  return (req) => {
    const session = deps.identity.session(bearerToken(req.headers));
    if (!session) return unauthorized();
    return jsonResponse(200, {
      data: {
        service: CONTROL_SERVICE_NAME,
        authProvider: 'workos',
        activeOrgId: session.activeOrgId,
        memberships: session.memberships,
        compatibility: {
          protocolVersion: 'openagents.control.v1',
          minClientBuildId: '00000000T000000Z',
          maxClientBuildId: null,
          minSchemaVersion: 1,
          maxSchemaVersion: 1,
        },
        routeSplit: ROUTE_SPLIT_STATUS,
        runtimeRouting: routingStatus(deps.runtimeRouting(), deps.overrides.list()),
        runtimeRouteOwnership: RUNTIME_ROUTE_OWNERSHIP,
        syncCutover: { defaultTransport: deps.defaultTransport(), syncTokenRoute: SYNC_TOKEN_PATH },
      },
    });
  };
}
