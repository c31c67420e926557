/**
 * creation-order: a view of a test's sample store that returns series in the order they were
 * created, as promtool's storage does (series references grow with creation; the store itself
 * sorts by labels). Float aggregations add in input order, so `sum`/`avg`/`stddev` over several
 * series round like promtool's when the series start at different times; series created at the
 * same step keep input_series order (promtool's own order there is Go map order, i.e. random).
 */
import { labelsKey } from '../../store/index.js';
import type { LabelMatcher, Labels, Queryable, SeriesData } from '../../promql/index.js';
import type { Appender } from '../../store/index.js';

/** CreationOrderStore records first appends and sorts `select` results by them. */
export class CreationOrderStore implements Queryable {
  private readonly rank = new Map<string, number>();

  constructor(private readonly inner: Queryable & { appender(): Appender }) {}

  private note(labels: Labels): void {
    const key = labelsKey(labels);
    if (!this.rank.has(key)) this.rank.set(key, this.rank.size);
  }

  /** appender wraps the store's appender, noting each series at its first sample. */
  appender(): Appender {
    const app = this.inner.appender();
    return {
      append: (labels, t, v) => {
        this.note(labels);
        app.append(labels, t, v);
      },
      appendStale: (labels, t) => {
        this.note(labels);
        app.appendStale(labels, t);
      },
      commit: () => app.commit(),
    };
  }

  /** select is the store's answer in creation order. */
  select(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesData[] {
    const rankOf = (s: SeriesData): number => this.rank.get(labelsKey(s.labels)) ?? Number.MAX_SAFE_INTEGER;
    return [...this.inner.select(matchers, startMs, endMs)].sort((a, b) => rankOf(a) - rankOf(b));
  }
}
