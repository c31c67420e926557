/**
 * control-service: the lab's control service (SYSTEM.md "Control service"): issues HS256 sync
 * tokens at `POST /api/sync/token` and reports cutover state; retired aliases answer 404.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { bearerToken, closeServer, listen, readBody, sendJson } from './http-helpers.js';
import { signJwt } from './jwt.js';

/** CONTROL_COUNTER_NAMES are the control plane's token counters, named as the operators publish them. */
export const CONTROL_COUNTER_NAMES = [
  'sync.token.issued',
  'sync.token.issue.failed',
  'sync.token.issue.policy_denied',
  'sync.token.issue.auth_failed',
  'sync.token.issue.policy_eval_failed',
] as const;
/** ControlCounterName is one of CONTROL_COUNTER_NAMES. */
export type ControlCounterName = (typeof CONTROL_COUNTER_NAMES)[number];

/** RETIRED_TOKEN_ROUTES must stay 404 (clients still calling them are misconfigured). */
export const RETIRED_TOKEN_ROUTES = ['/api/spacetime/token', '/api/v1/spacetime/token', '/api/v1/sync/token'] as const;

/** ControlServiceOptions configures the control service. */
export interface ControlServiceOptions {
  readonly host: string;
  readonly port: number;
  readonly sessionToken: string;
  readonly signingKey: string;
  readonly issuer: string;
  readonly audience: string;
  readonly tokenTtlSeconds: number;
  readonly kid: string;
  readonly nowMs: () => number;
  /** failureRatio is the `token_failure_ratio` knob, read on every issue attempt. */
  readonly failureRatio: () => number;
  readonly random: () => number;
  readonly logger: Logger;
}

/** DEFAULT_SCOPES are the topics granted when a token request names none. */
export const DEFAULT_SCOPES = ['runtime.codex_worker_events'] as const;

/** topicToStream maps a sync topic to its stream id (SYSTEM.md "Topic to stream mapping"). */
export function topicToStream(topic: string): string {
  let m = /^run:(.+):events$/.exec(topic);
  if (m) return `runtime.run.${m[1]}.events`;
  m = /^worker:(.+):lifecycle$/.exec(topic);
  if (m) return `runtime.worker.${m[1]}.lifecycle`;
  m = /^fleet:user:(.+):workers$/.exec(topic);
  if (m) return `runtime.fleet.user.${m[1]}.workers`;
  m = /^fleet:guest:(.+):workers$/.exec(topic);
  if (m) return `runtime.fleet.guest.${m[1]}.workers`;
  if (topic === 'runtime.codex_worker_events') return 'runtime.codex.worker.events';
  return `runtime.topic.${topic.replaceAll(':', '.')}`;
}

function isoSeconds(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function errorBody(code: string, message: string): unknown {
  return { error: { code, message } };
}

/** ControlService is the running control service. */
export class ControlService {
  private readonly server: Server;
  private readonly counterValues = new Map<ControlCounterName, number>(CONTROL_COUNTER_NAMES.map((n) => [n, 0]));
  private issueAttempts = 0;

  constructor(private readonly opts: ControlServiceOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.logger.error({ err }, 'lab control: request failed');
        if (!res.headersSent) sendJson(res, 500, errorBody('internal', 'internal error'));
        else res.destroy();
      });
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

  /** counters reports the control-plane counters plus the number of issue attempts. */
  counters(): Record<string, number> {
    return { ...Object.fromEntries(this.counterValues), 'sync.token.issue.attempted': this.issueAttempts };
  }

  private bump(name: ControlCounterName): void {
    this.counterValues.set(name, (this.counterValues.get(name) ?? 0) + 1);
  }

  private authorized(req: IncomingMessage): boolean {
    return bearerToken(req) === this.opts.sessionToken;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab');
    const method = req.method ?? 'GET';
    if ((RETIRED_TOKEN_ROUTES as readonly string[]).includes(url.pathname)) return sendJson(res, 404, errorBody('not_found', 'route retired; use /api/sync/token'));
    if (url.pathname === '/api/sync/token') {
      if (method !== 'POST') return sendJson(res, 405, errorBody('method_not_allowed', 'use POST'));
      return this.issue(req, res);
    }
    if (url.pathname === '/api/v1/control/status') {
      if (method !== 'GET') return sendJson(res, 405, errorBody('method_not_allowed', 'use GET'));
      if (!this.authorized(req)) return sendJson(res, 401, errorBody('unauthorized', 'a valid session bearer token is required'));
      return sendJson(res, 200, {
        data: {
          service: 'openagents-control-service',
          authProvider: 'workos',
          activeOrgId: 'org_lab',
          memberships: [],
          syncCutover: { defaultTransport: 'spacetime_ws', syncTokenRoute: '/api/sync/token' },
        },
      });
    }
    return sendJson(res, 404, errorBody('not_found', 'no such route'));
  }

  private async issue(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 64 * 1024);
    this.issueAttempts += 1;
    if (!this.authorized(req)) {
      this.bump('sync.token.issue.auth_failed');
      return sendJson(res, 401, errorBody('unauthorized', 'a valid session bearer token is required'));
    }
    let scopes: string[] = [...DEFAULT_SCOPES];
    let deviceId = 'device_lab';
    if (body.length > 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        this.bump('sync.token.issue.failed');
        return sendJson(res, 400, errorBody('invalid_request', 'the request body must be JSON'));
      }
      const obj = (parsed ?? {}) as Record<string, unknown>;
      const requested = obj.scopes ?? obj.topics;
      if (requested !== undefined) {
        if (!Array.isArray(requested) || requested.some((s) => typeof s !== 'string' || s.trim() === '')) {
          this.bump('sync.token.issue.policy_denied');
          return sendJson(res, 403, errorBody('policy_denied', 'scopes must be a list of topic names'));
        }
        if (requested.length > 0) scopes = requested as string[];
      }
      if (typeof obj.device_id === 'string' && obj.device_id !== '') deviceId = obj.device_id;
    }
    if (this.opts.random() < this.opts.failureRatio()) {
      this.bump('sync.token.issue.failed');
      return sendJson(res, 500, errorBody('sync_token_issue_failed', 'sync token issuance failed (lab token_failure_ratio)'));
    }
    const iat = Math.floor(this.opts.nowMs() / 1000);
    const ttl = this.opts.tokenTtlSeconds;
    const refreshAfterIn = Math.max(1, ttl - 30);
    const jti = `sync_${randomBytes(8).toString('hex')}`;
    const sessionId = `sess_${randomBytes(4).toString('hex')}`;
    const subject = 'user:lab';
    const streams = scopes.map(topicToStream);
    const token = await signJwt(
      {
        iss: this.opts.issuer,
        aud: this.opts.audience,
        sub: subject,
        iat,
        nbf: iat,
        exp: iat + ttl,
        jti,
        oa_sync_scopes: scopes,
        oa_sync_streams: streams,
        oa_sync_topics: scopes,
        oa_org_id: 'org_lab',
        oa_session_id: sessionId,
        oa_device_id: deviceId,
        oa_claims_version: 'oa_sync_claims_v1',
      },
      this.opts.signingKey,
      { kid: this.opts.kid },
    );
    this.bump('sync.token.issued');
    return sendJson(res, 200, {
      data: {
        token,
        token_type: 'Bearer',
        transport: 'spacetime_ws',
        protocol_version: 'spacetime.sync.v1',
        expires_in: ttl,
        refresh_after_in: refreshAfterIn,
        issued_at: isoSeconds(iat),
        refresh_after: isoSeconds(iat + refreshAfterIn),
        expires_at: isoSeconds(iat + ttl),
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        subject,
        org_id: 'org_lab',
        claims_version: 'oa_sync_claims_v1',
        scopes,
        granted_topics: scopes.map((topic) => ({ topic, required_scope: topic })),
        granted_streams: scopes.map((topic) => ({ stream: topicToStream(topic), required_scope: topic })),
        kid: this.opts.kid,
        token_id: jti,
        session_id: sessionId,
        device_id: deviceId,
      },
    });
  }
}
