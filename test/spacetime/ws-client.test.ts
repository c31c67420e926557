import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { SpacetimeWsClient } from '../../src/spacetime/index.js';
import type { RequestError } from '../../src/errors.js';
import { ReducerError } from '../../src/errors.js';

const ID = 'c2001a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3cyJ9.c2lnbmF0dXJl';
const hello = `{"IdentityToken":{"identity":{"__identity__":"0x${ID}"},"token":"${TOKEN}","connection_id":{"__connection_id__":176403012345678901234567890123456789012}}}`;

/** Script decides what the fake server does with one connection. */
type Script = (ws: WebSocket, req: IncomingMessage) => void;
let script: Script = (ws) => ws.send(hello);
let http: Server;
let wss: WebSocketServer;
let base: string;

beforeAll(async () => {
  http = createServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('no valid protocol selected');
  });
  wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('v1.json.spacetimedb') ? 'v1.json.spacetimedb' : false) });
  http.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/refuse')) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 24\r\n\r\n`autopilot-x` not found\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => script(ws, req));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  http.closeAllConnections();
  await new Promise<void>((r) => http.close(() => r()));
});

function client(extra: Partial<ConstructorParameters<typeof SpacetimeWsClient>[0]> = {}): SpacetimeWsClient {
  return new SpacetimeWsClient({ baseUrl: base, database: 'autopilot-sync', timeoutMs: 2000, ...extra });
}

describe('SpacetimeWsClient against a scripted server', () => {
  it('offers v1.json, sends the token as a header or query, and returns the IdentityToken', async () => {
    let seenReq: IncomingMessage | undefined;
    script = (ws, req) => {
      seenReq = req;
      ws.send(hello);
    };
    const c = client({ token: TOKEN });
    const h = await c.connect();
    expect(h).toEqual({ type: 'IdentityToken', identity: ID, token: TOKEN, connectionId: '176403012345678901234567890123456789012' });
    expect(seenReq?.headers['sec-websocket-protocol']).toBe('v1.json.spacetimedb');
    expect(seenReq?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seenReq?.url).toBe('/v1/database/autopilot-sync/subscribe');
    await c.close();

    const q = client({ token: TOKEN, tokenVia: 'query' });
    await q.connect();
    expect(seenReq?.headers.authorization).toBeUndefined();
    expect(new URL(seenReq?.url ?? '', base).searchParams.get('token')).toBe(TOKEN);
    expect(q.endpoint).not.toContain(TOKEN);
    await q.close();
  });

  it('correlates a Failed reply with request_id 0 to the outstanding call, in order', async () => {
    script = (ws) => {
      ws.send(hello);
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { CallReducer: { reducer: string; request_id: number; args: string } };
        const args = JSON.parse(m.CallReducer.args) as unknown[];
        const base = { timestamp: { __timestamp_micros_since_unix_epoch__: 1 }, caller_identity: { __identity__: `0x${ID}` }, caller_connection_id: { __connection_id__: 5 }, energy_quanta_used: { quanta: 0 }, total_host_execution_duration: { __time_duration_micros__: 1 } };
        if (args[0] === 'bad') {
          ws.send(JSON.stringify({ TransactionUpdate: { ...base, status: { Failed: 'stream_id is required' }, reducer_call: { reducer_name: m.CallReducer.reducer, reducer_id: 2, args: m.CallReducer.args, request_id: 0 } } }));
        } else {
          ws.send(JSON.stringify({ TransactionUpdate: { ...base, status: { Committed: { tables: [] } }, reducer_call: { reducer_name: m.CallReducer.reducer, reducer_id: 2, args: m.CallReducer.args, request_id: m.CallReducer.request_id } } }));
        }
      });
    };
    const c = client();
    await c.connect();
    const [a, b, d] = await Promise.allSettled([c.callReducer('append_sync_event', ['ok']), c.callReducer('append_sync_event', ['bad']), c.callReducer('heartbeat', [])]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    const err = (b as PromiseRejectedResult).reason as ReducerError;
    expect(err).toBeInstanceOf(ReducerError);
    expect(err.reducerMessage).toBe('stream_id is required');
    expect(d.status).toBe('fulfilled');
    await c.close();
  });

  it('puts malformed frames in the stream as ProtocolError and keeps going', async () => {
    script = (ws) => {
      ws.send(hello);
      ws.send('{"TransactionUpdateLight": {broken');
      ws.send(Buffer.from([1, 2, 3]), { binary: true });
      ws.send('{"TransactionUpdateLight":{"request_id":0,"update":{"tables":[{"table_id":1,"table_name":"stream_head","num_rows":1,"updates":[{"deletes":[],"inserts":["[\\"x\\",3,17]"]}]}]}}}');
    };
    const c = client();
    await c.connect();
    expect((await c.next()).type).toBe('ProtocolError');
    expect(await c.next()).toEqual({ type: 'ProtocolError', reason: 'binary frame on the v1.json protocol' });
    const m = await c.next();
    expect(m).toMatchObject({ type: 'TransactionUpdateLight', tables: [{ inserts: [{ stream_id: 'x', head_seq: 3, updated_at_unix_ms: 17 }] }] });
    const err = await c.next({ timeoutMs: 50 }).catch((e: unknown) => e);
    expect((err as RequestError).code).toBe('SENTINEL_TIMEOUT');
    await c.close();
  });

  it('closes on a frame over the size cap and reports it, ending the stream with Closed', async () => {
    script = (ws) => {
      ws.send(hello);
      setTimeout(() => ws.send(`{"Other":"${'x'.repeat(5000)}"}`), 10);
    };
    const c = client({ maxFrameBytes: 1024 });
    await c.connect();
    const m = await c.next();
    expect(m.type).toBe('Closed');
    if (m.type === 'Closed') expect(m.code).toBe(1009);
    expect((await c.next()).type).toBe('Closed');
    await expect(c.callReducer('heartbeat', [])).rejects.toMatchObject({ code: 'SENTINEL_PROTOCOL' });
  });

  it('fails connect with a reason: refused upgrade, no IdentityToken, wrong first message, closed port', async () => {
    const refused = await client({ path: '/refuse/{database}' }).connect().catch((e: unknown) => e as RequestError);
    expect(refused).toMatchObject({ code: 'SENTINEL_HTTP_STATUS', status: 404 });
    expect((refused as RequestError).excerpt).toContain('not found');

    script = () => undefined;
    const silent = client({ timeoutMs: 100 });
    await expect(silent.connect()).rejects.toMatchObject({ code: 'SENTINEL_TIMEOUT' });

    script = (ws) => ws.send('{"TransactionUpdateLight":{"request_id":0,"update":{"tables":[]}}}');
    await expect(client().connect()).rejects.toMatchObject({ code: 'SENTINEL_PROTOCOL' });

    script = (ws) => ws.terminate();
    await expect(client().connect()).rejects.toMatchObject({ code: 'SENTINEL_PROTOCOL' });

    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const err = await new SpacetimeWsClient({ baseUrl: `http://127.0.0.1:${port}`, database: 'db' }).connect().catch((e: unknown) => e as RequestError);
    expect(err).toMatchObject({ code: 'SENTINEL_UNREACHABLE' });
  });

  it('bounds the unread stream: overflow closes the connection instead of dropping messages', async () => {
    const light = '{"TransactionUpdateLight":{"request_id":0,"update":{"tables":[]}}}';
    script = (ws) => {
      ws.send(hello);
      for (let i = 0; i < 20; i++) ws.send(light);
    };
    const c = client({ maxQueuedMessages: 5 });
    await c.connect();
    const info = await c.closed;
    expect(info.code).toBe(1008);
    let n = 0;
    for (;;) {
      const m = await c.next();
      if (m.type === 'Closed') break;
      n++;
    }
    expect(n).toBe(5);
  });
});
