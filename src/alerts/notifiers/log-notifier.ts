/**
 * log-notifier: writes each alert it is given to the logger, one line per alert. It is the
 * notifier of last resort (no receiver configured) and a readable trace beside the others.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { formatGoTime, notifierMetrics } from '../notifier.js';
import type { NotifiableAlert, Notifier, NotifyOutcome } from '../notifier.js';

/** LogNotifierOptions configure the log notifier. */
export interface LogNotifierOptions {
  readonly name?: string;
  readonly logger?: Logger;
  readonly registry: Registry;
}

/** LogNotifier logs firing alerts at `warn` and resolved ones at `info`; it cannot fail or queue. */
export class LogNotifier implements Notifier {
  readonly name: string;
  private readonly logger: Logger;
  private readonly metrics: ReturnType<typeof notifierMetrics>;

  constructor(options: LogNotifierOptions) {
    this.name = options.name ?? 'log';
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.metrics = notifierMetrics(options.registry, this.name, () => 0);
  }

  async send(alerts: readonly NotifiableAlert[]): Promise<NotifyOutcome> {
    for (const a of alerts) {
      const fields = {
        notifier: this.name,
        alert: { ...a.labels },
        annotations: { ...a.annotations },
        startsAt: formatGoTime(a.startsAtMs),
        endsAt: formatGoTime(a.endsAtMs),
      };
      if (a.isResolved) this.logger.info(fields, `alert resolved: ${a.labels.alertname ?? ''}`);
      else this.logger.warn(fields, `alert firing: ${a.labels.alertname ?? ''}`);
    }
    if (alerts.length > 0) this.metrics.notifications.inc({ notifier: this.name, result: 'logged' }, alerts.length);
    return { accepted: alerts.length, skipped: 0, dropped: 0 };
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async flush(): Promise<boolean> {
    return true;
  }

  queueLength(): number {
    return 0;
  }
}
