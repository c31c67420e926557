/**
 * A `${file:PATH}` secret is read at every use (as Prometheus reads `credentials_file` on each
 * request): a rotation by rename or by rewrite is in effect at the next
 * `reveal()`; a file that disappears is a ConfigError naming the key and the file (never the
 * value), heard once by the listeners, and its return is heard too. The clients send the value in
 * effect at each request.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSecret, loadConfig } from '../../src/config/index.js';
import type { SecretFileEvent } from '../../src/config/index.js';
import { ControlClient } from '../../src/spacetime/index.js';
import { ConfigError } from '../../src/errors.js';
import { reasonFromError } from '../../src/probes/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-file-secret-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** replace writes `value` to a new file and renames it over `path`, as a Secret volume or `mv` does. */
function replace(path: string, value: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, value);
  renameSync(tmp, path);
}

/** watchedSecret writes `value` to a new file `name` and returns its FileSecret (the session token's) with the events it hears. */
function watchedSecret(name: string, value: string): { path: string; secret: FileSecret; events: SecretFileEvent[] } {
  const path = join(dir, name);
  writeFileSync(path, value);
  const secret = new FileSecret(path, 'target.control.session_token');
  const events: SecretFileEvent[] = [];
  secret.onChange((e) => events.push(e));
  return { path, secret, events };
}

describe('FileSecret', () => {
  it('follows rotations by rename and by rewrite, without a trailing newline', () => {
    const { path, secret, events } = watchedSecret('token-a', 'first\n');
    expect(secret.reveal()).toBe('first');
    replace(path, 'second');
    expect(secret.reveal()).toBe('second');
    // Same size, rewritten in place: the modification time or inode still moves.
    writeFileSync(path, 'third!');
    expect(secret.reveal()).toBe('third!');
    expect(secret.reveal()).toBe('third!');
    expect(events.map((e) => e.state)).toEqual(['rotated', 'rotated']);
    expect(JSON.stringify(secret)).toBe('"<redacted>"');
  });

  it('follows a rotation that leaves the size and times of the file as they were (a volume that fetches on read)', () => {
    const path = join(dir, 'token-fetched');
    writeFileSync(path, 'version-1');
    const before = statSync(path);
    const secret = new FileSecret(path, 'target.control.session_token');
    expect(secret.reveal()).toBe('version-1');
    writeFileSync(path, 'version-2');
    utimesSync(path, before.atime, before.mtime);
    expect(secret.reveal()).toBe('version-2');
  });

  it('follows a Kubernetes-style ..data symlink swap', () => {
    const v1 = join(dir, '..2026_v1');
    const v2 = join(dir, '..2026_v2');
    mkdirSync(v1);
    mkdirSync(v2);
    writeFileSync(join(v1, 'jwt'), 'key-one');
    writeFileSync(join(v2, 'jwt'), 'key-two');
    symlinkSync(v1, join(dir, '..data-link'));
    const path = join(dir, 'jwt-link');
    symlinkSync(join(dir, '..data-link', 'jwt'), path);
    const secret = new FileSecret(path, 'target.control.jwt_signing_key');
    expect(secret.reveal()).toBe('key-one');
    symlinkSync(v2, join(dir, '..data-link.new'));
    renameSync(join(dir, '..data-link.new'), join(dir, '..data-link'));
    expect(secret.reveal()).toBe('key-two');
  });

  it('makes a missing or empty file a ConfigError naming key and file, heard once, then its return', () => {
    const { path, secret, events } = watchedSecret('token-b', 'value-one');
    expect(secret.problem()).toBeUndefined();
    rmSync(path);
    for (let i = 0; i < 3; i++) {
      let caught: unknown;
      try {
        secret.reveal();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as Error).message).toContain(`target.control.session_token: cannot read file ${path} (ENOENT)`);
      expect((caught as Error).message).not.toContain('value-one');
      // A probe that hits it fails with reason config, not auth.
      expect(reasonFromError(caught)).toBe('config');
    }
    writeFileSync(path, '');
    expect(secret.problem()).toBe(`file ${path} is empty`);
    writeFileSync(path, 'value-two');
    expect(secret.reveal()).toBe('value-two');
    expect(events.map((e) => e.state)).toEqual(['unreadable', 'unreadable', 'restored']);
    expect(events[0]?.problem).toContain('ENOENT');
  });

  it('refuses, at load, a configuration whose secret file is missing, naming the file and the line', () => {
    const config = join(dir, 'sentinel.yaml');
    writeFileSync(config, 'environment: dev\ntarget:\n  spacetimedb:\n    base_url: http://127.0.0.1:1\n    database: db\n  runtime:\n    base_url: http://127.0.0.1:2\n  control:\n    base_url: http://127.0.0.1:3\n    session_token: ${file:missing-token}\n');
    expect(() => loadConfig(config)).toThrow(/sentinel\.yaml:10:\d+: .*cannot read file .*missing-token \(ENOENT\)/);
  });
});

describe('clients read a file secret at every request', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { ok: true } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends the rotated token at the next call, and fails a call with a ConfigError (no request) while the file is gone', async () => {
    const path = join(dir, 'session');
    writeFileSync(path, 'session-one');
    const client = new ControlClient({ baseUrl: base, sessionToken: new FileSecret(path, 'target.control.session_token'), timeoutMs: 2000 });
    await client.route('/api/v1/control/status', { authenticated: true });
    replace(path, 'session-two');
    await client.route('/api/v1/control/status', { authenticated: true });
    expect(seen).toEqual(['Bearer session-one', 'Bearer session-two']);
    rmSync(path);
    await expect(client.route('/api/v1/control/status', { authenticated: true })).rejects.toBeInstanceOf(ConfigError);
    expect(seen).toHaveLength(2);
  });
});
