/**
 * Configuration from outside the file, as a container sets it: SENTINEL_CONFIG names the file,
 * SENTINEL_LISTEN and LOG_LEVEL override server.listen and log.level, flags win over all three;
 * and the daemon logs the effective configuration at start with no secret in it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import type { CommandIO } from '../../src/commands/types.js';
import { checkConfig } from '../../src/config/index.js';
import { deadTargetYaml } from '../helpers/target-yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-run-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRETS = {
  RT_TOKEN: 'rt-token-must-not-leak',
  ADMIN: 'admin-token-must-not-leak',
  HOOK_TOKEN: 'hook-query-must-not-leak',
  CT_FILE_VALUE: 'ct-file-token-must-not-leak',
};
const ctFile = join(dir, 'control-session-token');
writeFileSync(ctFile, `${SECRETS.CT_FILE_VALUE}\n`, { mode: 0o600 });

const configFile = join(dir, 'sentinel.yaml');
writeFileSync(
  configFile,
  `environment: dev
${deadTargetYaml({ runtimeToken: '${RT_TOKEN}', sessionToken: `\${file:${ctFile}}` })}alerting:
  external_labels:
    copied: "\${RT_TOKEN}"
  webhooks:
    - url: "http://127.0.0.1:9/hook?team=sync&token=\${HOOK_TOKEN}"
      receiver: sync
server:
  listen: 127.0.0.1:9464
  admin_token: "\${ADMIN}"
  shutdown_timeout: 5s
storage:
  data_dir: data
log:
  level: info
`,
);

function captureIO(env: Record<string, string>, signal: AbortSignal): CommandIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env,
    cwd: dir,
    signal,
    out: () => out,
    err: () => err,
  };
}

function logLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('configuration from the environment', () => {
  it('runs the daemon from SENTINEL_CONFIG on SENTINEL_LISTEN at LOG_LEVEL, logging the effective configuration without a secret', async () => {
    const controller = new AbortController();
    const env = { ...SECRETS, SENTINEL_CONFIG: 'sentinel.yaml', SENTINEL_LISTEN: '127.0.0.1:0', LOG_LEVEL: 'debug' };
    const io = captureIO(env, controller.signal);
    const done = main(['run'], io);
    const deadline = Date.now() + 20_000;
    while (!logLines(io.out()).some((l) => l.msg === 'sentinel running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error('test done'));
    expect(await done).toBe(0);

    const lines = logLines(io.out());
    const running = lines.find((l) => l.msg === 'sentinel running');
    expect(String(running?.address)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(String(running?.address)).not.toBe('http://127.0.0.1:9464');

    const effective = lines.find((l) => l.msg === 'effective configuration');
    const config = effective?.config as Record<string, Record<string, unknown>>;
    expect(config.file).toBe(configFile);
    expect(config.server.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config.log).toEqual({ level: 'debug' });
    expect(config.overridden).toEqual({ 'server.listen': 'SENTINEL_LISTEN (environment)', 'log.level': 'LOG_LEVEL (environment)' });
    expect((config.target.runtime as Record<string, unknown>).token).toBe('<redacted>');
    expect((config.target.control as Record<string, unknown>).sessionToken).toBe('<redacted>');
    expect(config.server.adminToken).toBe('<redacted>');
    expect((config.alerting.webhooks as Array<{ url: string }>)[0].url).toBe('http://127.0.0.1:9/hook?team=<redacted>&token=<redacted>');
    expect(config.alerting.externalLabels).toEqual({ copied: '<redacted>' });
    for (const secret of Object.values(SECRETS)) {
      expect(io.out()).not.toContain(secret);
      expect(io.err()).not.toContain(secret);
    }
  });

  it('lets flags win over the environment, and the environment over the file', () => {
    const env = { ...SECRETS, SENTINEL_LISTEN: '0.0.0.0:9100', LOG_LEVEL: 'warn' };
    const fromEnv = checkConfig(configFile, { env });
    expect(fromEnv.ok && [fromEnv.config.server.listen, fromEnv.config.log.level, fromEnv.config.alerting.externalUrl]).toEqual([{ host: '0.0.0.0', port: 9100 }, 'warn', 'http://0.0.0.0:9100']);
    const fromFlags = checkConfig(configFile, { env: { ...env, SENTINEL_LISTEN: 'not-an-address', LOG_LEVEL: 'loud' }, overrides: { listen: '[::1]:9200', logLevel: 'error' } });
    expect(fromFlags.ok && [fromFlags.config.server.listen, fromFlags.config.log.level, fromFlags.overridden]).toEqual([
      { host: '::1', port: 9200 },
      'error',
      { 'server.listen': '--listen', 'log.level': '--log-level' },
    ]);
    const fromFile = checkConfig(configFile, { env: SECRETS });
    expect(fromFile.ok && [fromFile.config.server.listen, fromFile.config.log.level, fromFile.overridden]).toEqual([{ host: '127.0.0.1', port: 9464 }, 'info', {}]);
  });

  it('names the variable or flag in one line when its value is wrong', async () => {
    const bad = checkConfig(configFile, { env: { ...SECRETS, SENTINEL_LISTEN: 'localhost' } });
    expect(bad.ok ? [] : bad.issues).toEqual([`${configFile}: SENTINEL_LISTEN (environment): invalid listen address "localhost" (expected HOST:PORT, like 127.0.0.1:9464)`]);
    const io = captureIO({ ...SECRETS }, new AbortController().signal);
    expect(await main(['run', '--config', configFile, '--log-level', 'chatty'], io)).toBe(2);
    expect(io.err()).toBe(`${configFile}: --log-level: invalid value "chatty" (expected one of trace, debug, info, warn, error, fatal, silent)\n`);
  });

  it('reads the file SENTINEL_CONFIG names in every command that takes --config, the flag first', async () => {
    const io = captureIO({ ...SECRETS, SENTINEL_CONFIG: configFile }, new AbortController().signal);
    expect(await main(['config', 'check'], io)).toBe(0);
    expect(io.out()).toBe(`OK: ${configFile}\n`);
    const flag = captureIO({ ...SECRETS, SENTINEL_CONFIG: configFile }, new AbortController().signal);
    expect(await main(['config', 'check', '--config', 'missing.yaml'], flag)).toBe(2);
    expect(flag.err()).toContain('missing.yaml');
    const none = captureIO({ ...SECRETS }, new AbortController().signal);
    expect(await main(['config', 'check'], none)).toBe(2);
    expect(none.err()).toContain('config/sentinel.yaml');
  });
});
