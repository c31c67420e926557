/**
 * http-helpers: the few node:http chores every lab service shares (bounded body reads, text and
 * JSON answers, listening and closing with a deadline).
 */
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLargeError, readCapped } from '../net/index.js';

export { BodyTooLargeError } from '../net/index.js';

/** MAX_BODY_BYTES bounds every request body the lab reads (SpacetimeDB's own limit is larger). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** readBody reads a whole request body, refusing more than `limitBytes` with a BodyTooLargeError (the request is destroyed). */
export async function readBody(req: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<Buffer> {
  try {
    return await readCapped(req, limitBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) req.destroy();
    throw err;
  }
}

/** sendText answers with a text/plain body (SpacetimeDB's error bodies are text, not JSON). */
export function sendText(res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** sendJson answers with a JSON body already serialized by the caller, or an object to serialize. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** sendEmpty answers with no body. */
export function sendEmpty(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-length': 0 });
  res.end();
}

/** listen binds `server` to host:port (0 = ephemeral) and returns its `http://host:port` URL. */
export function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve(`http://${h}:${addr.port}`);
    });
  });
}

/** closeServer stops accepting, drops idle and then all sockets by `deadlineMs`, and resolves. */
export function closeServer(server: Server, deadlineMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, deadlineMs));
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** bearerToken extracts the token of an `Authorization: Bearer …` header, if well formed. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}
