import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { freePort } from '../helpers/free-port.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-command-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function io(signal: AbortSignal): { io: Parameters<typeof main>[1]; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {}, cwd: dir, signal },
    out: () => out,
    err: () => err,
  };
}


describe('sentinel lab', () => {
  it('serves the lab behind the fault proxy, prints URLs and secret paths, and stops on abort', async () => {
    const [api, pSt, pRt, pCt] = [await freePort(), await freePort(), await freePort(), await freePort()];
    writeFileSync(
      join(dir, 'lab.yaml'),
      [
        'environment: dev',
        'lab:',
        '  state_dir: state',
        '  ports: {spacetimedb: 0, runtime: 0, control: 0, admin: 0, fault_proxy_api: ' + api + '}',
        `  proxies: {spacetimedb: ${pSt}, runtime: ${pRt}, control: ${pCt}}`,
        '  knobs: {traffic: {paused: true}}',
        '',
      ].join('\n'),
    );
    const controller = new AbortController();
    const h = io(controller.signal);
    const running = main(['lab', '--config', 'lab.yaml'], h.io);
    const deadline = Date.now() + 10_000;
    while (!h.out().includes('Press Ctrl-C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.err()).toBe('');
    expect(h.out()).toContain(`proxy spacetimedb  http://127.0.0.1:${pSt}`);
    expect(h.out()).toContain(join(dir, 'state', 'secrets', 'jwt-signing-key'));
    expect(existsSync(join(dir, 'state', 'secrets', 'control-session-token'))).toBe(true);
    // Through the proxy, the database answers like SpacetimeDB.
    const res = await fetch(`http://127.0.0.1:${pSt}/v1/database/autopilot-sync/sql`, { method: 'POST', body: 'SELECT COUNT(*) AS n FROM active_connection' });
    expect(res.status).toBe(200);
    const proxies = (await (await fetch(`http://127.0.0.1:${api}/proxies`)).json()) as Record<string, unknown>;
    expect(Object.keys(proxies).sort()).toEqual(['control', 'runtime', 'spacetimedb']);
    controller.abort();
    expect(await running).toBe(0);
    expect(h.out()).toContain('sentinel lab: stopped');
  });

  it('keeps its secrets from one start to the next, and --rotate-secrets replaces them', async () => {
    writeFileSync(join(dir, 'keep.yaml'), ['environment: dev', 'lab:', '  state_dir: keep-state', '  fault_proxy: false', '  ports: {spacetimedb: 0, runtime: 0, control: 0, admin: 0}', '  knobs: {traffic: {paused: true}}', ''].join('\n'));
    const key = (): string => readFileSync(join(dir, 'keep-state', 'secrets', 'jwt-signing-key'), 'utf8');
    const runOnce = async (args: string[]): Promise<string> => {
      const controller = new AbortController();
      const h = io(controller.signal);
      const running = main(['lab', '--config', 'keep.yaml', ...args], h.io);
      const deadline = Date.now() + 10_000;
      while (!h.out().includes('Press Ctrl-C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      expect(await running, h.err()).toBe(0);
      return h.out();
    };
    const first = await runOnce([]);
    const kept = key();
    expect(first).toContain('kept from the last start when present');
    await runOnce([]);
    expect(key()).toBe(kept);
    expect(await runOnce(['--rotate-secrets'])).toContain('rotated at this start');
    expect(key()).not.toBe(kept);
  });

  it('refuses an invalid lab section naming file, line and key', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'lab:\n  ports:\n    spacetimedb: "x"\n  warp: 1\n');
    const h = io(new AbortController().signal);
    expect(await main(['lab', '--config', 'bad.yaml'], h.io)).toBe(2);
    expect(h.err()).toMatch(/bad\.yaml:3:/);
    expect(h.err()).toContain('warp');
  });
});

describe('startLabStack', () => {
  it('reports the proxies\' real addresses when they listen on port 0', async () => {
    const { startLabStack } = await import('../../src/commands/lab.js');
    const stack = await startLabStack({ lab: { ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, knobs: { traffic: { paused: true } } }, faultProxyApiPort: 0, proxyPorts: { spacetimedb: 0, runtime: 0, control: 0 } });
    try {
      const urls = stack.proxyUrls;
      expect(urls?.spacetimedb).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      const res = await fetch(`${urls?.runtime}/internal/v1/spacetime/sync/metrics`);
      expect(res.status).toBe(200);
      const ping = await fetch(`${urls?.spacetimedb}/v1/ping`);
      expect(ping.status).toBe(200);
    } finally {
      await stack.close();
    }
  });
});
