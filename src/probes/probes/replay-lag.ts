/**
 * replay_lag: how far each client is behind on each stream, measured by the sentinel itself
 * (the runtime endpoint does not publish it): `head_seq` from `stream_head` against every
 * `stream_checkpoint.last_applied_seq`, over HTTP SQL (no lifecycle side effects). Two reads are
 * not one snapshot, so heads are read before and after the checkpoints and the run retries until
 * they agree: then every lag is exact as of the checkpoint read.
 */
import type { SpacetimeHttpClient, StreamCheckpointRow, StreamHeadRow } from '../../spacetime/index.js';
import { fromSqlRow } from '../../spacetime/index.js';
import type { Probe, ProbeContext, ProbeResult, ProbeSample } from '../types.js';
import { probeFailure } from './probe-failure.js';
import { sqlString } from './sql-literal.js';

/** ReplayLagProbeOptions configure the probe. */
export interface ReplayLagProbeOptions {
  readonly http: SpacetimeHttpClient;
  /** streams limits the probe to these stream ids (default: every stream with a head). */
  readonly streams?: readonly string[];
  /** maxAttempts bounds the retries for a consistent read (default 3). */
  readonly maxAttempts?: number;
}

/** ReplayLagProbe is the `replay_lag` probe. */
export class ReplayLagProbe implements Probe {
  readonly name = 'replay_lag';

  constructor(private readonly options: ReplayLagProbeOptions) {}

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
      let heads = await readHeads();
      let checkpoints: StreamCheckpointRow[] = [];
      let consistent = false;
      let attempts = 0;
      while (attempts < maxAttempts && !consistent) {
        attempts++;
        const r = await http.sql(`SELECT * FROM stream_checkpoint${where}`, { signal: ctx.signal });
        checkpoints = r.rows.map((row) => fromSqlRow('stream_checkpoint', row));
        const after = await readHeads();
        consistent = sameHeads(heads, after);
        heads = after;
      }
      const readAtMs = ctx.clock.nowMs();
      const samples: ProbeSample[] = [];
      const maxByStream = new Map<string, number>();
      let orphans = 0;
      for (const c of checkpoints) {
        const head = heads.get(c.stream_id);
        if (!head) {
          // A checkpoint on a stream with no head: nothing to lag behind; counted, not invented.
          orphans++;
          continue;
        }
        const lag = head.head_seq - c.last_applied_seq;
        const labels = { stream_id: c.stream_id, client_id: c.client_id };
        samples.push({ name: 'sentinel_replay_lag_events', labels, value: lag });
        samples.push({ name: 'sentinel_checkpoint_age_seconds', labels, value: Math.max(0, readAtMs - c.updated_at_unix_ms) / 1000 });
        maxByStream.set(c.stream_id, Math.max(maxByStream.get(c.stream_id) ?? Number.NEGATIVE_INFINITY, lag));
      }
      for (const [streamId, max] of maxByStream) samples.push({ name: 'sentinel_replay_lag_max_events', labels: { stream_id: streamId }, value: max });
      for (const h of heads.values()) samples.push({ name: 'sentinel_stream_head_seq', labels: { stream_id: h.stream_id }, value: h.head_seq });
      return {
        ok: true,
        durationMs: ctx.clock.nowMs() - start,
        detail: {
          streams: heads.size,
          checkpoints: checkpoints.length,
          orphan_checkpoints: orphans,
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
}

function sameHeads(a: Map<string, StreamHeadRow>, b: Map<string, StreamHeadRow>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k)?.head_seq !== v.head_seq) return false;
  return true;
}
