/**
 * The V8 flags `sentinel run` sets for its own process before it loads the daemon.
 *
 * By default `--no-opt`: no TurboFan. The daemon is a sidecar whose work is many short, varied
 * tasks (probe runs, rule groups, scrapes) at ~2% of a core, and whose budget is memory. TurboFan
 * barely pays off there, while its compilations (optimized code, compiler zones on V8's
 * background threads, the compiler's own pages of the node binary) hold about 10 MB of resident
 * memory and cost CPU of their own: with it off the daemon's RSS drops by about a tenth and its
 * CPU time does not rise (bench/daemon/soak.bench.ts). Functions still run compiled by Ignition
 * and Sparkplug. The price is long computations: a heavy API query (26 h over 50,000 series) takes
 * about 4 times as long, 59 s instead of 15 (bench/daemon/query-jitter.bench.ts); it runs in the
 * query thread, under `server.query_timeout`, so probes and rule groups keep their slots either way.
 *
 * And `--semi-space-growth-factor=1`: V8's young generation stays at its initial 1 MB semi-spaces
 * instead of doubling up to 16 MB each while start-up allocates (parsing the configuration,
 * compiling the rules). Without it the daemon reports ready at about 100 MB of RSS and takes a
 * minute to give the young generation back; with it, about 75 MB, and the steady state is within
 * a few MB of the same (bench/daemon/soak.bench.ts). Unlike `--max-semi-space-size`, this flag is
 * read whenever the young generation would grow, so setting it at run time takes effect.
 *
 * And `--optimize-for-size`: between full collections V8 lets the old generation grow by at
 * least 8 MB, or 2 MB when it optimizes for memory (`Heap::MinimumAllocationLimitGrowingStep`,
 * `src/heap/heap.cc`). With about 20 MB live, the default step is a 40% sawtooth that lifts the
 * daemon's RSS over the first quarter hour; with the smaller one the median over 25-30 minutes is
 * about 76 MB instead of 80 (bench/daemon/soak.bench.ts). Rule groups take the same time
 * (bench/alerts/rule-eval.bench.ts). What pays is a query that allocates hundreds of MB: the
 * 26 h x 50,000-series query above takes about 96 s instead of 59 s, in the query thread.
 *
 * SENTINEL_V8_FLAGS replaces the list (space-separated; empty for V8's defaults). A flag given on
 * node's own command line (`node --opt bin/sentinel.js run`) wins over both.
 * Set with `v8.setFlagsFromString` before the daemon's modules load, `--no-opt` saves as much as
 * on node's command line (measured both ways with the soak bench's daemon).
 */
import v8 from 'node:v8';

/** DEFAULT_DAEMON_V8_FLAGS are set when SENTINEL_V8_FLAGS is not. */
export const DEFAULT_DAEMON_V8_FLAGS: readonly string[] = ['--no-opt', '--semi-space-growth-factor=1', '--optimize-for-size'];

/** FLAG is one V8 flag: `--name` or `--name=value`, nothing else (no spaces, no shell words). */
const FLAG = /^--[a-z][a-z0-9_-]*(=[^\s]+)?$/;

/** V8FlagsChoice is the flags to set, or the sentence that refuses SENTINEL_V8_FLAGS. */
export type V8FlagsChoice = { readonly ok: true; readonly flags: readonly string[] } | { readonly ok: false; readonly error: string };

/** flagName is a flag's name with `-`/`_` and a `no-` prefix folded, so `--no-opt` and `--opt` name the same flag. */
function flagName(flag: string): string {
  const name = flag.replace(/=.*$/, '').replace(/^--/, '').replaceAll('_', '-');
  return name.startsWith('no-') ? name.slice(3) : name;
}

/** daemonV8Flags chooses the flags from the environment and node's own arguments. */
export function daemonV8Flags(env: Readonly<Record<string, string | undefined>>, execArgv: readonly string[]): V8FlagsChoice {
  const raw = env.SENTINEL_V8_FLAGS;
  const wanted = raw === undefined ? DEFAULT_DAEMON_V8_FLAGS : raw.split(/\s+/).filter((f) => f !== '');
  const bad = wanted.find((f) => !FLAG.test(f));
  if (bad !== undefined) {
    return { ok: false, error: `SENTINEL_V8_FLAGS: ${JSON.stringify(bad)} is not a V8 flag; give flags such as --no-opt separated by spaces, or leave it empty for V8's defaults` };
  }
  const given = new Set(execArgv.filter((a) => a.startsWith('--')).map(flagName));
  return { ok: true, flags: wanted.filter((f) => !given.has(flagName(f))) };
}

let applied: readonly string[] = [];

/** applyV8Flags sets the flags for this process; the daemon reports them in its start-up log. */
export function applyV8Flags(flags: readonly string[]): void {
  for (const flag of flags) v8.setFlagsFromString(flag);
  applied = [...applied, ...flags];
}

/** appliedV8Flags are the flags applyV8Flags set in this process (none in tests, which never call it). */
export function appliedV8Flags(): readonly string[] {
  return applied;
}
