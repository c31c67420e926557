import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseStepArg, parseTimeArg, queryCommand } from '../../src/commands/query.js';
import { openSampleStore } from '../../src/store/index.js';
import { UsageError } from '../../src/errors.js';
import { captureIO } from '../support/capture-io.js';
import type { CapturedIO } from '../support/capture-io.js';

let dir: string;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sentinel-query-cmd-'));
  // A store as the daemon leaves it: 10 minutes of two series at 1m, then one goes stale.
  const store = openSampleStore({ dataDir: path.join(dir, 'data') });
  const app = store.appender();
  for (let i = 0; i <= 10; i++) {
    app.append({ __name__: 'sentinel_probe_success', probe: 'token' }, i * 60_000, 1);
    if (i < 5) app.append({ __name__: 'sentinel_probe_success', probe: 'resume' }, i * 60_000, i % 2);
  }
  app.appendStale({ __name__: 'sentinel_probe_success', probe: 'resume' }, 5 * 60_000);
  app.commit();
  await store.close();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function io(): CapturedIO {
  return captureIO({ cwd: dir });
}

describe('sentinel query', () => {
  it('evaluates an instant query at --time over the stored samples, honouring stale markers', async () => {
    const a = io();
    expect(await queryCommand.run({ positionals: ['sentinel_probe_success'], options: { 'data-dir': 'data', time: '240' } }, a)).toBe(0);
    expect(a.out()).toBe('sentinel_probe_success{probe="resume"} => 0 @[240]\nsentinel_probe_success{probe="token"} => 1 @[240]\n');
    const b = io();
    expect(await queryCommand.run({ positionals: ['sentinel_probe_success'], options: { 'data-dir': 'data', time: '1970-01-01T00:06:00Z' } }, b)).toBe(0);
    expect(b.out()).toBe('sentinel_probe_success{probe="token"} => 1 @[360]\n');
  });

  it('prints the HTTP API data shape for a range query with --json', async () => {
    const a = io();
    const code = await queryCommand.run({ positionals: ['sum(sentinel_probe_success)'], options: { 'data-dir': 'data', start: '0', end: '120', step: '1m', json: true } }, a);
    expect(code).toBe(0);
    expect(JSON.parse(a.out())).toEqual({ resultType: 'matrix', result: [{ metric: {}, values: [[0, '1'], [60, '2'], [120, '1']] }] });
  });

  it('exits 2 with the position on a bad expression, and names a missing store', async () => {
    const a = io();
    expect(await queryCommand.run({ positionals: ['sum(up'], options: { 'data-dir': 'data' } }, a)).toBe(2);
    expect(a.err()).toContain('sum(up');
    await expect(queryCommand.run({ positionals: ['up'], options: { 'data-dir': 'nowhere' } }, io())).rejects.toThrow(/no sample store at .*nowhere/);
  });

  it('parses times and steps like the Prometheus API', () => {
    expect(parseTimeArg('1764093300.5', 'time')).toBe(1764093300500);
    expect(parseTimeArg('2026-11-25T17:55:00Z', 'time')).toBe(Date.UTC(2026, 10, 25, 17, 55));
    expect(parseTimeArg('2026-11-25T18:55:00+01:00', 'time')).toBe(Date.UTC(2026, 10, 25, 17, 55));
    expect(() => parseTimeArg('yesterday', 'time')).toThrow(UsageError);
    expect(parseStepArg('15s')).toBe(15_000);
    expect(parseStepArg('30')).toBe(30_000);
    expect(() => parseStepArg('0s')).toThrow(/--step/);
  });
});
