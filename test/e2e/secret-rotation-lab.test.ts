/**
 * Secrets rotated under a running daemon. The lab shares its secrets through files
 * (`<stateDir>/secrets/*`) as a mounted Secret volume would, and the daemon composed by
 * `buildDaemon` reads them through `${file:...}` references (config/lab.yaml). Each secret is
 * rotated while the daemon runs (the lab knob `rotate_secrets`, an atomic rename, after which the
 * lab accepts only the new value): the next run of every probe that uses it passes, so no probe
 * fails for even one run. A secret file that disappears fails the probes that need it with reason
 * `config` (never `auth`), logged once, and they pass again at the first run after it is back.
 *
 * Time is a ManualClock shared by the lab and the daemon; the probes run by hand
 * (`ProbeScheduler.runOnce`) once per simulated 15 s.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Document } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import { buildDaemon } from '../../src/commands/run.js';
import type { Daemon } from '../../src/commands/run.js';
import { loadConfig } from '../../src/config/index.js';
import { startComponents, stopComponents } from '../../src/daemon/index.js';
import type { Component } from '../../src/daemon/index.js';
import { ControlClient } from '../../src/spacetime/index.js';
import { ManualClock } from '../../src/time/index.js';

/** NEVER is a cron schedule that does not fire during the test: probes run by hand. */
const NEVER = '0 0 1 1 *';
const LAB_TICK_MS = 10;
/** PROBES are those that run fast against the lab; token, cutover_state and retired_routes use the control's session token, token the signing key too. */
const PROBES = ['runtime_metrics', 'replay_lag', 'delivery', 'token', 'cutover_state', 'retired_routes'] as const;
/** USES_SESSION_TOKEN are the probes that fail when the session token file is gone. */
const USES_SESSION_TOKEN = ['token', 'cutover_state', 'retired_routes'];

function realSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('secret files rotated under a running daemon', () => {
  let work: string;
  let clock: ManualClock;
  let env: LabEnvironment;
  let daemon: Daemon;
  let started: Component[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.startsWith('{')) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sentinel-secret-rotation-'));
    clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000);
    const patchConfig = (doc: Document): void => {
      for (const p of [...PROBES, 'resume', 'connections']) doc.setIn(['probes', p, 'schedule'], NEVER);
      doc.setIn(['alerting', 'log'], false);
    };
    // Simulated time jumps 15 s a round, faster than the lab's keep-alive sweeper (real time,
    // every second) can ping and hear a pong: with SpacetimeDB's 30 s idle drop, two quick rounds
    // would cut the probes' long-lived sockets, which is not what this test is about.
    env = await startLabEnvironment({ workDir: join(work, 'env'), evidenceDir: join(work, 'evidence'), clock, tickMs: LAB_TICK_MS, patchConfig, idleTimeoutMs: 3_600_000 });
    daemon = await buildDaemon(loadConfig(env.configFile), { clock, logger, registry: new Registry(), tracer: trace.getTracer('secret-rotation'), version: 'test', env: {} });
    started = await startComponents(daemon.components, { signal: new AbortController().signal, logger, clock, deadlineMs: () => clock.nowMs() + 5000 });
  }, 60_000);

  afterAll(async () => {
    if (started.length > 0) await Promise.race([stopComponents(started, { deadlineMs: clock.nowMs() + 2000, clock, logger }), realSleep(10_000)]);
    await env?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 30_000);

  /** round moves simulated time 15 s and runs every probe once; it returns each probe's reason. */
  async function round(): Promise<Record<string, string>> {
    await clock.advance(15_000);
    await realSleep(LAB_TICK_MS * 4);
    const scheduler = daemon.generation().probeScheduler;
    const reports = (await Promise.all(PROBES.map((p) => scheduler.runOnce(p)))).flat();
    return Object.fromEntries(reports.map((r) => [r.probe, r.outcome.reason]));
  }

  async function rotate(names: true | readonly string[]): Promise<void> {
    const res = await fetch(`${env.urls.admin}/lab/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rotate_secrets: names }), signal: AbortSignal.timeout(5000) });
    expect(res.status, await res.text()).toBe(200);
  }

  const allOk = Object.fromEntries(PROBES.map((p) => [p, 'ok']));

  it('passes every probe before any rotation', async () => {
    expect(await round()).toEqual(allOk);
  });

  it.each([
    ['the control session token', ['control_session_token']],
    ['the sync-token signing key', ['jwt_signing_key']],
    ['every secret at once', true],
  ] as const)('rotating %s fails no run: the next round passes with the new value', async (_what, names) => {
    const files = env.stack.lab.secretFiles;
    if (!files) throw new Error('the lab keeps no secret files');
    const oldSession = readFileSync(files.controlSessionToken, 'utf8').trim();
    await rotate(names);
    expect(await round()).toEqual(allOk);
    expect(await round()).toEqual(allOk);
    if (names === true || (names as readonly string[]).includes('control_session_token')) {
      // The rotation is real: the lab no longer accepts the old session token.
      const stale = new ControlClient({ baseUrl: env.urls.control, sessionToken: oldSession, timeoutMs: 5000 });
      expect((await stale.route('/api/v1/control/status', { authenticated: true })).status).toBe(401);
    }
    const log = logLines.filter((l) => l.msg === 'secret file changed; the new value is in effect from this request on');
    expect(log.length).toBeGreaterThan(0);
    // Values never reach the log.
    expect(JSON.stringify(logLines)).not.toContain(readFileSync(files.controlSessionToken, 'utf8').trim());
  });

  it('a session token file that disappears fails the probes needing it with reason config, logged once, until it is back', async () => {
    const files = env.stack.lab.secretFiles;
    if (!files) throw new Error('the lab keeps no secret files');
    const away = `${files.controlSessionToken}.away`;
    const before = logLines.length;
    renameSync(files.controlSessionToken, away);
    try {
      for (let i = 0; i < 3; i++) {
        const reasons = await round();
        for (const p of PROBES) expect(reasons[p], `${p} without the session token file`).toBe(USES_SESSION_TOKEN.includes(p) ? 'config' : 'ok');
      }
    } finally {
      renameSync(away, files.controlSessionToken);
    }
    const lines = logLines.slice(before);
    const gone = lines.filter((l) => l.msg === 'secret file cannot be used; what needs it fails with reason config until it is restored');
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatchObject({ setting: 'target.control.session_token', file: files.controlSessionToken });
    expect(await round()).toEqual(allOk);
    expect(logLines.slice(before).filter((l) => l.msg === 'secret file readable again; in effect from this request on')).toHaveLength(1);
  });
});
