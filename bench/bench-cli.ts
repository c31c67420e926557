/**
 * The benches' command line: options in (`--name N`, read once at start-up; a value that is not
 * what the option needs stops the bench with one sentence naming the option and the value, exit
 * 2), exit code out (`runMain`).
 */
import { basename } from 'node:path';

/** benchName is the running bench's file name without `.bench.ts`, for messages. */
function benchName(): string {
  return basename(process.argv[1] ?? 'bench').replace(/\.bench\.ts$|\.ts$/, '');
}

/** NumberArgOptions say what a value must be beyond a finite number. */
export interface NumberArgOptions {
  /** integer requires a whole number (default false). */
  readonly integer?: boolean;
  /** zero allows 0 (default false: the value must be above 0). */
  readonly zero?: boolean;
}

/** numberArg is the number after `--name` on the command line, or `fallback` when the option is absent. */
export function numberArg(name: string, fallback: number, options: NumberArgOptions = {}): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const raw = process.argv[i + 1];
  const n = Number(raw);
  const ok = raw !== undefined && raw.trim() !== '' && Number.isFinite(n) && (options.zero ? n >= 0 : n > 0) && (!options.integer || Number.isInteger(n));
  if (!ok) {
    console.error(`${benchName()}: --${name} needs a ${options.zero ? 'non-negative' : 'positive'} ${options.integer ? 'integer' : 'number'}, got ${JSON.stringify(raw ?? null)}`);
    process.exit(2);
  }
  return n;
}

/** runMain runs a bench's `main`: the code it returns is the exit code; a failure prints its stack and exits 1. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`${benchName()}: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    },
  );
}
