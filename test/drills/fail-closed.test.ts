/**
 * Safety checks fail closed: when the lock is held by another live drill, the firing-alerts source
 * cannot answer, the fault proxy's version cannot be read or an allowlisted proxy is missing, the
 * drill is refused with status error (exit 1 for the CLI), its reason in results.jsonl and
 * SUMMARY.md, and no fault is ever added. An explicitly skipped alert check is allowed, and says
 * so in the evidence.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillRunResult } from '../../src/drills/drill-runner.js';
import type { AlertCheck } from '../../src/drills/run-context.js';
import { readVerdict } from '../../src/drills/verdict.js';
import { deliveryFailsUnderFault, MemoryFaultProxy, partitionDrillYaml, runMemoryDrill } from './helpers/memory-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newRoot = tempDirs('sentinel-failclosed-');

const YAML = partitionDrillYaml({ name: 'guarded', description: 'a short partition behind the safety checks', duration: '2s' });

/** BrokenProxy fails the way the test asks, and counts faults it was asked to add. */
class BrokenProxy extends MemoryFaultProxy {
  added = 0;
  constructor(private readonly failure: 'none' | 'version' | 'missing') {
    super();
  }
  override version(): Promise<string> {
    return this.failure === 'version' ? Promise.reject(new Error('GET /version at memory://fault-proxy failed: connect ECONNREFUSED')) : super.version();
  }
  override listProxies() {
    return this.failure === 'missing' ? Promise.resolve([]) : super.listProxies();
  }
  override addToxic(proxy: string, toxic: Parameters<MemoryFaultProxy['addToxic']>[1]): Promise<void> {
    this.added += 1;
    return super.addToxic(proxy, toxic);
  }
}

async function run(options: { failure?: 'none' | 'version' | 'missing'; alerts?: AlertCheck; lockedBy?: number }): Promise<{ result: DrillRunResult; proxy: BrokenProxy }> {
  const proxy = new BrokenProxy(options.failure ?? 'none');
  const root = newRoot();
  if (options.lockedBy !== undefined) writeFileSync(join(root, '.drill.lock'), JSON.stringify({ pid: options.lockedBy, runId: 'other-run', drill: 'other', startedAtMs: 0 }));
  const result = await runMemoryDrill({
    yaml: YAML,
    file: 'guarded.yaml',
    knownProbes: ['delivery'],
    proxy,
    evidenceRoot: root,
    behaviours: { delivery: deliveryFailsUnderFault('unreachable') },
    ...(options.alerts ? { runner: { alerts: options.alerts } } : {}),
  });
  return { result, proxy };
}

async function expectRefused(result: DrillRunResult, proxy: BrokenProxy, why: RegExp): Promise<void> {
  expect(result.scenario.status).toBe('error');
  expect(result.runStatus).toBe('failed');
  expect(result.decision.decision).toBe('block');
  expect(result.scenario.reasons.join('\n')).toMatch(why);
  expect(proxy.added).toBe(0);
  expect(result.scenario.faults).toEqual([]);
  const summary = readFileSync(join(result.dir, 'SUMMARY.md'), 'utf8');
  expect(summary).toContain('| guarded | error |');
  expect(summary).toMatch(why);
  const verdict = await readVerdict(result.dir);
  expect(verdict.kind === 'decided' && verdict.report.decision).toBe('block');
}

describe('fail-closed safety checks', () => {
  it('refuses while another live drill holds the lock', async () => {
    const { result, proxy } = await run({ lockedBy: process.pid });
    await expectRefused(result, proxy, /lock: drill 'other' \(run other-run, pid \d+\) is already running/);
  });

  it('refuses when the firing-alerts source cannot answer', async () => {
    const alerts: AlertCheck = { source: { description: 'the sentinel daemon at http://127.0.0.1:9464/api/v1/alerts', firingAlerts: () => Promise.reject(new Error('no answer (ECONNREFUSED)')) } };
    const { result, proxy } = await run({ alerts });
    await expectRefused(result, proxy, /cannot check firing critical alerts \(the sentinel daemon at http:\/\/127\.0\.0\.1:9464\/api\/v1\/alerts\): no answer \(ECONNREFUSED\)/);
    expect(result.scenario.conditions.find((c) => c.kind === 'alerts')?.status).toBe('error');
  });

  it('refuses when the fault proxy cannot tell its version', async () => {
    const { result, proxy } = await run({ failure: 'version' });
    await expectRefused(result, proxy, /fault proxy unreachable: GET \/version at memory:\/\/fault-proxy failed: connect ECONNREFUSED/);
  });

  it('refuses when an allowlisted proxy does not exist', async () => {
    const { result, proxy } = await run({ failure: 'missing' });
    await expectRefused(result, proxy, /allowlisted proxies missing on memory:\/\/fault-proxy: p/);
  });

  it('blocks (aborted) while a critical alert fires', async () => {
    const alerts: AlertCheck = { source: { description: 'a store', firingAlerts: () => Promise.resolve([{ alertname: 'SpacetimeReplayLagHigh', severity: 'critical' }]) } };
    const { result, proxy } = await run({ alerts });
    expect(result.decision.decision).toBe('block');
    expect(result.scenario.reasons.join('\n')).toContain('critical alerts firing: SpacetimeReplayLagHigh');
    expect(proxy.added).toBe(0);
  });

  it('allows an explicitly skipped alert check, and says so in the evidence', async () => {
    const { result } = await run({ alerts: { skipped: 'skipped with --skip-alert-check' } });
    expect(result.decision.decision).toBe('allow');
    expect(result.scenario.skipped_checks).toEqual(['firing critical alerts (skipped with --skip-alert-check)']);
    expect(readFileSync(join(result.dir, 'SUMMARY.md'), 'utf8')).toContain('- Safety checks SKIPPED: firing critical alerts (skipped with --skip-alert-check): the drill ran without them');
    expect(JSON.parse(readFileSync(join(result.dir, 'run.json'), 'utf8')).skipped_checks).toEqual(['firing critical alerts (skipped with --skip-alert-check)']);
  });
});
