/**
 * captureIO: a CommandIO whose stdout and stderr are kept in memory, for running `sentinel`
 * commands in tests and reading what they printed.
 */
import type { CommandIO } from '../../src/commands/types.js';

/** CapturedIO is a CommandIO plus what was written to it so far. */
export interface CapturedIO extends CommandIO {
  out(): string;
  err(): string;
}

/** CaptureOptions default to no environment, the process' cwd and a signal that never aborts. */
export interface CaptureOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
}

export function captureIO(options: CaptureOptions = {}): CapturedIO {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}
