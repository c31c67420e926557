/**
 * control-service: the lab's stand-in for the OpenAgents control service
 * (`apps/openagents.com/service` at 9b2b978949), by default answering as the real one does on the
 * routes a monitor touches: `/healthz`, `/readyz`, `POST /api/sync/token`,
 * `GET /api/v1/control/status`, the runtime-routing status and evaluate routes, and the retired
 * `GET /api/chat/guest-session` (410). Every other path, the retired token aliases included, is
 * axum's empty 404. The route families live in `./control/`.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { AxumRouter, serveLab } from './axum-router.js';
import type { RouteSpec } from './axum-router.js';
import { instantAt, toSerde } from './chrono-time.js';
import type { ChronoInstant } from './chrono-time.js';
import { CONTROL_STATUS_PATH, controlStatusHandler } from './control/control-status.js';
import { adminEmailGate, protectedGates } from './control/gates.js';
import { controlHealthz, controlReadyz } from './control/health.js';
import { withControlLayers } from './control/http-layers.js';
import { LabIdentity } from './control/identity.js';
import { GUEST_SESSION_PATH, guestSessionHandler } from './control/legacy-chat.js';
import { ControlCounters } from './control/observability.js';
import {
  OverrideStore,
  RUNTIME_ROUTING_EVALUATE_PATH,
  RUNTIME_ROUTING_OVERRIDE_PATH,
  RUNTIME_ROUTING_STATUS_PATH,
  runtimeRoutingEvaluateHandler,
  runtimeRoutingOverrideHandler,
  runtimeRoutingStatusHandler,
} from './control/runtime-routing.js';
import type { RuntimeRoutingSettings } from './control/runtime-routing.js';
import { DEFAULT_SYNC_TOKEN_CONFIG, SYNC_TOKEN_PATH, SyncTokenIssuer, syncTokenHandler } from './control/sync-token.js';
import type { SyncTokenConfig } from './control/sync-token.js';
import { closeServer, listen } from './http-helpers.js';

/** ControlServiceOptions configures the control service. */
export interface ControlServiceOptions {
  readonly host: string;
  readonly port: number;
  /** sessionToken is the live session's access token. */
  readonly sessionToken: string;
  /** personalAccessToken is a PAT of the same user (accepted by the gate, refused by status and routing). */
  readonly personalAccessToken: string;
  readonly signingKey: string;
  /** syncToken overrides the issuer's defaults (issuer, audience, TTL, ...). */
  readonly syncToken?: Partial<Omit<SyncTokenConfig, 'signingKey'>>;
  readonly nowMs: () => number;
  /** subMillisecondNanos adds the nanoseconds chrono would see below the lab clock's milliseconds. */
  readonly subMillisecondNanos?: () => number;
  /** failureRatio is the `token_failure_ratio` knob, read on every issue attempt. */
  readonly failureRatio: () => number;
  readonly random: () => number;
  readonly runtimeRouting: () => RuntimeRoutingSettings;
  /** evaluateFailsWith is the `runtime_routing.evaluate_fails_with` knob. */
  readonly evaluateFailsWith: () => number | null;
  /** isAdmin is the `control_admin` knob: the lab user's email is in the control's admin emails. */
  readonly isAdmin: () => boolean;
  /** ready is the control half of the `readiness` knob. */
  readonly ready: () => boolean;
  readonly logger: Logger;
}

function defaultSubMillisecondNanos(): number {
  return Number(process.hrtime.bigint() % 1_000_000n);
}

/** ControlService is the running control service. */
export class ControlService {
  private readonly server: Server;
  private readonly counterValues: ControlCounters;
  /** identity is the lab's user, session and PAT. */
  readonly identity: LabIdentity;
  private startedAtMs: number;

  constructor(private readonly opts: ControlServiceOptions) {
    this.startedAtMs = opts.nowMs();
    // The secrets are read from opts at every use, so a rotated secret takes effect at once.
    this.identity = new LabIdentity({
      get sessionToken() {
        return opts.sessionToken;
      },
      get personalAccessToken() {
        return opts.personalAccessToken;
      },
    });
    this.counterValues = new ControlCounters(opts.logger.child({ service: 'lab-control' }));
    const issuer = new SyncTokenIssuer((): SyncTokenConfig => ({ ...DEFAULT_SYNC_TOKEN_CONFIG, ...opts.syncToken, signingKey: opts.signingKey }));
    const now = (): ChronoInstant => instantAt(opts.nowMs(), (opts.subMillisecondNanos ?? defaultSubMillisecondNanos)());
    const gates = protectedGates(this.identity);
    const overrides = new OverrideStore();
    const routingDeps = { identity: this.identity, settings: opts.runtimeRouting, evaluateFailsWith: opts.evaluateFailsWith, overrides, nowText: () => toSerde(now()) };
    const routes: RouteSpec[] = [
      { path: '/healthz', methods: { GET: () => controlHealthz((opts.nowMs() - this.startedAtMs) / 1000) } },
      { path: '/readyz', methods: { GET: () => controlReadyz(opts.ready()) } },
      {
        path: SYNC_TOKEN_PATH,
        gates,
        methods: {
          POST: syncTokenHandler({
            identity: this.identity,
            issuer,
            counters: this.counterValues,
            now,
            injectedFailure: () => (opts.random() < opts.failureRatio() ? { kind: 'unavailable', message: 'sync token signing key is not configured' } : undefined),
          }),
        },
      },
      {
        path: CONTROL_STATUS_PATH,
        gates,
        methods: { GET: controlStatusHandler({ identity: this.identity, runtimeRouting: opts.runtimeRouting, overrides, defaultTransport: () => 'spacetime_ws' }) },
      },
      { path: RUNTIME_ROUTING_STATUS_PATH, gates, methods: { GET: runtimeRoutingStatusHandler(routingDeps) } },
      { path: RUNTIME_ROUTING_EVALUATE_PATH, gates, methods: { POST: runtimeRoutingEvaluateHandler(routingDeps) } },
      {
        path: RUNTIME_ROUTING_OVERRIDE_PATH,
        gates: [...gates, adminEmailGate(this.identity, () => opts.isAdmin())],
        methods: { POST: runtimeRoutingOverrideHandler(routingDeps) },
      },
      { path: GUEST_SESSION_PATH, gates, methods: { GET: guestSessionHandler(this.identity, this.counterValues) } },
    ];
    const router = new AxumRouter(routes);
    this.server = serveLab(
      withControlLayers((req) => router.dispatch(req)),
      opts.logger,
      'control',
    );
  }

  /** start listens and resolves to the base URL. */
  start(): Promise<string> {
    return listen(this.server, this.opts.host, this.opts.port);
  }

  /** close stops the server. */
  close(deadlineMs = 2000): Promise<void> {
    return closeServer(this.server, deadlineMs);
  }

  /** counters are the in-process counters (ground truth; the real service exposes them nowhere). */
  counters(): Record<string, number> {
    return this.counterValues.snapshot();
  }

  /** restart is a process restart: counters and uptime start again from zero. */
  restart(): void {
    this.counterValues.reset();
    this.startedAtMs = this.opts.nowMs();
  }
}
