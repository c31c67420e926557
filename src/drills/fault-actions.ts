/**
 * FaultActions: every side effect a drill has on the fault proxy, journaled (an intent fsynced
 * before the call, an outcome after) and traced (one span per action). Faults are removed in
 * reverse order of addition, as rollbacks are played, with bounded retries; removal counts as
 * proven only when the fault proxy itself shows each fault gone.
 */
import type { Span, Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { withSpan } from '../telemetry/index.js';
import type { Clock } from '../time/index.js';
import type { FaultSpec } from './drill-file.js';
import type { FaultDriver, ProxyState } from './fault-driver.js';
import type { Journal } from './journal.js';
import type { FaultRecord } from './outcomes.js';

/** ActiveFault is one fault a run added (or tried to add). */
export interface ActiveFault {
  readonly spec: FaultSpec;
  readonly stage: string;
  readonly toxicName?: string;
  readonly addedAtMs: number;
  removedAtMs?: number;
  removed: boolean;
}

/** FaultActionsOptions wire the actions of one run. */
export interface FaultActionsOptions {
  readonly driver: FaultDriver;
  readonly journal: Journal;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tracer: Tracer;
  /** removalAttempts bounds retries of a failed removal (default 3). */
  readonly removalAttempts?: number;
}

/** FaultActions adds and removes one run's faults; `all` lists every fault it ever tried to add. */
export class FaultActions {
  readonly all: ActiveFault[] = [];

  constructor(private readonly options: FaultActionsOptions) {}

  /**
   * add records the fault (so cleanup tries even if the call's answer is lost), journals it and
   * applies it, in a span under `parent` (the stage's).
   */
  async add(spec: FaultSpec, stage: string, toxicName: string | undefined, parent?: Span): Promise<ActiveFault> {
    const { driver, clock, journal } = this.options;
    const fault: ActiveFault = { spec, stage, ...(toxicName === undefined ? {} : { toxicName }), addedAtMs: clock.nowMs(), removed: false };
    this.all.push(fault);
    const toxic = spec.kind === 'toxic' ? { name: toxicName ?? '', type: spec.type, stream: spec.stream, toxicity: spec.toxicity, attributes: spec.attributes } : undefined;
    await withSpan(this.options.tracer, toxic ? 'drill.fault.add_toxic' : 'drill.fault.disable_proxy', faultAttributes(fault), async () => {
      const seq = toxic ? journal.intent(clock.nowMs(), 'add_toxic', spec.proxy, stage, toxicName, toxic) : journal.intent(clock.nowMs(), 'disable_proxy', spec.proxy, stage);
      try {
        if (toxic) await driver.addToxic(spec.proxy, toxic);
        else await driver.setProxyEnabled(spec.proxy, false);
        journal.outcome(clock.nowMs(), seq, true);
      } catch (err) {
        journal.outcome(clock.nowMs(), seq, false, (err as Error).message);
        throw err;
      }
    }, parent);
    return fault;
  }

  /** removeAll removes every fault not yet removed (of `stage`, or of the run), newest first, each in a span under `parent`. */
  async removeAll(stage?: string, parent?: Span): Promise<void> {
    const pending = this.all.filter((f) => !f.removed && (stage === undefined || f.stage === stage));
    for (const fault of pending.reverse()) await this.remove(fault, stage ?? 'cleanup', parent);
  }

  /**
   * missingOnProxy lists the faults of `stage` that the fault proxy no longer shows in effect (a
   * toxic gone from its proxy, a disabled proxy enabled again, the proxy itself gone): such a
   * fault did not hold for the whole stage, whatever was measured early in it. A proxy that
   * cannot be read leaves every fault in doubt, and doubt counts as missing.
   */
  async missingOnProxy(stage: string): Promise<string[]> {
    const faults = this.all.filter((f) => f.stage === stage && !f.removed);
    if (faults.length === 0) return [];
    let proxies: Map<string, ProxyState>;
    try {
      proxies = new Map((await this.options.driver.listProxies()).map((p) => [p.name, p]));
    } catch (err) {
      return faults.map((f) => `${describeFault(f)} (the fault proxy could not be read: ${(err as Error).message})`);
    }
    return faults
      .filter((f) => {
        const p = proxies.get(f.spec.proxy);
        if (!p) return true;
        return f.spec.kind === 'down' ? p.enabled : !p.toxics.some((t) => t.name === f.toxicName);
      })
      .map(describeFault);
  }

  /** verifyRemoved asks the fault proxy whether every fault of the run is gone; any doubt is false. */
  async verifyRemoved(): Promise<boolean> {
    if (this.all.length === 0) return true;
    try {
      const proxies = new Map((await this.options.driver.listProxies()).map((p) => [p.name, p]));
      return this.all.every((f) => {
        const p = proxies.get(f.spec.proxy);
        // A proxy that vanished proves nothing about its toxics.
        if (!p) return false;
        if (f.spec.kind === 'down') return p.enabled;
        return !p.toxics.some((t) => t.name === f.toxicName);
      });
    } catch (err) {
      this.options.logger.error({ err }, 'could not verify fault removal');
      return false;
    }
  }

  private async remove(fault: ActiveFault, phase: string, parent: Span | undefined): Promise<void> {
    const { driver, clock, journal, logger } = this.options;
    const attempts = this.options.removalAttempts ?? 3;
    const spec = fault.spec;
    await withSpan(this.options.tracer, spec.kind === 'toxic' ? 'drill.fault.remove_toxic' : 'drill.fault.enable_proxy', { ...faultAttributes(fault), 'sentinel.drill.phase': phase }, async (span) => {
      for (let attempt = 1; attempt <= attempts && !fault.removed; attempt++) {
        span.setAttribute('sentinel.fault.attempts', attempt);
        const seq = journal.intent(clock.nowMs(), spec.kind === 'toxic' ? 'remove_toxic' : 'enable_proxy', spec.proxy, phase, fault.toxicName);
        try {
          if (spec.kind === 'toxic') await driver.removeToxic(spec.proxy, fault.toxicName ?? '');
          else await driver.setProxyEnabled(spec.proxy, true);
          journal.outcome(clock.nowMs(), seq, true);
          fault.removed = true;
          fault.removedAtMs = clock.nowMs();
        } catch (err) {
          journal.outcome(clock.nowMs(), seq, false, (err as Error).message);
          logger.error({ err, proxy: spec.proxy, toxic: fault.toxicName, attempt }, 'fault removal failed');
          // Real timers on purpose: a retry must not wait on a test's manual clock.
          if (attempt < attempts) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        }
      }
      span.setAttribute('sentinel.fault.removed', fault.removed);
      if (!fault.removed) throw new Error(`fault ${describeFault(fault)} could not be removed after ${attempts} attempts`);
    }, parent).catch(() => undefined);
  }
}

function faultAttributes(f: ActiveFault): Record<string, string | number> {
  return {
    'sentinel.fault.proxy': f.spec.proxy,
    'sentinel.fault.type': f.spec.kind === 'toxic' ? f.spec.type : 'down',
    'sentinel.drill.stage': f.stage,
    ...(f.spec.kind === 'toxic' ? { 'sentinel.fault.stream': f.spec.stream, 'sentinel.fault.toxicity': f.spec.toxicity, 'sentinel.fault.toxic': f.toxicName ?? '' } : {}),
  };
}

/** describeFault names a fault for a reason line. */
export function describeFault(f: ActiveFault): string {
  return f.spec.kind === 'toxic' ? `${f.spec.proxy}/${f.toxicName ?? f.spec.type}` : `${f.spec.proxy} (disabled)`;
}

/** toFaultRecord is a fault as results.jsonl records it. */
export function toFaultRecord(f: ActiveFault): FaultRecord {
  const spec = f.spec;
  return {
    stage: f.stage,
    proxy: spec.proxy,
    ...(f.toxicName ? { toxic: f.toxicName } : {}),
    type: spec.kind === 'toxic' ? spec.type : 'down',
    ...(spec.kind === 'toxic' ? { stream: spec.stream, toxicity: spec.toxicity, attributes: spec.attributes } : {}),
    addedAtMs: f.addedAtMs,
    ...(f.removedAtMs === undefined ? {} : { removedAtMs: f.removedAtMs }),
    removed: f.removed,
  };
}
