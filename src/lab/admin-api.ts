/**
 * admin-api: the lab's own admin API: `GET /lab/state`
 * (ground truth) and `POST /lab/knobs` (change knobs, answer the new state; unknown knob → 400).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { LabKnobError } from '../errors.js';
import { closeServer, listen, readBody, sendJson } from './http-helpers.js';

/** AdminApiOptions: where to listen and the two operations it exposes. */
export interface AdminApiOptions {
  readonly host: string;
  readonly port: number;
  readonly state: () => unknown;
  /** setKnobs applies a knobs body and returns the new state; throws LabKnobError when refused. */
  readonly setKnobs: (body: unknown) => unknown;
  readonly logger: Logger;
}

/** AdminApi is the running admin API. */
export class AdminApi {
  private readonly server: Server;

  constructor(private readonly opts: AdminApiOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.logger.error({ err }, 'lab admin: request failed');
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'internal error' } });
        else res.destroy();
      });
    });
  }

  /** start listens and resolves to the base URL. */
  start(): Promise<string> {
    return listen(this.server, this.opts.host, this.opts.port);
  }

  /** close stops the server. */
  close(deadlineMs = 2000): Promise<void> {
    return closeServer(this.server, deadlineMs);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab');
    const method = req.method ?? 'GET';
    if (url.pathname === '/lab/state') {
      if (method !== 'GET') return sendJson(res, 405, { error: { code: 'method_not_allowed', message: 'use GET /lab/state' } });
      return sendJson(res, 200, this.opts.state());
    }
    if (url.pathname === '/lab/knobs') {
      if (method !== 'POST') return sendJson(res, 405, { error: { code: 'method_not_allowed', message: 'use POST /lab/knobs with a JSON object' } });
      const body = await readBody(req, 256 * 1024);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: { code: 'SENTINEL_LAB_KNOB', message: 'POST /lab/knobs: the body is not valid JSON; send an object such as {"traffic": {"paused": true}}' } });
      }
      try {
        return sendJson(res, 200, this.opts.setKnobs(parsed));
      } catch (err) {
        if (err instanceof LabKnobError) return sendJson(res, 400, { error: { code: err.code, message: err.message } });
        throw err;
      }
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    return sendJson(res, 404, { error: { code: 'not_found', message: `no route ${method} ${url.pathname}; the admin API serves GET /lab/state and POST /lab/knobs` } });
  }
}
