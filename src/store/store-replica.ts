/**
 * StoreReplica: a read-only view, in another thread, of a MemoryStore with shared buffers. It
 * holds the store's index (series and their labels) and reads samples from the store's own
 * memory, so a query thread evaluates without copying a sample. The writer sends what changed
 * (`ReplicaEvent`s, from its `replicate` sink) and, with each query, which slots hold samples
 * (`MemoryStore.extents()`).
 */
import type { LabelMatcher, Queryable, SeriesColumns } from '../promql/queryable.js';
import { MemoryStore } from './memory-store.js';
import type { ReplicaEvent, ReplicaSink } from './memory-store.js';
import { SampleBuffer } from './sample-buffer.js';

export type { ReplicaEvent } from './memory-store.js';

/** ReplicaSource is the writer's side: the store that says what changed and describes a series. */
export interface ReplicaSource {
  replicate(sink: ReplicaSink): () => void;
  replicaEvent(id: number): ReplicaEvent;
}

/**
 * ReplicaEventQueue is a ReplicaSink that keeps which series changed until they are sent, each
 * once however often it changed, described as it is at sending time.
 */
export class ReplicaEventQueue implements ReplicaSink {
  private readonly pending = new Set<number>();
  /** initial are the series held when replication started, sent first (from `next` on). */
  private initial: readonly number[] = [];
  private next = 0;

  constructor(private readonly source: Pick<ReplicaSource, 'replicaEvent'>) {}

  existing(ids: readonly number[]): void {
    this.initial = ids;
    this.next = 0;
  }

  changed(id: number): void {
    this.pending.add(id);
  }

  /** size is the number of series waiting to be sent. */
  get size(): number {
    return this.initial.length - this.next + this.pending.size;
  }

  /** take removes up to `max` waiting series and describes them: those held at the start first, then in the order they changed. */
  take(max = Infinity): ReplicaEvent[] {
    const out: ReplicaEvent[] = [];
    while (this.next < this.initial.length && out.length < max) out.push(this.source.replicaEvent(this.initial[this.next++]));
    if (this.next === this.initial.length) {
      this.initial = [];
      this.next = 0;
    }
    for (const id of this.pending) {
      if (out.length >= max) break;
      out.push(this.source.replicaEvent(id));
      this.pending.delete(id);
    }
    return out;
  }
}

/** StoreReplica answers the engine's reads from a writer's shared memory. */
export class StoreReplica implements Queryable {
  private readonly index = new MemoryStore();

  /** apply follows the writer's index: new or moved series, removals. */
  apply(events: readonly ReplicaEvent[]): void {
    for (const e of events) {
      if (e.kind === 'removed') this.index.dropSeries(e.id);
      else this.index.adoptSeries(e.id, e.labels, SampleBuffer.over(e.memory, e.capacity));
    }
  }

  /** setExtents takes the writer's `extents()`: which slots of each series to read now. */
  setExtents(extents: Int32Array): void {
    for (let i = 0; i + 3 < extents.length; i += 4) this.index.seriesSamples(extents[i])?.setExtent(extents[i + 1], extents[i + 2], extents[i + 3]);
  }

  selectColumns(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesColumns[] {
    return this.index.selectColumns(matchers, startMs, endMs);
  }
}
