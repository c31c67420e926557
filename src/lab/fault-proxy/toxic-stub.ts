import type { Logger } from 'pino';
import type { Clock } from '../../time/index.js';
import type { Chunk, StubIo, Toxic } from './toxics/index.js';
import { INTERRUPTED, NoopToxic, TIMED_OUT } from './toxics/index.js';

/** ChunkSink receives a stage's output: chunks, then `null` for EOF. */
export interface ChunkSink {
  push(item: Chunk | null): void;
}

/** StubContext is what a stage needs from its link. */
export interface StubContext {
  readonly clock: Clock;
  readonly logger: Logger;
  /** release returns bytes to the link's flow control (sent, discarded or dropped). */
  release(bytes: number): void;
}

const NOOP: Toxic = new NoopToxic();

/**
 * ToxicStub is one stage of a link (Toxiproxy's ToxicStub): an input queue, an output sink, and
 * the toxic currently piping between them. Pushes never block; the link pauses its source
 * socket instead, so a stage that holds data applies back-pressure.
 */
export class ToxicStub implements StubIo, ChunkSink {
  output: ChunkSink;
  state: unknown = undefined;
  private readonly queue: Array<Chunk | null> = [];
  /** inputEnded: EOF was taken off the queue; like a closed Go channel it keeps reading as EOF. */
  private inputEnded = false;
  private interruptPending = false;
  private killed = false;
  private isClosed = false;
  private waiter: (() => void) | null = null;
  private sleepAbort: AbortController | null = null;
  private running: Promise<void> | null = null;
  private throughSleep = false;
  private runsNoop = false;

  constructor(
    private readonly ctx: StubContext,
    output: ChunkSink,
  ) {
    this.output = output;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  push(item: Chunk | null): void {
    if (this.isClosed || this.killed) {
      if (item) this.ctx.release(item.data.length);
      return;
    }
    this.queue.push(item);
    this.wake();
  }

  nowMs(): number {
    return this.ctx.clock.nowMs();
  }

  async next(): Promise<Chunk | null | typeof INTERRUPTED> {
    const r = await this.nextWithin(Infinity);
    return r === TIMED_OUT ? INTERRUPTED : r;
  }

  async nextWithin(ms: number): Promise<Chunk | null | typeof INTERRUPTED | typeof TIMED_OUT> {
    let timedOut = false;
    let timer: AbortController | null = null;
    try {
      for (;;) {
        if (this.killed) return INTERRUPTED;
        if (this.interruptPending) {
          this.interruptPending = false;
          return INTERRUPTED;
        }
        if (this.inputEnded) return null;
        if (this.queue.length > 0) {
          const item = this.queue.shift() as Chunk | null;
          if (item === null) this.inputEnded = true;
          return item;
        }
        if (timedOut) return TIMED_OUT;
        if (Number.isFinite(ms) && !timer) {
          timer = new AbortController();
          this.ctx.clock.sleep(ms, timer.signal).then(
            () => {
              timedOut = true;
              this.wake();
            },
            () => undefined,
          );
        }
        await new Promise<void>((resolve) => {
          this.waiter = resolve;
        });
      }
    } finally {
      timer?.abort();
    }
  }

  async sleep(ms: number): Promise<boolean> {
    if (this.killed) return false;
    if (this.interruptPending) {
      this.interruptPending = false;
      return false;
    }
    if (!(ms > 0)) return true;
    const ac = new AbortController();
    this.sleepAbort = ac;
    try {
      await this.ctx.clock.sleep(ms, ac.signal);
      return true;
    } catch {
      // Aborted by interrupt() or kill(): report it and consume the interrupt.
      this.interruptPending = false;
      return false;
    } finally {
      if (this.sleepAbort === ac) this.sleepAbort = null;
    }
  }

  async sleepThrough(ms: number): Promise<void> {
    if (this.killed || !(ms > 0)) return;
    const ac = new AbortController();
    this.sleepAbort = ac;
    this.throughSleep = true;
    try {
      await this.ctx.clock.sleep(ms, ac.signal);
    } catch {
      // Only kill() aborts this sleep; interrupt() waits it out, as Toxiproxy's reset_peer does.
    } finally {
      this.throughSleep = false;
      if (this.sleepAbort === ac) this.sleepAbort = null;
    }
  }

  send(chunk: Chunk): void {
    this.output.push(chunk);
  }

  discard(bytes: number): void {
    this.ctx.release(bytes);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.releaseQueue();
    this.output.push(null);
  }

  /** markClosed closes the stage without emitting EOF (a stage added to a link already closed). */
  markClosed(): void {
    this.isClosed = true;
  }

  /** run starts piping with `toxic`, or with a noop when the toxicity coin flip says so. */
  /**
   * isIdlePassThrough tells whether this stage runs the noop toxic and waits on an empty queue:
   * a chunk handed straight to its output now leaves in the same order as one sent through it.
   */
  get isIdlePassThrough(): boolean {
    return this.runsNoop && this.waiter !== null && this.queue.length === 0 && !this.interruptPending && !this.isClosed && !this.killed;
  }

  run(toxic: Toxic, toxicity: number): void {
    const chosen = Math.random() < toxicity ? toxic : NOOP;
    this.runsNoop = chosen instanceof NoopToxic;
    this.running = (async () => {
      try {
        await chosen.pipe(this);
      } catch (err) {
        this.ctx.logger.warn({ err }, 'fault-proxy: toxic failed; closing its link');
        this.close();
      }
    })();
  }

  /**
   * interrupt stops the running toxic so the chain can be rewired. True if it stopped on the
   * interrupt; false if the stage closed (or was killed) instead.
   */
  async interrupt(): Promise<boolean> {
    if (this.isClosed || this.killed) return false;
    const running = this.running;
    if (!running) return true;
    this.interruptPending = true;
    this.wake();
    if (!this.throughSleep) this.sleepAbort?.abort();
    await running;
    const consumed = !this.interruptPending;
    this.interruptPending = false;
    return consumed && !this.killed;
  }

  /**
   * flushInput moves what is queued on this (stopped) stage's input to its output, as Toxiproxy
   * does when removing a toxic; true if that carried EOF and closed the stage.
   */
  flushInput(): boolean {
    while (this.queue.length > 0) {
      const item = this.queue.shift() as Chunk | null;
      if (item === null) {
        this.inputEnded = true;
        break;
      }
      this.output.push(item);
    }
    if (this.inputEnded && !this.isClosed) {
      this.close();
      return true;
    }
    return this.isClosed;
  }

  /** kill ends the stage for good (the connection is gone): no restart, held data released. */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.sleepAbort?.abort();
    this.releaseQueue();
    this.wake();
  }

  private releaseQueue(): void {
    for (const item of this.queue.splice(0)) if (item) this.ctx.release(item.data.length);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
