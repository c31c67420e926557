import type { GoField } from '../go-json.js';

/** Chunk is whatever one socket read returned, stamped with the time it was read (epoch ms). */
export interface Chunk {
  readonly data: Buffer;
  /** receivedAtMs moves forward as latency stages hold the chunk, so chained delays add up. */
  receivedAtMs: number;
}

/** INTERRUPTED is what `StubIo.next` returns when the stage must stop so the chain can be rewired. */
export const INTERRUPTED = Symbol('interrupted');

/** TIMED_OUT is what `StubIo.nextWithin` returns when no chunk came in time. */
export const TIMED_OUT = Symbol('timed-out');

/**
 * StubIo is what a toxic sees of its per-link stage (Toxiproxy's ToxicStub): an input of chunks
 * ending in `null` (EOF), an output, interrupts, and the per-link state.
 */
export interface StubIo {
  /** next resolves with the next chunk, `null` at EOF, or INTERRUPTED (consumed: return now). */
  next(): Promise<Chunk | null | typeof INTERRUPTED>;
  /** nextWithin is `next` that gives up with TIMED_OUT after `ms` without input. */
  nextWithin(ms: number): Promise<Chunk | null | typeof INTERRUPTED | typeof TIMED_OUT>;
  /** sleep waits `ms`; false means it was interrupted (consumed: forward what you hold, return). */
  sleep(ms: number): Promise<boolean>;
  /** sleepThrough waits `ms` ignoring interrupts (reset_peer's wait); only teardown cuts it short. */
  sleepThrough(ms: number): Promise<void>;
  send(chunk: Chunk): void;
  /** discard accounts for bytes a toxic eats, so the link's flow control stays balanced. */
  discard(bytes: number): void;
  /** close ends the stage's output (EOF downstream of it), which tears the connection down. */
  close(): void;
  readonly closed: boolean;
  nowMs(): number;
  /** state is the toxic's per-link state from `newState`, kept across updates. */
  state: unknown;
}

/**
 * Toxic is one toxic's settings plus its `pipe`, which moves chunks through one link's stage
 * until EOF (then it closes the stage) or an interrupt (then it returns, dropping nothing).
 */
export interface Toxic {
  /** attrs are the JSON attributes, in Go struct field order; integers. */
  readonly attrs: Record<string, number>;
  pipe(stub: StubIo): Promise<void>;
  /** cleanup runs when the toxic is removed from a live link (timeout closes the link). */
  cleanup?(stub: StubIo): void;
  /** newState makes per-link state that survives updates (limit_data's byte counter). */
  newState?(): unknown;
}

/** ToxicKind is a registry entry: the Go struct's name and fields, and a factory. */
export interface ToxicKind {
  /** goStruct is the Go type name used in decode errors, e.g. `LatencyToxic`. */
  readonly goStruct: string;
  readonly fields: readonly GoField[];
  create(): Toxic;
}
