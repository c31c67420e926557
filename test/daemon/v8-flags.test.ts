import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { daemonV8Flags, DEFAULT_DAEMON_V8_FLAGS } from '../../src/daemon/index.js';

describe('daemonV8Flags', () => {
  it('turns TurboFan off, pins the young generation and optimizes for size by default', () => {
    expect(DEFAULT_DAEMON_V8_FLAGS).toEqual(['--no-opt', '--semi-space-growth-factor=1', '--optimize-for-size']);
    expect(daemonV8Flags({}, [])).toEqual({ ok: true, flags: DEFAULT_DAEMON_V8_FLAGS });
  });

  it('keeps the young generation at its initial size when set at run time, as the daemon sets it', () => {
    // V8 reads the growth factor whenever the new space would grow; a V8 that stopped doing so
    // would let start-up allocation grow it to 2 x 16 MB again.
    const newSpaceMb = (flags: readonly string[]): number => {
      const script = `
        const v8 = require('node:v8');
        for (const f of ${JSON.stringify(flags)}) v8.setFlagsFromString(f);
        let keep = [];
        for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 100000) keep = []; }
        process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576));`;
      return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 }));
    };
    expect(newSpaceMb(DEFAULT_DAEMON_V8_FLAGS)).toBeLessThanOrEqual(2);
    expect(newSpaceMb([])).toBeGreaterThan(2);
  });

  it('takes SENTINEL_V8_FLAGS instead, and none when it is empty', () => {
    expect(daemonV8Flags({ SENTINEL_V8_FLAGS: ' --optimize-for-size   --no-opt ' }, [])).toEqual({ ok: true, flags: ['--optimize-for-size', '--no-opt'] });
    expect(daemonV8Flags({ SENTINEL_V8_FLAGS: '' }, [])).toEqual({ ok: true, flags: [] });
  });

  it("lets a flag on node's own command line win, however it is spelled", () => {
    expect(daemonV8Flags({}, ['--opt'])).toEqual({ ok: true, flags: ['--semi-space-growth-factor=1', '--optimize-for-size'] });
    expect(daemonV8Flags({}, ['--no_opt', '--semi_space_growth_factor=2', '--no-optimize-for-size'])).toEqual({ ok: true, flags: [] });
    expect(daemonV8Flags({ SENTINEL_V8_FLAGS: '--max-lazy --no-opt' }, ['--import', 'tsx', '--opt'])).toEqual({ ok: true, flags: ['--max-lazy'] });
  });

  it('refuses anything but flags with one sentence', () => {
    expect(daemonV8Flags({ SENTINEL_V8_FLAGS: '--no-opt; rm -rf /' }, [])).toEqual({
      ok: false,
      error: 'SENTINEL_V8_FLAGS: "--no-opt;" is not a V8 flag; give flags such as --no-opt separated by spaces, or leave it empty for V8\'s defaults',
    });
    expect(daemonV8Flags({ SENTINEL_V8_FLAGS: 'opt' }, []).ok).toBe(false);
  });
});
