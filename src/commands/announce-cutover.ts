/**
 * `sentinel announce-cutover [--config FILE] [--control-base-url URL] [--auth-token TOKEN]
 * [--runtime-base-url URL] [--output-dir DIR] [--json]`: the operators' cutover-state
 * announcement (`announce-cutover-state.sh`), with control status read with the session bearer
 * and runtime metrics with no credentials. Writes result.json, SUMMARY.md, control-status.json
 * and runtime-spacetime-metrics.json under `<rollout.output_dir>/cutover-state-<UTC>/`.
 * Exit 0 allow, 1 block, 2 usage or configuration error. The script's `--skip-remote` (an
 * announcement nobody checked) is refused.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { evidenceDirName } from '../drills/index.js';
import { isSentinelError, UsageError } from '../errors.js';
import { announceCutover, ServiceSnapshots } from '../rollout/index.js';
import { checkedConfigOf, configFileOf } from './config-file.js';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

function url(what: string, value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return value.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  throw new UsageError(`${what} ${JSON.stringify(value)} is not an http(s) URL`);
}

/** announceCutoverCommand implements `sentinel announce-cutover`. */
export const announceCutoverCommand: Command = {
  options: {
    config: { type: 'string' },
    'output-dir': { type: 'string' },
    'control-base-url': { type: 'string' },
    'auth-token': { type: 'string' },
    'runtime-base-url': { type: 'string' },
    'skip-remote': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    try {
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
      if (args.options['skip-remote'] === true) throw new UsageError('--skip-remote is not supported: it would announce a cutover state nobody checked; run without it');
      const file = configFileOf(args, io);
      const config = checkedConfigOf(file, io);
      if (config === undefined) return ExitCodes.usage;
      const flag = (name: string, env: string): string | undefined => {
        const v = args.options[name];
        return typeof v === 'string' && v !== '' ? v : io.env[env] || undefined;
      };
      const controlBase = url('--control-base-url', flag('control-base-url', 'OA_CONTROL_BASE_URL') ?? config.target.control.baseUrl);
      const runtimeFlag = flag('runtime-base-url', 'OA_RUNTIME_BASE_URL');
      const sessionToken = flag('auth-token', 'OA_CONTROL_AUTH_TOKEN') ?? config.target.control.sessionToken.reveal();
      const runtimeMetricsUrl = runtimeFlag ? `${url('--runtime-base-url', runtimeFlag)}/internal/v1/spacetime/sync/metrics` : `${config.target.runtime.baseUrl}${config.target.runtime.metricsPath}`;
      const controlStatusUrl = `${controlBase}/api/v1/control/status`;
      const nowMs = Date.now();
      const timestamp = evidenceDirName(nowMs);
      const outFlag = args.options['output-dir'];
      const outputDir = typeof outFlag === 'string' ? resolve(io.cwd, outFlag) : join(config.rollout.outputDir, `cutover-state-${timestamp}`);
      mkdirSync(outputDir, { recursive: true });
      const snapshots = new ServiceSnapshots({
        runtimeMetricsUrl,
        // The real route takes no credentials; a token configured for the configured target is sent there only.
        ...(runtimeFlag === undefined && config.target.runtime.token ? { runtimeToken: config.target.runtime.token.reveal() } : {}),
        controlStatusUrl,
        sessionToken,
        timeoutMs: Math.max(config.target.control.requestTimeoutMs, config.target.runtime.requestTimeoutMs),
      });
      const result = await announceCutover({ outputDir, timestamp, snapshots, endpoints: { controlStatus: controlStatusUrl, runtimeMetrics: runtimeMetricsUrl } }, io.signal);
      if (args.options.json === true) {
        io.stdout.write(JSON.stringify({ ...result, outputDir }) + '\n');
      } else {
        io.stdout.write(`Cutover state artifacts:\n  ${join(outputDir, 'result.json')}\n  ${join(outputDir, 'SUMMARY.md')}\n`);
        for (const r of result.reasons) io.stdout.write(`  - ${r}\n`);
        io.stdout.write(`Decision: ${result.decision}\n`);
      }
      return result.decision === 'allow' ? ExitCodes.ok : ExitCodes.failed;
    } catch (err) {
      if (isSentinelError(err)) {
        io.stderr.write(`sentinel announce-cutover: ${err.message}\n`);
        return ExitCodes.usage;
      }
      throw err;
    }
  },
};
