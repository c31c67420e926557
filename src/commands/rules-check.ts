/**
 * `sentinel rules check FILE...`: validates rule files like `promtool check rules` (prints
 * `Checking FILE` then `  SUCCESS: N rules found` or `  FAILED:` and one FILE:LINE:COL line per
 * problem); exit 0 when every file is valid, 1 otherwise.
 */
import { resolve } from 'node:path';
import { checkPromqlExpr, parseRuleFile, ruleCount } from '../alerts/index.js';
import { readFile } from 'node:fs/promises';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** rulesCheckCommand implements `sentinel rules check`. */
export const rulesCheckCommand: Command = {
  usage: 'rules check FILE...                                validate Prometheus rule files',
  options: {},
  async run(args, io) {
    if (args.positionals.length === 0) {
      io.stderr.write('sentinel rules check: name at least one rule file, e.g. sentinel rules check config/rules/*.rules.yaml\n');
      return ExitCodes.usage;
    }
    let failed = false;
    for (const file of args.positionals) {
      io.stdout.write(`Checking ${file}\n`);
      let errors: readonly string[];
      let count = 0;
      try {
        const text = await readFile(resolve(io.cwd, file), 'utf8');
        const parsed = parseRuleFile(text, file, { checkExpr: checkPromqlExpr });
        errors = parsed.errors;
        count = ruleCount(parsed.file);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file; check the path' : (err as Error).message;
        errors = [`${file}: cannot read rule file: ${reason}`];
      }
      if (errors.length > 0) {
        io.stderr.write('  FAILED:\n');
        for (const e of errors) io.stderr.write(`${e}\n`);
        failed = true;
      } else {
        io.stdout.write(`  SUCCESS: ${count} rules found\n`);
      }
      io.stdout.write('\n');
    }
    return failed ? ExitCodes.failed : ExitCodes.ok;
  },
};
