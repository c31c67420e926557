/**
 * Test helpers for the lab: start a lab on ephemeral ports, talk to it over HTTP and v1.json
 * WebSocket like a real client would.
 */
import WebSocket from 'ws';
import type { Lab, LabOptions } from '../../src/lab/index.js';
import { startLab } from '../../src/lab/index.js';

/** JsonObject is a parsed JSON object. */
export type JsonObject = Record<string, unknown>;

/** startTestLab starts a lab on port 0 everywhere, traffic paused unless the test says otherwise. */
export function startTestLab(options: LabOptions = {}): Promise<Lab> {
  return startLab({
    ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 },
    ...options,
    knobs: { traffic: { paused: true }, ...(options.knobs ?? {}) },
  });
}

/** dig reads a nested value by keys and array indexes. */
export function dig(value: unknown, ...path: Array<string | number>): unknown {
  let cur = value;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** dbUrl is the base URL of the lab's database routes. */
export function dbUrl(lab: Lab, db = 'autopilot-sync'): string {
  return `${lab.urls.spacetimedb}/v1/database/${db}`;
}

/** sql posts raw SQL text and returns status, body text and parsed JSON (when JSON). */
export async function sql(lab: Lab, query: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: unknown; headers: Headers }> {
  const res = await fetch(`${dbUrl(lab)}/sql`, { method: 'POST', body: query, headers, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** count runs `SELECT COUNT(*) AS n FROM <table>` and returns n. */
export async function count(lab: Lab, table: string, where = ''): Promise<number> {
  const r = await sql(lab, `SELECT COUNT(*) AS n FROM ${table} ${where}`);
  if (r.status !== 200) throw new Error(`count failed: ${r.status} ${r.text}`);
  return dig(r.json, 0, 'rows', 0, 0) as number;
}

/** call posts a reducer call with a JSON body. */
export async function call(lab: Lab, reducer: string, args: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${dbUrl(lab)}/call/${reducer}`, { method: 'POST', body: JSON.stringify(args), headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** appendArgs builds `append_sync_event` arguments. */
export function appendArgs(stream: string, key: string, expectedNextSeq = 0): unknown[] {
  return [stream, key, `sha256:${key}`, JSON.stringify({ key }), 1724300000000, 0, false, expectedNextSeq];
}

/** WsClient is a v1.json WebSocket client that records every message in order. */
export class WsClient {
  readonly messages: JsonObject[] = [];
  /** raw holds each message's text as received (for big-integer checks). */
  readonly raw: string[] = [];
  private consumed = 0;
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;
  closeReason = '';
  private readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.raw.push(data.toString());
      this.messages.push(JSON.parse(data.toString()) as JsonObject);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        for (const w of this.waiters.splice(0)) w();
        resolve();
      });
    });
  }

  /** open connects and waits for the socket to open (not for IdentityToken). */
  static open(lab: Lab, opts: { db?: string; protocols?: string[]; headers?: Record<string, string>; autoPong?: boolean; query?: string } = {}): Promise<WsClient> {
    const url = `${dbUrl(lab, opts.db).replace(/^http/, 'ws')}/subscribe${opts.query ?? ''}`;
    const ws = new WebSocket(url, opts.protocols ?? ['v1.json.spacetimedb'], { headers: opts.headers, autoPong: opts.autoPong ?? true });
    const client = new WsClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`unexpected response ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
    });
  }

  /** connect opens and waits for IdentityToken; returns the client and the IdentityToken body. */
  static async connect(lab: Lab, opts: Parameters<typeof WsClient.open>[1] = {}): Promise<{ client: WsClient; identity: string; token: string }> {
    const client = await WsClient.open(lab, opts);
    const msg = await client.next('IdentityToken');
    const identity = (dig(msg, 'IdentityToken', 'identity', '__identity__') as string).replace(/^0x/, '');
    return { client, identity, token: dig(msg, 'IdentityToken', 'token') as string };
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** next resolves with the next unconsumed message whose variant is `variant` (others before it are skipped). */
  async next(variant: string, timeoutMs = 3000): Promise<JsonObject> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.consumed < this.messages.length) {
        const m = this.messages[this.consumed] as JsonObject;
        this.consumed += 1;
        if (variant in m) return m;
      }
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode} ${this.closeReason}) while waiting for ${variant}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${variant}; got ${JSON.stringify(this.messages.map((x) => Object.keys(x)[0]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** quiet waits `ms` and returns the messages that arrived meanwhile (asserting absence). */
  async quiet(ms: number): Promise<JsonObject[]> {
    const from = this.messages.length;
    await new Promise((r) => setTimeout(r, ms));
    return this.messages.slice(from);
  }

  /** waitClosed resolves when the socket has closed. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    await Promise.race([this.closed, new Promise((_r, reject) => setTimeout(() => reject(new Error('socket did not close')), timeoutMs))]);
  }

  async close(): Promise<void> {
    if (this.closeCode !== undefined) return;
    this.ws.close();
    await this.waitClosed().catch(() => this.ws.terminate());
  }
}

/** rowsOf extracts the parsed rows of a TableUpdate list for one table and side. */
export function rowsOf(tables: unknown, table: string, side: 'inserts' | 'deletes'): unknown[] {
  const list = (tables as JsonObject[]) ?? [];
  const t = list.find((x) => x.table_name === table);
  if (!t) return [];
  return ((t.updates as JsonObject[]) ?? []).flatMap((u) => (u[side] as string[]).map((s) => JSON.parse(s) as unknown));
}

/** waitUntil polls `check` until it returns true or the deadline passes. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
