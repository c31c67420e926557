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
export function readCapped(message: IncomingMessage, limitBytes: number, signal?: AbortSignal): Promise<Buffer> {
  const declared = Number(message.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(new BodyTooLargeError(limitBytes, declared));
  if (signal?.aborted) return Promise.reject(new BodyAbortedError({ cause: signal.reason }));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    // The error listener stays after the read is settled: an 'error' the stream emits later (the
    // peer went away) must not become an uncaught exception.
    const finish = (outcome: Buffer | Error): void => {
      if (done) return;
      done = true;
      message.off('data', onData);
      signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > limitBytes) {
        message.pause();
        finish(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(Buffer.concat(chunks));
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
