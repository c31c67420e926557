/**
 * ProbesAndRules: the probes a configuration builds and the shipped rules, over one memory store
 * on a ManualClock, stepped minute by minute: what a daemon does between two scrapes, without
 * its HTTP server. Tests turn a fault on and step until an alert fires or resolves.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import pino from 'pino';
import type { RuleManager } from '../../src/alerts/index.js';
import type { Config } from '../../src/config/index.js';
import { buildProbes, ProbeScheduler } from '../../src/probes/index.js';
import type { ProbeRunReport } from '../../src/probes/index.js';
import { MemoryStore } from '../../src/store/index.js';
import type { ManualClock } from '../../src/time/index.js';
import { storeRuleManager } from '../helpers/store-rule-manager.js';

/** SHIPPED_RULES is the rule file the sentinel ships. */
export const SHIPPED_RULES = join(import.meta.dirname, '..', '..', 'config', 'rules', 'spacetime-sync.rules.yaml');

export type AlertState = 'inactive' | 'pending' | 'firing';

export interface ProbesAndRulesOptions {
  readonly rulesFile?: string;
  /**
   * settleMs is real time given after each manual minute, before the probes run, for a lab whose
   * ticker runs on real timers and credits the manual time that passed (default 0).
   */
  readonly settleMs?: number;
}

export class ProbesAndRules {
  readonly store = new MemoryStore();
  readonly scheduler: ProbeScheduler;
  readonly manager: RuleManager;
  private readonly settleMs: number;

  constructor(
    config: Config,
    private readonly clock: ManualClock,
    options: ProbesAndRulesOptions = {},
  ) {
    const logger = pino({ level: 'silent' });
    const registry = new Registry();
    const rulesFile = options.rulesFile ?? SHIPPED_RULES;
    this.settleMs = options.settleMs ?? 0;
    this.scheduler = new ProbeScheduler({ probes: buildProbes(config, { registry, clock, logger }), store: this.store, registry, clock, logger });
    this.manager = storeRuleManager({ rulesFile, store: this.store, clock, registry, logger });
  }

  start(): Promise<void> {
    return this.manager.start();
  }

  /** minute advances the clock a minute (the rules evaluate) and runs every probe once. */
  async minute(): Promise<ProbeRunReport[]> {
    await this.clock.advance(60_000);
    if (this.settleMs > 0) await new Promise((r) => setTimeout(r, this.settleMs));
    return this.scheduler.runOnce('all');
  }

  /** alertState is the state of the alert named `alertname` whose labels include `labels`. */
  alertState(alertname: string, labels: Record<string, string> = {}): AlertState {
    const alerts = this.manager.activeAlerts().filter((a) => a.labels.alertname === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
    if (alerts.some((a) => a.state === 'firing')) return 'firing';
    return alerts.length > 0 ? 'pending' : 'inactive';
  }

  /** active names every pending or firing alert with its probe and route labels. */
  active(): string[] {
    return this.manager.activeAlerts().map((a) => `${a.labels.alertname}${a.labels.probe ? `{probe=${a.labels.probe}}` : ''}${a.labels.route ? `{route=${a.labels.route}}` : ''}:${a.state}`);
  }

  /** stepUntil steps minute by minute until the alert is `want`: how many minutes it took, and the last minute's probe runs. */
  async stepUntil(alertname: string, want: AlertState, maxMinutes: number, labels: Record<string, string> = {}): Promise<{ minutes: number; reports: ProbeRunReport[] }> {
    for (let i = 1; i <= maxMinutes; i++) {
      const reports = await this.minute();
      if (this.alertState(alertname, labels) === want) return { minutes: i, reports };
    }
    throw new Error(`${alertname} did not become ${want} within ${maxMinutes} minutes; active: ${JSON.stringify(this.active())}`);
  }

  async stop(): Promise<void> {
    await this.manager.stop(Date.now() + 2000);
    await this.scheduler.stop(Date.now() + 2000);
  }
}
