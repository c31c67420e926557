/**
 * tapAppends: a sample sink that writes through to the store and, after each commit, shows the
 * committed batch to listeners. The /metrics exposition listens to learn which metric names the
 * probes record (the store also holds rule output such as ALERTS, which a scraping Prometheus
 * computes itself); a remote_write queue can listen beside it without touching the probes.
 */
import type { AppendResult, Appender, Labels } from '../store/index.js';

/** Appendable is the part of a store that writers use. */
export interface Appendable {
  appender(): Appender;
}

/** TappedSample is one sample of a committed batch, as it was appended. */
export interface TappedSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
  readonly isStale: boolean;
}

/**
 * AppendListener sees every committed batch once, after the store took it; `result` says how
 * many samples the store refused. It must not throw: the writer would report a failed write.
 */
export interface AppendListener {
  onCommit(samples: readonly TappedSample[], result: AppendResult): void;
}

/** tapAppends wraps `sink` so that `listeners` see each batch after it was committed. */
export function tapAppends(sink: Appendable, listeners: readonly AppendListener[]): Appendable {
  return {
    appender(): Appender {
      const inner = sink.appender();
      const batch: TappedSample[] = [];
      return {
        append(labels, t, v) {
          inner.append(labels, t, v);
          batch.push({ labels, t, v, isStale: false });
        },
        appendStale(labels, t) {
          inner.appendStale(labels, t);
          batch.push({ labels, t, v: NaN, isStale: true });
        },
        commit() {
          const result = inner.commit();
          for (const l of listeners) l.onCommit(batch, result);
          return result;
        },
      };
    },
  };
}
