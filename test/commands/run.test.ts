import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deadTargetYaml } from '../helpers/target-yaml.js';

const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'sentinel-run-'));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRETS = { RT_TOKEN: 'rt-token-must-not-leak', CT_TOKEN: 'ct-token-must-not-leak', ADMIN: 'admin-token-must-not-leak' };

function writeConfig(name: string, extra = ''): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `environment: dev
${deadTargetYaml({ runtimeToken: '${RT_TOKEN}', sessionToken: '${CT_TOKEN}' })}server:
  listen: 127.0.0.1:0
  admin_token: "\${ADMIN}"
  shutdown_timeout: 5s
storage:
  data_dir: data-${name}
log:
  level: debug
${extra}`,
  );
  return file;
}

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function spawnRun(args: string[], env: Record<string, string> = SECRETS): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli.ts'), 'run', ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, stderr: () => err, exited };
}

async function waitForLine(running: Running, msg: string, timeoutMs: number, where: (entry: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of running.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === msg && where(entry)) return entry;
    }
    if (running.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no '${msg}' log line within ${timeoutMs} ms; stdout: ${running.output()} stderr: ${running.stderr()}`);
}

describe('sentinel run', () => {
  it('serves /metrics, /readyz and /api/v1/status, then exits 0 on SIGTERM within the deadline', async () => {
    const configFile = writeConfig('a.yaml');
    const running = spawnRun(['--config', configFile]);
    const line = await waitForLine(running, 'sentinel running', 20_000);
    const url = String(line.address);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/sentinel_build_info\{version="[^"]+",node_version="v\d+/);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const components = ((await ready.json()) as { components: Array<{ name: string; ready: boolean }> }).components;
    // The sentinel's own ability to work: configuration, writable store, the schedulers and services.
    expect(components.map((c) => c.name)).toEqual(['config', 'store', 'probes', 'rules', 'drills', 'rollouts']);
    expect(components.every((c) => c.ready)).toBe(true);
    const status = await (await fetch(`${url}/api/v1/status`)).text();
    expect(JSON.parse(status)).toMatchObject({ status: 'success', data: { environment: 'dev', schedules: [] } });

    expect((await fetch(`${url}/-/reload`, { method: 'POST' })).status).toBe(401);
    const reload = await fetch(`${url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${SECRETS.ADMIN}` } });
    expect(reload.status).toBe(200);
    expect(await reload.json()).toEqual({ status: 'success', data: { generation: 2, groups: 0, rules: 0, restart_required: [] } });

    // SIGHUP with a broken file on disk: refused with its position, the daemon keeps serving the old one.
    const good = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, good.replace('environment: dev', 'environment: qa'));
    running.child.kill('SIGHUP');
    const complaint = await waitForLine(running, 'configuration reload refused; the running configuration stays', 5000);
    expect(complaint.issues).toEqual([`${configFile}:1:14: environment: invalid value "qa" (expected one of dev, staging, prod)`]);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^sentinel_config_last_reload_successful 0$/m);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // Fixed, and with a setting only a restart applies: reloaded, the setting named.
    writeFileSync(configFile, good.replace('shutdown_timeout: 5s', 'shutdown_timeout: 6s').replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1'));
    running.child.kill('SIGHUP');
    const reloaded = await waitForLine(running, 'configuration reloaded', 5000, (e) => e.generation === 3);
    expect(reloaded).toMatchObject({ generation: 3, restartRequired: ['server.listen'] });
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^sentinel_config_last_reload_successful 1$/m);

    const started = Date.now();
    running.child.kill('SIGTERM');
    const code = await running.exited;
    const elapsedMs = Date.now() - started;
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(12_000);
    await waitForLine(running, 'sentinel stopped', 1000);
    for (const secret of Object.values(SECRETS)) {
      expect(running.output()).not.toContain(secret);
      expect(status).not.toContain(secret);
    }
  });

  it('exits 2 with every configuration error line before starting anything', async () => {
    const file = writeConfig('bad.yaml', 'rules:\n  evaluation_interval: soon\n');
    const running = spawnRun(['--config', file], { RT_TOKEN: 'x' });
    expect(await running.exited).toBe(2);
    expect(running.stderr()).toBe(
      [
        `${file}:5:60: target.control.session_token: environment variable CT_TOKEN is not set (expected it to be set and non-empty)`,
        `${file}:8:16: server.admin_token: environment variable ADMIN is not set (expected it to be set and non-empty)`,
        `${file}:15:24: rules.evaluation_interval: invalid duration "soon" (expected a duration like 30s, 5m or 1h30m)`,
        '',
      ].join('\n'),
    );
    expect(running.output()).toBe('');
  });

  it('exits 2 naming server.listen when the address is taken', async () => {
    const first = spawnRun(['--config', writeConfig('b.yaml')]);
    const line = await waitForLine(first, 'sentinel running', 20_000);
    const port = new URL(String(line.address)).port;
    const taken = join(dir, 'taken.yaml');
    writeFileSync(taken, readFileSync(writeConfig('c.yaml'), 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
    const clash = spawnRun(['--config', taken]);
    expect(await clash.exited).toBe(2);
    expect(clash.stderr()).toContain(`sentinel run: server.listen: cannot listen on 127.0.0.1:${port} (EADDRINUSE); choose a free address in server.listen`);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});
