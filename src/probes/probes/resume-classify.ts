/**
 * Classification of what a resuming client received, against the delivery contract:
 * after `seq = N`, exactly N+1..H in order. Pure functions, so the rules are tested apart from
 * any socket.
 */

/** ReplayVerdict is how a replay differs from the contract. */
export type ReplayVerdict = 'ok' | 'gap' | 'duplicate' | 'reorder';

/**
 * classifyReplay judges the seqs a client received after resuming at `afterSeq`, when the
 * stream's head was `headSeq`. Order of precedence, with reasons:
 * 1. duplicate: a seq seen twice, or one the client had already applied (`<= afterSeq`), would be
 *    applied twice by a client that does not discard;
 * 2. reorder: every expected seq arrived exactly once, but not ascending;
 * 3. gap: an expected seq never arrived (a later one may have).
 */
export function classifyReplay(afterSeq: number, headSeq: number, seqs: readonly number[]): ReplayVerdict {
  const seen = new Set<number>();
  for (const s of seqs) {
    if (s <= afterSeq || seen.has(s)) return 'duplicate';
    seen.add(s);
  }
  const top = Math.max(headSeq, ...seqs);
  for (let s = afterSeq + 1; s <= top; s++) if (!seen.has(s)) return 'gap';
  for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) return 'reorder';
  return 'ok';
}

/**
 * checkSnapshot judges a fresh snapshot taken after a cursor reset: contiguous ascending seqs
 * (from whatever the oldest retained event is) up to at least `headSeq`. Returns a problem or
 * undefined.
 */
export function checkSnapshot(headSeq: number, seqs: readonly number[]): string | undefined {
  if (seqs.length === 0) return headSeq === 0 ? undefined : `snapshot is empty but the head is ${headSeq}`;
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1] + 1) return `snapshot is not contiguous: seq ${seqs[i]} follows ${seqs[i - 1]}`;
  }
  const last = seqs[seqs.length - 1];
  if (last < headSeq) return `snapshot ends at seq ${last}, before the head ${headSeq}`;
  return undefined;
}

/** SeqHash is one applied event as the ordering comparison sees it. */
export interface SeqHash {
  readonly seq: number;
  readonly hash: string;
}

/**
 * compareOrdering compares what the resuming client applied with what the follower saw for the
 * same seq range, from `fromSeq` (the first seq the client should have applied; default its
 * lowest) to its highest. `undefined` means the follower does not cover the range (it
 * reconnected), so nothing can be said; otherwise true when the two sequences differ.
 */
export function compareOrdering(applied: readonly SeqHash[], follower: readonly SeqHash[], fromSeq?: number): boolean | undefined {
  if (applied.length === 0) return false;
  const lo = fromSeq ?? Math.min(...applied.map((a) => a.seq));
  const hi = Math.max(...applied.map((a) => a.seq));
  const window = follower.filter((f) => f.seq >= lo && f.seq <= hi);
  const have = new Set(window.map((f) => f.seq));
  if (applied.some((a) => a.seq >= lo && !have.has(a.seq)) || !have.has(lo)) return undefined;
  if (window.length !== applied.length) return true;
  return window.some((f, i) => f.seq !== applied[i].seq || f.hash !== applied[i].hash);
}
