/**
 * snapshot-faults: the lab's one-shot faults on what a new subscription receives (knobs
 * `next_resume` and `next_rebootstrap`). Each alters, or refuses, the first matching
 * subscription and is then cleared; nothing here runs while the knobs are null.
 */
import type { RebootstrapFault, ResumeFault } from '../knobs.js';
import type { Row } from './schema.js';
import type { SubscriptionQuery } from './sql-query.js';

/** SnapshotFaultHooks reach the knobs without the host knowing the lab. */
export interface SnapshotFaultHooks {
  /** peekResumeFault returns the pending `next_resume` fault without clearing it. */
  peekResumeFault(): ResumeFault | null;
  /** resumeFaultApplied clears the knob once a resuming subscription was altered. */
  resumeFaultApplied(fault: ResumeFault, afterSeq: number): void;
  /** peekRebootstrapFault returns the pending `next_rebootstrap` fault without clearing it. */
  peekRebootstrapFault(): RebootstrapFault | null;
  /** rebootstrapFaultApplied clears the knob once a re-bootstrapping subscription was altered or refused. */
  rebootstrapFaultApplied(fault: RebootstrapFault, streamId: string): void;
}

/** alter applies gap/duplicate/reorder to the rows `q` matches; undefined when it cannot apply. */
function alter(fault: 'gap' | 'duplicate' | 'reorder', q: SubscriptionQuery, rows: Row[], gapIndex: 0 | 1): Row[] | undefined {
  const idx = rows.map((r, i) => (q.matches(r) ? i : -1)).filter((i) => i >= 0);
  const i0 = idx[0];
  const i1 = idx[1];
  if (i0 === undefined) return undefined;
  const out = [...rows];
  if (fault === 'gap') out.splice(gapIndex === 1 ? (i1 ?? i0) : i0, 1);
  else if (fault === 'duplicate') out.splice(i0 + 1, 0, out[i0] as Row);
  else {
    if (i1 === undefined) return undefined;
    out[i0] = rows[i1] as Row;
    out[i1] = rows[i0] as Row;
  }
  return out;
}

/** SnapshotFaults applies the one-shot subscription faults. */
export class SnapshotFaults {
  constructor(private readonly hooks: SnapshotFaultHooks) {}

  /**
   * apply alters the initial rows of a new subscription: `next_resume` on the first resuming
   * query (`seq > N`: its first replayed event dropped, repeated, or swapped with the second),
   * then `next_rebootstrap` on the first query that re-bootstraps one stream (its second event
   * dropped, so the snapshot is not mistaken for a retention floor; its first repeated; its first
   * two swapped).
   */
  apply(queries: readonly SubscriptionQuery[], rows: Row[]): Row[] {
    let out = rows;
    const resume = this.hooks.peekResumeFault();
    const rq = resume === null ? undefined : queries.find((x) => x.resumeAfterSeq !== undefined);
    if (resume !== null && rq) {
      const altered = alter(resume, rq, out, 0);
      if (altered) {
        out = altered;
        this.hooks.resumeFaultApplied(resume, rq.resumeAfterSeq as number);
      }
    }
    const reboot = this.hooks.peekRebootstrapFault();
    const bq = reboot === null || reboot === 'fail' ? undefined : queries.find((x) => x.rebootstrapStream !== undefined);
    if (reboot !== null && reboot !== 'fail' && bq) {
      const altered = alter(reboot, bq, out, 1);
      if (altered) {
        out = altered;
        this.hooks.rebootstrapFaultApplied(reboot, bq.rebootstrapStream as string);
      }
    }
    return out;
  }

  /**
   * refusal consumes a pending `next_rebootstrap: fail` when one of `queries` re-bootstraps a
   * stream, and returns the error SpacetimeDB's row-limit admission check gives for it
   * (`crates/core/src/vm.rs` check_row_limit in 2.0.1, wrapped with the query by
   * `DBError::WithSql`); `count` is the query's row count, standing in for the estimate.
   */
  refusal(queries: readonly SubscriptionQuery[], count: (q: SubscriptionQuery) => number): string | undefined {
    if (this.hooks.peekRebootstrapFault() !== 'fail') return undefined;
    const q = queries.find((x) => x.rebootstrapStream !== undefined);
    if (!q) return undefined;
    const estimate = count(q);
    this.hooks.rebootstrapFaultApplied('fail', q.rebootstrapStream as string);
    return `Estimated cardinality (${estimate} rows) exceeds limit (${Math.max(0, estimate - 1)} rows), executing: \`${q.sql}\``;
  }
}
