/**
 * RecordedNames: the metric names the probes have written to the store, learnt from their
 * commits. The exposition shows exactly these names: rule output (ALERTS, ALERTS_FOR_STATE,
 * recording rules) stays inside, because a Prometheus loading the same rules computes its own.
 */
import type { AppendListener, TappedSample } from './append-tap.js';

/** RecordedNames is an AppendListener remembering each metric name once (a few hundred at most). */
export class RecordedNames implements AppendListener {
  private readonly names = new Set<string>();
  private sorted: string[] | undefined;

  onCommit(samples: readonly TappedSample[]): void {
    for (const s of samples) {
      const name = s.labels['__name__'];
      if (name && !this.names.has(name)) {
        this.names.add(name);
        this.sorted = undefined;
      }
    }
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** list returns the names in code-unit order. */
  list(): readonly string[] {
    this.sorted ??= [...this.names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sorted;
  }
}
