import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { COMMANDS } from '../../src/commands/index.js';
import { sentinelVersion } from '../../src/version.js';
import { captureIO } from '../support/capture-io.js';

describe('sentinel (the dispatcher)', () => {
  it('lists every command with its synopsis and description under --help', async () => {
    const io = captureIO();
    expect(await main(['--help'], io)).toBe(0);
    const help = io.out();
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const [synopsis, description] = entry.usage.split(/ {2,}/);
      expect(synopsis.startsWith(name), `${name}'s usage starts with its words`).toBe(true);
      expect(description, `${name} has a description`).toBeTruthy();
      expect(help).toContain(`  sentinel ${synopsis}\n      ${description}\n`);
    }
    // No arguments: the same help, as a usage error.
    const bare = captureIO();
    expect(await main([], bare)).toBe(2);
    expect(bare.out()).toBe(help);
  });

  it('prints the package version', async () => {
    const io = captureIO();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.out()).toBe(`${sentinelVersion()}\n`);
    expect(sentinelVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('loads each command from its module, with the options it parses', async () => {
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const command = await entry.load();
      expect(typeof command.run, name).toBe('function');
      // Every option the synopsis shows is one the command accepts.
      for (const option of entry.usage.split(/ {2,}/)[0].matchAll(/--([a-z0-9-]+)/g)) expect(Object.keys(command.options), `${name} --${option[1]}`).toContain(option[1]);
    }
  });

  it('answers an unknown command or option with one line and exit 2', async () => {
    const unknown = captureIO();
    expect(await main(['rules', 'frobnicate'], unknown)).toBe(2);
    expect(unknown.err()).toBe("sentinel: unknown command 'rules frobnicate'; run 'sentinel help' for the list\n");
    const option = captureIO();
    expect(await main(['verdict', '--nope', 'x'], option)).toBe(2);
    expect(option.err()).toMatch(/^sentinel verdict: Unknown option '--nope'.*; usage: sentinel verdict DIR \[--config FILE\] \[--json\]\n$/);
  });
});
