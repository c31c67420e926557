/**
 * Forging evidence for real: a block turned into allow by editing results.jsonl and SUMMARY.md,
 * then every digest recomputed with plain SHA-256 (`sha256sum` format, header `# algorithm:
 * sha256`), exactly what someone without the key can do. Under a configured key that manifest is
 * invalid (exit 2, saying why); without a key the verdict says it checks accidents, not forgery.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verdictCommand } from '../../src/commands/verdict.js';
import type { CommandIO } from '../../src/commands/types.js';
import type { ScenarioResult } from '../../src/drills/outcomes.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { scenarioResult, writeEvidence } from './helpers/finished-evidence.js';

const newDir = tempDirs('sentinel-forge-');

const FAILED: ScenarioResult = {
  ...scenarioResult('temporary-partition', 'failed'),
  duration_seconds: 80,
  conditions: [{ name: 'no gap, duplicate or reorder on resume', kind: 'expect', query: 'q', op: '<=', threshold: 0, observed: 1, sampleCount: 4, status: 'failed' }],
  stages: [{ name: 'partition', status: 'failed', duration_seconds: 80 }],
  reasons: ["partition: expectation 'no gap, duplicate or reorder on resume' failed"],
};

function blockedEvidence(hmacKey?: string): Promise<string> {
  return writeEvidence(newDir(), [FAILED], { environment: 'staging', deviated: true, durationMs: 80_000, ...(hmacKey ? { hmacKey } : {}) });
}

/** forge turns the block into allow and re-hashes every file with plain SHA-256. */
function forge(dir: string): void {
  const passed: ScenarioResult = { ...FAILED, status: 'passed', reasons: [], stages: [{ name: 'partition', status: 'passed', duration_seconds: 80 }], conditions: [{ ...FAILED.conditions[0], status: 'passed', observed: 0 }] };
  writeFileSync(join(dir, 'results.jsonl'), JSON.stringify(passed) + '\n');
  const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
  writeFileSync(
    join(dir, 'SUMMARY.md'),
    summary
      .replace('- Failures: 1', '- Failures: 0')
      .replace(/\n## Reasons\n[\s\S]*?\n\n/, '\n')
      .replace('Decision: block', 'Decision: allow')
      .replace('| failed |', '| passed |'),
  );
  const lines = ['# spacetime-sentinel evidence manifest v1', '# algorithm: sha256'];
  for (const f of readdirSync(dir).filter((f) => f !== 'MANIFEST.sha256').sort()) {
    lines.push(`${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}  ${f}`);
  }
  writeFileSync(join(dir, 'MANIFEST.sha256'), lines.join('\n') + '\n');
}

async function verdict(dir: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CommandIO = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (out += t) }, env, cwd: process.cwd(), signal: new AbortController().signal };
  const code = await verdictCommand.run({ positionals: [dir], options: {} }, io);
  return { code, out };
}

describe('forged evidence', () => {
  it('the forgery itself is consistent: without a key it re-derives allow, and says it only checks accidents', async () => {
    const dir = await blockedEvidence();
    expect((await verdict(dir)).code).toBe(1);
    forge(dir);
    const res = await verdict(dir);
    expect(res.out).toContain('Decision: allow');
    expect(res.code).toBe(0);
    expect(res.out).toContain('checked against accidents, not forgery');
  });

  it('under a key, a plain-sha256 forgery of signed evidence is invalid (exit 2) and says why', async () => {
    const dir = await blockedEvidence('s3cret-key');
    const honest = await verdict(dir, { SENTINEL_MANIFEST_HMAC_KEY: 's3cret-key' });
    expect(honest.code).toBe(1);
    expect(honest.out).toContain('Decision: block');
    expect(honest.out).toContain('verified with the manifest key');
    forge(dir);
    const res = await verdict(dir, { SENTINEL_MANIFEST_HMAC_KEY: 's3cret-key' });
    expect(res.code).toBe(2);
    expect(res.out).toContain('is invalid');
    expect(res.out).toMatch(/not signed \(algorithm sha256\) but a manifest key is configured/);
    expect(res.out).not.toContain('Decision: allow');
  });

  it('under a key, evidence that was never signed is invalid too', async () => {
    const dir = await blockedEvidence();
    const res = await verdict(dir, { SENTINEL_MANIFEST_HMAC_KEY: 's3cret-key' });
    expect(res.code).toBe(2);
    expect(res.out).toMatch(/not signed/);
  });

  it('under a key, an HMAC manifest re-signed with another key is invalid', async () => {
    const dir = await blockedEvidence('s3cret-key');
    forge(dir);
    const lines = ['# spacetime-sentinel evidence manifest v1', '# algorithm: hmac-sha256'];
    const { createHmac } = await import('node:crypto');
    for (const f of readdirSync(dir).filter((f) => f !== 'MANIFEST.sha256').sort()) {
      lines.push(`${createHmac('sha256', 'guessed-key').update(readFileSync(join(dir, f))).digest('hex')}  ${f}`);
    }
    writeFileSync(join(dir, 'MANIFEST.sha256'), lines.join('\n') + '\n');
    const res = await verdict(dir, { SENTINEL_MANIFEST_HMAC_KEY: 's3cret-key' });
    expect(res.code).toBe(2);
    expect(res.out).toContain('does not match its manifest digest');
  });
});
