/**
 * The remote-write instruments, named after Prometheus' own `prometheus_remote_storage_*`
 * (`storage/remote/queue_manager.go`) with the `sentinel_` prefix and the same `remote_name` and
 * `url` labels. One difference, on purpose: `sentinel_remote_storage_samples_total` counts samples
 * the receiver accepted, where Prometheus' counter of that name counts every attempt.
 * Registered once per registry and shared by every endpoint.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { registeredMetric } from '../telemetry/index.js';

const LABELS = ['remote_name', 'url'] as const;

/** DropReasons is the closed vocabulary of `sentinel_remote_storage_samples_dropped_total{reason}`. */
export const DropReasons = ['queue_full', 'queue_error'] as const;
export type DropReason = (typeof DropReasons)[number];

/** RemoteWriteMetrics are the instruments every queue updates, per endpoint labels. */
export interface RemoteWriteMetrics {
  readonly samplesIn: Counter<'remote_name' | 'url'>;
  readonly samplesSent: Counter<'remote_name' | 'url'>;
  readonly samplesFailed: Counter<'remote_name' | 'url'>;
  readonly samplesRetried: Counter<'remote_name' | 'url'>;
  readonly samplesDropped: Counter<'remote_name' | 'url' | 'reason'>;
  readonly samplesPending: Gauge<'remote_name' | 'url'>;
  readonly highestTimestampIn: Gauge<'remote_name' | 'url'>;
  readonly highestSentTimestamp: Gauge<'remote_name' | 'url'>;
  readonly bytesSent: Counter<'remote_name' | 'url'>;
  readonly sendDuration: Histogram<'remote_name' | 'url'>;
}

/** createRemoteWriteMetrics registers (or finds) the instruments in `registry`. */
export function createRemoteWriteMetrics(registry: Registry): RemoteWriteMetrics {
  return {
    samplesIn: registeredMetric(registry, Counter, { name: 'sentinel_remote_storage_samples_in_total', help: 'Samples queued for remote storage (every sample the store took from the probes).', labelNames: LABELS }),
    samplesSent: registeredMetric(registry, Counter, { name: 'sentinel_remote_storage_samples_total', help: 'Samples the remote storage accepted (2xx).', labelNames: LABELS }),
    samplesFailed: registeredMetric(registry, Counter, { name: 'sentinel_remote_storage_samples_failed_total', help: 'Samples the remote storage refused for good (a 4xx other than 429); dropped, not retried.', labelNames: LABELS }),
    samplesRetried: registeredMetric(registry, Counter, { name: 'sentinel_remote_storage_samples_retried_total', help: 'Samples in sends that failed recoverably (5xx, 429, unreachable, timeout) and were retried.', labelNames: LABELS }),
    samplesDropped: registeredMetric(registry, Counter, { name: 'sentinel_remote_storage_samples_dropped_total', help: 'Samples dropped before they were sent, by reason (queue_full: the oldest past the queue capacity; queue_error: the queue could not store them).', labelNames: [...LABELS, 'reason'] }),
    samplesPending: registeredMetric(registry, Gauge, { name: 'sentinel_remote_storage_samples_pending', help: 'Samples queued on disk, not yet accepted by the remote storage.', labelNames: LABELS }),
    highestTimestampIn: registeredMetric(registry, Gauge, { name: 'sentinel_remote_storage_highest_timestamp_in_seconds', help: 'Newest sample timestamp queued, in Unix seconds.', labelNames: LABELS }),
    highestSentTimestamp: registeredMetric(registry, Gauge, { name: 'sentinel_remote_storage_queue_highest_sent_timestamp_seconds', help: 'Newest sample timestamp the remote storage accepted, in Unix seconds.', labelNames: LABELS }),
    bytesSent: registeredMetric(registry, Counter, { name: 'sentinel_remote_storage_bytes_total', help: 'Compressed request bytes the remote storage accepted.', labelNames: LABELS }),
    sendDuration: registeredMetric(registry, Histogram, {
      name: 'sentinel_remote_storage_sent_batch_duration_seconds',
      help: 'Duration of each send to the remote storage, whatever its outcome.',
      labelNames: LABELS,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60],
    }),
  };
}
