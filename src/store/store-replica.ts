/**
 * StoreReplica: a read-only view, in another thread, of a MemoryStore with shared buffers. It
 * holds the store's index (series and their labels) and reads samples from the store's own
 * memory, so a query thread evaluates without copying a sample. The writer sends what changed
 * (`ReplicaEvent`s, from its `replicate` sink) and, with each query, which slots hold samples
 * (`MemoryStore.extents()`).
 */
import type { LabelMatcher, Labels, Queryable, SeriesColumns } from '../promql/queryable.js';
import { MemoryStore } from './memory-store.js';
import type { ReplicaSink } from './memory-store.js';
import { SampleBuffer } from './sample-buffer.js';

/** ReplicaEvent is one change of the writer's index, as its ReplicaSink saw it. */
export type ReplicaEvent =
  | { readonly kind: 'series'; readonly id: number; readonly labels: Labels; readonly memory: SharedArrayBuffer; readonly capacity: number }
  | { readonly kind: 'removed'; readonly id: number };

/**
 * ReplicaEventQueue is a ReplicaSink that keeps what changed until it is sent, keeping only the
 * last event per series (a series that moved twice is sent once).
 */
export class ReplicaEventQueue implements ReplicaSink {
  private readonly pending = new Map<number, ReplicaEvent>();

  series(id: number, labels: Labels, memory: SharedArrayBuffer, capacity: number): void {
    this.pending.delete(id);
    this.pending.set(id, { kind: 'series', id, labels, memory, capacity });
  }

  removed(id: number): void {
    this.pending.delete(id);
    this.pending.set(id, { kind: 'removed', id });
  }

  /** take returns the queued events in order and empties the queue. */
  take(): ReplicaEvent[] {
    const out = [...this.pending.values()];
    this.pending.clear();
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
