/**
 * lab: `startLab` composes the embedded reference system: a SpacetimeDB-compatible host for the
 * `autopilot-sync` database, the runtime and control services, the traffic generator and the
 * admin API, each on its own loopback port, all driven by one set of knobs.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';
import { SystemClock } from '../time/index.js';
import { LabKnobError } from '../errors.js';
import { AdminApi } from './admin-api.js';
import { ControlService } from './control-service.js';
import { DEFAULT_RUNTIME_ROUTING } from './control/runtime-routing.js';
import type { LabKnobs, RebootstrapFault, ResumeFault } from './knobs.js';
import type { LabSecrets, SecretName } from './lab-secrets.js';
import { LabSecretStore } from './lab-secrets.js';
import { defaultKnobs, parseKnobPatch } from './knobs.js';
import type { AuthFailureCounters, RuntimeSnapshot } from './runtime-service.js';
import { RuntimeService, runtimeMetricsBody } from './runtime-service.js';
import { ModuleDb } from './spacetimedb/module-db.js';
import type { ConnectionInfo } from './spacetimedb/spacetime-server.js';
import { SpacetimeServer } from './spacetimedb/spacetime-server.js';
import type { ClientState, SimulatedClientOptions, TrafficOptions } from './traffic.js';
import { DEFAULT_TRAFFIC, SENTINEL_CANARY_PREFIX, TrafficGenerator } from './traffic.js';

/** DEFAULT_LAB_PORTS are the fixed ports of `sentinel lab` (the ones config/lab.yaml names). */
export const DEFAULT_LAB_PORTS = { spacetimedb: 17300, runtime: 17301, control: 17302, admin: 17303 } as const;

/** DEFAULT_DATABASE_NAME is the database the lab serves. */
export const DEFAULT_DATABASE_NAME = 'autopilot-sync';

/** LabPorts are the four listening ports (0 = ephemeral). */
export interface LabPorts {
  readonly spacetimedb: number;
  readonly runtime: number;
  readonly control: number;
  readonly admin: number;
}

/** LabUrls are the base URLs the lab serves. */
export interface LabUrls {
  readonly spacetimedb: string;
  readonly runtime: string;
  readonly control: string;
  readonly admin: string;
}

/** LabTrafficOptions are the traffic settings a caller may override. */
export interface LabTrafficOptions {
  readonly streams?: readonly string[];
  readonly clients?: readonly SimulatedClientOptions[];
  readonly ackIntervalMs?: number;
  /** slowApplyPerSecond is how fast a slow client applies (events/s per stream; default 0). */
  readonly slowApplyPerSecond?: number;
}

/** LabOptions configures `startLab`; every field has a default. */
export interface LabOptions {
  readonly host?: string;
  readonly ports?: Partial<LabPorts>;
  readonly databaseName?: string;
  /**
   * stateDir keeps `secrets/*` (mode 0600; reused at the next start, see lab-secrets), SpacetimeDB's
   * identity key and, with `persist`, the database file.
   */
  readonly stateDir?: string;
  /** persist keeps the module's tables in `<stateDir>/autopilot-sync.sqlite` instead of memory. */
  readonly persist?: boolean;
  readonly secrets?: Partial<LabSecrets>;
  /** rotateSecrets starts from fresh secrets instead of those in `<stateDir>/secrets/`. */
  readonly rotateSecrets?: boolean;
  readonly traffic?: LabTrafficOptions;
  /** knobs are applied at start, as a `POST /lab/knobs` body would be. */
  readonly knobs?: Record<string, unknown>;
  /** pingIntervalMs: WebSocket Ping period (SpacetimeDB default 15 s). */
  readonly pingIntervalMs?: number;
  /** idleTimeoutMs: drop a WebSocket that sent nothing for this long (default 30 s). */
  readonly idleTimeoutMs?: number;
  /** tickMs: period of the traffic and counter ticker (default 100 ms). */
  readonly tickMs?: number;
  readonly tokenIssuer?: string;
  readonly tokenAudience?: string;
  readonly tokenTtlSeconds?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** random is the source for failure ratios (tests may pin it). */
  readonly random?: () => number;
}

/** StreamState is one stream's ground truth. */
export interface StreamState {
  readonly stream_id: string;
  readonly head_seq: number;
  /** oldest_retained_seq is the lowest seq still in `sync_event`, null when none is retained. */
  readonly oldest_retained_seq: number | null;
  readonly retained_events: number;
}

/** ResumeFaultRecord is one applied `next_resume` fault. */
export interface ResumeFaultRecord {
  readonly fault: ResumeFault;
  readonly after_seq: number;
  readonly at_unix_ms: number;
}

/** RebootstrapFaultRecord is one applied `next_rebootstrap` fault. */
export interface RebootstrapFaultRecord {
  readonly fault: RebootstrapFault;
  readonly stream_id: string;
  readonly at_unix_ms: number;
}

/** PendingKnobChange is a `POST /lab/knobs` body with `after_ms`, waiting for its time. */
export interface PendingKnobChange {
  readonly id: number;
  readonly after_ms: number;
  readonly due_at_unix_ms: number;
  /** knobs is the body as posted, without `after_ms`. */
  readonly knobs: Record<string, unknown>;
}

/** LabState is the ground truth `GET /lab/state` reports. */
export interface LabState {
  readonly database: string;
  readonly database_identity: string;
  readonly urls: LabUrls;
  readonly streams: StreamState[];
  readonly clients: ClientState[];
  readonly connections: { readonly open: number; readonly sessions: ConnectionInfo[] };
  readonly active_connection_rows: number;
  readonly counters: {
    readonly runtime: Record<string, unknown>;
    readonly control: Record<string, number>;
    readonly lab: {
      readonly restarts: number;
      readonly resume_faults: ResumeFaultRecord[];
      readonly rebootstrap_faults: RebootstrapFaultRecord[];
      readonly bursts: number;
      readonly stale_cursor_resets: number;
      /** secret_rotations counts each secret's rotations while running (never the values). */
      readonly secret_rotations: Record<SecretName, number>;
      readonly secrets_rotated_at_unix_ms: number | null;
    };
  };
  readonly knobs: LabKnobs;
  /** pending_knobs are timed changes (`after_ms`) not applied yet, soonest first. */
  readonly pending_knobs: PendingKnobChange[];
}

/** Lab is a running lab. */
export interface Lab {
  readonly urls: LabUrls;
  /** secrets are the secrets in effect now (they change when rotated). */
  readonly secrets: LabSecrets;
  /** secretFiles are the paths the secrets are kept in (absent without a stateDir). */
  readonly secretFiles: { readonly [K in keyof LabSecrets]: string } | undefined;
  readonly databaseName: string;
  state(): LabState;
  /** setKnobs applies a knobs object (as `POST /lab/knobs`) and returns the new state. */
  setKnobs(patch: Record<string, unknown>): LabState;
  close(): Promise<void>;
}

function secret(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function checkPort(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new LabKnobError(`lab option ports.${name} must be an integer port between 0 and 65535, got ${v}`);
  return v;
}

/** startLab starts every part of the lab on loopback and resolves once all of them listen. */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const host = options.host ?? '127.0.0.1';
  const ports: LabPorts = {
    spacetimedb: checkPort('spacetimedb', options.ports?.spacetimedb ?? DEFAULT_LAB_PORTS.spacetimedb),
    runtime: checkPort('runtime', options.ports?.runtime ?? DEFAULT_LAB_PORTS.runtime),
    control: checkPort('control', options.ports?.control ?? DEFAULT_LAB_PORTS.control),
    admin: checkPort('admin', options.ports?.admin ?? DEFAULT_LAB_PORTS.admin),
  };
  const databaseName = options.databaseName ?? DEFAULT_DATABASE_NAME;
  const clock = options.clock ?? new SystemClock();
  const nowMs = (): number => clock.nowMs();
  const logger = options.logger ?? pino({ level: 'silent' });
  const random = options.random ?? Math.random;
  const secrets = new LabSecretStore({ stateDir: options.stateDir, given: options.secrets, rotate: options.rotateSecrets });
  const traffic: TrafficOptions = {
    streams: options.traffic?.streams ?? DEFAULT_TRAFFIC.streams,
    clients: options.traffic?.clients ?? DEFAULT_TRAFFIC.clients,
    ackIntervalMs: options.traffic?.ackIntervalMs ?? DEFAULT_TRAFFIC.ackIntervalMs,
    slowApplyPerSecond: options.traffic?.slowApplyPerSecond ?? DEFAULT_TRAFFIC.slowApplyPerSecond,
  };
  for (const s of traffic.streams) {
    if (s.startsWith(SENTINEL_CANARY_PREFIX)) throw new LabKnobError(`lab traffic stream ${s} is under ${SENTINEL_CANARY_PREFIX}, which belongs to the sentinel's canaries; choose another stream id`);
  }

  let knobs = defaultKnobs();
  if (options.knobs) {
    const patch = parseKnobPatch(options.knobs, knobs);
    if (patch.afterMs !== undefined) throw new LabKnobError('lab option knobs: after_ms is only accepted by POST /lab/knobs on a running lab; start with the knobs in effect instead');
    knobs = { ...knobs, ...patch.knobs };
  }
  if (options.persist && options.stateDir === undefined) throw new LabKnobError('lab option persist needs a stateDir to keep the database file in');
  const db = new ModuleDb({ filename: options.persist && options.stateDir !== undefined ? join(options.stateDir, `${databaseName}.sqlite`) : undefined, nowMs });

  const authFailures: AuthFailureCounters = {
    unauthorized_total: 0,
    forbidden_total: 0,
    invalid_token_total: 0,
    token_expired_total: 0,
    token_not_yet_valid_total: 0,
    token_revoked_total: 0,
  };
  const rateCredit = { unauthorized: 0, token_expired: 0, stale: 0 };
  let staleCursorEventsTotal = 0;
  let restarts = 0;
  let bursts = 0;
  const resumeFaults: ResumeFaultRecord[] = [];
  const rebootstrapFaults: RebootstrapFaultRecord[] = [];

  const spacetime = new SpacetimeServer({
    host,
    port: ports.spacetimedb,
    databaseName,
    identityKey: () => secrets.identityKey,
    trustedKeys: () => [secrets.get('jwtSigningKey')],
    db,
    nowMs,
    pingIntervalMs: options.pingIntervalMs ?? 15_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    logger,
    hooks: {
      isStreamingStopped: () => knobs.streaming_stopped,
      isLeakingConnectionRows: () => knobs.leak_connection_rows,
      isEnforcingCallerAuth: () => knobs.enforce_caller_auth,
      peekResumeFault: () => knobs.next_resume,
      resumeFaultApplied: (fault, afterSeq) => {
        knobs = { ...knobs, next_resume: null };
        resumeFaults.push({ fault, after_seq: afterSeq, at_unix_ms: nowMs() });
      },
      peekRebootstrapFault: () => knobs.next_rebootstrap,
      rebootstrapFaultApplied: (fault, streamId) => {
        knobs = { ...knobs, next_rebootstrap: null };
        rebootstrapFaults.push({ fault, stream_id: streamId, at_unix_ms: nowMs() });
      },
      onAuthFailure: (kind) => {
        if (kind === 'token_expired') authFailures.token_expired_total += 1;
        else if (kind === 'invalid_token' || kind === 'malformed') authFailures.invalid_token_total += 1;
        else authFailures.unauthorized_total += 1;
      },
    },
  });

  const streamInfo = (streamId: string): { headSeq: number; oldestSeq: number | null } => {
    const head = db.rows('stream_head', 'WHERE stream_id = ?', [streamId])[0];
    const oldest = db.eventsAfter(streamId, 0, 1)[0];
    return { headSeq: Number(head?.head_seq ?? 0), oldestSeq: oldest ? Number(oldest.seq) : null };
  };
  const generator = new TrafficGenerator(
    traffic,
    {
      append: (streamId, key, hash, json, committedAtMs) => spacetime.callInternal('append_sync_event', [streamId, key, hash, json, committedAtMs, 0, true, 0]).ok,
      ack: (clientId, streamId, lastApplied) => {
        spacetime.callInternal('ack_stream_checkpoint', [clientId, streamId, lastApplied, 0]);
      },
      stream: streamInfo,
    },
    random,
    secret(6),
  );

  const enforceRetention = (): void => {
    if (knobs.retention_floor > 0) {
      const tx = db.dropBelow(knobs.retention_floor);
      if (tx.deltas.length > 0) spacetime.publish(tx);
    }
  };

  const runtimeSnapshot = (): RuntimeSnapshot => {
    return {
      mirror: generator.mirror,
      streamCount: generator.publishedStreams.size,
      eventCount: generator.eventCount,
      maxReplayLag: generator.maxReplayLag(knobs.slow_clients, knobs.dead_clients),
      droppedMessagesTotal: spacetime.droppedMessages,
      staleCursorEventsTotal: staleCursorEventsTotal + generator.staleCursorResets,
      authFailures,
      fields: knobs.runtime_fields,
    };
  };

  const runtime = new RuntimeService({ host, port: ports.runtime, snapshot: runtimeSnapshot, nowMs, ready: () => knobs.readiness.runtime, logger });
  const control = new ControlService({
    host,
    port: ports.control,
    // Read at every use, so a rotation (knob rotate_secrets) takes effect at once.
    get sessionToken() {
      return secrets.get('controlSessionToken');
    },
    get personalAccessToken() {
      return secrets.get('controlPersonalAccessToken');
    },
    get signingKey() {
      return secrets.get('jwtSigningKey');
    },
    syncToken: {
      ...(options.tokenIssuer !== undefined ? { issuer: options.tokenIssuer } : {}),
      ...(options.tokenAudience !== undefined ? { audience: options.tokenAudience } : {}),
      ...(options.tokenTtlSeconds !== undefined ? { ttlSeconds: options.tokenTtlSeconds } : {}),
    },
    nowMs,
    failureRatio: () => knobs.token_failure_ratio,
    random,
    runtimeRouting: () => ({
      ...DEFAULT_RUNTIME_ROUTING,
      canaryUserPercent: knobs.runtime_routing.canary_user_percent,
      canaryAutopilotPercent: knobs.runtime_routing.canary_autopilot_percent,
      shadowEnabled: knobs.runtime_routing.shadow_enabled,
      shadowSampleRate: knobs.runtime_routing.shadow_sample_rate,
      forceControlService: knobs.runtime_routing.force_control_service,
      overridesEnabled: knobs.runtime_routing.overrides_enabled,
    }),
    evaluateFailsWith: () => knobs.runtime_routing.evaluate_fails_with,
    isAdmin: () => knobs.control_admin,
    ready: () => knobs.readiness.control,
    logger,
  });

  let urls: LabUrls = { spacetimedb: '', runtime: '', control: '', admin: '' };
  const state = (): LabState => {
    const runtimeBody = runtimeMetricsBody({ ...runtimeSnapshot(), fields: 'documented' }, new Date(nowMs()).toISOString());
    const sessions = spacetime.connections();
    return {
      database: databaseName,
      database_identity: spacetime.databaseIdentityHex,
      urls,
      streams: db.streamSummaries().map((s) => ({ stream_id: s.streamId, head_seq: s.headSeq, oldest_retained_seq: s.oldestSeq, retained_events: s.retained })),
      clients: generator.clients(knobs.slow_clients, knobs.dead_clients),
      connections: { open: sessions.length, sessions },
      active_connection_rows: db.count('active_connection'),
      counters: {
        runtime: runtimeBody,
        control: control.counters(),
        lab: {
          restarts,
          resume_faults: [...resumeFaults],
          rebootstrap_faults: [...rebootstrapFaults],
          bursts,
          stale_cursor_resets: generator.staleCursorResets,
          secret_rotations: { ...secrets.rotations },
          secrets_rotated_at_unix_ms: secrets.lastRotationAtMs ?? null,
        },
      },
      knobs: structuredClone(knobs),
      pending_knobs: [...pending.values()].map((p) => p.change).sort((a, b) => a.due_at_unix_ms - b.due_at_unix_ms || a.id - b.id),
    };
  };

  // Timed knob changes: each waits on the lab's clock and is cancelled by a restart or close.
  const pending = new Map<number, { change: PendingKnobChange; abort: AbortController }>();
  let nextPendingId = 1;
  const cancelPending = (): void => {
    for (const p of pending.values()) p.abort.abort();
    pending.clear();
  };
  const schedule = (body: Record<string, unknown>, afterMs: number): void => {
    const { after_ms: _after, ...rest } = body;
    const change: PendingKnobChange = { id: nextPendingId++, after_ms: afterMs, due_at_unix_ms: nowMs() + afterMs, knobs: structuredClone(rest) };
    const abort = new AbortController();
    pending.set(change.id, { change, abort });
    clock.sleep(afterMs, abort.signal).then(
      () => {
        if (!pending.delete(change.id)) return;
        try {
          applyKnobs(change.knobs);
          logger.info({ knobs: Object.keys(change.knobs), id: change.id }, 'lab timed knob change applied');
        } catch (err) {
          logger.error({ err, id: change.id }, 'lab timed knob change failed');
        }
      },
      () => undefined,
    );
  };

  const setKnobs = (body: Record<string, unknown>): LabState => {
    const patch = parseKnobPatch(body, knobs);
    if (patch.afterMs !== undefined && patch.afterMs > 0) {
      schedule(body, patch.afterMs);
      logger.info({ knobs: Object.keys(body), after_ms: patch.afterMs }, 'lab knob change scheduled');
      return state();
    }
    applyKnobs(body);
    logger.info({ knobs: Object.keys(body) }, 'lab knobs changed');
    return state();
  };

  const applyKnobs = (body: Record<string, unknown>): void => {
    const patch = parseKnobPatch(body, knobs);
    knobs = { ...knobs, ...patch.knobs };
    if (patch.knobs.retention_floor !== undefined) enforceRetention();
    if (patch.appendBurst && patch.appendBurst.count > 0) {
      generator.burst(patch.appendBurst.stream, patch.appendBurst.count, nowMs());
      bursts += 1;
      enforceRetention();
    }
    if (patch.rotateSecrets) {
      const rotated = secrets.rotate(patch.rotateSecrets, nowMs());
      logger.info({ secrets: rotated }, 'lab secrets rotated');
    }
    if (patch.restart) {
      restarts += 1;
      cancelPending();
      spacetime.dropAllConnections();
      control.restart();
      runtime.restart();
      generator.restartRuntime();
    }
  };

  const admin = new AdminApi({ host, port: ports.admin, state, setKnobs: (b) => setKnobs(b as Record<string, unknown>), logger });

  const started: Array<{ close(deadlineMs?: number): Promise<void> }> = [];
  const listenOn = async (name: keyof LabPorts, service: { start(): Promise<string>; close(deadlineMs?: number): Promise<void> }): Promise<string> => {
    try {
      const url = await service.start();
      started.push(service);
      return url;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new LabKnobError(`lab option ports.${name}: cannot listen on ${host}:${ports[name]} (${code}); stop whatever uses it or choose another port (0 = ephemeral)`, { cause: err });
      }
      throw err;
    }
  };
  try {
    const spacetimedbUrl = await listenOn('spacetimedb', spacetime);
    const runtimeUrl = await listenOn('runtime', runtime);
    const controlUrl = await listenOn('control', control);
    const adminUrl = await listenOn('admin', admin);
    urls = { spacetimedb: spacetimedbUrl, runtime: runtimeUrl, control: controlUrl, admin: adminUrl };
  } catch (err) {
    await Promise.all(started.map((s) => s.close(500)));
    db.close();
    throw err;
  }

  const tickMs = options.tickMs ?? 100;
  let lastTickMs = nowMs();
  const ticker = setInterval(() => {
    const now = nowMs();
    const dt = Math.max(0, now - lastTickMs);
    lastTickMs = now;
    try {
      generator.step(now, dt, {
        paused: knobs.traffic.paused,
        eventsPerSecond: knobs.traffic.events_per_second,
        publishFailures: knobs.publish_failures,
        publishFailureKind: knobs.publish_failure_kind,
        slowClients: knobs.slow_clients,
        deadClients: knobs.dead_clients,
      });
      enforceRetention();
      rateCredit.unauthorized += (knobs.auth_failures_per_minute.unauthorized * dt) / 60_000;
      rateCredit.token_expired += (knobs.auth_failures_per_minute.token_expired * dt) / 60_000;
      rateCredit.stale += (knobs.stale_cursor_events_per_minute * dt) / 60_000;
      const whole = (k: keyof typeof rateCredit): number => {
        const n = Math.floor(rateCredit[k]);
        rateCredit[k] -= n;
        return n;
      };
      authFailures.unauthorized_total += whole('unauthorized');
      authFailures.token_expired_total += whole('token_expired');
      staleCursorEventsTotal += whole('stale');
    } catch (err) {
      // The ticker must keep running: record and carry on (the next tick retries).
      logger.error({ err }, 'lab ticker step failed');
    }
  }, tickMs);
  ticker.unref();

  let closed = false;
  return {
    urls,
    get secrets() {
      return secrets.current;
    },
    secretFiles: secrets.files,
    databaseName,
    state,
    setKnobs,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      cancelPending();
      clearInterval(ticker);
      await Promise.all([admin.close(), control.close(), runtime.close(), spacetime.close()]);
      db.close();
    },
  };
}
