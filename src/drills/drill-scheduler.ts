/**
 * DrillScheduler: the drills part of `sentinel run`. It runs drills on their cron schedules and on
 * request (`POST /api/v1/drills/:name/run`), one at a time; a scheduled drill is skipped and logged
 * when the environment guard or a firing critical alert says no, or when the alerts cannot be
 * read (fail closed: `checkCriticalAlerts`, the same check the runner and the gate make). At start it removes faults a
 * crashed run left behind (journal + owned toxic names), and every `reconcileIntervalMs` it deletes
 * owned toxics past their expiry. Evidence beyond the retention policy is pruned at start and after
 * each run. Stopping aborts a running drill, whose runner removes its faults. The runner's drill
 * lease is claimed before a drill is launched, so a sentinel of an HA pair refuses at once, naming
 * the other one, while that one runs a drill.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { cronTrigger } from '../time/index.js';
import type { Clock, CronTrigger } from '../time/index.js';
import { SentinelError } from '../errors.js';
import { checkCriticalAlerts } from './critical-alerts.js';
import type { FiringAlertsSource } from './critical-alerts.js';
import type { DrillSpec, Environment } from './drill-file.js';
import { EvidenceIndex } from './evidence-index.js';
import { DEFAULT_EVIDENCE_RETENTION, pruneEvidence } from './evidence-retention.js';
import type { EvidenceRetention } from './evidence-retention.js';
import type { DrillClaim, DrillRunner, DrillRunResult } from './drill-runner.js';
import type { FaultDriver } from './fault-driver.js';
import { reconcileFaults, reconcileUnderLease } from './reconcile.js';

/** DrillSchedulerOptions wire the scheduler. */
export interface DrillSchedulerOptions {
  readonly runner: DrillRunner;
  readonly drills: readonly DrillSpec[];
  readonly schedules: ReadonlyArray<{ readonly drill: string; readonly cron: string }>;
  readonly driver: FaultDriver;
  readonly evidenceRoot: string;
  readonly environment: Environment;
  readonly allowProd: boolean;
  /** alerts is where firing critical alerts are read (the ALERTS series in the daemon's store). */
  readonly alerts: FiringAlertsSource;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly trigger?: CronTrigger;
  /** reconcileIntervalMs is the period of the expired-toxic sweep (default 30 s). */
  readonly reconcileIntervalMs?: number;
  /** evidence indexes `evidenceRoot` (default: a new index; pass the one the drills API reads). */
  readonly evidence?: EvidenceIndex;
  /** retention says which evidence to keep (default DEFAULT_EVIDENCE_RETENTION). */
  readonly retention?: EvidenceRetention;
}

/** DrillStatus is what `GET /api/v1/drills` shows of the scheduler's own state. */
export interface DrillStatus {
  readonly running?: { readonly drill: string; readonly sinceMs: number };
  readonly lastResults: Readonly<Record<string, { readonly decision: string; readonly dir: string; readonly status: string }>>;
  readonly skipped: Readonly<Record<string, { readonly atMs: number; readonly reason: string }>>;
}

/** DrillScheduler implements the daemon's Component shape. */
export class DrillScheduler {
  readonly name = 'drills';
  private readonly logger: Logger;
  private readonly crons: Array<{ stop(): void }> = [];
  private readonly stopController = new AbortController();
  private running: { drill: string; sinceMs: number; done: Promise<DrillRunResult | undefined> } | undefined;
  /** starting is the drill whose preflight checks are in progress (it holds the one slot). */
  private starting: string | undefined;
  private readonly lastResults: Record<string, { decision: string; dir: string; status: string }> = {};
  private readonly skipped: Record<string, { atMs: number; reason: string }> = {};
  private sweep: Promise<void> | undefined;
  private isStarted = false;
  private readonly evidence: EvidenceIndex;

  constructor(private readonly options: DrillSchedulerOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.evidence = options.evidence ?? new EvidenceIndex(options.evidenceRoot);
    const known = new Set(options.drills.map((d) => d.name));
    for (const s of options.schedules) {
      if (!known.has(s.drill)) throw new SentinelError('SENTINEL_CONFIG_INVALID', `drills.schedules: drill '${s.drill}' is not defined in any drill file (known: ${[...known].join(', ') || 'none'})`);
    }
  }

  async start(): Promise<void> {
    await this.reconcileAtStart();
    // After the reconciliation, which finishes the journals of crashed runs.
    await this.pruneEvidence();
    const trigger = this.options.trigger ?? cronTrigger;
    for (const s of this.options.schedules) {
      this.crons.push(
        trigger(s.cron, () => void this.runScheduled(s.drill), {
          onMissed: (firings) => this.logger.warn({ drill: s.drill, firings }, 'scheduled drill firings missed: the event loop was busy or the host was suspended at the scheduled time'),
          onError: (err) => this.logger.error({ drill: s.drill, err }, 'scheduled drill tick failed'),
        }),
      );
    }
    void this.sweepLoop();
    this.isStarted = true;
  }

  /**
   * reconcileAtStart removes faults a crashed run left behind. Every owned toxic is an orphan only
   * while nobody holds the drill lease: when another sentinel of an HA pair is running a drill,
   * its toxics are live, so only expired ones are removed (the next drill's preflight, holding the
   * lease, removes the rest).
   */
  private async reconcileAtStart(): Promise<void> {
    try {
      const report = await reconcileUnderLease(this.options.runner.lease, { driver: this.options.driver, evidenceRoot: this.options.evidenceRoot, nowMs: this.options.clock.nowMs() }, 'start-up cleanup');
      if (report.leaseRefusal) this.logger.warn({ reason: report.leaseRefusal }, 'drill lease not free at start; removed only expired sentinel toxics');
      if (report.removed.length > 0) this.logger.warn({ removed: report.removed }, 'removed faults left behind by an earlier drill run');
      if (report.failed.length > 0) this.logger.error({ failed: report.failed }, 'could not remove faults left behind by an earlier drill run');
    } catch (err) {
      // The fault proxy may be down at start; the periodic sweep keeps trying.
      this.logger.warn({ err }, 'fault proxy unreachable at start; leftover faults will be swept later');
    }
  }

  isReady(): boolean {
    return this.isStarted;
  }

  async stop(deadlineMs: number): Promise<void> {
    for (const c of this.crons.splice(0)) c.stop();
    this.stopController.abort(new Error('sentinel is shutting down'));
    const pending = [this.running?.done, this.sweep].filter((p): p is Promise<never> => p !== undefined);
    const remaining = Math.max(0, deadlineMs - this.options.clock.nowMs());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(pending), new Promise((r) => (timer = setTimeout(r, remaining)))]);
    clearTimeout(timer);
  }

  /** activeDrill names the drill running or passing its checks now, if any. */
  activeDrill(): string | undefined {
    return this.running?.drill ?? this.starting;
  }

  /** whenIdle resolves once no drill is running or starting (a configuration reload waits for it). */
  async whenIdle(): Promise<void> {
    while (this.activeDrill() !== undefined) {
      if (this.running) await this.running.done.catch(() => undefined);
      else await new Promise((r) => setTimeout(r, 50));
    }
  }

  status(): DrillStatus {
    return {
      ...(this.running ? { running: { drill: this.running.drill, sinceMs: this.running.sinceMs } } : {}),
      lastResults: { ...this.lastResults },
      skipped: { ...this.skipped },
    };
  }

  /**
   * runNow starts a drill unless one is running and resolves when it has finished. It rejects
   * with a SentinelError for an unknown drill, a busy scheduler, a refused environment, firing
   * critical alerts or alerts that cannot be read.
   */
  async runNow(name: string): Promise<DrillRunResult | undefined> {
    return (await this.launch(name)).done;
  }

  /**
   * launch begins a drill once its checks pass and resolves with its completion promise (wrapped,
   * so awaiting `start` does not wait for the drill); it rejects like `runNow` when refused.
   */
  async launch(name: string): Promise<{ readonly done: Promise<DrillRunResult | undefined> }> {
    const drill = this.options.drills.find((d) => d.name === name);
    if (!drill) throw new SentinelError('SENTINEL_USAGE', `unknown drill '${name}'; known: ${this.options.drills.map((d) => d.name).join(', ')}`);
    const busy = this.running?.drill ?? this.starting;
    if (busy !== undefined) throw new SentinelError('SENTINEL_USAGE', `drill '${busy}' is already running; one drill at a time`);
    this.starting = name;
    let refusal: string | undefined;
    let claim: DrillClaim | undefined;
    try {
      refusal = await this.refusal(drill);
      // The lease last: a refusal from it names the holder (another sentinel of an HA pair).
      if (!refusal) claim = await this.options.runner.claim(drill);
    } finally {
      this.starting = undefined;
    }
    if (refusal || !claim) throw new SentinelError('SENTINEL_USAGE', refusal ?? `drill '${name}' could not claim the drill lease`);
    const done = this.options.runner.run(drill, this.stopController.signal, claim).then(
      (result) => {
        this.lastResults[name] = { decision: result.decision.decision, dir: result.dir, status: result.scenario.status };
        this.logger.info({ drill: name, decision: result.decision.decision, evidence: result.dir }, 'drill finished');
        return result;
      },
      (err: unknown) => {
        this.logger.error({ err, drill: name }, 'drill could not run');
        return undefined;
      },
    ).then(async (result) => {
      await this.pruneEvidence();
      return result;
    });
    const sinceMs = this.options.clock.nowMs();
    this.running = { drill: name, sinceMs, done };
    void done.finally(() => {
      if (this.running?.done === done) this.running = undefined;
    });
    return { done };
  }

  private async refusal(drill: DrillSpec): Promise<string | undefined> {
    const { environment } = this.options;
    if (!drill.environments.includes(environment)) return `drill '${drill.name}' is not allowed in environment '${environment}'`;
    if (environment === 'prod' && !this.options.allowProd) return `drill '${drill.name}' refuses to run in prod without drills.allow_prod: true`;
    const check = await checkCriticalAlerts(this.options.alerts, this.options.clock.nowMs(), this.stopController.signal);
    if (check.status === 'firing') return `critical alerts are firing (${check.alerts.join(', ')}); drills wait until they resolve`;
    if (check.status === 'error') return `${check.reason}; drills wait until the alerts can be checked`;
    return undefined;
  }

  /** pruneEvidence applies the retention policy; a failure is logged, and retried after the next run. */
  private async pruneEvidence(): Promise<void> {
    try {
      const report = await pruneEvidence(this.evidence, this.options.retention ?? DEFAULT_EVIDENCE_RETENTION, this.options.clock.nowMs());
      if (report.removed.length > 0) this.logger.info({ removed: report.removed.length }, 'pruned drill evidence beyond the retention policy');
      if (report.failed.length > 0) this.logger.warn({ failed: report.failed }, 'could not prune drill evidence');
    } catch (err) {
      this.logger.warn({ err }, 'evidence pruning failed; will retry after the next run');
    }
  }

  private async runScheduled(name: string): Promise<void> {
    try {
      await this.runNow(name);
    } catch (err) {
      const reason = (err as Error).message;
      this.skipped[name] = { atMs: this.options.clock.nowMs(), reason };
      this.logger.warn({ drill: name, reason }, 'scheduled drill skipped');
    }
  }

  private async sweepLoop(): Promise<void> {
    const interval = this.options.reconcileIntervalMs ?? 30_000;
    const signal = this.stopController.signal;
    this.sweep = (async () => {
      while (!signal.aborted) {
        try {
          await this.options.clock.sleep(interval, signal);
        } catch {
          return;
        }
        try {
          const report = await reconcileFaults({ driver: this.options.driver, evidenceRoot: this.options.evidenceRoot, nowMs: this.options.clock.nowMs(), mode: 'expired' });
          if (report.removed.length > 0) this.logger.warn({ removed: report.removed }, 'removed expired drill toxics');
        } catch (err) {
          this.logger.warn({ err }, 'expired-toxic sweep failed; will retry');
        }
      }
    })();
    await this.sweep;
  }
}
