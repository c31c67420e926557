/**
 * The lab's runtime and control services in their default mode, checked against the real
 * services' wire bodies in test/fixtures/real/ field by field: key order, types (f64 fields keep
 * their decimal point), and values wherever they are deterministic.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/index.js';
import { signJwt, startLab } from '../../src/lab/index.js';
import { LabKnobError } from '../../src/errors.js';
import { WsClient, dig, sql, startTestLab } from './helpers.js';

const REAL = new URL('../fixtures/real/', import.meta.url);
const realText = (name: string): string => readFileSync(new URL(name, REAL), 'utf8');
const real = (name: string): Record<string, unknown> => JSON.parse(realText(name)) as Record<string, unknown>;

/** shape is a value's structure: object keys in order, array element shapes, scalar types. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]);
  return v === null ? 'null' : typeof v;
}

/** floatFields lists the keys whose numbers are printed with a decimal point in raw JSON text. */
function floatFields(text: string): string[] {
  return [...text.matchAll(/"([a-z_]+)":-?\d+\.\d+/g)].map((m) => m[1] as string).sort();
}

let lab: Lab;
let stateDir: string;
let userId: string;
const FIXTURE_USER = 'user_3f6c1e0a9b2d4c7e8a5f1b0d2c4e6a8f';

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'lab-services-'));
  lab = await startTestLab({ stateDir });
  const status = await fetch(`${lab.urls.control}/api/v1/control/status`, { headers: { authorization: `Bearer ${lab.secrets.controlSessionToken}` } });
  userId = (dig(await status.json(), 'data', 'activeOrgId') as string).replace(/^user:/, '');
});
afterEach(() => {
  lab.setKnobs({ token_failure_ratio: 0, runtime_fields: 'published', control_admin: false, readiness: { runtime: true, control: true }, runtime_routing: { canary_user_percent: 0, canary_autopilot_percent: 0, shadow_enabled: false, evaluate_fails_with: null } });
});
afterAll(async () => {
  await lab.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const session = (): Record<string, string> => ({ authorization: `Bearer ${lab.secrets.controlSessionToken}` });
const json = { 'content-type': 'application/json' };

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const mint = (body: string, headers: Record<string, string> = { ...session(), ...json }): Promise<{ status: number; text: string; headers: Headers }> =>
  call(`${lab.urls.control}/api/sync/token`, { method: 'POST', headers, body });

describe('lab secrets', () => {
  it('writes each secret to <stateDir>/secrets with mode 0600', () => {
    for (const [key, file] of [['controlSessionToken', 'control-session-token'], ['controlPersonalAccessToken', 'control-personal-access-token'], ['jwtSigningKey', 'jwt-signing-key']] as const) {
      const path = join(stateDir, 'secrets', file);
      expect(readFileSync(path, 'utf8').trim()).toBe(lab.secrets[key]);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    expect(lab.secrets.controlPersonalAccessToken).toMatch(/^oa_pat_[0-9a-f]{32}$/);
  });
});

describe('lab control: POST /api/sync/token', () => {
  it('grants the real default token: same fields, order, types and deterministic values as the fixture', async () => {
    const res = await mint('{}');
    expect(res.status).toBe(200);
    const got = JSON.parse(res.text) as { data: Record<string, unknown> };
    const want = real('sync-token-response.json') as { data: Record<string, unknown> };
    expect(shape(got)).toEqual(shape(want));
    for (const k of ['token_type', 'transport', 'protocol_version', 'expires_in', 'refresh_after_in', 'issuer', 'audience', 'claims_version', 'scopes', 'kid', 'device_id']) {
      expect(got.data[k], k).toEqual(want.data[k]);
    }
    const d = got.data;
    expect(d.subject).toBe(`user:${userId}`);
    expect(userId).toMatch(/^user_[0-9a-f]{32}$/);
    expect(d.org_id).toBe(`user:${userId}`);
    expect(d.token_id).toMatch(/^sync_[0-9a-f]{32}$/);
    expect(d.session_id).toMatch(/^sess_[0-9a-f]{32}$/);
    const topic = `org:user:${userId}:worker_events`;
    expect(d.granted_topics).toEqual([{ topic, required_scope: 'runtime.codex_worker_events' }]);
    expect(d.granted_streams).toEqual([{ stream: topic, required_scope: 'runtime.codex_worker_events' }]);
    // chrono to_rfc3339: +00:00, 0/3/6/9 fraction digits, the same instant in all three.
    const t = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})((?:\.\d{3}|\.\d{6}|\.\d{9})?)\+00:00$/;
    const [issued, refresh, expires] = [d.issued_at, d.refresh_after, d.expires_at].map((x) => t.exec(x as string));
    expect(issued && refresh && expires).toBeTruthy();
    expect(refresh?.[2]).toBe(issued?.[2]);
    expect(Date.parse(`${refresh?.[1]}Z`) - Date.parse(`${issued?.[1]}Z`)).toBe(270_000);
    expect(Date.parse(`${expires?.[1]}Z`) - Date.parse(`${issued?.[1]}Z`)).toBe(300_000);
  });

  it('signs a JWT whose header and claims are the real ones, in order, verifiable with jose', async () => {
    const d = (JSON.parse((await mint('{}')).text) as { data: Record<string, string> }).data;
    const fixture = real('sync-token-claims.json') as { header_segment_json: string; claims: Record<string, unknown> };
    const [h, c] = (d.token as string).split('.') as [string, string];
    expect(Buffer.from(h, 'base64url').toString()).toBe(fixture.header_segment_json);
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    expect(shape(claims)).toEqual(shape(fixture.claims));
    expect(claims).toMatchObject({ iss: d.issuer, aud: d.audience, sub: d.subject, jti: d.token_id, oa_user_id: userId, oa_org_id: d.org_id, oa_session_id: d.session_id, oa_device_id: d.device_id });
    expect(claims.oa_sync_streams).toEqual(claims.oa_sync_topics);
    expect(claims.nbf).toBe(claims.iat);
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    const { payload } = await jwtVerify(d.token as string, new TextEncoder().encode(lab.secrets.jwtSigningKey), { algorithms: ['HS256'] });
    expect(payload.jti).toBe(d.token_id);
    await expect(jwtVerify(d.token as string, new TextEncoder().encode('another-key'))).rejects.toThrow();
    expect(decodeProtectedHeader(d.token as string)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'sync-auth-v1' });
  });

  it('its signer reproduces the fixture token byte for byte from the fixture claims and key', async () => {
    const f = real('sync-token-claims.json') as { signing_key_used_for_this_example: string; claims_segment_json: string };
    const token = await signJwt(JSON.parse(f.claims_segment_json) as Record<string, unknown>, f.signing_key_used_for_this_example, { kid: 'sync-auth-v1' });
    expect(token).toBe((real('sync-token-response.json') as { data: { token: string } }).data.token);
  });

  it('grants all scopes with ttl 600 as the fixture: sorted scopes, three topics, refresh 570', async () => {
    const res = await mint(realText('sync-token-request.all-scopes-ttl600.json'));
    const got = JSON.parse(res.text.replaceAll(userId, FIXTURE_USER)) as { data: Record<string, unknown> };
    const want = real('sync-token-response.all-scopes-ttl600.json') as { data: Record<string, unknown> };
    expect(shape(got)).toEqual(shape(want));
    for (const k of ['expires_in', 'refresh_after_in', 'scopes', 'granted_topics', 'granted_streams', 'subject', 'org_id']) expect(got.data[k], k).toEqual(want.data[k]);
  });

  it('refuses exactly as the real service does, in its order of checks', async () => {
    const cases: Array<[string, Promise<{ status: number; text: string }>, number, string]> = [
      ['no token', mint('{}', json), 401, realText('error-401-unauthenticated.json')],
      ['unknown token', mint('{}', { authorization: 'Bearer nope', ...json }), 401, realText('error-401-unauthenticated.json')],
      ['lower-case bearer', mint('{}', { authorization: `bearer ${lab.secrets.controlSessionToken}`, ...json }), 401, realText('error-401-unauthenticated.json')],
      ['no content-type', mint('{}', session()), 415, realText('rejection-415-missing-content-type.txt')],
      ['empty body', mint(''), 400, realText('rejection-400-empty-body.txt')],
      ['scopes not a list', mint('{"scopes":"runtime.codex_worker_events"}'), 422, realText('rejection-422-scopes-not-array.txt')],
      ['device mismatch', mint('{"device_id":"ios:other"}'), 403, realText('error-403-sync-token-device-mismatch.json')],
      ['ttl out of bounds', mint('{"ttl_seconds":59}'), 422, realText('error-422-sync-token-ttl-out-of-bounds.json')],
      ['unknown scope', mint('{"scopes":["runtime.everything"]}'), 422, realText('error-422-sync-token-unknown-scope.json')],
      ['unsupported topic', mint('{"topics":["run:019c7f93:events"]}'), 422, realText('error-422-sync-token-unsupported-topic.json')],
      ['topic needs scope', mint('{"scopes":["runtime.run_summaries"],"topics":["org:openagents:worker_events"]}'), 422, realText('error-422-sync-token-topic-needs-scope.json')],
      ['member org policy', mint('{"topics":["org:openagents:worker_events"]}'), 403, realText('error-403-sync-token-policy-denied.json')],
    ];
    for (const [label, pending, status, body] of cases) {
      const res = await pending;
      expect([label, res.status, res.text]).toEqual([label, status, body]);
    }
    const pat = await mint('{"device_id":"any-device"}', { authorization: `Bearer ${lab.secrets.controlPersonalAccessToken}`, ...json });
    expect(pat.status).toBe(200);
    expect(dig(JSON.parse(pat.text), 'data', 'session_id')).toMatch(/^pat:pat_[0-9a-f]{32}$/);
    const cookie = await mint('{}', { cookie: `oa_access_token=${lab.secrets.controlSessionToken}`, ...json });
    expect(cookie.status).toBe(200);
  });

  it('answers serde_json positions for malformed and mistyped bodies', async () => {
    const cases: Array<[string, number, string]> = [
      ['{"ttl_seconds":-1}', 422, 'ttl_seconds: invalid value: integer `-1`, expected u32 at line 1 column 17'],
      ['{"ttl_seconds":1.5}', 422, 'ttl_seconds: invalid type: floating point `1.5`, expected u32 at line 1 column 18'],
      ['{"scopes":[1]}', 422, 'scopes[0]: invalid type: integer `1`, expected a string at line 1 column 12'],
      ['{"scopes":[],"scopes":[]}', 422, 'duplicate field `scopes` at line 1 column 21'],
      ['[]', 200, ''],
      ['"x"', 422, 'invalid type: string "x", expected struct SyncTokenRequestPayload at line 1 column 3'],
      ['{"scopes":[,]}', 400, 'scopes[0]: expected value at line 1 column 12'],
      ['{"a":1', 400, 'EOF while parsing an object at line 1 column 6'],
      ['{"a":1,}', 400, 'trailing comma at line 1 column 8'],
      ['{"a" 1}', 400, 'a: expected `:` at line 1 column 6'],
      ['{} trailing', 200, ''],
      ['{"x":[1,{"y":[true,null,"s"]}],"z":{},"ttl_seconds":60}', 200, ''],
      ['{"scopes":["a" "b"]}', 400, 'scopes: expected `,` or `]` at line 1 column 16'],
    ];
    for (const [body, status, message] of cases) {
      const res = await mint(body);
      const prefix = status === 422 ? 'Failed to deserialize the JSON body into the target type: ' : 'Failed to parse the request body as JSON: ';
      expect([body, res.status, status === 200 ? '' : res.text]).toEqual([body, status, status === 200 ? '' : prefix + message]);
    }
  });

  it('token_failure_ratio fails as an issuer error: the real 503 envelope, counted as sync.token.issue.failed', async () => {
    const before = lab.state().counters.control;
    lab.setKnobs({ token_failure_ratio: 1 });
    const res = await mint('{}');
    expect([res.status, res.text]).toEqual([503, realText('error-503-sync-token-signing-key-missing.json')]);
    const after = lab.state().counters.control;
    expect(after['sync.token.issue.failed']).toBe((before['sync.token.issue.failed'] ?? 0) + 1);
    expect(after['sync.token.issued']).toBe(before['sync.token.issued']);
  });

  it('runs the gates for a wrong method on a known path (401, then 405 with allow)', async () => {
    const anon = await call(`${lab.urls.control}/api/sync/token`);
    expect(anon.status).toBe(401);
    const wrong = await call(`${lab.urls.control}/api/sync/token`, { headers: session() });
    expect([wrong.status, wrong.text, wrong.headers.get('allow')]).toEqual([405, '', 'POST']);
  });
});

describe('lab control: status, health, retired routes, layers', () => {
  it('serves the control status exactly as the fixture (session bearer only, no counters)', async () => {
    const res = await call(`${lab.urls.control}/api/v1/control/status`, { headers: session() });
    expect(res.status).toBe(200);
    expect(res.text.replaceAll(userId, FIXTURE_USER)).toBe(realText('control-status.json'));
    expect(res.text).not.toContain('sync.token');
    const refusedHeaders: Array<Record<string, string>> = [{ authorization: `Bearer ${lab.secrets.controlPersonalAccessToken}` }, { cookie: `oa_access_token=${lab.secrets.controlSessionToken}` }, {}];
    for (const headers of refusedHeaders) {
      const refused = await call(`${lab.urls.control}/api/v1/control/status`, { headers });
      expect([refused.status, refused.text]).toEqual([401, realText('error-401-unauthenticated.json')]);
    }
  });

  it('adds the /api CORS, cache and sunset headers and an x-request-id', async () => {
    const res = await call(`${lab.urls.control}/api/v1/control/status`, { headers: { ...session(), origin: 'https://app.example', 'x-request-id': 'req-123' } });
    expect(Object.fromEntries(['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age', 'vary', 'cache-control', 'sunset', 'x-oa-compat-sunset-date', 'x-oa-compat-migration-doc', 'x-request-id'].map((h) => [h, res.headers.get(h)]))).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'GET,POST,PATCH,DELETE,OPTIONS',
      'access-control-allow-headers': 'authorization,content-type,x-request-id,x-xsrf-token,x-client',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'cache-control': 'no-store',
      sunset: 'Tue, 30 Jun 2026 00:00:00 GMT',
      'x-oa-compat-sunset-date': '2026-06-30',
      'x-oa-compat-migration-doc': 'docs/audits/2026-02-25-oa-audit-phase5-compatibility-lane-signoff.md',
      'x-request-id': 'req-123',
    });
    const options = await call(`${lab.urls.control}/api/anything/at/all`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('access-control-allow-origin')]).toEqual([204, '*']);
    const health = await call(`${lab.urls.control}/healthz`);
    expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves /healthz and /readyz without auth, shaped as the fixtures; readiness knob gives 503', async () => {
    const h = await call(`${lab.urls.control}/healthz`);
    const want = real('control-healthz.json');
    expect(shape(JSON.parse(h.text))).toEqual(shape(want));
    expect({ ...JSON.parse(h.text), uptime_seconds: want.uptime_seconds }).toEqual(want);
    expect((await call(`${lab.urls.control}/readyz`)).text).toBe(realText('control-readyz.json'));
    lab.setKnobs({ readiness: { control: false } });
    const down = await call(`${lab.urls.control}/readyz`);
    expect([down.status, JSON.parse(down.text).status]).toEqual([503, 'not_ready']);
  });

  it('answers retired aliases and unknown paths with an empty 404 and no content-type, any method, no auth', async () => {
    for (const path of ['/api/spacetime/token', '/api/v1/sync/token', '/api/v1/spacetime/token', '/aui', '/aui/threads', '/sync/socket/websocket', '/api/status', '/nope']) {
      for (const method of ['GET', 'POST']) {
        const res = await call(`${lab.urls.control}${path}`, { method });
        expect([path, method, res.status, res.text, res.headers.get('content-type')]).toEqual([path, method, 404, realText('not-found-404.body'), null]);
      }
    }
  });

  it('retires /api/chat/guest-session with 410 for a session, 401 otherwise', async () => {
    const res = await call(`${lab.urls.control}/api/chat/guest-session`, { headers: session() });
    expect([res.status, res.text, res.headers.get('x-oa-chat-auth-policy')]).toEqual([410, realText('retired-410-chat-guest-session.json'), 'codex-auth-required']);
    expect((await call(`${lab.urls.control}/api/chat/guest-session`)).status).toBe(401);
    expect((await call(`${lab.urls.control}/api/chat/guest-session`, { headers: { authorization: `Bearer ${lab.secrets.controlPersonalAccessToken}` } })).status).toBe(401);
  });
});

describe('lab control: runtime routing', () => {
  const evaluate = (body: string, headers: Record<string, string> = { ...session(), ...json }): Promise<{ status: number; text: string }> =>
    call(`${lab.urls.control}/api/v1/control/runtime-routing/evaluate`, { method: 'POST', headers, body });

  it('status and evaluate answer the default fixtures; the scripts\' cohort_key is ignored', async () => {
    expect((await call(`${lab.urls.control}/api/v1/control/runtime-routing/status`, { headers: session() })).text).toBe(realText('control-runtime-routing-status.json'));
    expect((await evaluate(realText('runtime-routing-evaluate-request.json'))).text).toBe(realText('runtime-routing-evaluate-response.json'));
  });

  it('refuses as the real handler does', async () => {
    expect((await evaluate('{}')).text).toBe(realText('rejection-422-missing-thread-id.txt'));
    // A struct also deserializes from a sequence; a field without a default then needs its element.
    expect((await evaluate('[]')).text).toBe('Failed to deserialize the JSON body into the target type: invalid length 0, expected struct RuntimeRoutingEvaluateRequest with 3 elements at line 1 column 2');
    expect((await evaluate('{"thread_id":"  "}')).text).toBe(realText('error-422-runtime-routing-thread-id-required.json'));
    const other = await evaluate(JSON.stringify({ thread_id: 't', user_id: 'user_00000000000000000000000000000000' }));
    expect([other.status, other.text]).toEqual([403, realText('error-403-runtime-routing-user-mismatch.json')]);
    const pat = await evaluate('{"thread_id":"t"}', { authorization: `Bearer ${lab.secrets.controlPersonalAccessToken}`, ...json });
    expect([pat.status, pat.text]).toEqual([401, realText('error-401-unauthenticated.json')]);
    expect((await call(`${lab.urls.control}/api/v1/control/runtime-routing/status`, { headers: { authorization: `Bearer ${lab.secrets.controlPersonalAccessToken}` } })).status).toBe(401);
  });

  it('buckets the session user by sha256(seed|user|id), with knobs for the canary percentages and a failing evaluate', async () => {
    lab.setKnobs({ runtime_routing: { canary_user_percent: 100, shadow_enabled: true } });
    const full = realText('runtime-routing-evaluate-request.full.json').replaceAll(FIXTURE_USER, userId);
    expect((await evaluate(full)).text).toBe(realText('runtime-routing-evaluate-response.user-canary100.json'));
    const status = JSON.parse((await call(`${lab.urls.control}/api/v1/control/runtime-routing/status`, { headers: session() })).text) as Record<string, unknown>;
    expect(dig(status, 'data', 'canary_user_percent')).toBe(100);
    const bucket = createHash('sha256').update(`runtime-canary-v1|user|${userId}`).digest().readUInt32BE(0) % 100;
    for (const percent of [bucket, bucket + 1]) {
      lab.setKnobs({ runtime_routing: { canary_user_percent: percent, shadow_enabled: false } });
      const d = JSON.parse((await evaluate('{"thread_id":"t-1","cohort_key":"user:someone-else"}')).text) as Record<string, unknown>;
      expect(dig(d, 'data', 'reason')).toBe(percent > bucket ? 'user_canary' : 'default_driver');
    }
    lab.setKnobs({ runtime_routing: { canary_user_percent: 0, evaluate_fails_with: 500 } });
    const failed = await evaluate('{"thread_id":"t-1"}');
    expect([failed.status, dig(JSON.parse(failed.text), 'error', 'code')]).toEqual([500, 'internal_error']);
  });
});

describe('lab control: runtime-routing overrides', () => {
  const override = (body: unknown, headers: Record<string, string> = { ...session(), ...json }): Promise<{ status: number; text: string }> =>
    call(`${lab.urls.control}/api/v1/control/runtime-routing/override`, { method: 'POST', headers, body: JSON.stringify(body) });
  const evaluate = async (): Promise<Record<string, unknown>> =>
    (JSON.parse((await call(`${lab.urls.control}/api/v1/control/runtime-routing/evaluate`, { method: 'POST', headers: { ...session(), ...json }, body: '{"thread_id":"t-1"}' })).text) as { data: Record<string, unknown> }).data;

  afterEach(async () => {
    lab.setKnobs({ control_admin: true, runtime_routing: { overrides_enabled: true } });
    await override({ scope_type: 'user', scope_id: userId, driver: 'control_service', is_active: false });
    lab.setKnobs({ control_admin: false });
  });

  it('needs an admin email (none by default: 403 Forbidden.) after the session gate', async () => {
    expect((await override({ scope_type: 'user', scope_id: userId, driver: 'runtime_service' }, json)).status).toBe(401);
    const res = await override({ scope_type: 'user', scope_id: userId, driver: 'runtime_service' });
    expect([res.status, res.text]).toEqual([403, '{"message":"Forbidden.","error":{"code":"forbidden","message":"Forbidden."}}']);
  });

  it('stores a user override that evaluate honours and both status routes list, until it is deactivated or overrides are off', async () => {
    lab.setKnobs({ control_admin: true });
    const res = await override({ scope_type: 'User', scope_id: ` ${userId} `, driver: 'runtime', reason: 'rollback drill' });
    expect(res.status).toBe(200);
    const data = (JSON.parse(res.text) as { data: { override: Record<string, unknown>; status: Record<string, unknown> } }).data;
    expect(Object.keys(data.override)).toEqual(['id', 'scope_type', 'scope_id', 'driver', 'is_active', 'reason', 'meta', 'created_at', 'updated_at']);
    expect(data.override).toMatchObject({ scope_type: 'user', scope_id: userId, driver: 'runtime_service', is_active: true, reason: 'rollback drill', meta: null });
    expect(data.override.id).toMatch(/^rdo_[0-9a-f]{32}$/);
    expect(data.status.overrides).toEqual([data.override]);
    expect(await evaluate()).toMatchObject({ driver: 'runtime_service', reason: 'user_override', user_override: 'runtime_service' });
    const status = JSON.parse((await call(`${lab.urls.control}/api/v1/control/status`, { headers: session() })).text) as Record<string, unknown>;
    expect(dig(status, 'data', 'runtimeRouting', 'overrides', 0, 'scope_id')).toBe(userId);
    lab.setKnobs({ runtime_routing: { overrides_enabled: false } });
    expect(await evaluate()).toMatchObject({ driver: 'control_service', reason: 'default_driver' });
    lab.setKnobs({ runtime_routing: { overrides_enabled: true } });
    await override({ scope_type: 'user', scope_id: userId, driver: 'runtime_service', is_active: false });
    expect(await evaluate()).toMatchObject({ driver: 'control_service', reason: 'default_driver' });
  });

  it('validates as the real handler does', async () => {
    lab.setKnobs({ control_admin: true });
    const cases: Array<[unknown, string]> = [
      [{ scope_type: 'team', scope_id: 'x', driver: 'runtime' }, '{"message":"Scope type must be one of: user, autopilot.","error":{"code":"invalid_request","message":"Scope type must be one of: user, autopilot."},"errors":{"scope_type":["Scope type must be one of: user, autopilot."]}}'],
      [{ scope_type: 'user', scope_id: ' ', driver: 'runtime' }, '{"message":"Scope id is required.","error":{"code":"invalid_request","message":"Scope id is required."},"errors":{"scope_id":["Scope id is required."]}}'],
      [{ scope_type: 'user', scope_id: 'x', driver: 'elixir' }, '{"message":"Driver must be one of: control_service, runtime_service (legacy/elixir accepted).","error":{"code":"invalid_request","message":"Driver must be one of: control_service, runtime_service (legacy/elixir accepted)."},"errors":{"driver":["Driver must be one of: control_service, runtime_service (legacy/elixir accepted)."]}}'],
      [{ scope_type: 'user', scope_id: 'x' }, 'Failed to deserialize the JSON body into the target type: missing field `driver` at line 1 column 36'],
      [{ scope_type: 'user', scope_id: 'x', driver: 'runtime', is_active: 'yes' }, 'Failed to deserialize the JSON body into the target type: is_active: invalid type: string "yes", expected a boolean at line 1 column 72'],
    ];
    for (const [body, want] of cases) expect((await override(body)).text).toBe(want);
  });
});

describe('lab runtime', () => {
  const metricsUrl = (): string => `${lab.urls.runtime}/internal/v1/spacetime/sync/metrics`;

  it('serves the metrics with no auth: the fixture\'s fields, order and types, an Authorization header ignored', async () => {
    const variants: Array<Record<string, string>> = [{}, { authorization: 'Bearer anything' }];
    for (const headers of variants) {
      const res = await call(metricsUrl(), { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      const body = JSON.parse(res.text) as Record<string, unknown>;
      expect(shape(body)).toEqual(shape(real('runtime-metrics.json')));
      expect(floatFields(res.text)).toEqual(floatFields(realText('runtime-metrics.json')));
      expect(body.transport).toBe('spacetime_ws');
      expect(dig(body, 'mirror', 'published_total')).toBe(dig(body, 'delivery', 'event_count'));
      expect(body.generated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3}|\.\d{6}|\.\d{9})?Z$/);
    }
  });

  it('adds the documented fields only in the clearly named documented mode', async () => {
    lab.setKnobs({ runtime_fields: 'documented' });
    const body = JSON.parse((await call(metricsUrl())).text) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['transport', 'mirror', 'delivery', 'auth_failures', 'generated_at']);
    expect(Object.keys(body.delivery as object)).toEqual(['stream_count', 'event_count', 'max_replay_lag', 'dropped_messages_total', 'stale_cursor_events_total']);
  });

  it('serves /healthz and /readyz at the root, shaped as the fixtures', async () => {
    const h = JSON.parse((await call(`${lab.urls.runtime}/healthz`)).text) as Record<string, unknown>;
    const want = real('runtime-healthz.json');
    expect({ ...h, uptime_seconds: want.uptime_seconds }).toEqual(want);
    expect((await call(`${lab.urls.runtime}/readyz`)).text).toBe(realText('runtime-readyz.json'));
    lab.setKnobs({ readiness: { runtime: false } });
    expect((await call(`${lab.urls.runtime}/readyz`)).status).toBe(503);
    expect((await call(`${lab.urls.runtime}/internal/v1/health`)).status).toBe(404);
  });

  it('answers retired and unknown routes with an empty 404, a wrong method with 405, an unknown run with not_found', async () => {
    for (const [method, path] of [
      ['GET', '/internal/v1/spacetime/topics/runtime.fallback/messages?after_seq=0&limit=1'],
      ['POST', '/internal/v1/spacetime/topics/run:1:events/messages'],
      ['GET', '/internal/v1/spacetime/fanout/hooks'],
      ['POST', '/internal/v1/spacetime/fanout/hooks'],
      ['GET', '/sync/socket/websocket'],
      ['POST', '/internal/v1/sync/sessions/revoke'],
    ] as const) {
      const res = await call(`${lab.urls.runtime}${path}`, { method, headers: { authorization: 'Bearer x' } });
      expect([path, res.status, res.text, res.headers.get('content-type')]).toEqual([path, 404, '', null]);
    }
    const wrong = await call(metricsUrl(), { method: 'POST' });
    expect([wrong.status, wrong.text, wrong.headers.get('allow')]).toEqual([405, '', 'GET,HEAD']);
    const run = await call(`${lab.urls.runtime}/internal/v1/runs/019c7f93-0000-7000-8000-000000000000`);
    expect([run.status, run.text]).toEqual([404, realText('runtime-error-404-not-found.json')]);
  });
});

describe('lab SpacetimeDB accepts the control\'s tokens', () => {
  it('with a stable identity', async () => {
    const token = (JSON.parse((await mint('{}')).text) as { data: { token: string } }).data.token;
    const a = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head', { authorization: `Bearer ${token}` });
    expect(a.status).toBe(200);
    const { client, identity } = await WsClient.connect(lab, { headers: { authorization: `Bearer ${token}` } });
    expect(identity).toBe(a.headers.get('spacetime-identity'));
    await client.close();
  });
});

describe('lab persistence', () => {
  it('keeps the tables across restarts with persist: true, and writes given secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-persist-'));
    const ports = { spacetimedb: 0, runtime: 0, control: 0, admin: 0 };
    try {
      const first = await startLab({ ports, stateDir: dir, persist: true, knobs: { traffic: { paused: true } }, secrets: { jwtSigningKey: 'fixed-key-for-test' } });
      first.setKnobs({ append_burst: { stream: 'persist.s', count: 3 } });
      await first.close();
      const second = await startLab({ ports, stateDir: dir, persist: true, knobs: { traffic: { paused: true } } });
      try {
        expect(second.state().streams.find((s) => s.stream_id === 'persist.s')?.head_seq).toBe(3);
        const r = await sql(second, "SELECT COUNT(*) AS n FROM sync_event WHERE stream_id = 'persist.s'");
        expect(dig(r.json, 0, 'rows', 0, 0)).toBe(3);
      } finally {
        await second.close();
      }
      expect(readFileSync(join(dir, 'secrets', 'jwt-signing-key'), 'utf8').trim()).not.toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lab start errors', () => {
  it('names the port option when a port is taken, and leaves nothing running', async () => {
    const taken = Number(new URL(lab.urls.admin).port);
    const attempt = startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: taken } });
    await expect(attempt).rejects.toBeInstanceOf(LabKnobError);
    await expect(attempt).rejects.toThrow(/ports\.admin/);
  });
});
