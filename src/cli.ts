/**
 * cli: the `sentinel` command. Parses arguments, dispatches to src/commands/, maps errors to the
 * documented exit codes. The only place that calls process.exit.
 */
import { parseArgs } from 'node:util';
import { isSentinelError } from './errors.js';
import type { Command, CommandIO } from './commands/types.js';
import { ExitCodes } from './commands/types.js';
import { COMMANDS } from './commands/index.js';

/** HELP_ORDER lists commands as DESIGN.md does: the daemon first, then the one-shot tools. */
const HELP_ORDER = ['run', 'demo', 'lab', 'config check', 'probe', 'query', 'rules check', 'rules test', 'drill', 'verdict', 'gate'];

function usage(): string {
  const lines = ['usage: sentinel <command> [options]', ''];
  const names = [...HELP_ORDER.filter((n) => n in COMMANDS), ...Object.keys(COMMANDS).filter((n) => !HELP_ORDER.includes(n))];
  // Each usage is "synopsis   description"; print the descriptions under each other.
  const rows = names.map((n) => {
    const [synopsis, ...rest] = (COMMANDS[n].usage || n).split(/ {2,}/);
    return { synopsis, description: rest.join(' ') };
  });
  for (const r of rows) lines.push(`  sentinel ${r.synopsis}${r.description ? `\n      ${r.description}` : ''}`);
  lines.push('', 'Exit codes: 0 success/allow, 1 check failed/block, 2 usage, configuration or evidence error.');
  return lines.join('\n') + '\n';
}

/** findCommand takes the longest command name ("rules test" before "rules") matching argv. */
function findCommand(argv: readonly string[]): { name: string; command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS[name];
    if (command && argv.length >= words) return { name, command, rest: argv.slice(words) };
  }
  return undefined;
}

/** main runs one sentinel invocation and returns its exit code. */
export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    io.stdout.write(usage());
    return argv.length === 0 ? ExitCodes.usage : ExitCodes.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr.write(`sentinel: unknown command '${argv.join(' ')}'; run 'sentinel help' for the list\n`);
    return ExitCodes.usage;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: found.rest, options: { ...found.command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`sentinel ${found.name}: ${(err as Error).message}; usage: ${found.command.usage}\n`);
    return ExitCodes.usage;
  }
  try {
    return await found.command.run({ positionals: parsed.positionals, options: parsed.values as Record<string, string | boolean | undefined> }, io);
  } catch (err) {
    if (isSentinelError(err)) {
      io.stderr.write(`sentinel ${found.name}: ${err.message}\n`);
      return ExitCodes.usage;
    }
    io.stderr.write(`sentinel ${found.name}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCodes.usage;
  }
}

const isEntryPoint = process.argv[1] !== undefined && /(?:^|[/\\])(?:cli\.(?:ts|js)|sentinel(?:\.js)?)$/.test(process.argv[1]);
if (isEntryPoint) {
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
  main(process.argv.slice(2), io).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`sentinel: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(ExitCodes.usage);
    },
  );
}
