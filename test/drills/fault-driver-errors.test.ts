/**
 * ToxiproxyFaultDriver failures against the lab's Toxiproxy-compatible fault proxy over HTTP:
 * errors carry Toxiproxy's own text, a toxic already gone from an existing proxy is removed, and
 * a proxy that vanished is an error (nothing proves its toxic gone). The journal's sequence
 * continues when a later cleanup reopens it.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxyError } from '../../src/errors.js';
import { Journal, readJournal } from '../../src/drills/journal.js';
import { reconcileFaults } from '../../src/drills/reconcile.js';
import { ownedToxicName } from '../../src/drills/toxic-names.js';
import { ToxiproxyFaultDriver } from '../../src/drills/toxiproxy-fault-driver.js';
import { startFaultProxy } from '../../src/lab/fault-proxy/index.js';
import type { FaultProxyServer } from '../../src/lab/fault-proxy/index.js';

let proxy: FaultProxyServer;
let driver: ToxiproxyFaultDriver;
beforeAll(async () => {
  proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  driver = new ToxiproxyFaultDriver({ url: proxy.url });
  await driver.ensureProxies([{ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }]);
});
afterAll(async () => {
  await proxy.close();
});

const toxic = (name: string) => ({ name, type: 'latency' as const, stream: 'downstream' as const, toxicity: 1, attributes: { latency: 100, jitter: 0 } });

describe('ToxiproxyFaultDriver errors', () => {
  it("carries Toxiproxy's own error text and status", async () => {
    await driver.addToxic('db', toxic('twice'));
    const err = await driver.addToxic('db', toxic('twice')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultProxyError);
    expect((err as FaultProxyError).status).toBe(409);
    expect((err as Error).message).toMatch(/failed with HTTP 409: toxic already exists$/);
    await driver.removeToxic('db', 'twice');
  });

  it('treats a toxic already gone from an existing proxy as removed', async () => {
    await expect(driver.removeToxic('db', 'never-added')).resolves.toBeUndefined();
  });

  it('refuses to call a fault removed when its proxy is missing (404 proxy not found)', async () => {
    const err = await driver.removeToxic('vanished', 'sentinel-x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultProxyError);
    expect((err as FaultProxyError).status).toBe(404);
    expect((err as Error).message).toContain('proxy not found');
    expect((err as Error).message).toContain('cannot be proven removed');
  });

  it('says what the fault proxy said when enabling a missing proxy', async () => {
    await expect(driver.setProxyEnabled('vanished', true)).rejects.toThrow(/HTTP 404: proxy not found/);
  });
});

describe('journal sequence', () => {
  it('continues across a reopen, past a torn last line, and through cleanup after a crash', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sentinel-journal-'));
    try {
      const dir = join(root, '20261125T170000Z');
      const path = join(dir, 'journal.jsonl');
      mkdirSync(dir);
      const now = Date.now();
      const name = ownedToxicName('crashed', 0, 0, now + 3600_000);
      const first = new Journal(path);
      first.append({ type: 'run_start', atMs: now, runId: 'crashed', drills: ['d'], faultProxy: proxy.url });
      expect(first.intent(now, 'add_toxic', 'db', 'cut', name)).toBe(1);
      first.outcome(now, 1, true);
      expect(first.intent(now, 'add_toxic', 'db', 'cut', 'sentinel-other')).toBe(2);
      first.close();
      await driver.addToxic('db', toxic(name));
      // kill -9 mid-write: half a line, no newline.
      appendFileSync(path, '{"type":"outcome","atMs":1,"se');

      const report = await reconcileFaults({ driver, evidenceRoot: root, nowMs: Date.now(), mode: 'startup' });
      expect(report.failed).toEqual([]);
      const entries = readJournal(path);
      const seqs = entries.filter((e) => e.type === 'intent').map((e) => (e as { seq: number }).seq);
      expect(seqs).toEqual([1, 2, 3, 4]);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(entries.at(-1)).toMatchObject({ type: 'run_end', status: 'interrupted' });
      // The cleanup's entries are on lines of their own, after the torn one.
      expect(readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('{"type":"outcome","atMs":1,"se'))).toHaveLength(1);

      // A second reopen (another cleanup) keeps counting.
      const again = new Journal(path);
      expect(again.intent(Date.now(), 'remove_toxic', 'db', 'reconcile', name)).toBe(5);
      again.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
