/**
 * CommandApplier: `--apply-command CMD` runs CMD with `bash -c` once per cohort, with the
 * cohort's env plan (`OA_RUNTIME_CANARY_USER_PERCENT`, ...) in its environment, so a release
 * manager can let the rollout apply each cohort (a deploy command; in the lab,
 * `scripts/lab-apply-cohort.sh`). The operators' scripts never apply their plan. The command
 * gets a deadline; its output goes to `logs/apply-cohort-<N>.log`.
 */
import { spawn } from 'node:child_process';
import type { ApplyResult, CohortApplier } from './rollout-deps.js';

/** CommandApplier runs one shell command per cohort. */
export class CommandApplier implements CohortApplier {
  readonly description: string;

  constructor(
    private readonly command: string,
    private readonly options: { readonly timeoutMs: number; readonly env: Readonly<Record<string, string | undefined>>; readonly cwd: string },
  ) {
    this.description = `apply: ${command}`;
  }

  apply(_cohort: number, env: Readonly<Record<string, string>>, signal: AbortSignal): Promise<ApplyResult> {
    const started = performance.now();
    // A controller of its own, unlinked when the command ends, so a long rollout's signal does not
    // collect one listener per cohort.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new Error(`--apply-command did not finish within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', this.command], {
        cwd: this.options.cwd,
        env: { ...this.options.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: controller.signal,
      });
      let log = '';
      child.stdout.on('data', (c: Buffer) => (log += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (log += c.toString('utf8')));
      child.on('error', (err) => {
        log += `\n${err.message}\n`;
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const tail = code === 0 ? '' : `\n(exit ${code ?? sig ?? 'unknown'})\n`;
        resolve({ ok: code === 0, durationMs: performance.now() - started, log: log + tail });
      });
    });
  }
}
