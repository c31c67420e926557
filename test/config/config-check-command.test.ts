import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import type { CommandIO } from '../../src/commands/types.js';

const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'sentinel-config-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string> = {}, cwd = repo): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CommandIO = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env,
    cwd,
    signal: new AbortController().signal,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('sentinel config check', () => {
  it('accepts the shipped staging template once its secrets are in the environment', async () => {
    const env = { SENTINEL_CONTROL_SESSION_TOKEN: 'y' };
    expect(await run(['config', 'check', '--config', 'config/sentinel.yaml'], env)).toEqual({ code: 0, stdout: 'OK: config/sentinel.yaml\n', stderr: '' });
  });

  it('uses config/sentinel.yaml by default and exits 2 naming each unset variable', async () => {
    const result = await run(['config', 'check']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^config\/sentinel\.yaml:\d+:\d+: target\.control\.session_token: environment variable SENTINEL_CONTROL_SESSION_TOKEN is not set/);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe('config/sentinel.yaml: 1 problem');
  });

  it('accepts the shipped lab config once the lab has written its secret files', async () => {
    mkdirSync(join(dir, 'config'), { recursive: true });
    copyFileSync(join(repo, 'config/lab.yaml'), join(dir, 'config/lab.yaml'));
    const before = await run(['config', 'check', '--config', 'config/lab.yaml'], {}, dir);
    expect(before.code).toBe(2);
    expect(before.stderr).toContain('target.control.session_token: cannot read file');
    const secrets = join(dir, '.sentinel/lab/secrets');
    mkdirSync(secrets, { recursive: true });
    for (const name of ['control-session-token', 'jwt-signing-key']) writeFileSync(join(secrets, name), `${name}-value\n`, { mode: 0o600 });
    expect(await run(['config', 'check', '--config', 'config/lab.yaml'], {}, dir)).toEqual({ code: 0, stdout: 'OK: config/lab.yaml\n', stderr: '' });
  });

  it('checks the rule files the config names, like promtool check config', async () => {
    const base = join(dir, 'with-rules');
    mkdirSync(join(base, 'rules'), { recursive: true });
    writeFileSync(
      join(base, 'sentinel.yaml'),
      'environment: dev\ntarget:\n  spacetimedb: {base_url: "http://a", database: d}\n  runtime: {base_url: "http://a", token: "${T}"}\n  control: {base_url: "http://a", session_token: "${T}"}\nrules:\n  files: ["rules/*.rules.yaml"]\n',
    );
    writeFileSync(join(base, 'rules/good.rules.yaml'), 'groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum(up)\n');
    expect(await run(['config', 'check', '--config', 'sentinel.yaml'], { T: 't' }, base)).toEqual({ code: 0, stdout: 'OK: sentinel.yaml\n', stderr: '' });
    writeFileSync(join(base, 'rules/bad.rules.yaml'), 'groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum(up\n');
    const bad = await run(['config', 'check', '--config', 'sentinel.yaml'], { T: 't' }, base);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(join(base, 'rules/bad.rules.yaml'));
    expect(bad.stderr.trimEnd().split('\n').at(-1)).toMatch(/^sentinel\.yaml: \d+ problems?$/);
  });

  it('exits 2 on an unknown option or a stray argument', async () => {
    expect((await run(['config', 'check', '--nope'])).code).toBe(2);
    const stray = await run(['config', 'check', 'config/sentinel.yaml']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('pass the file with --config FILE');
  });
});
