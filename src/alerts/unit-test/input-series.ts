/**
 * input-series: a test group's `input_series`, parsed once and appended to the test's store step
 * by step, as promtool's lazy loader does (`promql/test.go` LazyLoader.appendTill): before the
 * rules are evaluated at time ts, every sample at or before ts is in the store, none after.
 */
import { quoteGoString } from '../../go-strconv/index.js';
import { labelsKey } from '../../store/labels-key.js';
import type { Appender, Labels } from '../../store/index.js';
import { NotationError, parseMetricNotation, parseSeriesValues, SeriesCursor, SeriesValueKind } from './series-notation.js';
import type { SeriesValues } from './series-notation.js';

/** ParsedInputSeries is one parsed `input_series` entry and how far it has been loaded. */
export interface ParsedInputSeries {
  /** labels are frozen: the store recognises the same object on every append. */
  readonly labels: Labels;
  readonly values: SeriesValues;
  /** cursor is at the first step not yet appended. */
  readonly cursor: SeriesCursor;
}

/**
 * parseInputSeries parses the entries (`series` in metric notation, `values` in the expanding
 * notation). A later definition of the same label set replaces an earlier one, as promtool keys
 * its series by label set. A notation error is a NotationError naming the series.
 */
export function parseInputSeries(entries: ReadonlyArray<{ readonly series: string; readonly values: string }>): ParsedInputSeries[] {
  const byKey = new Map<string, ParsedInputSeries>();
  for (const e of entries) {
    let labels: Labels;
    let values: SeriesValues;
    try {
      labels = Object.freeze(parseMetricNotation(e.series));
      values = parseSeriesValues(e.values);
    } catch (err) {
      if (err instanceof NotationError) throw new NotationError(`series ${quoteGoString(e.series)}: ${err.message}`);
      throw err;
    }
    const key = labelsKey(labels);
    byKey.delete(key);
    byKey.set(key, { labels, values, cursor: new SeriesCursor(values) });
  }
  return [...byKey.values()];
}

/** samplesOf counts the samples (values and stale markers) a series will append. */
export function samplesOf(series: ParsedInputSeries): number {
  let n = 0;
  for (const r of series.values.runs) if (r.kind !== SeriesValueKind.omitted) n += r.count;
  return n;
}

/** appendTill appends every not yet loaded sample at or before `ts` (step i is at i × intervalMs) and commits. */
export function appendTill(app: Appender, series: readonly ParsedInputSeries[], intervalMs: number, ts: number): void {
  for (const s of series) {
    const c = s.cursor;
    for (; !c.done && c.index * intervalMs <= ts; c.next()) {
      if (c.kind === SeriesValueKind.value) app.append(s.labels, c.index * intervalMs, c.value);
      else if (c.kind === SeriesValueKind.stale) app.appendStale(s.labels, c.index * intervalMs);
    }
  }
  app.commit();
}
