/**
 * DrillLock: at most one drill runs against a deployment from one evidence root. The lock is a
 * file created with O_EXCL holding the owner's pid and run id; a lock whose pid is gone (the
 * process crashed or was killed) is stale and is taken over.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SentinelError } from '../errors.js';

const LOCK_FILE = '.drill.lock';

/** LockOwner is what the lock file records. */
export interface LockOwner {
  readonly pid: number;
  readonly runId: string;
  readonly drill: string;
  readonly startedAtMs: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** readLiveLock returns the owner of a lock held by a live process, if any. */
export function readLiveLock(root: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(root, LOCK_FILE), 'utf8')) as LockOwner;
    return isAlive(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** acquireDrillLock takes the lock or throws naming the drill that holds it. Returns the release function. */
export function acquireDrillLock(root: string, owner: LockOwner): () => void {
  mkdirSync(root, { recursive: true });
  const path = join(root, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(owner), { flag: 'wx', mode: 0o644 });
      return () => {
        try {
          const current = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
          if (current.runId === owner.runId) rmSync(path, { force: true });
        } catch {
          // Already gone: nothing to release.
          return;
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const live = readLiveLock(root);
      if (live) {
        throw new SentinelError('SENTINEL_USAGE', `drill '${live.drill}' (run ${live.runId}, pid ${live.pid}) is already running; wait for it or stop it first`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new SentinelError('SENTINEL_USAGE', `cannot take the drill lock ${path}; remove it if no drill is running`);
}
