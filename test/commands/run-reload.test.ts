/**
 * Whole-configuration reload of `sentinel run` (SIGHUP and `POST /-/reload`): a valid change puts
 * probes and schedules, rules and the admin token in effect; an invalid file (configuration,
 * rule file) is refused with its `FILE:LINE:COL` problems while the running configuration stays,
 * and `sentinel_config_last_reload_successful` / `..._success_timestamp_seconds` say so; settings
 * only a restart changes are named. SIGHUP reads the file as the command line did, relative to
 * the working directory the command was given.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildDaemon, runCommand } from '../../src/commands/run.js';
import type { Daemon } from '../../src/commands/run.js';
import { checkConfig, loadConfig } from '../../src/config/index.js';
import { startComponents, stopComponents } from '../../src/daemon/index.js';
import type { Component } from '../../src/daemon/index.js';
import { ManualClock } from '../../src/time/index.js';
import { deadTargetYaml } from '../helpers/target-yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-run-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ENV = { CT_TOKEN: 'ct-token', ADMIN: 'admin-one', ADMIN2: 'admin-two' };
const logger = pino({ level: 'silent' });

interface Settings {
  readonly admin?: string;
  readonly probes?: string;
  readonly rules?: string;
  readonly extra?: string;
}

/** configText is a daemon configuration against a dead target; line 9 holds the probes. */
function configText(s: Settings = {}): string {
  return `environment: dev
${deadTargetYaml({ sessionToken: '${CT_TOKEN}' })}server: {listen: 127.0.0.1:0, admin_token: "\${${s.admin ?? 'ADMIN'}}"}
storage: {data_dir: data}
probes:
${s.probes ?? '  runtime_metrics: {schedule: "0 */5 * * * *"}'}
rules: {files: [${s.rules ?? 'first.rules.yaml'}], evaluation_interval: 1m}
drills: {files: [], evidence_dir: evidence}
${s.extra ?? ''}`;
}

function rules(group: string, alert: string): string {
  return `groups:\n  - name: ${group}\n    rules:\n      - alert: ${alert}\n        expr: vector(1) > 2\n        for: 1m\n`;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} is not on /metrics`);
  return Number(m[1]);
}

describe('POST /-/reload on a running daemon', () => {
  const work = mkdtempSync(join(dir, 'api-'));
  const file = join(work, 'sentinel.yaml');
  let daemon: Daemon;
  let started: Component[] = [];
  let url = '';
  const clock = new ManualClock(1_800_000_000_000);
  afterAll(async () => {
    if (started.length > 0) await stopComponents(started, { deadlineMs: clock.nowMs() + 2000, clock, logger });
  });

  const post = async (token: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const get = async (path: string): Promise<Record<string, unknown>> => (await (await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) })).json()) as Record<string, unknown>;
  const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const schedules = async (): Promise<unknown> => ((await get('/api/v1/status')).data as { schedules: Array<{ kind: string }> }).schedules.filter((s) => s.kind !== 'rules');
  const groups = async (): Promise<string[]> => ((await get('/api/v1/rules')).data as { groups: Array<{ name: string }> }).groups.map((g) => g.name);

  it('starts with the first configuration, counted as a successful load', async () => {
    writeFileSync(join(work, 'first.rules.yaml'), rules('first', 'First'));
    writeFileSync(join(work, 'second.rules.yaml'), rules('second', 'Second'));
    writeFileSync(file, configText());
    daemon = await buildDaemon(loadConfig(file, { env: ENV }), { clock, logger, registry: new Registry(), tracer: trace.getTracer('t'), version: 't', env: ENV, loadConfig: () => checkConfig(file, { env: ENV, cwd: work }) });
    started = await startComponents(daemon.components, { signal: new AbortController().signal, logger, clock, deadlineMs: () => clock.nowMs() + 5000 });
    url = daemon.server.address()?.url ?? '';
    const text = await metrics();
    expect(metric(text, 'sentinel_config_last_reload_successful')).toBe(1);
    expect(metric(text, 'sentinel_config_last_reload_success_timestamp_seconds')).toBe(1_800_000_000);
    expect(await schedules()).toEqual([{ kind: 'probe', name: 'runtime_metrics', schedule: '0 */5 * * * *', nextRunMs: expect.any(Number) }]);
    expect(await groups()).toEqual(['first']);
  });

  it('puts a valid change in effect: probes and schedules, rules, admin token', async () => {
    const before = daemon.generation().probeScheduler;
    writeFileSync(file, configText({ admin: 'ADMIN2', rules: 'second.rules.yaml', probes: '  runtime_metrics: {schedule: "0 */1 * * * *"}\n  cutover_state: {schedule: "30 */2 * * * *"}' }));
    await clock.advance(30_000);
    const answer = await post('admin-one');
    expect(answer).toEqual({ status: 200, body: { status: 'success', data: { generation: 2, groups: 1, rules: 1, restart_required: [] } } });
    expect(daemon.generation().probeScheduler).not.toBe(before);
    expect(daemon.generation().probeScheduler.probeNames().sort()).toEqual(['cutover_state', 'runtime_metrics']);
    expect(await schedules()).toEqual([
      { kind: 'probe', name: 'runtime_metrics', schedule: '0 */1 * * * *', nextRunMs: expect.any(Number) },
      { kind: 'probe', name: 'cutover_state', schedule: '30 */2 * * * *', nextRunMs: expect.any(Number) },
    ]);
    expect(await groups()).toEqual(['second']);
    // The admin token is the new one from now on.
    expect((await post('admin-one')).status).toBe(403);
    const text = await metrics();
    expect(metric(text, 'sentinel_config_last_reload_successful')).toBe(1);
    expect(metric(text, 'sentinel_config_last_reload_success_timestamp_seconds')).toBe(1_800_000_030);
  });

  it('refuses an invalid file with its position, keeps the running configuration, and the metrics say so', async () => {
    writeFileSync(file, configText({ admin: 'ADMIN2', probes: '  runtime_metrics: {schedule: "0 */1 * * * *", timeout: soon}' }));
    await clock.advance(30_000);
    const answer = await post('admin-two');
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toMatch(new RegExp(`^reload refused, the running configuration stays: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:9:\\d+: probes\\.runtime_metrics\\.timeout: invalid duration "soon"`));
    expect(daemon.generation().probeScheduler.probeNames().sort()).toEqual(['cutover_state', 'runtime_metrics']);
    expect(await groups()).toEqual(['second']);
    let text = await metrics();
    expect(metric(text, 'sentinel_config_last_reload_successful')).toBe(0);
    expect(metric(text, 'sentinel_config_last_reload_success_timestamp_seconds')).toBe(1_800_000_030);
    const status = (await get('/api/v1/status')).data as { config: { generation: number; lastReload: { ok: boolean; issues: string[] } } };
    expect(status.config).toMatchObject({ generation: 2, lastReload: { ok: false, issues: [expect.stringContaining(`${file}:9:`)] } });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.stringify(await ready.json())).toContain('the last reload was refused, the previous configuration runs');

    // A broken rule file is refused the same way, with the rule file's position.
    writeFileSync(join(work, 'second.rules.yaml'), 'groups:\n  - name: second\n    rules:\n      - alert: Second\n        expr: vector(1) >\n');
    writeFileSync(file, configText({ admin: 'ADMIN2', rules: 'second.rules.yaml' }));
    const broken = await post('admin-two');
    expect(broken.status).toBe(400);
    expect(String(broken.body.error)).toContain(`${join(work, 'second.rules.yaml')}:5:`);
    expect(await groups()).toEqual(['second']);
    expect(daemon.generation().probeScheduler.probeNames().sort()).toEqual(['cutover_state', 'runtime_metrics']);

    // Fixed: in effect, and the metrics recover.
    writeFileSync(join(work, 'second.rules.yaml'), rules('second', 'Second'));
    expect((await post('admin-two')).status).toBe(200);
    text = await metrics();
    expect(metric(text, 'sentinel_config_last_reload_successful')).toBe(1);
    expect(metric(text, 'sentinel_config_last_reload_success_timestamp_seconds')).toBe(1_800_000_060);
  });

  it('names the settings only a restart changes and keeps their running values', async () => {
    writeFileSync(file, configText({ admin: 'ADMIN2', rules: 'second.rules.yaml' }).replace('data_dir: data', 'data_dir: elsewhere').replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1'));
    const answer = await post('admin-two');
    expect(answer.status).toBe(200);
    expect((answer.body.data as { restart_required: string[] }).restart_required).toEqual(['server.listen', 'storage.data_dir']);
    expect(daemon.generation().config.storage.dataDir).toBe(join(work, 'data'));
    expect(daemon.server.address()?.url).toBe(url);
  });
});

describe('SIGHUP', () => {
  const children: Array<() => void> = [];
  afterEach(() => {
    for (const stop of children.splice(0)) stop();
  });

  it('rereads the file relative to the working directory the command was given, refusing a broken one', async () => {
    const work = mkdtempSync(join(dir, 'hup-'));
    writeFileSync(join(work, 'first.rules.yaml'), rules('first', 'First'));
    writeFileSync(join(work, 'second.rules.yaml'), rules('second', 'Second'));
    writeFileSync(join(work, 'sentinel.yaml'), configText());
    let out = '';
    const abort = new AbortController();
    children.push(() => abort.abort(new Error('test over')));
    const lines = (): Array<Record<string, unknown>> => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const waitFor = async (msg: string, count = 1): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = lines().filter((l) => l.msg === msg);
        if (found.length >= count) return found[count - 1] as Record<string, unknown>;
        if (Date.now() > deadline) throw new Error(`no "${msg}" line; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // The file is given relative to `cwd`, which is not the process' working directory.
    const code = runCommand.run({ positionals: [], options: { config: 'sentinel.yaml' } }, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (out += t) }, env: ENV, cwd: work, signal: abort.signal });
    await waitFor('sentinel running');
    writeFileSync(join(work, 'sentinel.yaml'), configText({ rules: 'second.rules.yaml' }));
    process.kill(process.pid, 'SIGHUP');
    expect(await waitFor('configuration reloaded')).toMatchObject({ generation: 2, groups: 1 });
    writeFileSync(join(work, 'sentinel.yaml'), configText({ extra: 'bogus: 1\n' }));
    process.kill(process.pid, 'SIGHUP');
    const refused = await waitFor('configuration reload refused; the running configuration stays');
    expect(refused.issues).toEqual([expect.stringMatching(/^sentinel\.yaml:12:1: bogus: /)]);
    abort.abort(new Error('test over'));
    expect(await code).toBe(0);
  }, 30_000);
});
