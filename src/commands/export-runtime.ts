/**
 * remoteWritersFor: one `RemoteWriter` per `export.remote_write` endpoint, sharing one set of
 * instruments. The daemon starts them before the probes (their queues open before the first
 * commit) and stops them after (what the last probes measured is still sent or kept on disk).
 * The remote_write code (protobufjs, snappyjs, the queue) is imported only when endpoints are
 * configured, so a daemon without them does not carry it in memory.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { RemoteWriter } from '../export/index.js';
import type { SampleStore } from '../store/index.js';
import type { Clock } from '../time/index.js';

/** RemoteWriteDeps are the daemon's shared parts the writers use. */
export interface RemoteWriteDeps {
  readonly store: Pick<SampleStore, 'select'>;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly version: string;
}

/** BuildRemoteWriters constructs (and starts nothing of) the configured remote-write endpoints. */
export type BuildRemoteWriters = (deps: RemoteWriteDeps) => RemoteWriter[];

/** remoteWritersFor loads what the configured endpoints need and returns their builder (none: no import). */
export async function remoteWritersFor(config: Config): Promise<BuildRemoteWriters> {
  if (config.export.remoteWrite.length === 0) return () => [];
  const { createRemoteWriteMetrics, RemoteWriter } = await import('../export/index.js');
  return (deps) => {
    const metrics = createRemoteWriteMetrics(deps.registry);
    return config.export.remoteWrite.map(
      (target) =>
        new RemoteWriter({
          name: target.name,
          url: target.url,
          timeoutMs: target.timeoutMs,
          externalLabels: target.externalLabels,
          ...(target.basicAuth ? { basicAuth: { username: target.basicAuth.username, password: target.basicAuth.password } } : {}),
          ...(target.bearerToken ? { bearerToken: target.bearerToken } : {}),
          queue: target.queue,
          queueFile: target.queueFile,
          store: deps.store,
          clock: deps.clock,
          metrics,
          userAgent: `spacetime-sentinel/${deps.version}`,
          logger: deps.logger.child({ component: 'remote-write' }),
        }),
    );
  };
}
