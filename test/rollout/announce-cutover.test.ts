/**
 * `sentinel announce-cutover` against the lab: allow with the script's four artifacts and
 * result.json keys, the emergency-mode flags recorded as absent; a snapshot that fails (a wrong
 * session token) is an error in the evidence and blocks; a transport other than spacetime_ws
 * blocks, naming it.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import { captureIO } from '../support/capture-io.js';
import type { CapturedIO } from '../support/capture-io.js';

const work = mkdtempSync(join(tmpdir(), 'sentinel-cutover-'));
let env: LabEnvironment;

beforeAll(async () => {
  env = await startLabEnvironment({ workDir: work, evidenceDir: join(work, 'evidence') });
}, 60_000);
afterAll(async () => {
  await env.close();
  rmSync(work, { recursive: true, force: true });
});

function io(): CapturedIO {
  return captureIO({ env: { LOG_LEVEL: 'silent' }, cwd: work });
}

async function announce(options: Record<string, string | boolean>): Promise<{ code: number; out: string; err: string }> {
  const command = await COMMANDS['announce-cutover'].load();
  const c = io();
  const code = await command.run({ positionals: [], options: { config: env.configFile, ...options } }, c);
  return { code, out: c.out(), err: c.err() };
}

describe('sentinel announce-cutover', () => {
  it('allows when control and runtime both say spacetime_ws, with the four artifacts and the script keys', async () => {
    const dir = join(work, 'allow');
    const run = await announce({ 'output-dir': dir });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['SUMMARY.md', 'control-status.json', 'result.json', 'runtime-spacetime-metrics.json']);
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(result).slice(0, 9)).toEqual([
      'timestamp_utc',
      'control_transport',
      'control_legacy_sync_emergency_mode_enabled',
      'control_spacetime_emergency_mode_enabled',
      'runtime_transport',
      'runtime_legacy_sync_emergency_mode_enabled',
      'runtime_spacetime_emergency_mode_enabled',
      'decision',
      'skip_remote',
    ]);
    expect(result).toMatchObject({ control_transport: 'spacetime_ws', runtime_transport: 'spacetime_ws', decision: 'allow', skip_remote: 0, errors: [] });
    // Neither service reports emergency mode: absent, not invented.
    expect(result.control_legacy_sync_emergency_mode_enabled).toBeNull();
    expect(result.runtime_spacetime_emergency_mode_enabled).toBeNull();
    expect(result.absent_fields).toEqual(['control_legacy_sync_emergency_mode_enabled', 'control_spacetime_emergency_mode_enabled', 'runtime_legacy_sync_emergency_mode_enabled', 'runtime_spacetime_emergency_mode_enabled']);
    expect(result.timestamp_utc).toMatch(/^\d{8}T\d{6}Z$/);
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary.split('\n').slice(0, 9)).toEqual([
      '# Spacetime Cutover State Announcement',
      '',
      `- Timestamp (UTC): ${String(result.timestamp_utc)}`,
      '- Decision: allow',
      '- Control default transport: spacetime_ws',
      '- Control legacy sync emergency mode enabled: absent (the control status has no such field)',
      '- Runtime transport: spacetime_ws',
      '- Runtime legacy sync emergency mode enabled: absent (the runtime sync metrics has no such field)',
      '- Skip remote probes: 0',
    ]);
    expect(summary).toContain(`## Evidence\n\n- ${join(dir, 'control-status.json')}\n- ${join(dir, 'runtime-spacetime-metrics.json')}`);
    expect(JSON.parse(readFileSync(join(dir, 'control-status.json'), 'utf8'))).toMatchObject({ data: { syncCutover: { defaultTransport: 'spacetime_ws' } } });
    // No secret in any artifact.
    const secret = readFileSync(join(work, 'lab', 'secrets', 'control-session-token'), 'utf8').trim();
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8')).not.toContain(secret);
  });

  it('blocks with the failed snapshot as an error in the evidence, not a warning beside it', async () => {
    const dir = join(work, 'bad-token');
    const run = await announce({ 'output-dir': dir, 'auth-token': 'not-the-session-token' });
    expect(run.code).toBe(1);
    expect(existsSync(join(dir, 'control-status.json'))).toBe(false);
    expect(existsSync(join(dir, 'warnings.log'))).toBe(false);
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { decision: string; control_transport: unknown; errors: string[] };
    expect(result.decision).toBe('block');
    expect(result.control_transport).toBeNull();
    expect(result.errors).toEqual([expect.stringMatching(/^control status snapshot failed: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/control\/status: HTTP 401/)]);
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('- Control default transport: unknown (the control status snapshot failed)');
    expect(summary).toContain('## Errors');
    expect(summary.trimEnd().endsWith('Decision: block')).toBe(true);
    expect(run.out).toContain('Decision: block');
  });

  it('blocks when the control does not default to spacetime_ws, naming the transport', async () => {
    const body = JSON.stringify({ data: { service: 'openagents-control-service', syncCutover: { defaultTransport: 'legacy_ws', syncTokenRoute: '/api/sync/token' } } });
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const dir = join(work, 'legacy');
      const run = await announce({ 'output-dir': dir, 'control-base-url': `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      expect(run.code).toBe(1);
      const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { reasons: string[]; control_transport: string };
      expect(result.control_transport).toBe('legacy_ws');
      expect(result.reasons).toEqual(['control default transport is legacy_ws, not spacetime_ws']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("refuses the script's --skip-remote in one sentence, exit 2", async () => {
    const run = await announce({ 'skip-remote': true });
    expect(run.code).toBe(2);
    expect(run.err).toBe('sentinel announce-cutover: --skip-remote is not supported: it would announce a cutover state nobody checked; run without it\n');
  });
});
