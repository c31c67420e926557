/**
 * configFileOf: the daemon configuration file a command reads: `--config FILE`, else
 * `SENTINEL_CONFIG` from the environment (how a container is told), else `config/sentinel.yaml`.
 * A relative path is relative to the working directory.
 */
import { checkConfig } from '../config/index.js';
import type { Config } from '../config/index.js';
import type { CommandArgs, CommandIO } from './types.js';

/** DEFAULT_CONFIG_FILE is read when neither --config nor SENTINEL_CONFIG names a file. */
export const DEFAULT_CONFIG_FILE = 'config/sentinel.yaml';

/** configFileOf applies the precedence: the flag, then the environment, then the default. */
export function configFileOf(args: CommandArgs, io: Pick<CommandIO, 'env'>): string {
  const flag = args.options.config;
  if (typeof flag === 'string' && flag !== '') return flag;
  const fromEnv = io.env.SENTINEL_CONFIG;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CONFIG_FILE;
}

/**
 * checkedConfigOf checks a configuration file for a command: its configuration, or undefined
 * after printing every issue, one a line (the command then exits with the usage code).
 */
export function checkedConfigOf(file: string, io: Pick<CommandIO, 'env' | 'cwd' | 'stderr'>): Config | undefined {
  const checked = checkConfig(file, { env: io.env, cwd: io.cwd });
  if (checked.ok) return checked.config;
  for (const line of checked.issues) io.stderr.write(`${line}\n`);
  return undefined;
}
