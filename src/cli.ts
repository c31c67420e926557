/**
 * cli: the `sentinel` command. Parses arguments, loads and dispatches to the one command in
 * src/commands/ that runs, maps errors to the documented exit codes. `runCli` is the only place
 * that calls process.exit; `bin/sentinel.js` calls it, and so does this file when it is the
 * script node was started with (`tsx src/cli.ts ...`).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isSentinelError } from './errors.js';
import type { CommandEntry, CommandIO } from './commands/types.js';
import { ExitCodes } from './commands/types.js';
import { COMMANDS } from './commands/index.js';
import { sentinelVersion } from './version.js';

function usage(): string {
  const lines = ['usage: sentinel <command> [options]', ''];
  // Each usage is "synopsis   description"; print the descriptions under each other.
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const [synopsis, ...rest] = (entry.usage || name).split(/ {2,}/);
    const description = rest.join(' ');
    lines.push(`  sentinel ${synopsis}${description ? `\n      ${description}` : ''}`);
  }
  lines.push('  sentinel --version', '      print the version', '');
  lines.push('Exit codes: 0 success/allow, 1 check failed/block, 2 usage, configuration or evidence error.');
  return lines.join('\n') + '\n';
}

/** findCommand takes the longest command name ("rules test" before "rules") matching argv. */
function findCommand(argv: readonly string[]): { name: string; entry: CommandEntry; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const entry = COMMANDS[name];
    if (entry && argv.length >= words) return { name, entry, rest: argv.slice(words) };
  }
  return undefined;
}

/** main runs one sentinel invocation and returns its exit code. */
export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    io.stdout.write(usage());
    return argv.length === 0 ? ExitCodes.usage : ExitCodes.ok;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout.write(`${sentinelVersion()}\n`);
    return ExitCodes.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr.write(`sentinel: unknown command '${argv.join(' ')}'; run 'sentinel help' for the list\n`);
    return ExitCodes.usage;
  }
  const command = await found.entry.load();
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: found.rest, options: { ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`sentinel ${found.name}: ${(err as Error).message}; usage: sentinel ${found.entry.usage.split(/ {2,}/)[0]}\n`);
    return ExitCodes.usage;
  }
  try {
    return await command.run({ positionals: parsed.positionals, options: parsed.values as Record<string, string | boolean | undefined> }, io);
  } catch (err) {
    if (isSentinelError(err)) {
      io.stderr.write(`sentinel ${found.name}: ${err.message}\n`);
      return ExitCodes.usage;
    }
    io.stderr.write(`sentinel ${found.name}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCodes.usage;
  }
}

/**
 * runCli runs `sentinel` with this process' arguments, environment and signals, then exits with
 * the command's code. The first SIGINT/SIGTERM aborts the command (the daemon stops within
 * `server.shutdown_timeout`); a second one exits at once with 130.
 */
export function runCli(): void {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: CommandIO = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: controller.signal };
  const argv = process.argv.slice(2);
  // Only the daemon's own process sets V8 flags (`main` also runs in tests and the demo, where
  // V8's defaults stay); the module is imported only then, so other commands start without it.
  const ready = argv[0] === 'run' ? import('./daemon/v8-flags.js').then(({ applyV8Flags, daemonV8Flags }) => {
    const choice = daemonV8Flags(process.env, process.execArgv);
    if (!choice.ok) {
      process.stderr.write(`sentinel run: ${choice.error}\n`);
      process.exit(ExitCodes.usage);
    }
    applyV8Flags(choice.flags);
  }) : Promise.resolve();
  ready.then(() => main(argv, io)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`sentinel: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(ExitCodes.usage);
    },
  );
}

/** isMainModule: node was started with this file (not with bin/sentinel.js, not imported by a test). */
function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) runCli();
