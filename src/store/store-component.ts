/**
 * StoreComponent: the daemon component (named `store`) that owns the sample store's life: it
 * applies retention periodically and closes the store at stop. It holds the clock (a scheduler,
 * like the probe scheduler); the store itself only takes `nowMs`.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';
import type { SampleStore } from './types.js';

/** DEFAULT_RETENTION_INTERVAL_MS: retention every 5 minutes keeps at most 5 m of surplus history. */
export const DEFAULT_RETENTION_INTERVAL_MS = 5 * 60_000;

/** StoreComponentOptions configure a StoreComponent. */
export interface StoreComponentOptions {
  readonly store: Pick<SampleStore, 'applyRetention' | 'close'>;
  readonly clock: Clock;
  readonly intervalMs?: number;
  readonly logger?: Logger;
  /** closeStoreOnStop closes the store at `stop` (the daemon's last user of it). Default true. */
  readonly closeStoreOnStop?: boolean;
}

/**
 * StoreComponent applies retention at start and every `intervalMs`, and (by default) closes the
 * store at stop, so `sentinel run` manages the store as one component.
 */
export class StoreComponent {
  readonly name = 'store';
  private readonly options: StoreComponentOptions;
  private readonly logger: Logger;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private ready = false;

  constructor(options: StoreComponentOptions) {
    const intervalMs = options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
    if (!(intervalMs > 0)) throw new RangeError(`StoreComponent: intervalMs must be > 0, got ${intervalMs}`);
    this.options = { ...options, intervalMs };
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.applyOnce();
    this.ready = true;
    this.loop = this.run();
  }

  isReady(): boolean {
    return this.ready;
  }

  /** stop ends the loop and closes the store; `deadlineMs` is not needed, both are immediate. */
  async stop(_deadlineMs: number): Promise<void> {
    this.ready = false;
    this.stopController.abort();
    await this.loop;
    if (this.options.closeStoreOnStop !== false) await this.options.store.close();
  }

  private async run(): Promise<void> {
    const { clock, intervalMs } = this.options;
    for (;;) {
      try {
        await clock.sleep(intervalMs as number, this.stopController.signal);
      } catch {
        return;
      }
      this.applyOnce();
    }
  }

  private applyOnce(): void {
    try {
      this.options.store.applyRetention(this.options.clock.nowMs());
    } catch (err) {
      // A failed pass is retried at the next interval; the loop must outlive it.
      this.logger.error({ err }, 'sample store retention failed');
    }
  }
}
