/**
 * The lab keeps its secrets across restarts and rotates them only when asked: at start
 * (`rotateSecrets`) or while running (knob `rotate_secrets`), rewriting the files atomically and
 * switching the services over at once.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/index.js';
import { SECRET_FILE_NAMES } from '../../src/lab/index.js';
import { WsClient, dig, startTestLab } from './helpers.js';

const dirs: string[] = [];
const labs: Lab[] = [];
afterEach(async () => {
  await Promise.all(labs.splice(0).map((l) => l.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lab-secrets-'));
  dirs.push(d);
  return d;
}

async function start(options: Parameters<typeof startTestLab>[0]): Promise<Lab> {
  const lab = await startTestLab(options);
  labs.push(lab);
  return lab;
}

function fileValues(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(SECRET_FILE_NAMES).map(([key, name]) => [key, readFileSync(join(dir, 'secrets', name), 'utf8').trim()]));
}

async function status(lab: Lab, token: string): Promise<number> {
  const res = await fetch(`${lab.urls.control}/api/v1/control/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) });
  await res.arrayBuffer();
  return res.status;
}

async function mint(lab: Lab, bearer: string): Promise<{ status: number; token?: string }> {
  const res = await fetch(`${lab.urls.control}/api/sync/token`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(3000) });
  const body = (await res.json()) as { data?: { token?: string } };
  return { status: res.status, token: body.data?.token };
}

describe('lab secrets across restarts', () => {
  it('reuses the secrets in its state directory, fills a missing or empty file, and rotates only when asked', async () => {
    const dir = stateDir();
    const first = await start({ stateDir: dir });
    const kept = first.secrets;
    expect(fileValues(dir)).toEqual(kept);
    await first.close();

    const second = await start({ stateDir: dir });
    expect(second.secrets).toEqual(kept);
    expect(await status(second, kept.controlSessionToken)).toBe(200);
    await second.close();

    rmSync(join(dir, 'secrets', SECRET_FILE_NAMES.controlPersonalAccessToken));
    writeFileSync(join(dir, 'secrets', SECRET_FILE_NAMES.jwtSigningKey), '\n');
    const third = await start({ stateDir: dir });
    expect(third.secrets.controlSessionToken).toBe(kept.controlSessionToken);
    expect(third.secrets.controlPersonalAccessToken).toMatch(/^oa_pat_[0-9a-f]{32}$/);
    expect(third.secrets.controlPersonalAccessToken).not.toBe(kept.controlPersonalAccessToken);
    expect(third.secrets.jwtSigningKey).not.toBe(kept.jwtSigningKey);
    expect(fileValues(dir)).toEqual(third.secrets);
    await third.close();

    const rotated = await start({ stateDir: dir, rotateSecrets: true, secrets: { controlSessionToken: 'given-session-token' } });
    expect(rotated.secrets.controlSessionToken).toBe('given-session-token');
    expect(rotated.secrets.jwtSigningKey).not.toBe(third.secrets.jwtSigningKey);
    expect(rotated.secrets.controlPersonalAccessToken).not.toBe(third.secrets.controlPersonalAccessToken);
    expect(fileValues(dir)).toEqual(rotated.secrets);
  });
});

describe('knob rotate_secrets', () => {
  it('rewrites every secret file atomically and the services switch at once; identities SpacetimeDB minted survive', async () => {
    const dir = stateDir();
    const lab = await start({ stateDir: dir });
    const before = lab.secrets;
    const oldSync = (await mint(lab, before.controlSessionToken)).token as string;
    const { client: canary, token: identityToken } = await WsClient.connect(lab);
    await canary.close();

    const res = await fetch(`${lab.urls.admin}/lab/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rotate_secrets: true }), signal: AbortSignal.timeout(3000) });
    expect(res.status).toBe(200);
    const state = (await res.json()) as Record<string, unknown>;
    expect(dig(state, 'counters', 'lab', 'secret_rotations')).toEqual({ controlSessionToken: 1, controlPersonalAccessToken: 1, jwtSigningKey: 1 });
    expect(dig(state, 'counters', 'lab', 'secrets_rotated_at_unix_ms')).toBeTypeOf('number');
    const after = lab.secrets;
    for (const key of Object.keys(before) as Array<keyof typeof before>) {
      expect(after[key], key).not.toBe(before[key]);
      expect(JSON.stringify(state)).not.toContain(after[key]);
      const file = join(dir, 'secrets', SECRET_FILE_NAMES[key]);
      expect(readFileSync(file, 'utf8')).toBe(`${after[key]}\n`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(readdirSync(join(dir, 'secrets')).sort()).toEqual(Object.values(SECRET_FILE_NAMES).sort());

    // Control: the old session token and PAT are refused, the new ones accepted.
    expect(await status(lab, before.controlSessionToken)).toBe(401);
    expect(await status(lab, after.controlSessionToken)).toBe(200);
    expect((await mint(lab, before.controlPersonalAccessToken)).status).toBe(401);
    const newSync = await mint(lab, after.controlPersonalAccessToken);
    expect(newSync.status).toBe(200);
    // New sync tokens are signed with the new key, and SpacetimeDB trusts the new key only.
    await expect(jwtVerify(newSync.token as string, new TextEncoder().encode(after.jwtSigningKey))).resolves.toBeTruthy();
    await expect(jwtVerify(newSync.token as string, new TextEncoder().encode(before.jwtSigningKey))).rejects.toThrow();
    await expect(WsClient.open(lab, { headers: { authorization: `Bearer ${oldSync}` } })).rejects.toMatchObject({ status: 401 });
    const fresh = await WsClient.connect(lab, { headers: { authorization: `Bearer ${newSync.token as string}` } });
    await fresh.client.close();
    // SpacetimeDB's own identity tokens are not the control's secret: a canary keeps its identity.
    const back = await WsClient.connect(lab, { headers: { authorization: `Bearer ${identityToken}` } });
    await back.client.close();
  });

  it('rotates only the named secrets, and refuses unknown names', async () => {
    const lab = await start({ stateDir: stateDir() });
    const before = lab.secrets;
    lab.setKnobs({ rotate_secrets: ['jwt_signing_key'] });
    expect(lab.secrets).toEqual({ ...before, jwtSigningKey: lab.secrets.jwtSigningKey });
    expect(lab.secrets.jwtSigningKey).not.toBe(before.jwtSigningKey);
    expect(lab.state().counters.lab.secret_rotations).toEqual({ controlSessionToken: 0, controlPersonalAccessToken: 0, jwtSigningKey: 1 });
    for (const bad of [['admin_token'], [], 'yes']) {
      const res = await fetch(`${lab.urls.admin}/lab/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rotate_secrets: bad }), signal: AbortSignal.timeout(3000) });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('rotate_secrets');
    }
  });

  it('can be timed: after_ms rotates on the lab clock', async () => {
    const { ManualClock } = await import('../../src/time/index.js');
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    const lab = await start({ stateDir: stateDir(), clock });
    const before = lab.secrets;
    lab.setKnobs({ after_ms: 60_000, rotate_secrets: ['control_session_token'] });
    await clock.advance(59_999);
    expect(lab.secrets.controlSessionToken).toBe(before.controlSessionToken);
    await clock.advance(1);
    expect(lab.secrets.controlSessionToken).not.toBe(before.controlSessionToken);
    expect(lab.state().counters.lab.secrets_rotated_at_unix_ms).toBe(Date.parse('2026-03-01T00:01:00Z'));
  });
});
