/**
 * RolloutService: the daemon's rollouts, started through its admin API, one at a time. It keeps
 * what a status page needs (step, the live soak or wait line, the decision) and nothing a
 * restart would need: that is the journal's job. Stopping the daemon interrupts a running
 * rollout (never allow); `POST /api/v1/rollouts` with `resume` continues it later.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { UsageError } from '../errors.js';
import type { Clock } from '../time/index.js';
import { recordConfirmation } from './confirmations-file.js';
import type { RolloutEvents, SoakTick, WaitTick } from './rollout-deps.js';
import { parseRolloutOptions } from './rollout-options.js';
import type { RolloutFlags, RolloutKind, RolloutOptions } from './rollout-options.js';
import type { RolloutRecord } from './rollout-records.js';
import type { RolloutResult, RolloutRunner } from './rollout-runner.js';

/** RolloutStatus is what `GET /api/v1/rollouts/current` shows. */
export interface RolloutStatus {
  readonly state: 'idle' | 'running' | 'finished';
  readonly kind?: RolloutKind;
  readonly outputDir?: string;
  readonly startedAt?: string;
  readonly step?: string;
  readonly soak?: SoakTick;
  readonly waiting?: WaitTick;
  readonly lastRecord?: RolloutRecord;
  readonly decision?: 'allow' | 'block';
  readonly interrupted?: boolean;
  readonly reasons?: readonly string[];
  readonly error?: string;
}

/** RolloutServiceOptions wire the service. */
export interface RolloutServiceOptions {
  /** create builds the runner of one rollout; `events` must be passed on to it. */
  readonly create: (options: RolloutOptions, outputDir: string, events: RolloutEvents) => RolloutRunner;
  readonly defaultOutputDir: (kind: RolloutKind) => string;
  /** baseDir resolves relative `output-dir` and `resume` paths (the config file's directory). */
  readonly baseDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** RolloutService runs at most one rollout. */
export class RolloutService {
  readonly name = 'rollouts';
  private status_: RolloutStatus = { state: 'idle' };
  private controller: AbortController | undefined;
  private running: Promise<RolloutResult | undefined> | undefined;
  private stopped = false;

  constructor(private readonly o: RolloutServiceOptions) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  isReady(): boolean {
    return !this.stopped;
  }

  /** stop interrupts a running rollout and waits for it to write its artifacts, until `deadlineMs`. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopped = true;
    this.controller?.abort(new Error('the daemon is stopping'));
    if (this.running) {
      const wait = new AbortController();
      await Promise.race([this.running, this.o.clock.sleep(Math.max(0, deadlineMs - this.o.clock.nowMs()), wait.signal).catch(() => undefined)]);
      wait.abort();
    }
  }

  status(): RolloutStatus {
    return this.status_;
  }

  /**
   * begin validates the flags (a UsageError says which, as the script would) and starts the
   * rollout in the background; it refuses while another one runs.
   */
  begin(kind: RolloutKind, flags: RolloutFlags, resumeDir?: string): { readonly outputDir: string } {
    if (this.stopped) throw new UsageError('the daemon is stopping; no new rollout');
    if (this.running) throw new UsageError(`a ${this.status_.kind ?? ''} rollout is already running (${this.status_.outputDir ?? '?'}); wait for it or abort it`);
    const options = parseRolloutOptions(kind, flags, this.o.env);
    const outputDir = resumeDir ? resolve(this.o.baseDir, resumeDir) : options.outputDir ? resolve(this.o.baseDir, options.outputDir) : this.o.defaultOutputDir(kind);
    const events: RolloutEvents = {
      stepStarted: (step) => this.update({ step, soak: undefined, waiting: undefined }),
      recorded: (record) => this.update({ lastRecord: record }),
      soakTick: (soak) => this.update({ soak, waiting: undefined }),
      waiting: (waiting) => this.update({ waiting }),
    };
    const runner = this.o.create(options, outputDir, events);
    const controller = new AbortController();
    this.controller = controller;
    this.status_ = { state: 'running', kind, outputDir, startedAt: new Date(this.o.clock.nowMs()).toISOString() };
    this.running = runner.run({ options, outputDir, resume: resumeDir !== undefined }, controller.signal).then(
      (result) => {
        this.update({ state: 'finished', decision: result.decision.decision, interrupted: result.interrupted, reasons: result.decision.reasons, soak: undefined, waiting: undefined });
        this.o.logger.info({ kind, outputDir, decision: result.decision.decision, interrupted: result.interrupted }, 'rollout finished');
        return result;
      },
      (err: unknown) => {
        this.update({ state: 'finished', decision: 'block', error: (err as Error).message, reasons: [(err as Error).message] });
        this.o.logger.error({ err, kind, outputDir }, 'rollout could not run');
        return undefined;
      },
    );
    void this.running.finally(() => {
      this.running = undefined;
      this.controller = undefined;
    });
    this.o.logger.info({ kind, outputDir, resume: resumeDir !== undefined }, 'rollout started');
    return { outputDir };
  }

  /** confirm records the operator's word that `cohort` is in effect for the running rollout. */
  confirm(cohort: number, by: string | undefined): string {
    const dir = this.status_.outputDir;
    if (!this.running || !dir) throw new UsageError('no rollout is running');
    recordConfirmation(dir, cohort, this.o.clock.nowMs(), by);
    return dir;
  }

  /** abort interrupts the running rollout (it ends block, resumable). */
  abort(reason: string): void {
    if (!this.controller) throw new UsageError('no rollout is running');
    this.controller.abort(new Error(reason));
  }

  /** whenIdle resolves when no rollout runs (tests). */
  async whenIdle(): Promise<RolloutResult | undefined> {
    return this.running;
  }

  private update(patch: Partial<RolloutStatus>): void {
    this.status_ = { ...this.status_, ...patch };
  }
}
