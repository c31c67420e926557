/**
 * `sentinel config check [--config FILE]`: validates a daemon configuration file and prints
 * `OK: FILE` or every problem, one `FILE:LINE:COL: key.path: ...` line each (exit 0 or 2).
 */
import { checkConfig } from '../config/index.js';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** DEFAULT_CONFIG_FILE is used when --config is not given. */
export const DEFAULT_CONFIG_FILE = 'config/sentinel.yaml';

/** configCheckCommand implements `sentinel config check`. */
export const configCheckCommand: Command = {
  usage: 'config check [--config FILE]                       validate a configuration file',
  options: { config: { type: 'string' } },
  run(args, io) {
    const file = typeof args.options.config === 'string' ? args.options.config : DEFAULT_CONFIG_FILE;
    if (args.positionals.length > 0) {
      io.stderr.write(`sentinel config check: unexpected argument '${args.positionals[0]}'; pass the file with --config FILE\n`);
      return Promise.resolve(ExitCodes.usage);
    }
    const result = checkConfig(file, { env: io.env, cwd: io.cwd });
    if (result.ok) {
      io.stdout.write(`OK: ${file}\n`);
      return Promise.resolve(ExitCodes.ok);
    }
    for (const line of result.issues) io.stderr.write(`${line}\n`);
    io.stderr.write(`${file}: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}\n`);
    return Promise.resolve(ExitCodes.usage);
  },
};
