import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../time/index.js';
import type { ToxicWrapper } from './toxic-wrapper.js';
import type { ChunkSink, StubContext } from './toxic-stub.js';
import { ToxicStub } from './toxic-stub.js';
import type { Chunk } from './toxics/index.js';
import { NoopToxic } from './toxics/index.js';

/** Direction is a link's stream: upstream = client → server, downstream = server → client. */
export type Direction = 'upstream' | 'downstream';

/**
 * Flow-control marks for bytes read but not yet written on (or dropped by) a link. High enough
 * that a 100 ms latency toxic still carries well over 100 MB/s, as Toxiproxy's 1024-chunk buffer does.
 */
const HIGH_WATER_BYTES = 32 * 1024 * 1024;
const LOW_WATER_BYTES = 8 * 1024 * 1024;
/** A closing socket whose peer never reads is destroyed after this long. */
const CLOSE_FLUSH_DEADLINE_MS = 5_000;

/** ToxicLinkOptions wires one direction of a proxied connection. */
export interface ToxicLinkOptions {
  readonly direction: Direction;
  readonly source: Socket;
  readonly dest: Socket;
  readonly clock: Clock;
  readonly logger: Logger;
  /** isLingerZero tells whether closing `dest` must be an RST (reset_peer was present at accept). */
  readonly isLingerZero: () => boolean;
}

const NOOP = new NoopToxic();

/**
 * ToxicLink is one direction of a connection (Toxiproxy's ToxicLink): source socket → a hidden
 * noop stage → one stage per toxic of its stream, in add order → destination socket. Toxics are
 * added, updated and removed on the live link without dropping or reordering data. The end of
 * the source ends the link, and the end of the link closes the destination fully (no half-close).
 */
export class ToxicLink {
  readonly direction: Direction;
  private stubs: ToxicStub[] = [];
  private pendingBytes = 0;
  private isPaused = false;
  private sourceEnded = false;
  private readonly ctx: StubContext;
  private readonly sink: ChunkSink;

  constructor(private readonly opts: ToxicLinkOptions) {
    this.direction = opts.direction;
    this.ctx = { clock: opts.clock, logger: opts.logger, release: (n) => this.release(n) };
    this.sink = { push: (item) => this.write(item) };
  }

  /** start builds the stages for `chain` (this stream's toxics) and starts reading the source. */
  start(chain: readonly ToxicWrapper[]): void {
    const stages: Array<ToxicWrapper | null> = [null, ...chain];
    let next: ChunkSink = this.sink;
    const stubs: ToxicStub[] = [];
    for (let i = stages.length - 1; i >= 0; i--) {
      const stub = new ToxicStub(this.ctx, next);
      stubs.unshift(stub);
      next = stub;
    }
    this.stubs = stubs;
    stages.forEach((w, i) => {
      if (w?.toxic.newState) stubs[i].state = w.toxic.newState();
      if (w) stubs[i].run(w.toxic, w.toxicity);
      else stubs[i].run(NOOP, 1);
    });
    const { source } = this.opts;
    source.on('data', (data: Buffer) => this.onData(data));
    const end = (): void => this.endSource();
    source.on('end', end);
    source.on('close', end);
    source.on('error', end);
  }

  /** addToxic appends a stage for `w` (already appended to the chain) on the live link. */
  async addToxic(w: ToxicWrapper, previous: ToxicWrapper | null): Promise<void> {
    const last = this.stubs[this.stubs.length - 1];
    const stub = new ToxicStub(this.ctx, last.output);
    this.stubs.push(stub);
    if (await last.interrupt()) {
      last.output = stub;
      if (w.toxic.newState) stub.state = w.toxic.newState();
      stub.run(w.toxic, w.toxicity);
      this.restart(last, previous);
    } else {
      stub.markClosed();
    }
  }

  /** updateToxic restarts the stage at chain index `index` with the toxic's new settings. */
  async updateToxic(w: ToxicWrapper, index: number): Promise<void> {
    const stub = this.stubs[index + 1];
    if (stub && (await stub.interrupt())) stub.run(w.toxic, w.toxicity);
  }

  /**
   * removeToxic takes out the stage at chain index `index`, flushing what it held onward;
   * `previous` is the toxic before it (null for the hidden noop), which restarts and re-rolls.
   */
  async removeToxic(w: ToxicWrapper, index: number, previous: ToxicWrapper | null): Promise<void> {
    const i = index + 1;
    const stub = this.stubs[i];
    if (!stub || !(await stub.interrupt())) return;
    if (w.toxic.cleanup) {
      w.toxic.cleanup(stub);
      if (stub.closed) {
        // The previous stage keeps feeding the closed one, which discards: the stream is over.
        this.stubs.splice(i, 1);
        return;
      }
    }
    const prev = this.stubs[i - 1];
    await prev.interrupt();
    // Both stages are stopped: what the removed one still queues goes on, in order, first.
    const closed = stub.flushInput();
    prev.output = stub.output;
    this.stubs.splice(i, 1);
    if (!closed) this.restart(prev, previous);
  }

  /** kill stops every stage for good; the connection is gone. */
  kill(): void {
    for (const stub of this.stubs) stub.kill();
  }

  private restart(stub: ToxicStub, w: ToxicWrapper | null): void {
    if (w) stub.run(w.toxic, w.toxicity);
    else stub.run(NOOP, 1);
  }

  private onData(data: Buffer): void {
    if (this.sourceEnded) return;
    const chunk: Chunk = { data, receivedAtMs: this.opts.clock.nowMs() };
    this.pendingBytes += data.length;
    if (this.pendingBytes > HIGH_WATER_BYTES && !this.isPaused) {
      this.isPaused = true;
      this.opts.source.pause();
    }
    // No toxic on this stream and nothing queued: straight to the destination, without the
    // stage's turn of the promise loop per chunk (throughput at par with a plain pipe).
    if (this.stubs.length === 1 && this.stubs[0].isIdlePassThrough) this.write(chunk);
    else this.stubs[0].push(chunk);
  }

  private endSource(): void {
    if (this.sourceEnded) return;
    this.sourceEnded = true;
    this.stubs[0]?.push(null);
  }

  private release(bytes: number): void {
    this.pendingBytes -= bytes;
    if (this.isPaused && this.pendingBytes < LOW_WATER_BYTES) {
      this.isPaused = false;
      if (!this.opts.source.destroyed) this.opts.source.resume();
    }
  }

  private write(item: Chunk | null): void {
    const { dest } = this.opts;
    if (item === null) {
      this.closeDest();
      return;
    }
    if (dest.destroyed || dest.writableEnded) {
      this.release(item.data.length);
      return;
    }
    const n = item.data.length;
    if (n === 0) return;
    dest.write(item.data, () => this.release(n));
  }

  private closeDest(): void {
    const { dest } = this.opts;
    if (dest.destroyed) return;
    if (this.opts.isLingerZero()) {
      dest.resetAndDestroy();
      return;
    }
    if (dest.writableEnded) return;
    const timer = setTimeout(() => dest.destroy(), CLOSE_FLUSH_DEADLINE_MS);
    timer.unref();
    dest.end(() => {
      clearTimeout(timer);
      dest.destroy();
    });
  }
}
