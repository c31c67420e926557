/**
 * DrillScheduler and the drills API: one drill at a time, scheduled runs skipped (and recorded)
 * when a critical alert fires or the environment guard refuses, leftover faults removed at start,
 * and the routes' shapes and admin guard. The fault proxy is the lab's, over real HTTP.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/index.js';
import { DrillScheduler, queryAlertsSource } from '../../src/drills/index.js';
import type { FiringAlertsSource } from '../../src/drills/index.js';
import { ownedToxicName } from '../../src/drills/toxic-names.js';
import { registerDrillsApi } from '../../src/server/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { tinyDrillYaml, tinyRig, useFaultProxy } from './helpers/tiny-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { routeServer } from '../helpers/route-server.js';

const newDir = tempDirs('sentinel-sched-');

const proxy = useFaultProxy();

const DRILL = tinyDrillYaml({
  description: 'a short stage without faults (the scheduler, not the runner, is under test)',
  stageMs: 300,
  more: `  - name: staging-only
    description: refused in dev
    environments: [staging]
    steady_state:
      - { name: always, query: vector(1), op: '>=', threshold: 1 }
    stages:
      - { name: s, duration: 100ms }
`,
});

function setup(store = new MemoryStore(), alerts?: FiringAlertsSource) {
  const root = newDir();
  const { drills, query, driver, clock, runner } = tinyRig({ yaml: DRILL, proxyUrl: proxy().url, evidenceRoot: root, store });
  let fire: (() => void) | undefined;
  const scheduler = new DrillScheduler({
    runner,
    drills,
    schedules: [{ drill: 'tiny', cron: '* * * * *' }],
    driver,
    evidenceRoot: root,
    environment: 'dev',
    allowProd: false,
    alerts: alerts ?? queryAlertsSource(query),
    clock,
    logger: pino({ level: 'silent' }),
    trigger: (_expr, onTick) => {
      fire = onTick;
      return { stop: () => (fire = undefined) };
    },
  });
  return { scheduler, drills, root, driver, store, tick: () => fire?.() };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('DrillScheduler', () => {
  it('runs a scheduled drill, one at a time, and records the decision', async () => {
    const { scheduler, tick } = setup();
    await scheduler.start();
    try {
      tick();
      await until(() => scheduler.status().running !== undefined);
      await expect(scheduler.runNow('tiny')).rejects.toThrow(/already running/);
      await until(() => scheduler.status().lastResults.tiny !== undefined);
      expect(scheduler.status().lastResults.tiny.decision).toBe('allow');
    } finally {
      await scheduler.stop(Date.now() + 5000);
    }
  });

  it('skips a scheduled drill while a critical alert fires, and says why', async () => {
    const store = new MemoryStore();
    const app = store.appender();
    app.append({ __name__: 'ALERTS', alertname: 'SpacetimeReplayLagHigh', alertstate: 'firing', severity: 'critical' }, Date.now(), 1);
    app.commit();
    const { scheduler, tick } = setup(store);
    await scheduler.start();
    try {
      tick();
      await until(() => scheduler.status().skipped.tiny !== undefined);
      expect(scheduler.status().skipped.tiny.reason).toContain('SpacetimeReplayLagHigh');
      expect(scheduler.status().lastResults.tiny).toBeUndefined();
    } finally {
      await scheduler.stop(Date.now() + 5000);
    }
  });

  it('refuses a drill the environment does not allow', async () => {
    const { scheduler } = setup();
    await expect(scheduler.runNow('staging-only')).rejects.toThrow(/not allowed in environment 'dev'/);
    await expect(scheduler.runNow('nope')).rejects.toThrow(/unknown drill/);
  });

  it('fails closed: alerts that cannot be read refuse the drill, naming the error', async () => {
    const { scheduler } = setup(new MemoryStore(), { description: 'a broken store', firingAlerts: () => Promise.reject(new Error('database is locked')) });
    await expect(scheduler.runNow('tiny')).rejects.toThrow(/cannot check firing critical alerts \(a broken store\): database is locked/);
    expect(scheduler.status().running).toBeUndefined();
  });

  it('removes a leftover owned toxic at start (a crashed earlier run)', async () => {
    const { scheduler, driver } = setup();
    await driver.ensureProxies([{ name: 'leftover-proxy', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }]);
    const name = ownedToxicName('dead-run', 0, 0, Date.now() + 3600_000);
    await driver.addToxic('leftover-proxy', { name, type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 5 } });
    await scheduler.start();
    try {
      const left = (await driver.listProxies()).find((p) => p.name === 'leftover-proxy');
      expect(left?.toxics).toEqual([]);
    } finally {
      await scheduler.stop(Date.now() + 5000);
    }
  });
});

describe('drills API', () => {
  it('lists drills with their newest verdict and runs one with the admin token only', async () => {
    const { scheduler, drills, root } = setup();
    const server = routeServer({ adminToken: new Secret('s3cret', 'test') });
    registerDrillsApi(server, { scheduler, drills, evidenceRoot: root });
    await server.start();
    await scheduler.start();
    try {
      const url = server.address()?.url ?? '';
      expect((await fetch(`${url}/api/v1/drills/tiny/run`, { method: 'POST' })).status).toBe(401);
      expect((await fetch(`${url}/api/v1/drills/nope/run`, { method: 'POST', headers: { authorization: 'Bearer s3cret' } })).status).toBe(404);
      const started = await fetch(`${url}/api/v1/drills/tiny/run`, { method: 'POST', headers: { authorization: 'Bearer s3cret' } });
      expect(started.status).toBe(202);
      expect((await fetch(`${url}/api/v1/drills/tiny/run`, { method: 'POST', headers: { authorization: 'Bearer s3cret' } })).status).toBe(409);
      await until(() => scheduler.status().lastResults.tiny !== undefined);
      const body = (await (await fetch(`${url}/api/v1/drills`)).json()) as { status: string; data: { drills: Array<{ name: string; latest: { verdict: { decision: string } } | null }> } };
      expect(body.status).toBe('success');
      expect(body.data.drills.find((d) => d.name === 'tiny')?.latest?.verdict.decision).toBe('allow');
      expect(body.data.drills.find((d) => d.name === 'staging-only')?.latest).toBeNull();
    } finally {
      await scheduler.stop(Date.now() + 5000);
      await server.stop(Date.now() + 2000);
    }
  });
});
