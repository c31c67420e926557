/**
 * The daemon's rollout routes over real HTTP: starting needs the admin token; bad flags are one
 * sentence (400) as on the command line; one rollout at a time (409); the status shows the step
 * and the live soak; confirm and abort reach the running rollout; stopping the daemon interrupts
 * it (block, resumable).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/index.js';
import { RolloutService } from '../../src/rollout/index.js';
import type { RolloutStatus, RunInput } from '../../src/rollout/index.js';
import { registerRolloutsApi } from '../../src/server/index.js';
import type { HttpServer } from '../../src/server/index.js';
import { startStandIn } from './control-stand-in.js';
import type { StandIn } from './control-stand-in.js';
import { AutoClock, buildHarness, T0 } from './runner-harness.js';
import { routeServer } from '../helpers/route-server.js';

const work = mkdtempSync(join(tmpdir(), 'sentinel-rollouts-api-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ADMIN = 'admin-token-for-the-test';

let standIn: StandIn;
let server: HttpServer;
let service: RolloutService;
let url: string;
let gate: Promise<void> = Promise.resolve();
let release: () => void = () => undefined;

beforeEach(async () => {
  standIn = await startStandIn();
  // The rollout starts only when the test releases it, so the test sees it running.
  gate = new Promise<void>((r) => (release = r));
  service = new RolloutService({
    create: (_options, _outputDir, events) => {
      const h = buildHarness(standIn, {}, { events: [events] });
      return {
        run: async (input: RunInput, signal: AbortSignal) => {
          await gate;
          return h.run(input.options, input.outputDir, { resume: input.resume, signal });
        },
      } as never;
    },
    defaultOutputDir: (kind) => join(work, `${kind}-${Math.random().toString(36).slice(2)}`),
    baseDir: work,
    env: {},
    clock: new AutoClock(T0),
    logger: pino({ level: 'silent' }),
  });
  server = routeServer({ adminToken: new Secret(ADMIN, 'test') });
  registerRolloutsApi(server, { service });
  await server.start();
  url = server.address()?.url ?? '';
});
afterEach(async () => {
  release();
  await service.stop(Date.now() + 5000);
  await server.stop(Date.now() + 2000);
  await standIn.close();
});

async function post(path: string, body: unknown, token: string | null = ADMIN): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function current(): Promise<RolloutStatus> {
  return ((await (await fetch(`${url}/api/v1/rollouts/current`)).json()) as { data: RolloutStatus }).data;
}

describe('the rollout admin API', () => {
  it('starts a rollout with the admin token only, and refuses bad flags in one sentence', async () => {
    expect((await post('/api/v1/rollouts', { kind: 'staging' }, null)).status).toBe(401);
    expect((await post('/api/v1/rollouts', { kind: 'staging' }, 'wrong')).status).toBe(403);
    const bad = await post('/api/v1/rollouts', { kind: 'staging', flags: { cohorts: '5,200' } });
    expect(bad).toEqual({ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'Invalid cohort percentage: 200' } });
    expect((await post('/api/v1/rollouts', { kind: 'staging', flags: { cohort: '5' } })).body.error).toMatch(/^unknown flag 'cohort'; known: output-dir, /);
    expect((await post('/api/v1/rollouts', { kind: 'canary' })).body.error).toBe('kind must be one of staging, production');
    expect(await current()).toEqual({ state: 'idle' });
  });

  it('runs one rollout at a time, shows it, takes a confirmation, and finishes with the decision', async () => {
    const started = await post('/api/v1/rollouts', { kind: 'staging', flags: { cohorts: '5,10', 'cohort-soak-seconds': '60', 'skip-gates': true } });
    expect(started.status).toBe(202);
    const outputDir = (started.body.data as { outputDir: string }).outputDir;
    expect((await current()).state).toBe('running');
    const busy = await post('/api/v1/rollouts', { kind: 'production' });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatch(/^a staging rollout is already running/);
    expect((await post('/api/v1/rollouts/current/confirm', { cohort: 5, by: 'rm' })).status).toBe(200);
    expect(readFileSync(join(outputDir, 'confirmations.jsonl'), 'utf8')).toMatch(/"cohort_percent":5,.*"by":"rm"/);
    release();
    const result = await service.whenIdle();
    expect(result?.decision.decision).toBe('allow');
    const status = await current();
    expect(status).toMatchObject({ state: 'finished', kind: 'staging', outputDir, decision: 'allow', interrupted: false });
    expect(readFileSync(join(outputDir, 'SUMMARY.md'), 'utf8')).toContain('- Decision: allow');
  });

  it('aborts a running rollout into a block that can be resumed', async () => {
    const started = await post('/api/v1/rollouts', { kind: 'staging', flags: { cohorts: '5', 'skip-gates': true } });
    const outputDir = (started.body.data as { outputDir: string }).outputDir;
    expect((await post('/api/v1/rollouts/current/abort', {})).status).toBe(202);
    release();
    const result = await service.whenIdle();
    expect(result?.interrupted).toBe(true);
    expect((await current()).decision).toBe('block');
    expect(readFileSync(join(outputDir, 'SUMMARY.md'), 'utf8')).toContain('- Interrupted: during ');
    const resumed = await post('/api/v1/rollouts', { kind: 'staging', resume: outputDir, flags: { cohorts: '5', 'skip-gates': true } });
    expect(resumed.status).toBe(202);
    expect((await service.whenIdle())?.decision.decision).toBe('allow');
    expect((await post('/api/v1/rollouts/current/abort', {})).status).toBe(409);
  });
});
