import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunStatus, ScenarioResult } from '../../src/drills/outcomes.js';
import { readVerdict } from '../../src/drills/verdict.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { scenarioResult, writeEvidence } from './helpers/finished-evidence.js';

const newDir = tempDirs('sentinel-evidence-');

const scenario = scenarioResult;

async function evidence(scenarios: ScenarioResult[], status: RunStatus = 'completed', hmacKey?: string): Promise<string> {
  return writeEvidence(newDir(), scenarios, { status, ...(hmacKey ? { hmacKey } : {}) });
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
