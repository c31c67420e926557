/**
 * replay_lag: how far each live client is behind on each stream, measured by the sentinel itself
 * (the runtime endpoint does not publish it): `head_seq` from `stream_head` against
 * `stream_checkpoint.last_applied_seq`, over HTTP SQL (no lifecycle side effects). Two reads are
 * not one snapshot, so heads are read before and after the checkpoints and the run retries until
 * they agree.
 *
 * The module never deletes a checkpoint row (OpenAgents
 * `spacetime/modules/autopilot-sync/spacetimedb/src/lib.rs:281-315` at 9b2b978949: only
 * `ack_stream_checkpoint` writes them, nothing removes them), so the table holds every client
 * that ever acked, dead ones included. Two rules keep dead clients from raising the lag:
 *
 * - Only checkpoints written within the activity window (`updated_at_unix_ms` no older than
 *   `activityWindowMs`) count; older ones are counted as inactive and otherwise ignored.
 * - A client's lag is measured against the head as it was when the client last wrote its
 *   checkpoint: the current head when the stream has not moved since (`stream_head.updated_at`),
 *   else the newest head this probe saw at or before that write. A client that stops acking
 *   therefore keeps the lag it last reported instead of growing with traffic it will never read;
 *   one that keeps acking while stuck shows its full, growing lag.
 *
 * The sentinel's own canary streams (under the canary namespace) are reported apart, as
 * `sentinel_canary_replay_lag_events`, and never enter `sentinel_replay_lag_max_events`, the
 * fallback of the replay-lag threshold.
 */
import type { SpacetimeHttpClient, StreamCheckpointRow, StreamHeadRow } from '../../spacetime/index.js';
import { fromSqlRow } from '../../spacetime/index.js';
import type { Probe, ProbeContext, ProbeResult, ProbeSample } from '../types.js';
import { CANARY_NAMESPACE } from './canary-writes.js';
import { probeFailure } from './probe-failure.js';
import { sqlString } from './sql-literal.js';

/** DEFAULT_ACTIVITY_WINDOW_MS is how recently a checkpoint must have been written to count (10 min). */
export const DEFAULT_ACTIVITY_WINDOW_MS = 600_000;

/** ReplayLagProbeOptions configure the probe. */
export interface ReplayLagProbeOptions {
  readonly http: SpacetimeHttpClient;
  /** streams limits the probe to these stream ids (default: every stream with a head). */
  readonly streams?: readonly string[];
  /** maxAttempts bounds the retries for a consistent read (default 3). */
  readonly maxAttempts?: number;
  /** activityWindowMs: checkpoints not written for longer are inactive (default 10 min). */
  readonly activityWindowMs?: number;
  /** canaryNamespace prefixes the sentinel's own streams, reported apart (default `sentinel.canary.`). */
  readonly canaryNamespace?: string;
}

interface HeadSeen {
  readonly atMs: number;
  readonly head: number;
}

/** ReplayLagProbe is the `replay_lag` probe. */
export class ReplayLagProbe implements Probe {
  readonly name = 'replay_lag';
  private readonly windowMs: number;
  private readonly canaryNamespace: string;
  /** seen holds, per stream, the heads this probe read (oldest first), for a window and a bit. */
  private readonly seen = new Map<string, HeadSeen[]>();

  constructor(private readonly options: ReplayLagProbeOptions) {
    this.windowMs = options.activityWindowMs ?? DEFAULT_ACTIVITY_WINDOW_MS;
    if (!Number.isFinite(this.windowMs) || this.windowMs <= 0) throw new TypeError(`replay_lag: activityWindowMs must be positive, got ${this.windowMs}`);
    this.canaryNamespace = options.canaryNamespace ?? CANARY_NAMESPACE;
  }

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    const { http } = this.options;
    const where = this.options.streams && this.options.streams.length > 0 ? ` WHERE ${this.options.streams.map((s) => `stream_id = ${sqlString(s)}`).join(' OR ')}` : '';
    const readHeads = async (): Promise<Map<string, StreamHeadRow>> => {
      const r = await http.sql(`SELECT * FROM stream_head${where}`, { signal: ctx.signal });
      return new Map(r.rows.map((row) => fromSqlRow('stream_head', row)).map((h) => [h.stream_id, h]));
    };
    try {
      const maxAttempts = this.options.maxAttempts ?? 3;
      let headsAtMs = ctx.clock.nowMs();
      let heads = await readHeads();
      let checkpoints: StreamCheckpointRow[] = [];
      let consistent = false;
      let attempts = 0;
      while (attempts < maxAttempts && !consistent) {
        attempts++;
        const r = await http.sql(`SELECT * FROM stream_checkpoint${where}`, { signal: ctx.signal });
        checkpoints = r.rows.map((row) => fromSqlRow('stream_checkpoint', row));
        const afterAtMs = ctx.clock.nowMs();
        const after = await readHeads();
        consistent = sameHeads(heads, after);
        heads = after;
        headsAtMs = afterAtMs;
      }
      const readAtMs = ctx.clock.nowMs();
      const samples: ProbeSample[] = [];
      const maxByStream = new Map<string, number>();
      const counts = { live: 0, inactive: 0, canary: 0, orphan: 0 };
      for (const c of checkpoints) {
        const head = heads.get(c.stream_id);
        if (!head) {
          // A checkpoint on a stream with no head: nothing to lag behind; counted, not invented.
          counts.orphan++;
          continue;
        }
        const labels = { stream_id: c.stream_id, client_id: c.client_id };
        const ageMs = Math.max(0, readAtMs - c.updated_at_unix_ms);
        if (c.stream_id.startsWith(this.canaryNamespace)) {
          counts.canary++;
          samples.push({ name: 'sentinel_canary_replay_lag_events', labels, value: Math.max(0, head.head_seq - c.last_applied_seq) });
          continue;
        }
        if (ageMs > this.windowMs) {
          counts.inactive++;
          continue;
        }
        counts.live++;
        const lag = Math.max(0, this.headAt(head, c.updated_at_unix_ms) - c.last_applied_seq);
        samples.push({ name: 'sentinel_replay_lag_events', labels, value: lag });
        samples.push({ name: 'sentinel_checkpoint_age_seconds', labels, value: ageMs / 1000 });
        maxByStream.set(c.stream_id, Math.max(maxByStream.get(c.stream_id) ?? 0, lag));
      }
      for (const [streamId, max] of maxByStream) samples.push({ name: 'sentinel_replay_lag_max_events', labels: { stream_id: streamId }, value: max });
      for (const h of heads.values()) samples.push({ name: 'sentinel_stream_head_seq', labels: { stream_id: h.stream_id }, value: h.head_seq });
      for (const state of ['live', 'inactive', 'canary'] as const) samples.push({ name: 'sentinel_replay_checkpoints', labels: { state }, value: counts[state] });
      this.remember(heads, headsAtMs);
      return {
        ok: true,
        durationMs: ctx.clock.nowMs() - start,
        detail: {
          streams: heads.size,
          checkpoints: checkpoints.length,
          live_checkpoints: counts.live,
          inactive_checkpoints: counts.inactive,
          canary_checkpoints: counts.canary,
          orphan_checkpoints: counts.orphan,
          activity_window_seconds: this.windowMs / 1000,
          consistent,
          attempts,
          max_lag: maxByStream.size > 0 ? Math.max(...maxByStream.values()) : 0,
        },
        samples,
      };
    } catch (err) {
      return probeFailure(err, ctx.clock.nowMs() - start);
    }
  }

  /**
   * headAt is the stream's head as of `atMs` (a checkpoint write): the current head if the
   * stream has not moved since, else the newest head this probe saw at or before `atMs`, else
   * (nothing seen that early: the probe just started) the current head.
   */
  private headAt(head: StreamHeadRow, atMs: number): number {
    if (head.updated_at_unix_ms <= atMs) return head.head_seq;
    const seen = this.seen.get(head.stream_id) ?? [];
    for (let i = seen.length - 1; i >= 0; i--) {
      const s = seen[i] as HeadSeen;
      if (s.atMs <= atMs) return Math.min(s.head, head.head_seq);
    }
    return head.head_seq;
  }

  /** remember keeps this run's heads and forgets what is older than the activity window needs. */
  private remember(heads: Map<string, StreamHeadRow>, atMs: number): void {
    const horizon = atMs - 2 * this.windowMs;
    for (const h of heads.values()) {
      const list = (this.seen.get(h.stream_id) ?? []).filter((s) => s.atMs >= horizon);
      // Keep the newest observation older than the horizon: it answers for writes just inside the window.
      const older = (this.seen.get(h.stream_id) ?? []).filter((s) => s.atMs < horizon).at(-1);
      this.seen.set(h.stream_id, [...(older ? [older] : []), ...list, { atMs, head: h.head_seq }]);
    }
    for (const id of [...this.seen.keys()]) if (!heads.has(id)) this.seen.delete(id);
  }
}

function sameHeads(a: Map<string, StreamHeadRow>, b: Map<string, StreamHeadRow>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k)?.head_seq !== v.head_seq) return false;
  return true;
}
