/**
 * Canary events: what the sentinel appends to its own streams with `append_sync_event`. The
 * idempotency key is unique per probe instance and event, so a retried call is an idempotent
 * duplicate and never a second event.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { JsonValue } from '../../spacetime/index.js';

/** CanaryEvent is one event the sentinel appends. */
export interface CanaryEvent {
  readonly streamId: string;
  readonly idempotencyKey: string;
  readonly payloadJson: string;
  readonly payloadHash: string;
  readonly committedAtUnixMs: number;
}

/** CanaryEventFactory mints events for one probe instance. */
export class CanaryEventFactory {
  private readonly instanceId = randomBytes(6).toString('hex');
  private counter = 0;

  constructor(private readonly probe: string) {}

  /** next mints an event for `streamId` stamped with `nowMs`. */
  next(streamId: string, nowMs: number, runMs: number): CanaryEvent {
    const n = ++this.counter;
    const payloadJson = JSON.stringify({ sentinel: this.probe, run: runMs, n });
    return {
      streamId,
      idempotencyKey: `sentinel:${this.probe}:${this.instanceId}:${n}`,
      payloadJson,
      payloadHash: `sha256:${createHash('sha256').update(payloadJson).digest('hex')}`,
      committedAtUnixMs: Math.trunc(nowMs),
    };
  }
}

/** appendArgs are `append_sync_event`'s eight arguments in declaration order (no seq expectation). */
export function appendArgs(e: CanaryEvent): JsonValue[] {
  return [e.streamId, e.idempotencyKey, e.payloadHash, e.payloadJson, e.committedAtUnixMs, 0, false, 0];
}
