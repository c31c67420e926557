import { describe, expect, it } from 'vitest';
import { daemonV8Flags, DEFAULT_DAEMON_V8_FLAGS } from '../../src/daemon/index.js';

describe('daemonV8Flags', () => {
  it('turns TurboFan off by default', () => {
    expect(DEFAULT_DAEMON_V8_FLAGS).toEqual(['--no-opt']);
    expect(daemonV8Flags({}, [])).toEqual({ ok: true, flags: ['--no-opt'] });
  });

  it('takes SENTINEL_V8_FLAGS instead, and none when it is empty', () => {
    expect(daemonV8Flags({ SENTINEL_V8_FLAGS: ' --optimize-for-size   --no-opt ' }, [])).toEqual({ ok: true, flags: ['--optimize-for-size', '--no-opt'] });
    expect(daemonV8Flags({ SENTINEL_V8_FLAGS: '' }, [])).toEqual({ ok: true, flags: [] });
  });

  it("lets a flag on node's own command line win, however it is spelled", () => {
    expect(daemonV8Flags({}, ['--opt'])).toEqual({ ok: true, flags: [] });
    expect(daemonV8Flags({}, ['--no_opt'])).toEqual({ ok: true, flags: [] });
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
