/**
 * WriteCheck: whether the data directory takes writes, for `/readyz`. Every `intervalMs` it
 * writes a small new file there, syncs it and removes it: a read-only mount, lost permissions or
 * a full disk (a new file needs a new block) fail it, as they would fail the store's next commit.
 * The store keeps serving reads from memory when its disk fails, so only a check like this one
 * tells the sentinel cannot keep what it measures.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';

/** WriteCheckOptions configure a WriteCheck. */
export interface WriteCheckOptions {
  readonly dir: string;
  readonly clock: Clock;
  /** intervalMs is the period of the check (default 30 s). */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

/** WriteCheck is a daemon component; `isReady` is the result of the last check. */
export class WriteCheck {
  readonly name = 'store-writable';
  private readonly stopController = new AbortController();
  private readonly logger: Logger;
  private loop: Promise<void> | undefined;
  private problem: string | undefined = 'not checked yet';

  constructor(private readonly options: WriteCheckOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.check();
    this.loop = this.run();
  }

  isReady(): boolean {
    return this.problem === undefined;
  }

  /** lastProblem says why the last check failed (undefined when it passed). */
  lastProblem(): string | undefined {
    return this.problem;
  }

  async stop(_deadlineMs: number): Promise<void> {
    this.stopController.abort();
    await this.loop;
  }

  /** check writes, syncs and removes a probe file now. */
  check(): void {
    const file = join(this.options.dir, `.write-check-${process.pid}`);
    let fd: number | undefined;
    try {
      mkdirSync(this.options.dir, { recursive: true });
      fd = openSync(file, 'w', 0o600);
      writeSync(fd, 'sentinel write check\n');
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      rmSync(file, { force: true });
      if (this.problem !== undefined && this.problem !== 'not checked yet') this.logger.info({ dir: this.options.dir }, 'the data directory takes writes again');
      this.problem = undefined;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const problem = `cannot write to ${this.options.dir} (${code})`;
      if (problem !== this.problem) this.logger.error({ dir: this.options.dir, code }, 'the data directory does not take writes; samples are not kept; check free space and permissions of storage.data_dir');
      this.problem = problem;
    }
  }

  private async run(): Promise<void> {
    const intervalMs = this.options.intervalMs ?? 30_000;
    for (;;) {
      try {
        await this.options.clock.sleep(intervalMs, this.stopController.signal);
      } catch {
        return;
      }
      this.check();
    }
  }
}
