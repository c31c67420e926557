/**
 * `sentinel config check [--config FILE]`: validates a daemon configuration file and prints
 * `OK: FILE` or every problem, one `FILE:LINE:COL: key.path: ...` line each (exit 0 or 2).
 * Like `promtool check config`, the rule files the config names are checked too.
 */
import { checkPromqlExpr, loadRuleFiles } from '../alerts/index.js';
import { checkConfig, resolveFileGlobs } from '../config/index.js';
import { RuleFileError } from '../errors.js';
import { configFileOf } from './config-file.js';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** configCheckCommand implements `sentinel config check`. */
export const configCheckCommand: Command = {
  options: { config: { type: 'string' } },
  async run(args, io) {
    const file = configFileOf(args, io);
    if (args.positionals.length > 0) {
      io.stderr.write(`sentinel config check: unexpected argument '${args.positionals[0]}'; pass the file with --config FILE\n`);
      return ExitCodes.usage;
    }
    const result = checkConfig(file, { env: io.env, cwd: io.cwd });
    let issues: readonly string[] = result.ok ? [] : result.issues;
    if (result.ok) {
      try {
        await loadRuleFiles(resolveFileGlobs(result.config.rules.files), { checkExpr: checkPromqlExpr });
      } catch (err) {
        if (!(err instanceof RuleFileError)) throw err;
        issues = err.issues;
      }
    }
    if (issues.length === 0) {
      io.stdout.write(`OK: ${file}\n`);
      return ExitCodes.ok;
    }
    for (const line of issues) io.stderr.write(`${line}\n`);
    io.stderr.write(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n`);
    return ExitCodes.usage;
  },
};
