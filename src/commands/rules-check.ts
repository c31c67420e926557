/**
 * `sentinel rules check FILE...`: validates rule files like `promtool check rules` (prints
 * `Checking FILE` then `  SUCCESS: N rules found` or `  FAILED:` and one FILE:LINE:COL line per
 * problem); exit 0 when every file is valid, 1 otherwise.
 */
import { resolve } from 'node:path';
import { checkPromqlExpr, parseRuleFile, ruleCount } from '../alerts/index.js';
import type { RuleFileDefinition } from '../alerts/index.js';
import { readFile } from 'node:fs/promises';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** rulesCheckCommand implements `sentinel rules check`. */
export const rulesCheckCommand: Command = {
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
      let lint: string | undefined;
      try {
        const text = await readFile(resolve(io.cwd, file), 'utf8');
        const parsed = parseRuleFile(text, file, { checkExpr: checkPromqlExpr });
        errors = parsed.errors;
        count = ruleCount(parsed.file);
        if (errors.length === 0) lint = duplicateRules(parsed.file);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file; check the path' : (err as Error).message;
        errors = [`${file}: cannot read rule file: ${reason}`];
      }
      if (errors.length > 0) {
        io.stderr.write('  FAILED:\n');
        for (const e of errors) io.stderr.write(`${e}\n`);
        failed = true;
      } else if (lint !== undefined) {
        // promtool's default lint: reported as FAILED but, not being fatal, the exit code stays 0.
        io.stderr.write(`  FAILED:\n${lint}\n`);
      } else {
        io.stdout.write(`  SUCCESS: ${count} rules found\n`);
      }
      io.stdout.write('\n');
    }
    return failed ? ExitCodes.failed : ExitCodes.ok;
  },
};

/**
 * duplicateRules is promtool's `duplicate-rules` lint: rules with the same name (alert or record)
 * and the same labels, across all groups of the file, each reported once.
 */
function duplicateRules(file: RuleFileDefinition): string | undefined {
  const rules = file.groups.flatMap((g) => g.rules).map((r) => ({ metric: r.name, labels: Object.entries(r.labels).sort((a, b) => (a[0] < b[0] ? -1 : 1)) }));
  const key = (r: (typeof rules)[number]): string => JSON.stringify([r.metric, r.labels]);
  rules.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const dups: typeof rules = [];
  for (let i = 1; i < rules.length; i++) {
    if (key(rules[i - 1]) === key(rules[i]) && (dups.length === 0 || key(dups[dups.length - 1]) !== key(rules[i]))) dups.push(rules[i]);
  }
  if (dups.length === 0) return undefined;
  let msg = `lint error ${dups.length} duplicate rule(s) found.\n`;
  for (const d of dups) {
    msg += `Metric: ${d.metric}\nLabel(s):\n`;
    for (const [k, v] of d.labels) msg += `\t${k}: ${v}\n`;
  }
  return `${msg}Might cause inconsistency while recording expressions`;
}
