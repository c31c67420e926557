/**
 * readCapped: the one way the sentinel reads a whole HTTP message body (a request its servers
 * receive, a response its clients receive) without letting a peer make it hold more than a cap.
 */
import type { IncomingMessage } from 'node:http';

/**
 * BodyTooLargeError refuses a body over `limitBytes`, whether its Content-Length said so up front
 * (`declaredBytes`) or it grew past the cap as it arrived.
 */
export class BodyTooLargeError extends Error {
  constructor(
    readonly limitBytes: number,
    readonly declaredBytes?: number,
  ) {
    super(declaredBytes === undefined ? `body exceeds ${limitBytes} bytes` : `body of ${declaredBytes} bytes exceeds ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** BodyAbortedError is the caller's signal stopping the read. */
export class BodyAbortedError extends Error {
  constructor(options?: ErrorOptions) {
    super('body read aborted', options);
    this.name = 'BodyAbortedError';
  }
}

/**
 * readCapped resolves with the whole body of `message`, or rejects once: BodyTooLargeError (the
 * message is paused, not destroyed: a server may still answer 413 on the connection, a client
 * destroys it), BodyAbortedError (the signal), or the stream's own error, including a connection
 * closed before the body was complete (ECONNRESET).
 */
export async function readCapped(message: IncomingMessage, limitBytes: number, signal?: AbortSignal): Promise<Buffer> {
  return (await readUpTo(message, limitBytes, 'refuse', signal)).body;
}

/** BodyPrefix is the first bytes of a body; `truncated` says more followed. */
export interface BodyPrefix {
  readonly body: Buffer;
  readonly truncated: boolean;
}

/**
 * readPrefix resolves with the body of `message` when it fits in `limitBytes`, else with its
 * first `limitBytes` bytes and `truncated` (the message is paused there, its rest unread: the
 * caller destroys it). It rejects as readCapped does for an abort or a stream error.
 */
export function readPrefix(message: IncomingMessage, limitBytes: number, signal?: AbortSignal): Promise<BodyPrefix> {
  return readUpTo(message, limitBytes, 'truncate', signal);
}

/** readUpTo reads `message` until its end or `limitBytes`; past the cap it refuses or keeps the prefix, as `overCap` says. */
function readUpTo(message: IncomingMessage, limitBytes: number, overCap: 'refuse' | 'truncate', signal: AbortSignal | undefined): Promise<BodyPrefix> {
  const declared = Number(message.headers['content-length'] ?? NaN);
  if (overCap === 'refuse' && Number.isFinite(declared) && declared > limitBytes) return Promise.reject(new BodyTooLargeError(limitBytes, declared));
  if (signal?.aborted) return Promise.reject(new BodyAbortedError({ cause: signal.reason }));
  return new Promise<BodyPrefix>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    // The error listener stays after the read is settled: an 'error' the stream emits later (the
    // peer went away) must not become an uncaught exception.
    const finish = (outcome: BodyPrefix | Error): void => {
      if (done) return;
      done = true;
      message.off('data', onData);
      signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      const room = limitBytes - size;
      size += chunk.byteLength;
      if (size <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      message.pause();
      if (overCap === 'refuse') {
        finish(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk.subarray(0, room));
      finish({ body: Buffer.concat(chunks), truncated: true });
    };
    const onEnd = (): void => finish({ body: Buffer.concat(chunks), truncated: false });
    const onError = (err: Error): void => finish(err);
    const onClose = (): void => {
      if (!message.complete) finish(Object.assign(new Error('the connection closed before the body was complete'), { code: 'ECONNRESET' }));
    };
    const onAbort = (): void => finish(new BodyAbortedError({ cause: signal?.reason }));
    message.on('data', onData);
    message.on('end', onEnd);
    message.on('error', onError);
    message.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
