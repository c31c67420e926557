/**
 * `sentinel verdict DIR`: verifies an evidence directory and re-derives its decision.
 * Exit 0 allow, 1 block, 2 missing, incomplete or tampered. An HMAC-signed manifest needs its key:
 * `--config` (drills.manifest_hmac_key) or SENTINEL_MANIFEST_HMAC_KEY.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
// From its own module, not the drills barrel, which loads the runner with probes, store and
// PromQL that a verdict never uses; the configuration is loaded only when --config is given.
// Both keep `sentinel verdict` a fast start.
import { protectionSentence, readVerdict } from '../drills/verdict.js';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** verdictCommand implements `sentinel verdict`. */
export const verdictCommand: Command = {
  options: { json: { type: 'boolean' }, config: { type: 'string' } },
  async run(args, io) {
    const [dirArg, ...extra] = args.positionals;
    if (dirArg === undefined || extra.length > 0) {
      io.stderr.write('sentinel verdict: give exactly one evidence directory, e.g. sentinel verdict output/chaos/spacetime/20261125T175500Z\n');
      return ExitCodes.usage;
    }
    const dir = resolve(io.cwd, dirArg);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      io.stderr.write(`sentinel verdict: ${dirArg} is not a directory; pass the evidence directory of a drill run\n`);
      return ExitCodes.usage;
    }
    // The manifest key comes from the configuration (drills.manifest_hmac_key) or the environment.
    let hmacKey = io.env.SENTINEL_MANIFEST_HMAC_KEY || undefined;
    if (typeof args.options.config === 'string') {
      const { checkConfig } = await import('../config/index.js');
      const checked = checkConfig(args.options.config, { env: io.env, cwd: io.cwd });
      if (!checked.ok) {
        for (const line of checked.issues) io.stderr.write(`${line}\n`);
        return ExitCodes.usage;
      }
      hmacKey = checked.config.drills.manifestHmacKey?.reveal() ?? hmacKey;
    }
    const verdict = await readVerdict(dir, { hmacKey });
    if (args.options.json) {
      io.stdout.write(
        JSON.stringify(
          verdict.kind === 'invalid'
            ? { decision: 'invalid', problems: verdict.problems }
            : { decision: verdict.report.decision, failures: verdict.report.failures, reasons: verdict.report.reasons, run: verdict.run, protection: verdict.protection, integrity: protectionSentence(verdict.protection) },
        ) + '\n',
      );
    } else if (verdict.kind === 'invalid') {
      io.stdout.write(`Evidence in ${dirArg} is invalid: it cannot support a decision.\n`);
      for (const p of verdict.problems) io.stdout.write(`  - ${p}\n`);
    } else {
      const { report, run, scenarios } = verdict;
      io.stdout.write(`Decision: ${report.decision}\n`);
      io.stdout.write(`Run ${run.run_id} (${run.status}) in ${run.environment}: ${scenarios.length} scenario(s), ${report.failures} failure(s)\n`);
      for (const s of scenarios.filter((x) => x.status !== 'passed' || !x.faults_removed)) {
        io.stdout.write(`  ${s.scenario}: ${s.status}${s.faults_removed ? '' : ', fault removal not proven'}\n`);
        for (const reason of s.reasons) io.stdout.write(`    - ${reason}\n`);
      }
      if (report.decision === 'block' && report.reasons.length > 0 && scenarios.every((s) => s.status === 'passed' && s.faults_removed)) {
        for (const r of report.reasons) io.stdout.write(`  - ${r}\n`);
      }
      const skipped = [...new Set(scenarios.flatMap((s) => s.skipped_checks ?? []))];
      if (skipped.length > 0) io.stdout.write(`Safety checks SKIPPED by the operator: ${skipped.join('; ')}\n`);
      io.stdout.write(`${protectionSentence(verdict.protection)}\n`);
    }
    if (verdict.kind === 'invalid') return ExitCodes.usage;
    return verdict.report.decision === 'allow' ? ExitCodes.ok : ExitCodes.failed;
  },
};
