/**
 * COMMANDS is the table of `sentinel` subcommands, keyed by their words ("rules test").
 * Each command lives in its own file under src/commands/.
 */
import type { Command } from './types.js';
import { labCommand } from './lab.js';
import { verdictCommand } from './verdict.js';
import { drillCommand } from './drill.js';
import { gateCommand } from './gate.js';
import { demoCommand } from './demo.js';
import { configCheckCommand } from './config-check.js';
import { runCommand } from './run.js';
import { probeCommand } from './probe.js';
import { queryCommand } from './query.js';
import { rulesCheckCommand } from './rules-check.js';
import { rulesTestCommand } from './rules-test.js';

export const COMMANDS: Readonly<Record<string, Command>> = {
  lab: labCommand,
  drill: drillCommand,
  verdict: verdictCommand,
  gate: gateCommand,
  demo: demoCommand,
  'config check': configCheckCommand,
  run: runCommand,
  probe: probeCommand,
  query: queryCommand,
  'rules check': rulesCheckCommand,
  'rules test': rulesTestCommand,
};
