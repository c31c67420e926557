/**
 * DrillLease: the right to run a drill against one environment. At most one holder at a time;
 * whoever asks while it is held is refused with a message naming the holder. Two kinds:
 *
 * - `fileDrillLease` (the embedded default): the single-host file lock in the evidence root
 *   (`drill-lock.ts`); it is never lost while its process lives.
 * - `PostgresDrillLease`: an advisory lock on a dedicated PostgreSQL session, shared by the
 *   sentinels of an HA pair; losing the session loses the lease, and `lost` then aborts the drill.
 */
import { SentinelError } from '../errors.js';
import { acquireDrillLock, readLiveLock } from './drill-lock.js';

/** LeaseClaim says who asks for the lease: the run and its drill. */
export interface LeaseClaim {
  readonly runId: string;
  readonly drill: string;
  readonly startedAtMs: number;
}

/** HeldLease is a granted lease. */
export interface HeldLease {
  /**
   * lost aborts when the lease is lost while held (the engine's session died, a heartbeat failed
   * or came too late); its reason is an Error saying how. The runner aborts the drill with it.
   */
  readonly lost: AbortSignal;
  /** release gives the lease back; it never throws (a lease whose session is gone is released already). */
  release(): Promise<void>;
}

/** DrillLease grants the lease to one holder at a time. */
export interface DrillLease {
  /** description names the lease for messages and evidence (never a secret). */
  readonly description: string;
  /**
   * acquire takes the lease for `claim`, or rejects with a SentinelError: `SENTINEL_USAGE` naming
   * the holder when it is held, `SENTINEL_UNREACHABLE` when the engine cannot be asked.
   */
  acquire(claim: LeaseClaim): Promise<HeldLease>;
  /** close releases what the lease keeps open (a held lease is released by its owner first). */
  close(): Promise<void>;
}

/** DrillLeaseBusyError says the lease is held by someone else. */
export class DrillLeaseBusyError extends SentinelError {
  constructor(message: string) {
    super('SENTINEL_USAGE', message);
  }
}

/** fileDrillLease is the single-host lease: the drill lock file in `evidenceRoot`. */
export function fileDrillLease(evidenceRoot: string): DrillLease {
  return {
    description: `the drill lock in ${evidenceRoot}`,
    acquire(claim) {
      try {
        const release = acquireDrillLock(evidenceRoot, { pid: process.pid, runId: claim.runId, drill: claim.drill, startedAtMs: claim.startedAtMs });
        // A file lock is never lost while its process lives: the signal never aborts.
        return Promise.resolve({ lost: new AbortController().signal, release: () => Promise.resolve(release()) });
      } catch (err) {
        const live = readLiveLock(evidenceRoot);
        return Promise.reject(live ? new DrillLeaseBusyError((err as Error).message) : err);
      }
    },
    close: () => Promise.resolve(),
  };
}
