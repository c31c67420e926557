/**
 * Debian's real `prometheus` as a remote-write receiver, fed by the sentinel's own RemoteWriter
 * tapped onto a store: how the remote-write tests, the external query source test and the
 * remote-write bench put the sentinel's samples into a real Prometheus.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createRemoteWriteMetrics, RemoteWriter, tapAppends } from '../../src/export/index.js';
import type { Appendable, RemoteWriterOptions } from '../../src/export/index.js';
import type { SampleStore } from '../../src/store/index.js';
import { startPrometheus } from './prometheus-process.js';
import type { PrometheusProcess } from './prometheus-process.js';

/** startRemoteWriteReceiver starts prometheus with `--web.enable-remote-write-receiver` and nothing to scrape. */
export function startRemoteWriteReceiver(dir: string): Promise<PrometheusProcess> {
  return startPrometheus({ dir, config: { global: { scrape_interval: '15s' }, scrape_configs: [] }, extraArgs: ['--web.enable-remote-write-receiver'] });
}

/** WriterOptions are the RemoteWriter's options; the URL and metrics come from the receiver and a fresh registry. */
export type WriterOptions = Omit<RemoteWriterOptions, 'url' | 'metrics' | 'timeoutMs' | 'externalLabels' | 'queueFile' | 'userAgent' | 'store'> &
  Partial<Pick<RemoteWriterOptions, 'timeoutMs' | 'externalLabels' | 'queueFile' | 'userAgent'>> & {
    readonly store: Appendable & Pick<SampleStore, 'select'>;
  };

/** ReceiverWriter is a started RemoteWriter to the receiver. */
export interface ReceiverWriter {
  readonly writer: RemoteWriter;
  /** sink is the store with the writer tapped on: what is committed through it is sent. */
  readonly sink: Appendable;
  /** registry holds the writer's metrics. */
  readonly registry: Registry;
  /** metric sums a metric of the writer's over its label sets (0 when it has none). */
  metric(name: string): Promise<number>;
  /** drain flushes the writer and waits (real time, at most a minute) until the receiver took every sample. */
  drain(): Promise<void>;
}

/**
 * startReceiverWriter starts a RemoteWriter to `prom` (defaults: a 10 s timeout, no external
 * labels, an in-memory queue, a test user agent, a silent logger).
 */
export async function startReceiverWriter(prom: PrometheusProcess, options: WriterOptions): Promise<ReceiverWriter> {
  const registry = new Registry();
  const writer = new RemoteWriter({
    url: `${prom.url}/api/v1/write`,
    timeoutMs: 10_000,
    externalLabels: {},
    queueFile: ':memory:',
    userAgent: 'spacetime-sentinel/test',
    logger: pino({ level: 'silent' }),
    ...options,
    metrics: createRemoteWriteMetrics(registry),
  });
  await writer.start();
  const metric = async (name: string): Promise<number> => (await registry.getSingleMetric(name)?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
  return {
    writer,
    sink: tapAppends(options.store, [writer]),
    registry,
    metric,
    async drain() {
      void writer.flush(options.clock.nowMs() + 3_600_000);
      const deadline = Date.now() + 60_000;
      while (writer.pending > 0) {
        if (Date.now() > deadline) throw new Error(`remote write did not drain within a minute; prometheus said: ${prom.output().slice(-1000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
