/**
 * A configuration reload while a drill runs against the lab does not disturb it: the reload is
 * accepted at once (rules and the rest take effect), but the probes, targets and drills the drill
 * stands on keep the configuration it started with (the same probe scheduler, its fault still in
 * effect), and the drill completes with its faults removed; when it is over, the probes switch
 * to the new configuration.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Document } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import type { Daemon } from '../../src/commands/run.js';
import { checkConfig, loadConfig } from '../../src/config/index.js';
import { ToxiproxyFaultDriver } from '../../src/drills/index.js';
import { DRILL_PROBE_WAITS, setProbeTimings } from '../helpers/probe-timings.js';
import { startDaemon } from '../helpers/started-daemon.js';
import type { StartedDaemon } from '../helpers/started-daemon.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DRILLS = join(ROOT, 'test', 'fixtures', 'drills', 'lab-drills.yaml');

/** fastProbes shortens the probes' waits so a drill takes seconds, not minutes. */
const fastProbes = (doc: Document): void => setProbeTimings(doc, DRILL_PROBE_WAITS);

describe('a reload during a drill', () => {
  let work: string;
  let env: LabEnvironment;
  let daemon: Daemon;
  let running: StartedDaemon | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sentinel-reload-drill-'));
    env = await startLabEnvironment({ workDir: join(work, 'env'), evidenceDir: join(work, 'evidence'), drillFiles: [DRILLS], patchConfig: fastProbes, idleTimeoutMs: 10_000 });
    running = await startDaemon(loadConfig(env.configFile), { loadConfig: () => checkConfig(env.configFile, { env: {} }) });
    daemon = running.daemon;
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    await env?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('keeps the drill on its configuration, completes it with its faults removed, then switches', async () => {
    const driver = new ToxiproxyFaultDriver({ url: env.urls.toxiproxy });
    const before = daemon.generation();
    const drill = daemon.drillScheduler.runNow('quick-restart');
    // Wait for the stage: the SpacetimeDB proxy is down (the drill's fault is in effect).
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await driver.listProxies()).find((p) => p.name === 'spacetimedb')?.enabled !== false) await new Promise((r) => setTimeout(r, 100));
    expect(daemon.drillScheduler.activeDrill()).toBe('quick-restart');

    writeFileSync(env.configFile, readFileSync(env.configFile, 'utf8').replace(/(runtime_metrics:\n\s+schedule: )"[^"]*"/, '$1"*/20 * * * * *"'));
    const outcome = await daemon.reload();
    expect(outcome).toMatchObject({ ok: true, generation: 2, deferred: "probes, targets and drills keep the previous configuration until drill 'quick-restart' finishes" });
    // Not disturbed: the same probes and drills, the fault still in effect.
    expect(daemon.generation()).toBe(before);
    expect((await driver.listProxies()).find((p) => p.name === 'spacetimedb')?.enabled).toBe(false);
    expect(before.probes.find((p) => p.probe.name === 'runtime_metrics')?.schedule).not.toBe('*/20 * * * * *');

    const result = await drill;
    expect(result?.runStatus).toBe('completed');
    expect(result?.scenario.faults_removed).toBe(true);
    expect(result?.scenario.status, result?.scenario.reasons.join('; ')).toBe('passed');
    expect((await driver.listProxies()).find((p) => p.name === 'spacetimedb')?.enabled).toBe(true);

    // Once the drill is over, the probes run the reloaded configuration.
    await daemon.idle();
    expect(daemon.generation()).not.toBe(before);
    expect(daemon.generation().probes.find((p) => p.probe.name === 'runtime_metrics')?.schedule).toBe('*/20 * * * * *');
  }, 120_000);
});
