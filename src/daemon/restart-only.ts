/**
 * Settings a running daemon keeps until it restarts, and why each one cannot change in place:
 *
 * 1. `server.listen`: the HTTP server is bound; re-binding would drop the scrape and admin
 *    connections a reload is usually sent over.
 * 2. `storage.data_dir`, `storage.retention`, `storage.max_series`: the sample store is open
 *    with its history loaded under these; moving it means closing and re-reading all of it.
 * 3. `drills.evidence_dir`: the drill lock and the fault journals live there; a daemon that
 *    switched roots could start a second drill beside a running one and would no longer remove
 *    the faults a crashed run left in the old root's journals.
 * 4. `log.level`: the component loggers are children fixed at start.
 * 5. `export.remote_write`: each endpoint's queue is open and sending, and the probes' appends are
 *    tapped for it at start; a queue dropped mid-run would lose what it holds on disk.
 *
 * A reload applies everything else and names these when the new file changes them; the values in
 * effect stay the running ones (`pinRestartOnly`), so nothing downstream sees half a change.
 */
import { join } from 'node:path';
import type { Config } from '../config/index.js';

interface RestartOnlySetting {
  /** key is the setting as the YAML file spells it. */
  readonly key: string;
  readonly read: (c: Config) => unknown;
}

const RESTART_ONLY: readonly RestartOnlySetting[] = [
  { key: 'server.listen', read: (c) => c.server.listen },
  { key: 'storage.data_dir', read: (c) => c.storage.dataDir },
  { key: 'storage.retention', read: (c) => c.storage.retentionMs },
  { key: 'storage.max_series', read: (c) => c.storage.maxSeries },
  { key: 'drills.evidence_dir', read: (c) => c.drills.evidenceDir },
  { key: 'log.level', read: (c) => c.log.level },
  // Credentials are read at every request (a rotated secret file needs no restart); the rest pins.
  { key: 'export.remote_write', read: (c) => c.export.remoteWrite.map((r) => ({ ...r, basicAuth: r.basicAuth?.username, bearerToken: r.bearerToken !== undefined })) },
];

/** RESTART_ONLY_KEYS lists the settings a reload cannot change, as the YAML file spells them. */
export const RESTART_ONLY_KEYS: readonly string[] = RESTART_ONLY.map((s) => s.key);

/** restartOnlyChanges names the restart-only settings whose value differs between `running` and `next`. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  return RESTART_ONLY.filter((s) => JSON.stringify(s.read(running)) !== JSON.stringify(s.read(next))).map((s) => s.key);
}

/** pinRestartOnly is `next` with every restart-only setting kept at its running value. */
export function pinRestartOnly(next: Config, running: Config): Config {
  // The notification queues default to a folder of the data directory and follow the one in effect.
  const queueDir = next.alerting.queueDir === join(next.storage.dataDir, 'notify') ? join(running.storage.dataDir, 'notify') : next.alerting.queueDir;
  return {
    ...next,
    alerting: { ...next.alerting, queueDir },
    server: { ...next.server, listen: running.server.listen },
    storage: running.storage,
    drills: { ...next.drills, evidenceDir: running.drills.evidenceDir },
    log: running.log,
    export: { ...next.export, remoteWrite: running.export.remoteWrite },
  };
}
