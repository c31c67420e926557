/**
 * The one "critical alerts firing" check, failing closed: from the store (the ALERTS series) and
 * from a running daemon's `GET /api/v1/alerts` over real HTTP. Anything but a well-formed answer
 * is an error (which every caller treats as a refusal), never "no alerts".
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { checkCriticalAlerts, daemonAlertsSource, queryAlertsSource } from '../../src/drills/critical-alerts.js';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function daemon(status: number, body: string): Promise<{ url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

const signal = new AbortController().signal;
const alert = (name: string, severity: string, state: string) => ({ labels: { alertname: name, severity }, annotations: {}, state, activeAt: '2026-11-25T17:00:00Z', value: '1e+00' });

describe('checkCriticalAlerts', () => {
  it('reads the ALERTS series of the store: only firing critical alerts count', async () => {
    const store = new MemoryStore();
    const engine = createEngine();
    const source = queryAlertsSource((e, t) => engine.instantQuery(store, e, t));
    expect(await checkCriticalAlerts(source, 1000, signal)).toMatchObject({ status: 'clear' });
    const app = store.appender();
    app.append({ __name__: 'ALERTS', alertname: 'Lag', alertstate: 'firing', severity: 'warning' }, 1000, 1);
    app.append({ __name__: 'ALERTS', alertname: 'Pending', alertstate: 'pending', severity: 'critical' }, 1000, 1);
    app.append({ __name__: 'ALERTS', alertname: 'Down', alertstate: 'firing', severity: 'critical' }, 1000, 1);
    app.commit();
    expect(await checkCriticalAlerts(source, 1000, signal)).toMatchObject({ status: 'firing', alerts: ['Down'] });
  });

  it('fails closed when the store query throws', async () => {
    const source = queryAlertsSource(() => {
      throw new Error('database is locked');
    });
    const check = await checkCriticalAlerts(source, 1000, signal);
    expect(check).toMatchObject({ status: 'error' });
    expect(check.status === 'error' && check.reason).toContain('database is locked');
  });

  it("asks a running daemon's alerts API, with the admin token", async () => {
    const d = await daemon(200, JSON.stringify({ status: 'success', data: { alerts: [alert('Lag', 'critical', 'pending'), alert('Down', 'critical', 'firing'), alert('Slow', 'warning', 'firing')] } }));
    const check = await checkCriticalAlerts(daemonAlertsSource({ baseUrl: d.url, adminToken: 'adm1n' }), 0, signal);
    expect(check).toMatchObject({ status: 'firing', alerts: ['Down'] });
    expect(d.seen[0].authorization).toBe('Bearer adm1n');
  });

  it.each([
    ['an HTTP error', 500, '{"status":"error","errorType":"internal","error":"boom"}', /HTTP 500/],
    ['a body that is not JSON', 200, '<html>login</html>', /not JSON/],
    ['JSON that is not an alerts list', 200, '{"status":"success","data":{}}', /not a Prometheus alerts list/],
    ['an alert without labels', 200, '{"status":"success","data":{"alerts":[{"state":"firing"}]}}', /has no labels/],
  ])('fails closed on %s from the daemon', async (_, status, body, why) => {
    const d = await daemon(status, body);
    const check = await checkCriticalAlerts(daemonAlertsSource({ baseUrl: d.url }), 0, signal);
    expect(check.status).toBe('error');
    expect(check.status === 'error' && check.reason).toMatch(why);
  });

  it('fails closed on an answer over its cap, naming the cap, without holding it', async () => {
    const d = await daemon(200, JSON.stringify({ status: 'success', data: { alerts: [alert('Down', 'critical', 'firing')], padding: 'x'.repeat(9 * 1024 * 1024) } }));
    const check = await checkCriticalAlerts(daemonAlertsSource({ baseUrl: d.url }), 0, signal);
    expect(check.status).toBe('error');
    expect(check.status === 'error' && check.reason).toMatch(/HTTP 200: the answer is over the 8 MiB cap on an alerts list; is that address really the sentinel daemon\?/);
  });

  it('fails closed, saying what to do, when no daemon answers', async () => {
    const d = await daemon(200, '{}');
    await new Promise((r) => servers.pop()?.close(r));
    const check = await checkCriticalAlerts(daemonAlertsSource({ baseUrl: d.url, timeoutMs: 2000 }), 0, signal);
    expect(check.status).toBe('error');
    expect(check.status === 'error' && check.reason).toMatch(/ECONNREFUSED.*start the daemon \(sentinel run\).*--skip-alert-check/);
  });
});
