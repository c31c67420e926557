/**
 * The shape every `sentinel` subcommand implements. Commands return an exit code; only cli.ts
 * calls process.exit. Exit codes: 0 success/allow, 1 check failed/block, 2 usage, configuration
 * or evidence error.
 */

/** ExitCodes names the documented exit codes. */
export const ExitCodes = { ok: 0, failed: 1, usage: 2 } as const;

/** CommandIO is what a command may touch of its process; tests pass their own. */
export interface CommandIO {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** signal aborts long-running commands (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
}

/** CommandArgs are the parsed options and positionals after the command words. */
export interface CommandArgs {
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

/** Command is one subcommand: its option names and its run function. */
export interface Command {
  /** options maps each accepted `--name` to whether it takes a value. */
  readonly options: Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;
  run(args: CommandArgs, io: CommandIO): Promise<number>;
}

/** CommandEntry is a command in the CLI's table: its help line and the import that loads it. */
export interface CommandEntry {
  /** usage is "synopsis   description" (two or more spaces between), printed by `sentinel help`. */
  readonly usage: string;
  /** load imports the command's module; only the command that runs is loaded. */
  load(): Promise<Command>;
}
