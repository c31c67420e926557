/**
 * reconcileFaults removes faults a drill left behind: at start-up (a crash or kill -9 mid-stage),
 * by hand (`sentinel drill cleanup`) and periodically in `sentinel run` (owned toxics past their
 * expiry). Two sources are used, so neither a lost journal nor a renamed toxic hides a fault:
 * unfinished journals (their pending add/disable intents) and the fault proxy's own list of
 * toxics whose names mark them as the sentinel's.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultDriver } from './fault-driver.js';
import { isFinished, Journal, pendingFaults, readJournal } from './journal.js';
import type { DrillLease, HeldLease } from './drill-lease.js';
import { readLiveLock } from './drill-lock.js';
import { parseOwnedToxicName } from './toxic-names.js';

/** ReconcileMode: `startup` removes everything not owned by a live run; `expired` only expired toxics. */
export type ReconcileMode = 'startup' | 'expired';

/** ReconcileReport lists what was removed and what could not be. */
export interface ReconcileReport {
  readonly removed: readonly string[];
  readonly failed: readonly string[];
}

/** ReconcileOptions are the inputs of one reconciliation. */
export interface ReconcileOptions {
  readonly driver: FaultDriver;
  readonly evidenceRoot: string;
  readonly nowMs: number;
  readonly mode: ReconcileMode;
  /**
   * ownRunId is the run asking (a drill's preflight): its journal and toxics are live, never
   * orphans. Needed with a lease that leaves no lock file (the PostgreSQL lease of an HA pair).
   */
  readonly ownRunId?: string;
}

function unfinishedJournals(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(root, entry.name, 'journal.jsonl');
    if (existsSync(path)) {
      try {
        if (!isFinished(readJournal(path))) out.push(path);
      } catch {
        out.push(path);
      }
    }
  }
  return out;
}

/** reconcileFaults removes orphaned faults and returns what it did. It throws only if the proxy is unreachable. */
export async function reconcileFaults(options: ReconcileOptions): Promise<ReconcileReport> {
  const { driver, evidenceRoot, nowMs, mode, ownRunId } = options;
  const live = readLiveLock(evidenceRoot);
  const isLive = (runId: string | undefined): boolean => runId !== undefined && (runId === ownRunId || runId === live?.runId);
  const removed: string[] = [];
  const failed: string[] = [];

  if (mode === 'startup') {
    for (const path of unfinishedJournals(evidenceRoot)) {
      const entries = readJournal(path);
      const start = entries.find((e) => e.type === 'run_start');
      if (start?.type === 'run_start' && isLive(start.runId)) continue;
      const journal = new Journal(path);
      try {
        for (const fault of pendingFaults(entries)) {
          const label = fault.toxic ? `${fault.proxy}/${fault.toxic}` : `${fault.proxy} (re-enabled)`;
          const seq = journal.intent(nowMs, fault.toxic ? 'remove_toxic' : 'enable_proxy', fault.proxy, 'reconcile', fault.toxic);
          try {
            if (fault.toxic) await driver.removeToxic(fault.proxy, fault.toxic);
            else await driver.setProxyEnabled(fault.proxy, true);
            journal.outcome(nowMs, seq, true);
            removed.push(label);
          } catch (err) {
            journal.outcome(nowMs, seq, false, (err as Error).message);
            failed.push(`${label}: ${(err as Error).message}`);
          }
        }
        journal.append({ type: 'event', atMs: nowMs, event: 'reconciled_after_crash' });
        journal.append({ type: 'run_end', atMs: nowMs, status: 'interrupted' });
      } finally {
        journal.close();
      }
    }
  }

  for (const proxy of await driver.listProxies()) {
    for (const toxic of proxy.toxics) {
      const owner = parseOwnedToxicName(toxic.name);
      if (!owner) continue;
      const ownedByLiveRun = isLive(owner.runId);
      const expired = owner.expiresAtMs <= nowMs;
      if (expired || (mode === 'startup' && !ownedByLiveRun)) {
        try {
          await driver.removeToxic(proxy.name, toxic.name);
          removed.push(`${proxy.name}/${toxic.name}`);
        } catch (err) {
          failed.push(`${proxy.name}/${toxic.name}: ${(err as Error).message}`);
        }
      }
    }
  }
  return { removed, failed };
}

/** LeasedReconcileReport is a reconciliation done under the drill lease, or why it could not be. */
export interface LeasedReconcileReport extends ReconcileReport {
  /** leaseRefusal says why the lease was not taken (held by another run, engine unreachable): only expired toxics were removed. */
  readonly leaseRefusal?: string;
}

/**
 * reconcileUnderLease removes orphaned faults the way `startup` does, but only while holding the
 * drill lease: the toxics of a drill that another process (or the other sentinel of an HA pair)
 * is running look orphaned from here. When the lease cannot be taken, only expired toxics go.
 */
export async function reconcileUnderLease(lease: DrillLease, options: Omit<ReconcileOptions, 'mode'>, purpose: string): Promise<LeasedReconcileReport> {
  let held: HeldLease | undefined;
  let leaseRefusal: string | undefined;
  try {
    held = await lease.acquire({ runId: `reconcile-${options.nowMs}`, drill: purpose, startedAtMs: options.nowMs });
  } catch (err) {
    leaseRefusal = (err as Error).message;
  }
  try {
    const report = await reconcileFaults({ ...options, mode: held ? 'startup' : 'expired' });
    return { ...report, ...(leaseRefusal === undefined ? {} : { leaseRefusal }) };
  } finally {
    await held?.release();
  }
}
