/**
 * `GET /api/v1/slo/snapshot[?window=30m]`: the SLO snapshot the operators' production rollout
 * script reads with `--slo-snapshot-url` (`p95_latency_ms`, `error_budget_ratio`, the same under
 * `sync`), computed from the daemon's own samples over `rollout.slo_window`. No auth: the script
 * fetches it with a plain `curl -fsS` (OpenAgents
 * `scripts/spacetime/run-production-phased-rollout.sh:281` at 9b2b978949).
 */
import { ApiError } from '../../errors.js';
import { sloSnapshotDocument } from '../../rollout/index.js';
import type { QueryFn } from '../../drills/index.js';
import type { Clock } from '../../time/index.js';
import { parseDurationMs } from '../../time/index.js';
import type { HttpServer } from '../http-server.js';

/** SLO_SNAPSHOT_PATH is where the daemon serves the snapshot. */
export const SLO_SNAPSHOT_PATH = '/api/v1/slo/snapshot';

/** SloSnapshotRouteDeps are what the route reads. */
export interface SloSnapshotRouteDeps {
  readonly query: QueryFn;
  readonly clock: Clock;
  /** windowMs is the default window (`rollout.slo_window`). */
  readonly windowMs: number;
}

/** MAX_WINDOW_MS bounds `?window=` so one request cannot ask for the whole retention. */
const MAX_WINDOW_MS = 7 * 24 * 3600_000;

/** registerSloSnapshotRoute adds the snapshot route to `server`. */
export function registerSloSnapshotRoute(server: HttpServer, deps: SloSnapshotRouteDeps): void {
  server.route('GET', SLO_SNAPSHOT_PATH, (req) => {
    const raw = req.query.get('window');
    let windowMs = deps.windowMs;
    if (raw !== null) {
      const parsed = parseDurationMs(raw.trim());
      if (parsed === undefined || parsed <= 0 || parsed > MAX_WINDOW_MS) {
        throw new ApiError(400, 'bad_data', `window=${JSON.stringify(raw)} is not a duration between 1s and 7d (like 10m or 1h)`);
      }
      windowMs = parsed;
    }
    return { headers: { 'cache-control': 'no-store' }, body: sloSnapshotDocument(deps.query, deps.clock.nowMs(), windowMs) };
  });
}
