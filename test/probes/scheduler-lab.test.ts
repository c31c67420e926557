/**
 * The framework with the real probes: runs against the lab land in the store exactly as /metrics
 * shows them (probe samples, run metrics, cumulative instruments as _bucket/_sum/_count).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startLab } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';
import { buildProbes, ProbeScheduler } from '../../src/probes/index.js';
import { openSampleStore } from '../../src/store/index.js';
import { SystemClock } from '../../src/time/index.js';
import { labTargetYaml } from '../helpers/target-yaml.js';

let lab: Lab;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sentinel-sched-lab-'));
  lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, stateDir: path.join(dir, 'lab'), knobs: { traffic: { paused: true } } });
  fs.writeFileSync(
    path.join(dir, 'sentinel.yaml'),
    `environment: dev
${labTargetYaml(lab)}probes:
  delivery: { schedule: "*/15 * * * * *", timeout: 10s, params: { receive_timeout: 5s } }
  replay_lag: { schedule: "*/15 * * * * *", timeout: 5s }
storage:
  data_dir: data
`,
  );
});

afterAll(async () => {
  await lab?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ProbeScheduler with the real probes', () => {
  it('stores probe samples, run metrics and instruments, and keeps them across a store restart', async () => {
    const config = loadConfig(path.join(dir, 'sentinel.yaml'), { env: {} });
    const registry = new Registry();
    const clock = new SystemClock();
    const logger = pino({ level: 'silent' });
    const store = openSampleStore({ dataDir: config.storage.dataDir });
    const scheduler = new ProbeScheduler({ probes: buildProbes(config, { registry, clock, logger }), store, registry, clock, logger });
    const first = await scheduler.runOnce('all');
    await new Promise((r) => setTimeout(r, 5));
    await scheduler.runOnce('delivery');
    // replay_lag reads stream_head; the canary stream exists once delivery appended to it.
    await scheduler.runOnce('replay_lag');
    expect(first.map((r) => [r.probe, r.outcome.reason]).sort()).toEqual([
      ['delivery', 'ok'],
      ['replay_lag', 'ok'],
    ]);
    await scheduler.stop(Date.now() + 5000);
    await store.close();

    const reopened = openSampleStore({ dataDir: config.storage.dataDir, readOnly: true });
    const names = reopened.labelValues('__name__');
    expect(names).toEqual(expect.arrayContaining(['sentinel_probe_success', 'sentinel_probe_duration_seconds', 'sentinel_probe_runs_total', 'sentinel_stream_head_seq', 'sentinel_delivery_latency_seconds_bucket', 'sentinel_delivery_latency_seconds_count']));
    const count = reopened.select([{ name: '__name__', type: '=', value: 'sentinel_delivery_latency_seconds_count' }], 0, Infinity);
    expect(count[0].samples.map((s) => s.v)).toEqual([1, 2]);
    expect(await registry.metrics()).toContain('sentinel_delivery_latency_seconds_count 2');
    const runs = reopened.select([{ name: '__name__', type: '=', value: 'sentinel_probe_runs_total' }, { name: 'probe', type: '=', value: 'delivery' }], 0, Infinity);
    expect(runs.map((s) => [s.labels['result'], s.samples.at(-1)?.v])).toEqual([['ok', 2]]);
    await reopened.close();
  });
});
