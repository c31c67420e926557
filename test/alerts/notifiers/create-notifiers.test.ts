import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createNotifiers } from '../../../src/alerts/index.js';
import type { Notifier } from '../../../src/alerts/index.js';
import { SystemClock } from '../../../src/time/index.js';

const made: Notifier[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const n of made.splice(0)) await n.stop(Date.now() + 1000);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function build(settings: Partial<Parameters<typeof createNotifiers>[0]>): Notifier[] {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-notifiers-'));
  dirs.push(dir);
  const ns = createNotifiers(
    { externalUrl: 'http://sentinel:9464', queueCapacity: 100, queueDir: dir, alertmanagers: [], webhooks: [], log: false, ...settings },
    { clock: new SystemClock(), registry: new Registry(), logger: pino({ level: 'silent' }) },
  );
  made.push(...ns);
  return ns;
}

describe('createNotifiers', () => {
  it('builds one notifier per receiver with distinct names, plus the log notifier when asked', () => {
    const token = { reveal: () => 't' };
    const ns = build({
      alertmanagers: [
        { url: 'http://127.0.0.1:9093', timeoutMs: 1000, bearerToken: token },
        { url: 'http://127.0.0.1:9094', timeoutMs: 1000 },
      ],
      webhooks: [
        { url: 'http://127.0.0.1:8080/hook', timeoutMs: 1000, receiver: 'oncall' },
        { url: 'http://127.0.0.1:8081/hook', timeoutMs: 1000, receiver: 'oncall' },
      ],
      log: true,
    });
    expect(ns.map((n) => n.name)).toEqual(['alertmanager-1', 'alertmanager-2', 'oncall', 'oncall-2', 'log']);
  });

  it('falls back to the log notifier when no receiver is configured, so alerts stay visible', () => {
    expect(build({}).map((n) => n.name)).toEqual(['log']);
  });
});
