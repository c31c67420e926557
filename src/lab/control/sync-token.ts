/**
 * sync-token: `POST /api/sync/token` as the OpenAgents control service serves it
 * (`apps/openagents.com/service/src/sync_handlers.rs:4-130` and `sync_token.rs:108-398` at
 * 9b2b978949). Order of checks: the router's gates (401), the JSON body (415/400/422 text), the
 * device (403), the issuer (503/422), the org policy (403). A grant's `granted_streams[].stream`
 * is the topic string itself: no topic → stream mapping is applied to a grant.
 */
import { randomBytes } from 'node:crypto';
import type { LabRequest, LabResponse } from '../axum-router.js';
import type { StructSchema } from '../axum-json.js';
import { extractJson } from '../axum-json.js';
import type { ChronoInstant } from '../chrono-time.js';
import { addSeconds, toRfc3339 } from '../chrono-time.js';
import { signJwt } from '../jwt.js';
import { errorResponse, forbidden, okData, unauthorized } from './api-envelope.js';
import { accessTokenFromHeaders, policyAllows } from './identity.js';
import type { LabIdentity, SessionBundle } from './identity.js';
import type { ControlCounters } from './observability.js';

/** SYNC_TOKEN_PATH is the one live token route (`ROUTE_SYNC_TOKEN`). */
export const SYNC_TOKEN_PATH = '/api/sync/token';

/** SyncTokenConfig is the issuer's configuration (`config.rs:25-34`, `:308-364`). */
export interface SyncTokenConfig {
  readonly enabled: boolean;
  /** signingKey absent or blank: every issue is a 503 `sync token signing key is not configured`. */
  readonly signingKey: string | undefined;
  readonly issuer: string;
  readonly audience: string;
  readonly keyId: string;
  readonly claimsVersion: string;
  readonly ttlSeconds: number;
  readonly minTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly allowedScopes: readonly string[];
  readonly defaultScopes: readonly string[];
}

/** DEFAULT_SYNC_TOKEN_CONFIG is the control service's defaults, without a signing key. */
export const DEFAULT_SYNC_TOKEN_CONFIG: Omit<SyncTokenConfig, 'signingKey'> = {
  enabled: true,
  issuer: 'https://openagents.com',
  audience: 'openagents-sync',
  keyId: 'sync-auth-v1',
  claimsVersion: 'oa_sync_claims_v1',
  ttlSeconds: 300,
  minTtlSeconds: 60,
  maxTtlSeconds: 900,
  allowedScopes: ['runtime.codex_worker_events', 'runtime.codex_worker_summaries', 'runtime.run_summaries'],
  defaultScopes: ['runtime.codex_worker_events'],
};

/** SYNC_TOKEN_REQUEST is `SyncTokenRequestPayload` (`lib.rs:1047-1059`), every field `#[serde(default)]`. */
export const SYNC_TOKEN_REQUEST: StructSchema = {
  name: 'SyncTokenRequestPayload',
  fields: [
    { name: 'scopes', kind: 'vec_string', defaulted: true },
    { name: 'streams', kind: 'vec_string', defaulted: true },
    { name: 'topics', kind: 'vec_string', defaulted: true },
    { name: 'ttl_seconds', kind: 'option_u32', defaulted: true },
    { name: 'device_id', kind: 'option_string', defaulted: true },
  ],
};

/** SyncTokenError is the issuer's error: `unavailable` is a 503, the others 422. */
export interface SyncTokenError {
  readonly kind: 'invalid_request' | 'invalid_scope' | 'unavailable';
  readonly message: string;
}

/** SyncTokenIssueRequest is what the handler passes to the issuer. */
export interface SyncTokenIssueRequest {
  readonly userId: string;
  readonly orgId: string;
  readonly sessionId: string;
  readonly deviceId: string;
  readonly requestedScopes: readonly string[];
  readonly requestedTopics: readonly string[];
  readonly requestedTtlSeconds: number | null;
}

/** TopicGrant is one granted topic with the scope it needs. */
export interface TopicGrant {
  readonly topic: string;
  readonly required_scope: string;
}

/** normalizeUnique trims, drops blanks, de-duplicates and sorts (a BTreeSet). */
export function normalizeUnique(values: readonly string[]): string[] {
  return [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))].sort();
}

/** scopeForTopic is `scope_for_topic`: by suffix. */
export function scopeForTopic(topic: string): string | undefined {
  if (topic.endsWith(':worker_events')) return 'runtime.codex_worker_events';
  if (topic.endsWith(':workers')) return 'runtime.codex_worker_summaries';
  if (topic.endsWith(':runs')) return 'runtime.run_summaries';
  return undefined;
}

function orgTopic(orgId: string, suffix: string): string {
  return orgId.startsWith('org:') ? `${orgId}:${suffix}` : `org:${orgId}:${suffix}`;
}

/** defaultTopicsForScope is `default_topics_for_scope`. */
export function defaultTopicsForScope(scope: string, userId: string, orgId: string): string[] {
  if (scope === 'runtime.codex_worker_events') return [orgTopic(orgId, 'worker_events')];
  if (scope === 'runtime.codex_worker_summaries') return [orgTopic(orgId, 'workers')];
  if (scope === 'runtime.run_summaries') return [`user:${userId}:runs`];
  return [];
}

/** IssuedSyncToken is the `SyncTokenResult` in serialization order. */
export type IssuedSyncToken = Record<string, unknown> & { readonly org_id: string; readonly scopes: string[]; readonly granted_topics: TopicGrant[] };

/** IssueOutcome is a grant or the issuer's error. */
export type IssueOutcome = { readonly ok: true; readonly grant: IssuedSyncToken } | { readonly ok: false; readonly error: SyncTokenError };

function refuse(kind: SyncTokenError['kind'], message: string): IssueOutcome {
  return { ok: false, error: { kind, message } };
}

/** SyncTokenIssuer is `SyncTokenIssuer::issue`. */
export class SyncTokenIssuer {
  constructor(private readonly config: () => SyncTokenConfig) {}

  private resolveScopes(cfg: SyncTokenConfig, requested: readonly string[]): string[] | IssueOutcome {
    const normalized = normalizeUnique(requested);
    if (normalized.length > 0) {
      if (normalized.some((s) => !cfg.allowedScopes.includes(s))) return refuse('invalid_scope', 'requested sync scopes are not allowed');
      return normalized;
    }
    const defaults = normalizeUnique(cfg.defaultScopes);
    return defaults.length > 0 ? defaults : normalizeUnique(cfg.allowedScopes);
  }

  private deriveTopics(scopes: readonly string[], requested: readonly string[], userId: string, orgId: string): TopicGrant[] | IssueOutcome {
    const topics = requested.length > 0 ? requested.map((t) => t.trim()).filter((t) => t !== '') : scopes.flatMap((s) => defaultTopicsForScope(s, userId, orgId));
    const grants: TopicGrant[] = [];
    const seen = new Set<string>();
    for (const topic of topics) {
      if (seen.has(topic)) continue;
      const scope = scopeForTopic(topic);
      if (scope === undefined) return refuse('invalid_request', `requested topic '${topic}' is not supported`);
      if (!scopes.includes(scope)) return refuse('invalid_scope', `requested topic '${topic}' requires scope '${scope}'`);
      grants.push({ topic, required_scope: scope });
      seen.add(topic);
    }
    return grants;
  }

  /** issue mints a token at `now`, or says why not. */
  async issue(req: SyncTokenIssueRequest, now: ChronoInstant): Promise<IssueOutcome> {
    const cfg = this.config();
    if (!cfg.enabled) return refuse('unavailable', 'sync token minting is disabled');
    const key = cfg.signingKey?.trim();
    if (key === undefined || key === '') return refuse('unavailable', 'sync token signing key is not configured');
    if (cfg.issuer.trim() === '' || cfg.audience.trim() === '') return refuse('unavailable', 'sync token issuer and audience must be configured');
    if (cfg.keyId.trim() === '') return refuse('unavailable', 'sync token key_id must be configured');
    if (cfg.claimsVersion.trim() === '') return refuse('unavailable', 'sync token claims_version must be configured');
    if (cfg.minTtlSeconds === 0 || cfg.maxTtlSeconds === 0 || cfg.maxTtlSeconds < cfg.minTtlSeconds) return refuse('unavailable', 'sync token ttl bounds are invalid');
    const ttl = req.requestedTtlSeconds ?? cfg.ttlSeconds;
    if (ttl < cfg.minTtlSeconds || ttl > cfg.maxTtlSeconds) return refuse('invalid_request', 'requested ttl is outside configured bounds');
    const scopes = this.resolveScopes(cfg, req.requestedScopes);
    if (!Array.isArray(scopes)) return scopes;
    if (scopes.length === 0) return refuse('unavailable', 'sync token scopes are not configured');
    const grants = this.deriveTopics(scopes, req.requestedTopics, req.userId, req.orgId);
    if (!Array.isArray(grants)) return grants;

    const refreshAfterIn = Math.max(ttl - 30, 1);
    const subject = `user:${req.userId}`;
    const tokenId = `sync_${randomBytes(16).toString('hex')}`;
    const topics = grants.map((g) => g.topic);
    // Header and claims in the order the control service builds them with json!.
    const token = await signJwt(
      {
        iss: cfg.issuer,
        aud: cfg.audience,
        sub: subject,
        iat: now.seconds,
        nbf: now.seconds,
        exp: now.seconds + ttl,
        jti: tokenId,
        oa_user_id: req.userId,
        oa_org_id: req.orgId,
        oa_session_id: req.sessionId,
        oa_device_id: req.deviceId,
        oa_sync_scopes: scopes,
        oa_sync_topics: topics,
        oa_sync_streams: [...topics],
        oa_claims_version: cfg.claimsVersion,
      },
      key,
      { kid: cfg.keyId },
    );
    const grant: IssuedSyncToken = {
      token,
      token_type: 'Bearer',
      transport: 'spacetime_ws',
      protocol_version: 'spacetime.sync.v1',
      expires_in: ttl,
      refresh_after_in: refreshAfterIn,
      issued_at: toRfc3339(now),
      refresh_after: toRfc3339(addSeconds(now, refreshAfterIn)),
      expires_at: toRfc3339(addSeconds(now, ttl)),
      issuer: cfg.issuer,
      audience: cfg.audience,
      subject,
      org_id: req.orgId,
      claims_version: cfg.claimsVersion,
      scopes,
      granted_topics: grants,
      granted_streams: grants.map((g) => ({ stream: g.topic, required_scope: g.required_scope })),
      kid: cfg.keyId,
      token_id: tokenId,
      session_id: req.sessionId,
      device_id: req.deviceId,
    };
    return { ok: true, grant };
  }
}

/** mapSyncError is `map_sync_error`. */
export function mapSyncError(err: SyncTokenError): LabResponse {
  if (err.kind === 'unavailable') return errorResponse('sync_token_unavailable', err.message);
  return errorResponse(err.kind, err.message);
}

/** SyncTokenRouteDeps are the handler's collaborators. */
export interface SyncTokenRouteDeps {
  readonly identity: LabIdentity;
  readonly issuer: SyncTokenIssuer;
  readonly counters: ControlCounters;
  readonly now: () => ChronoInstant;
  /**
   * injectedFailure, when it returns an error, makes this issue fail as an issuer error (the
   * lab's `token_failure_ratio`): counted and answered exactly as a real issuer failure.
   */
  readonly injectedFailure: () => SyncTokenError | undefined;
}

function requestId(req: LabRequest): string {
  const v = req.headers['x-request-id'];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function mergeStreamRequests(streams: readonly string[], topics: readonly string[]): string[] {
  return normalizeUnique([...streams, ...topics]);
}

/** syncTokenHandler is the `sync_token` handler (the router has already run the gates). */
export function syncTokenHandler(deps: SyncTokenRouteDeps): (req: LabRequest) => Promise<LabResponse> {
  return async (req) => {
    const body = extractJson(req, SYNC_TOKEN_REQUEST);
    if (!body.ok) return body.response;
    const rid = requestId(req);
    const session: SessionBundle | undefined = deps.identity.sessionOrPat(accessTokenFromHeaders(req.headers));
    if (!session) return unauthorized();
    const payload = body.value;
    const requestedDevice = typeof payload.device_id === 'string' ? payload.device_id.trim() : '';
    const deviceId = requestedDevice !== '' ? requestedDevice : session.deviceId;
    if (!session.isPat && deviceId !== session.deviceId) return forbidden('Requested device does not match active authenticated session device.');
    const injected = deps.injectedFailure();
    const issued: IssueOutcome = injected
      ? { ok: false, error: injected }
      : await deps.issuer.issue(
          {
            userId: session.userId,
            orgId: session.activeOrgId,
            sessionId: session.sessionId,
            deviceId,
            requestedScopes: payload.scopes as string[],
            requestedTopics: mergeStreamRequests(payload.streams as string[], payload.topics as string[]),
            requestedTtlSeconds: payload.ttl_seconds as number | null,
          },
          deps.now(),
        );
    if (!issued.ok) {
      deps.counters.increment('sync.token.issue.failed', rid);
      return mapSyncError(issued.error);
    }
    const grant = issued.grant;
    if (!policyAllows(session, grant.org_id, grant.scopes, grant.granted_topics.map((g) => g.topic))) {
      deps.counters.increment('sync.token.issue.policy_denied', rid);
      return forbidden('Requested sync scopes/topics are not allowed for current org policy.');
    }
    deps.counters.increment('sync.token.issued', rid);
    return okData(grant);
  };
}
