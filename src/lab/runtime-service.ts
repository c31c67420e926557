/**
 * runtime-service: the lab's stand-in for the OpenAgents runtime (`apps/runtime` at 9b2b978949)
 * on the routes a monitor touches. No route has auth (the runtime router has no auth layer;
 * an `Authorization` header is ignored: `apps/runtime/src/server.rs:1321-1323`):
 * - `GET /healthz` and `GET /readyz` at the root (`server.rs:850-868`, `:1325-1366`);
 * - `GET /internal/v1/spacetime/sync/metrics` with exactly the published fields
 *   (`server.rs:911-937`, `:1621-1651`): `transport`, the nine `mirror.*` counters plus
 *   `duplicate_suppression_rate_pct` (an f64), `delivery.stream_count`, `delivery.event_count`,
 *   `generated_at`; the `runtime_fields: documented` knob adds the fields the operators' docs
 *   promise but the runtime never publishes (max_replay_lag, dropped/stale counters, auth_failures.*);
 * - `GET /internal/v1/runs/:run_id`, which for an unknown run answers 404 `{"error":"not_found"}`
 *   (`server.rs:6608-6617`).
 * Every other path, the retired ones included, is axum's empty 404.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { AxumRouter, jsonResponse, serveLab, textResponse } from './axum-router.js';
import type { LabResponse } from './axum-router.js';
import { instantAt, toSerde } from './chrono-time.js';
import { closeServer, listen } from './http-helpers.js';
import type { RuntimeFieldSet } from './knobs.js';
import { f64 } from './serde-json.js';

/** MirrorCounters are the runtime publisher's in-memory counters, named as published. */
export interface MirrorCounters {
  published_total: number;
  duplicate_suppressed_total: number;
  failed_total: number;
  outbox_depth: number;
  auth_failures_total: number;
  rate_limited_failures_total: number;
  network_failures_total: number;
  validation_failures_total: number;
  unknown_failures_total: number;
}

/** AuthFailureCounters are the documented (never published) per-reason auth failure counters. */
export interface AuthFailureCounters {
  unauthorized_total: number;
  forbidden_total: number;
  invalid_token_total: number;
  token_expired_total: number;
  token_not_yet_valid_total: number;
  token_revoked_total: number;
}

/** RuntimeSnapshot is everything the metrics endpoint may report, read at request time. */
export interface RuntimeSnapshot {
  readonly mirror: MirrorCounters;
  /** streamCount is the number of distinct streams published to since the runtime started. */
  readonly streamCount: number;
  /** eventCount moves with `published_total` (the publisher increments both together). */
  readonly eventCount: number;
  readonly maxReplayLag: number;
  readonly droppedMessagesTotal: number;
  readonly staleCursorEventsTotal: number;
  readonly authFailures: AuthFailureCounters;
  readonly fields: RuntimeFieldSet;
}

/** RuntimeServiceOptions configures the runtime service. */
export interface RuntimeServiceOptions {
  readonly host: string;
  readonly port: number;
  readonly snapshot: () => RuntimeSnapshot;
  readonly nowMs: () => number;
  /** subMillisecondNanos adds the nanoseconds chrono would see below the lab clock's milliseconds. */
  readonly subMillisecondNanos?: () => number;
  /** ready is the runtime half of the `readiness` knob. */
  readonly ready: () => boolean;
  readonly logger: Logger;
}

/** METRICS_PATH is the runtime's sync metrics route. */
export const METRICS_PATH = '/internal/v1/spacetime/sync/metrics';

/** runtimeMetricsBody renders the endpoint's JSON (in serialization order) from a snapshot. */
export function runtimeMetricsBody(s: RuntimeSnapshot, generatedAt: string): Record<string, unknown> {
  const m = s.mirror;
  const rate = m.published_total === 0 ? 0 : (m.duplicate_suppressed_total * 100) / m.published_total;
  const delivery: Record<string, unknown> = { stream_count: s.streamCount, event_count: s.eventCount };
  const body: Record<string, unknown> = {
    transport: 'spacetime_ws',
    mirror: {
      published_total: m.published_total,
      duplicate_suppressed_total: m.duplicate_suppressed_total,
      failed_total: m.failed_total,
      outbox_depth: m.outbox_depth,
      auth_failures_total: m.auth_failures_total,
      rate_limited_failures_total: m.rate_limited_failures_total,
      network_failures_total: m.network_failures_total,
      validation_failures_total: m.validation_failures_total,
      unknown_failures_total: m.unknown_failures_total,
      duplicate_suppression_rate_pct: f64(rate),
    },
    delivery,
  };
  if (s.fields === 'documented') {
    delivery.max_replay_lag = s.maxReplayLag;
    delivery.dropped_messages_total = s.droppedMessagesTotal;
    delivery.stale_cursor_events_total = s.staleCursorEventsTotal;
    body.auth_failures = { ...s.authFailures };
  }
  body.generated_at = generatedAt;
  return body;
}

const UUID = /^(?:urn:uuid:)?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

function defaultSubMillisecondNanos(): number {
  return Number(process.hrtime.bigint() % 1_000_000n);
}

/** RuntimeService is the running runtime service. */
export class RuntimeService {
  private readonly server: Server;
  private startedAtMs: number;

  constructor(private readonly opts: RuntimeServiceOptions) {
    this.startedAtMs = opts.nowMs();
    const router = new AxumRouter([
      { path: '/healthz', methods: { GET: () => this.healthz() } },
      { path: '/readyz', methods: { GET: () => this.readyz() } },
      { path: METRICS_PATH, methods: { GET: () => this.metrics() } },
      {
        path: '/internal/v1/runs/:run_id',
        methods: {
          // Path<Uuid>: a malformed id is axum's path rejection; the lab stores no runs.
          GET: (req) => (UUID.test(req.params.run_id ?? '') ? jsonResponse(404, { error: 'not_found' }) : textResponse(400, 'Invalid URL: UUID parsing failed')),
        },
      },
    ]);
    this.server = serveLab((req) => router.dispatch(req), opts.logger, 'runtime');
  }

  private healthz(): LabResponse {
    return jsonResponse(200, {
      status: 'ok',
      service: 'runtime',
      build_sha: 'dev',
      uptime_seconds: Math.trunc((this.opts.nowMs() - this.startedAtMs) / 1000),
      authority_write_mode: 'rust_active',
      authority_writer_active: true,
      db_configured: false,
    });
  }

  private readyz(): LabResponse {
    const ready = this.opts.ready();
    return jsonResponse(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', authority_ready: true, projector_ready: true, workers_ready: ready, authority_writer_active: true });
  }

  private metrics(): LabResponse {
    const generatedAt = toSerde(instantAt(this.opts.nowMs(), (this.opts.subMillisecondNanos ?? defaultSubMillisecondNanos)()));
    return jsonResponse(200, runtimeMetricsBody(this.opts.snapshot(), generatedAt));
  }

  /** start listens and resolves to the base URL. */
  start(): Promise<string> {
    return listen(this.server, this.opts.host, this.opts.port);
  }

  /** close stops the server. */
  close(deadlineMs = 2000): Promise<void> {
    return closeServer(this.server, deadlineMs);
  }

  /** restart is a process restart: uptime starts again (the publisher's counters are reset by the lab). */
  restart(): void {
    this.startedAtMs = this.opts.nowMs();
  }
}
