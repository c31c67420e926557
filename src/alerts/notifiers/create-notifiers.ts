/**
 * create-notifiers: builds the notifiers the `alerting:` settings ask for. The settings are
 * typed structurally (no import of the config module, which depends on this one), so the
 * daemon's validated `config.alerting` can be passed as is.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Clock } from '../../time/index.js';
import type { Notifier, SecretLike } from '../notifier.js';
import { AlertmanagerNotifier } from './alertmanager-notifier.js';
import { LogNotifier } from './log-notifier.js';
import { WebhookNotifier } from './webhook-notifier.js';

export type { SecretLike };

/** NotifierSettings are the parts of the `alerting:` config section the notifiers use. */
export interface NotifierSettings {
  readonly externalUrl: string;
  readonly queueCapacity: number;
  /** queueDir holds the durable queues (one sqlite file per receiver). */
  readonly queueDir: string;
  readonly alertmanagers: ReadonlyArray<{ readonly url: string; readonly timeoutMs: number; readonly bearerToken?: SecretLike }>;
  readonly webhooks: ReadonlyArray<{ readonly url: string; readonly timeoutMs: number; readonly bearerToken?: SecretLike; readonly receiver: string }>;
  readonly log: boolean;
}

/**
 * createNotifiers returns one notifier per Alertmanager (named `alertmanager`, or
 * `alertmanager-<n>` when there are several, so each has its own queue, token and metrics), one
 * per webhook (named after its receiver) and the log notifier when asked for, or when nothing
 * else is configured (alerts must go somewhere visible).
 */
export function createNotifiers(settings: NotifierSettings, deps: { readonly clock: Clock; readonly registry: Registry; readonly logger: Logger; readonly tracer?: Tracer }): Notifier[] {
  const out: Notifier[] = [];
  // Names key the queue files and metric labels, so two receivers must never share one.
  const used = new Set<string>();
  const unique = (name: string): string => {
    let candidate = name;
    for (let i = 2; used.has(candidate); i++) candidate = `${name}-${i}`;
    used.add(candidate);
    return candidate;
  };
  settings.alertmanagers.forEach((am, i) => {
    out.push(
      new AlertmanagerNotifier({
        name: unique(settings.alertmanagers.length === 1 ? 'alertmanager' : `alertmanager-${i + 1}`),
        urls: [am.url],
        timeoutMs: am.timeoutMs,
        bearerToken: am.bearerToken,
        queueDir: settings.queueDir,
        maxQueueItems: settings.queueCapacity,
        clock: deps.clock,
        registry: deps.registry,
        logger: deps.logger,
        ...(deps.tracer ? { tracer: deps.tracer } : {}),
      }),
    );
  });
  for (const wh of settings.webhooks) {
    out.push(
      new WebhookNotifier({
        name: unique(wh.receiver),
        url: wh.url,
        timeoutMs: wh.timeoutMs,
        bearerToken: wh.bearerToken,
        externalURL: settings.externalUrl,
        queueDir: join(settings.queueDir, 'webhooks'),
        maxQueueItems: settings.queueCapacity,
        clock: deps.clock,
        registry: deps.registry,
        logger: deps.logger,
        ...(deps.tracer ? { tracer: deps.tracer } : {}),
      }),
    );
  }
  if (settings.log || out.length === 0) out.push(new LogNotifier({ registry: deps.registry, logger: deps.logger }));
  return out;
}
