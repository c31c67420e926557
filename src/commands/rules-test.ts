/**
 * `sentinel rules test FILE...`: promtool's rule unit-test files, unchanged; prints promtool's
 * report (`Unit Testing:  FILE`, `  SUCCESS` / `  FAILED:` + failures), exit 0 all passed, 1 not.
 */
import v8 from 'node:v8';
import { runRulesTests } from '../alerts/unit-test/index.js';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** rulesTestCommand implements `sentinel rules test`. */
export const rulesTestCommand: Command = {
  options: {},
  async run(args, io) {
    if (args.positionals.length === 0) {
      io.stderr.write('sentinel rules test: name at least one unit-test file, e.g. sentinel rules test config/rules/spacetime-sync.test.yaml\n');
      return ExitCodes.usage;
    }
    // Each evaluation step allocates much and keeps little, yet V8 grows the young generation to
    // 16 MiB semispaces as it goes: a fifth of the peak RSS of a 600-series test, for no speed.
    // Kept at its first size, the process stays within promtool's footprint.
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    const ok = await runRulesTests(args.positionals, io, { cwd: io.cwd });
    return ok ? ExitCodes.ok : ExitCodes.failed;
  },
};
