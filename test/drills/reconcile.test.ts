import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  await driver.ensureProxies([{ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }, { name: 'other', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }]);
});
afterAll(async () => {
  await proxy.close();
});

const toxic = (name: string) => ({ name, type: 'latency' as const, stream: 'downstream' as const, toxicity: 1, attributes: { latency: 100, jitter: 0 } });

describe('reconcileFaults', () => {
  it('after a crash, removes what an unfinished journal left behind and closes the journal as interrupted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sentinel-reconcile-'));
    try {
      const now = Date.now();
      const name = ownedToxicName('crashed-run', 0, 0, now + 3600_000);
      mkdirSync(join(root, '20261125T170000Z'));
      const journalPath = join(root, '20261125T170000Z', 'journal.jsonl');
      const journal = new Journal(journalPath);
      journal.append({ type: 'run_start', atMs: now, runId: 'crashed-run', drills: ['d'], faultProxy: proxy.url });
      journal.intent(now, 'add_toxic', 'db', 'cut', name);
      journal.intent(now, 'disable_proxy', 'other', 'cut');
      journal.close(); // the process "died" here: no outcomes, no run_end
      await driver.addToxic('db', toxic(name));
      await driver.setProxyEnabled('other', false);
      // Someone else's toxic is never touched.
      await driver.addToxic('db', toxic('operators-own'));

      const report = await reconcileFaults({ driver, evidenceRoot: root, nowMs: Date.now(), mode: 'startup' });
      expect(report.failed).toEqual([]);
      const proxies = new Map((await driver.listProxies()).map((p) => [p.name, p]));
      expect(proxies.get('db')?.toxics.map((t) => t.name)).toEqual(['operators-own']);
      expect(proxies.get('other')?.enabled).toBe(true);
      expect(readJournal(journalPath).at(-1)).toMatchObject({ type: 'run_end', status: 'interrupted' });
      await driver.removeToxic('db', 'operators-own');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('in the periodic loop, deletes only owned toxics past their expiry', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sentinel-reconcile-'));
    try {
      const now = Date.now();
      const expired = ownedToxicName('old-run', 0, 0, now - 1000);
      const fresh = ownedToxicName('old-run', 0, 1, now + 3600_000);
      await driver.addToxic('db', toxic(expired));
      await driver.addToxic('db', toxic(fresh));
      const report = await reconcileFaults({ driver, evidenceRoot: root, nowMs: now, mode: 'expired' });
      expect(report.removed).toEqual([`db/${expired}`]);
      expect((await driver.listProxies()).find((p) => p.name === 'db')?.toxics.map((t) => t.name)).toEqual([fresh]);
      await driver.removeToxic('db', fresh);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
