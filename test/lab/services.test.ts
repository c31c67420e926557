import { readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/index.js';
import { startLab } from '../../src/lab/index.js';
import { LabKnobError } from '../../src/errors.js';
import { verifyJwt } from '../../src/lab/index.js';
import { WsClient, dig, sql, startTestLab } from './helpers.js';

const FIXTURES = new URL('../fixtures/recorded', import.meta.url).pathname;
let lab: Lab;
let stateDir: string;
beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'lab-services-'));
  lab = await startTestLab({ stateDir });
});
afterAll(async () => {
  await lab.close();
  rmSync(stateDir, { recursive: true, force: true });
});

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

describe('lab secrets', () => {
  it('writes each secret to <stateDir>/secrets with mode 0600', () => {
    for (const [key, file] of [['runtimeAdminToken', 'runtime-admin-token'], ['controlSessionToken', 'control-session-token'], ['jwtSigningKey', 'jwt-signing-key']] as const) {
      const path = join(stateDir, 'secrets', file);
      expect(readFileSync(path, 'utf8').trim()).toBe(lab.secrets[key]);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
  });
});

describe('lab control service', () => {
  const tokenUrl = (): string => `${lab.urls.control}/api/sync/token`;

  it('issues a sync token with every published field and a verifiable HS256 JWT', async () => {
    const res = await fetch(tokenUrl(), { method: 'POST', headers: { authorization: `Bearer ${lab.secrets.controlSessionToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ scopes: ['run:r1:events'] }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Record<string, unknown> };
    const expected = fixture('control-sync-token.json').data as Record<string, unknown>;
    expect(Object.keys(body.data).sort()).toEqual(Object.keys(expected).sort());
    const data = body.data;
    expect(data).toMatchObject({ token_type: 'Bearer', transport: 'spacetime_ws', protocol_version: 'spacetime.sync.v1', expires_in: 300, refresh_after_in: 270 });
    expect(data.granted_streams).toEqual([{ stream: 'runtime.run.r1.events', required_scope: 'run:r1:events' }]);
    const v = await verifyJwt(data.token as string, lab.secrets.jwtSigningKey, Math.floor(Date.now() / 1000));
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.header).toMatchObject({ alg: 'HS256', kid: data.kid });
    expect(v.claims).toMatchObject({ iss: data.issuer, aud: data.audience, sub: data.subject, jti: data.token_id, oa_sync_scopes: ['run:r1:events'], oa_sync_streams: ['runtime.run.r1.events'], oa_sync_topics: ['run:r1:events'] });
    const claims = v.claims as { iat: number; nbf: number; exp: number };
    expect(claims.exp - claims.iat).toBe(300);
    expect(claims.nbf).toBe(claims.iat);
    expect(Date.parse(data.expires_at as string) / 1000).toBe(claims.exp);
    expect((await verifyJwt(data.token as string, 'another-key', claims.iat)).ok).toBe(false);
  });

  it('refuses a missing or wrong session token with 401 and counts it', async () => {
    const before = lab.state().counters.control['sync.token.issue.auth_failed'] ?? 0;
    expect((await fetch(tokenUrl(), { method: 'POST' })).status).toBe(401);
    expect((await fetch(tokenUrl(), { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect(lab.state().counters.control['sync.token.issue.auth_failed']).toBe(before + 2);
  });

  it('serves control status with syncCutover and keeps retired aliases 404', async () => {
    const res = await fetch(`${lab.urls.control}/api/v1/control/status`, { headers: { authorization: `Bearer ${lab.secrets.controlSessionToken}` } });
    const body = (await res.json()) as Record<string, unknown>;
    expect(dig(body, 'data', 'syncCutover')).toEqual(dig(fixture('control-status.json'), 'data', 'syncCutover'));
    expect((await fetch(`${lab.urls.control}/api/v1/control/status`)).status).toBe(401);
    for (const path of ['/api/spacetime/token', '/api/v1/spacetime/token', '/api/v1/sync/token']) {
      const r = await fetch(`${lab.urls.control}${path}`, { method: 'POST', headers: { authorization: `Bearer ${lab.secrets.controlSessionToken}` } });
      expect(r.status, path).toBe(404);
    }
  });

  it('issues tokens that the lab SpacetimeDB accepts with a stable identity', async () => {
    const res = await fetch(tokenUrl(), { method: 'POST', headers: { authorization: `Bearer ${lab.secrets.controlSessionToken}` } });
    const token = ((await res.json()) as { data: { token: string } }).data.token;
    const a = await sql(lab, 'SELECT COUNT(*) AS n FROM stream_head', { authorization: `Bearer ${token}` });
    expect(a.status).toBe(200);
    const { client, identity } = await WsClient.connect(lab, { headers: { authorization: `Bearer ${token}` } });
    expect(identity).toBe(a.headers.get('spacetime-identity'));
    await client.close();
  });
});

describe('lab runtime service', () => {
  const metricsUrl = (): string => `${lab.urls.runtime}/internal/v1/spacetime/sync/metrics`;

  it('requires the admin bearer token', async () => {
    expect((await fetch(metricsUrl())).status).toBe(401);
    expect((await fetch(metricsUrl(), { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('returns exactly the published fields by default', async () => {
    const res = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${lab.secrets.runtimeAdminToken}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    const expected = fixture('runtime-sync-metrics.json');
    expect(Object.keys(body)).toEqual(Object.keys(expected));
    expect(Object.keys(body.mirror as object)).toEqual(Object.keys(expected.mirror as object));
    expect(Object.keys(body.delivery as object)).toEqual(Object.keys(expected.delivery as object));
    expect(Number.isNaN(Date.parse(body.generated_at as string))).toBe(false);
  });

  it('keeps retired routes 404', async () => {
    const r = await fetch(`${lab.urls.runtime}/internal/v1/spacetime/topics/run:1:events/messages`, { headers: { authorization: `Bearer ${lab.secrets.runtimeAdminToken}` } });
    expect(r.status).toBe(404);
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
