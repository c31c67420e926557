/**
 * The token contract against the real grants (test/fixtures/real): they hold it, and each way a
 * grant could break what the control service itself guarantees is caught (sabotage cases).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { checkGrant, defaultTopics, verifySignature } from '../../../src/probes/probes/index.js';
import type { GrantExpectations } from '../../../src/probes/probes/index.js';
import type { JsonObject } from '../../../src/spacetime/index.js';

const real = (name: string): { data: JsonObject } => JSON.parse(readFileSync(new URL(`../../fixtures/real/${name}`, import.meta.url), 'utf8')) as { data: JsonObject };
const KEY = (JSON.parse(readFileSync(new URL('../../fixtures/real/sync-token-claims.json', import.meta.url), 'utf8')) as { signing_key_used_for_this_example: string }).signing_key_used_for_this_example;
const DEFAULT = real('sync-token-response.json').data;
const ALL = real('sync-token-response.all-scopes-ttl600.json').data;
const EXPECT = { clockSkewSeconds: 30 };

function violations(data: JsonObject, token = data.token as string, expect: GrantExpectations = EXPECT): string[] {
  return checkGrant(data, token, expect).violations;
}

/** resign rebuilds the token with changed claims (claim order kept) and the fixture's key. */
async function resign(data: JsonObject, change: (claims: Record<string, unknown>) => void): Promise<string> {
  const [, payload] = (data.token as string).split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  change(claims);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'sync-auth-v1' }).sign(new TextEncoder().encode(KEY));
}

describe('the real grants hold the contract', () => {
  it('default scopes and all scopes with ttl 600, whatever the clock says today', async () => {
    expect(violations(DEFAULT)).toEqual([]);
    expect(violations(ALL, ALL.token as string, { ...EXPECT, ttlSeconds: 600, scopes: ['runtime.run_summaries', 'runtime.codex_worker_events', 'runtime.codex_worker_summaries'] })).toEqual([]);
    expect(violations(DEFAULT, DEFAULT.token as string, { ...EXPECT, issuer: 'https://openagents.com', audience: 'openagents-sync' })).toEqual([]);
    const issuedAtMs = checkGrant(DEFAULT, DEFAULT.token as string, EXPECT).issuedAtMs;
    expect(issuedAtMs).toBe(Date.parse('2026-02-25T20:48:29.123Z'));
    expect(await verifySignature(DEFAULT.token as string, [KEY], issuedAtMs, 30)).toEqual({ checked: true, ok: true, keyIndex: 0 });
  });

  it('verifies with a fallback key during a rotation, and names a key that fits none', async () => {
    const t = ALL.token as string;
    expect(await verifySignature(t, ['the-new-key', KEY], Date.parse('2026-02-25T20:48:29Z'), 30)).toEqual({ checked: true, ok: true, keyIndex: 1 });
    expect(await verifySignature(t, ['the-new-key', 'an-old-key'], undefined, 30)).toEqual({
      checked: true,
      ok: false,
      violation: 'JWT signature does not verify with the configured signing key or any of 1 fallback key(s)',
    });
    expect(await verifySignature(t, [], undefined, 30)).toEqual({ checked: false });
  });

  it('derives the default topics as the issuer does', () => {
    expect(defaultTopics(['runtime.codex_worker_events', 'runtime.codex_worker_summaries', 'runtime.run_summaries'], 'user_1', 'user:user_1')).toEqual([
      'org:user:user_1:worker_events',
      'org:user:user_1:workers',
      'user:user_1:runs',
    ]);
    expect(defaultTopics(['runtime.codex_worker_events', 'custom.scope'], 'u', 'org:acme')).toEqual(['org:acme:worker_events']);
  });
});

describe('what the service would break is caught (sabotage)', () => {
  const cases: Array<[string, (d: JsonObject) => JsonObject, string]> = [
    ['a docs-style stream mapping', (d) => ({ ...d, granted_streams: [{ stream: 'runtime.codex.worker.events', required_scope: 'runtime.codex_worker_events' }] }), 'granted_streams'],
    ['refresh_after_in off the formula', (d) => ({ ...d, refresh_after_in: 300 }), 'refresh_after_in is 300, expected max(expires_in - 30, 1) = 270'],
    ['expires_at not issued_at + expires_in', (d) => ({ ...d, expires_at: '2026-02-25T20:53:30.123456789+00:00' }), 'expires_at - issued_at is 301 s'],
    ['unsorted scopes', (d) => ({ ...d, scopes: ['runtime.run_summaries', 'runtime.codex_worker_events'] }), 'are not sorted and unique'],
    ['a topic with the wrong scope', (d) => ({ ...d, granted_topics: [{ topic: (d.granted_topics as JsonObject[])[0]?.topic as string, required_scope: 'runtime.run_summaries' }] }), 'expected "runtime.codex_worker_events"'],
    ['a topic that is not the default for the org', (d) => ({ ...d, granted_topics: [{ topic: 'org:someone-else:worker_events', required_scope: 'runtime.codex_worker_events' }], granted_streams: [{ stream: 'org:someone-else:worker_events', required_scope: 'runtime.codex_worker_events' }] }), 'are not the default topics'],
    ['a wrong transport', (d) => ({ ...d, transport: 'phoenix_ws' }), 'transport is "phoenix_ws"'],
    ['a kid that differs from the header', (d) => ({ ...d, kid: 'sync-auth-v2' }), 'JWT kid "sync-auth-v1" differs from kid "sync-auth-v2"'],
    ['a token that is no JWT', (d) => ({ ...d, token: 'opaque-token' }), 'token is not a JWT'],
  ];
  for (const [label, sabotage, expected] of cases) {
    it(label, () => {
      const d = sabotage(DEFAULT);
      expect(violations(d, d.token as string).join('\n')).toContain(expected);
    });
  }

  it('claims that disagree with the grant: a numeric oa_user_id, an iat far from issued_at, streams that differ from topics', async () => {
    const numeric = await resign(DEFAULT, (c) => (c.oa_user_id = 42));
    expect(violations(DEFAULT, numeric).join('\n')).toContain('JWT oa_user_id is 42, expected the user id as a string');
    const early = await resign(DEFAULT, (c) => {
      c.iat = (c.iat as number) - 120;
      c.nbf = c.iat;
      c.exp = (c.iat as number) + 300;
    });
    expect(violations(DEFAULT, early).join('\n')).toContain('is more than 30 s from issued_at');
    const streams = await resign(DEFAULT, (c) => (c.oa_sync_streams = ['runtime.codex.worker.events']));
    expect(violations(DEFAULT, streams).join('\n')).toContain('JWT oa_sync_streams');
    expect(await verifySignature(streams, [KEY], Date.parse('2026-02-25T20:48:29Z'), 30)).toEqual({ checked: true, ok: true, keyIndex: 0 });
  });

  it('requested values that did not come back', () => {
    expect(violations(DEFAULT, DEFAULT.token as string, { ...EXPECT, ttlSeconds: 600 }).join('\n')).toContain('expected the requested ttl_seconds 600');
    expect(violations(DEFAULT, DEFAULT.token as string, { ...EXPECT, issuer: 'https://control.example' }).join('\n')).toContain('expected the configured "https://control.example"');
  });
});
