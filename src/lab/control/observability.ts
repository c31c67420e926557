/**
 * observability: the control service's in-process counters (OpenAgents
 * `apps/openagents.com/service/src/observability.rs:97-151` at 9b2b978949): a name → count map,
 * each increment also written as a `metric_counter_incremented` log line. No HTTP route exposes
 * them; the lab shows them on `/lab/state` as ground truth only.
 */
import type { Logger } from 'pino';

/** SYNC_TOKEN_COUNTER_NAMES are the counters `POST /api/sync/token` increments (`sync_handlers.rs`). */
export const SYNC_TOKEN_COUNTER_NAMES = [
  'sync.token.issued',
  'sync.token.issue.failed',
  'sync.token.issue.policy_denied',
  'sync.token.issue.auth_failed',
  'sync.token.issue.policy_eval_failed',
] as const;

/** ControlCounters holds the counters; they reset when the service restarts. */
export class ControlCounters {
  private readonly values = new Map<string, number>();

  constructor(private readonly logger: Logger) {
    this.reset();
  }

  /** increment adds one and logs the line the real service logs. */
  increment(name: string, requestId: string): void {
    const value = (this.values.get(name) ?? 0) + 1;
    this.values.set(name, value);
    this.logger.info({ metric_name: name, metric_value: value, request_id: requestId }, 'metric_counter_incremented');
  }

  /** snapshot is every counter by name (the sync.token.* ones present from the start). */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }

  /** reset forgets every count, as a process restart does. */
  reset(): void {
    this.values.clear();
    for (const n of SYNC_TOKEN_COUNTER_NAMES) this.values.set(n, 0);
  }
}
