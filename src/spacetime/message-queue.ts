/**
 * MessageQueue is an ordered, bounded hand-off from a socket's event handler to one consumer
 * that awaits items with a deadline. Items are never dropped or reordered: when the bound is
 * reached `push` reports it and the owner decides (the WebSocket client closes the connection,
 * like a server shedding a slow consumer).
 */

interface Waiter<T> {
  resolve: (item: T) => void;
}

/** MessageQueue holds items until `next` takes them, in arrival order. */
export class MessageQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiters: Array<Waiter<T>> = [];

  constructor(private readonly maxItems: number) {}

  /** size is the number of items waiting. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** push delivers an item; false means the bound was reached and the item was not queued. */
  push(item: T): boolean {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(item);
      return true;
    }
    if (this.size >= this.maxItems) return false;
    this.items.push(item);
    return true;
  }

  /** pushForce queues an item past the bound (used for the final Closed marker). */
  pushForce(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.items.push(item);
  }

  /** tryShift takes the oldest item without waiting. */
  tryShift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.head++;
    // Compact occasionally so a long-lived queue does not keep consumed items alive.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  /**
   * next resolves with the oldest item, waiting until one arrives. It rejects with `onTimeout()`
   * after `timeoutMs`, or with `onAbort()` when the signal aborts.
   */
  next(timeoutMs: number, signal: AbortSignal | undefined, onTimeout: () => Error, onAbort: () => Error): Promise<T> {
    const ready = this.tryShift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (signal?.aborted) return Promise.reject(onAbort());
    return new Promise<T>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      const waiter: Waiter<T> = {
        resolve: (item) => {
          cleanup();
          resolve(item);
        },
      };
      const abort = (): void => {
        cleanup();
        reject(onAbort());
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(onTimeout());
      }, timeoutMs);
      signal?.addEventListener('abort', abort, { once: true });
      this.waiters.push(waiter);
    });
  }
}
