import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvidenceDir, finishEvidence } from '../../src/drills/evidence.js';
import type { RunStatus, ScenarioResult } from '../../src/drills/outcomes.js';
import { readVerdict } from '../../src/drills/verdict.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newDir = tempDirs('sentinel-evidence-');

function scenario(name: string, status: ScenarioResult['status'] = 'passed', faultsRemoved = true): ScenarioResult {
  return {
    scenario: name,
    status,
    duration_seconds: 12.5,
    started_at: '2026-11-25T17:00:00.000Z',
    faults: [{ stage: 'partition', proxy: 'spacetimedb', toxic: 'sentinel-r1-0-0', type: 'timeout', removed: faultsRemoved }],
    faults_removed: faultsRemoved,
    conditions: [{ name: 'resume ok', kind: 'expect', query: 'x', op: '>=', threshold: 1, observed: 1, sampleCount: 3, status: status === 'passed' ? 'passed' : 'failed' }],
    stages: [{ name: 'partition', status, duration_seconds: 10 }],
    reasons: status === 'passed' ? [] : ['resume ok: failed'],
  };
}

async function evidence(scenarios: ScenarioResult[], status: RunStatus = 'completed', hmacKey?: string): Promise<string> {
  const root = newDir();
  const dir = createEvidenceDir(root, Date.UTC(2026, 10, 25, 17, 0, 0));
  writeFileSync(join(dir, 'journal.jsonl'), '{"type":"run_start"}\n');
  await finishEvidence({
    dir,
    run: { run_id: 'r1', drills: scenarios.map((s) => s.scenario), environment: 'dev', started_at: '2026-11-25T17:00:00.000Z', finished_at: '2026-11-25T17:01:00.000Z', status, deviated: false, sentinel_version: '0.1.0' },
    scenarios,
    facts: [['Environment', 'dev']],
    hmacKey,
  });
  return dir;
}

describe('evidence and verdict', () => {
  it('allows a completed run whose scenarios all passed, and says so in SUMMARY.md', async () => {
    const dir = await evidence([scenario('partition'), scenario('restart')]);
    const v = await readVerdict(dir);
    expect(v.kind).toBe('decided');
    if (v.kind === 'decided') expect(v.report).toEqual({ decision: 'allow', failures: 0, reasons: [] });
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary).toMatch(/^- Scenarios: 2$/m);
    expect(summary).toMatch(/^- Failures: 0$/m);
    expect(summary.trimEnd().split('\n').at(-1)).toBe('Decision: allow');
  });

  it('blocks when one scenario failed, naming it', async () => {
    const dir = await evidence([scenario('partition'), scenario('restart', 'failed')]);
    const v = await readVerdict(dir);
    expect(v.kind === 'decided' && v.report.decision).toBe('block');
    if (v.kind === 'decided') expect(v.report.reasons.join('\n')).toContain('restart: failed');
  });

  it('blocks an inconclusive scenario and one whose fault removal was not proven', async () => {
    const v1 = await readVerdict(await evidence([scenario('latency', 'inconclusive')]));
    expect(v1.kind === 'decided' && v1.report.decision).toBe('block');
    const v2 = await readVerdict(await evidence([scenario('latency', 'passed', false)]));
    expect(v2.kind === 'decided' && v2.report.decision).toBe('block');
    if (v2.kind === 'decided') expect(v2.report.reasons[0]).toContain('not proven');
  });

  it('never allows an interrupted run, even with passing scenarios', async () => {
    const v = await readVerdict(await evidence([scenario('partition')], 'interrupted'));
    expect(v.kind === 'decided' && v.report.decision).toBe('block');
  });

  it('never allows a run with no scenarios', async () => {
    const v = await readVerdict(await evidence([]));
    expect(v.kind === 'decided' && v.report.decision).toBe('block');
  });

  it('reports a modified results.jsonl as invalid', async () => {
    const dir = await evidence([scenario('restart', 'failed')]);
    const path = join(dir, 'results.jsonl');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"failed"', '"passed"'));
    const v = await readVerdict(dir);
    expect(v.kind).toBe('invalid');
    if (v.kind === 'invalid') expect(v.problems.join('\n')).toContain('results.jsonl does not match');
  });

  it('reports truncated evidence and a missing manifest as invalid', async () => {
    const dir = await evidence([scenario('partition')]);
    rmSync(join(dir, 'SUMMARY.md'));
    expect((await readVerdict(dir)).kind).toBe('invalid');
    rmSync(join(dir, 'MANIFEST.sha256'));
    const v = await readVerdict(dir);
    expect(v.kind === 'invalid' && v.problems[0]).toContain('MANIFEST.sha256 is missing');
  });

  it('reports a file added after the run as invalid', async () => {
    const dir = await evidence([scenario('partition')]);
    appendFileSync(join(dir, 'extra.txt'), 'x');
    const v = await readVerdict(dir);
    expect(v.kind === 'invalid' && v.problems.join('\n')).toContain('extra.txt is not listed');
  });

  it('detects a re-hashed forgery only with an HMAC key, and needs the key to verify', async () => {
    const dir = await evidence([scenario('partition')], 'completed', 'k3y');
    expect((await readVerdict(dir)).kind).toBe('invalid');
    expect((await readVerdict(dir, { hmacKey: 'wrong' })).kind).toBe('invalid');
    const v = await readVerdict(dir, { hmacKey: 'k3y' });
    expect(v.kind === 'decided' && v.report.decision).toBe('allow');
  });
});
