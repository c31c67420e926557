/**
 * runtime-service: the lab's runtime service: only `GET /internal/v1/spacetime/sync/metrics`
 * (bearer admin token), shaped exactly as published, or with the documented extra fields when
 * the `runtime_fields` knob says `documented`. Retired routes answer 404.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { bearerToken, closeServer, listen, sendJson } from './http-helpers.js';
import type { RuntimeFieldSet } from './knobs.js';

/** MirrorCounters are the runtime's mirror counters (published fields). */
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

/** AuthFailureCounters are the documented per-reason auth failure counters. */
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
  readonly streamCount: number;
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
  readonly adminToken: string;
  readonly snapshot: () => RuntimeSnapshot;
  readonly nowMs: () => number;
  /** onUnauthorized counts refused metric reads (they are runtime auth failures too). */
  readonly onUnauthorized: () => void;
  readonly logger: Logger;
}

/** METRICS_PATH is the runtime's one live route. */
export const METRICS_PATH = '/internal/v1/spacetime/sync/metrics';

/** runtimeMetricsBody renders the endpoint's JSON from a snapshot. */
export function runtimeMetricsBody(s: RuntimeSnapshot, nowMs: number): Record<string, unknown> {
  const m = s.mirror;
  // The published sample (37 suppressed of 18422 published = 0.2008…%) divides by published_total.
  const delivery: Record<string, unknown> = { stream_count: s.streamCount, event_count: s.eventCount };
  const body: Record<string, unknown> = {
    transport: 'spacetime_ws',
    mirror: { ...m, duplicate_suppression_rate_pct: m.published_total === 0 ? 0 : (m.duplicate_suppressed_total / m.published_total) * 100 },
    delivery,
  };
  if (s.fields === 'documented') {
    delivery.max_replay_lag = s.maxReplayLag;
    delivery.dropped_messages_total = s.droppedMessagesTotal;
    delivery.stale_cursor_events_total = s.staleCursorEventsTotal;
    body.auth_failures = { ...s.authFailures };
  }
  body.generated_at = new Date(nowMs).toISOString();
  return body;
}

/** RuntimeService is the running runtime service. */
export class RuntimeService {
  private readonly server: Server;

  constructor(private readonly opts: RuntimeServiceOptions) {
    this.server = createServer((req, res) => {
      try {
        this.handle(req, res);
      } catch (err) {
        opts.logger.error({ err }, 'lab runtime: request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal' });
      }
    });
  }

  /** start listens and resolves to the base URL. */
  start(): Promise<string> {
    return listen(this.server, this.opts.host, this.opts.port);
  }

  /** close stops the server. */
  close(deadlineMs = 2000): Promise<void> {
    return closeServer(this.server, deadlineMs);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://lab');
    if (url.pathname !== METRICS_PATH) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: 'method_not_allowed' });
      return;
    }
    if (bearerToken(req) !== this.opts.adminToken) {
      this.opts.onUnauthorized();
      sendJson(res, 401, { error: 'unauthorized' });
      return;
    }
    sendJson(res, 200, runtimeMetricsBody(this.opts.snapshot(), this.opts.nowMs()));
  }
}
