import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleManager } from '../../src/alerts/index.js';
import { createEngine } from '../../src/promql/index.js';
import type { HttpServer } from '../../src/server/index.js';
import { formatFloatGo } from '../../src/go-strconv/index.js';
import { registerPrometheusApi } from '../../src/server/routes/prometheus-api.js';
import { registerReloadRoute } from '../../src/server/routes/reload-api.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { storeRuleManager } from '../helpers/store-rule-manager.js';
import { routeServer } from '../helpers/route-server.js';

const T0 = 1_800_000_000_000; // 2027-01-15T08:00:00Z
const engine = createEngine();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ url: string; clock: ManualClock; store: MemoryStore; manager: RuleManager; rulesFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-api-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(
    rulesFile,
    `groups:
  - name: sync
    interval: 1m
    rules:
      - record: job:lag:max
        expr: max by (job) (replay_lag)
      - alert: LagHigh
        expr: replay_lag > 100
        for: 2m
        labels: { severity: critical }
        annotations: { summary: 'lag {{ $value }}' }
`,
  );
  const clock = new ManualClock(T0);
  const store = new MemoryStore();
  const app = store.appender();
  for (let i = 0; i <= 10; i++) {
    app.append({ __name__: 'replay_lag', job: 'sync', stream: 'a' }, T0 - 600_000 + i * 60_000, 50 + i * 10);
    app.append({ __name__: 'replay_lag', job: 'sync', stream: 'b' }, T0 - 600_000 + i * 60_000, 500);
  }
  app.append({ __name__: 'up', job: 'other' }, T0, 1);
  app.commit();
  const manager = storeRuleManager({ rulesFile, store, clock });
  cleanups.push(() => manager.stop(Date.now() + 1000));
  const server: HttpServer = routeServer({ adminToken: { reveal: () => 'admin-secret' } });
  registerPrometheusApi(server, {
    store,
    instantQuery: (expr, t, signal) => engine.instantQuery(store, expr, t, signal),
    rangeQuery: (expr, s, e, step, signal) => engine.rangeQuery(store, expr, s, e, step, signal),
    rules: manager,
    clock,
  });
  registerReloadRoute(server, {
    reload: async () => {
      const result = await manager.reload();
      return result.ok ? { ok: true, data: { groups: result.groups, rules: result.rules } } : { ok: false, issues: result.error.issues };
    },
  });
  await server.start();
  cleanups.push(() => server.stop(Date.now() + 1000));
  await manager.start();
  return { url: server.address()!.url, clock, store, manager, rulesFile };
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: { status: string; data?: unknown; errorType?: string; error?: string; warnings?: string[] } }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as { status: string; data?: unknown; errorType?: string; error?: string } };
}

describe('Prometheus HTTP API', () => {
  it('answers instant queries in the Prometheus shape, with the time defaulting to the clock', async () => {
    const { url } = await setup();
    const res = await get(`${url}/api/v1/query?query=${encodeURIComponent('replay_lag > 100')}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { __name__: 'replay_lag', job: 'sync', stream: 'a' }, value: [T0 / 1000, '150'] },
          { metric: { __name__: 'replay_lag', job: 'sync', stream: 'b' }, value: [T0 / 1000, '500'] },
        ],
      },
    });
    const scalar = await get(`${url}/api/v1/query?query=1%2B1&time=1800000000.5`);
    expect(scalar.body.data).toEqual({ resultType: 'scalar', result: [1800000000.5, '2'] });
  });

  it('answers range queries by GET and by form POST', async () => {
    const { url } = await setup();
    const params = new URLSearchParams({ query: 'replay_lag{stream="a"}', start: String((T0 - 120_000) / 1000), end: '2027-01-15T08:00:00Z', step: '1m' });
    const viaGet = await get(`${url}/api/v1/query_range?${params}`);
    const viaPost = await get(`${url}/api/v1/query_range`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() });
    expect(viaGet.body).toEqual(viaPost.body);
    expect(viaGet.body.data).toEqual({
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'replay_lag', job: 'sync', stream: 'a' },
          values: [
            [(T0 - 120_000) / 1000, '130'],
            [(T0 - 60_000) / 1000, '140'],
            [T0 / 1000, '150'],
          ],
        },
      ],
    });
  });

  it('reports bad parameters and bad expressions as bad_data errors', async () => {
    const { url } = await setup();
    const cases: Array<[string, RegExp]> = [
      ['/api/v1/query?query=', /query must not be empty/],
      ['/api/v1/query?query=rate(', /.+/],
      ['/api/v1/query?query=up&time=yesterday', /invalid parameter "time"/],
      ['/api/v1/query_range?query=up&start=10&end=5&step=1', /end timestamp must not be before start time/],
      ['/api/v1/query_range?query=up&start=0&end=100000&step=1', /11,000 points/],
      ['/api/v1/query_range?query=up&start=0&end=10&step=0', /zero or negative query resolution step/],
      ['/api/v1/series', /no match\[\] parameter provided/],
      ['/api/v1/series?match[]=rate(up[5m])', /not a series selector/],
      ['/api/v1/rules?type=bogus', /not supported value/],
    ];
    for (const [path, message] of cases) {
      const res = await get(url + path);
      expect(res.status, path).toBe(400);
      expect(res.body.status).toBe('error');
      expect(res.body.errorType).toBe('bad_data');
      expect(res.body.error).toMatch(message);
    }
  });

  it('lists label names, label values and series, filtered by match[]', async () => {
    const { url } = await setup();
    expect((await get(`${url}/api/v1/labels`)).body.data).toEqual(['__name__', 'job', 'stream']);
    expect((await get(`${url}/api/v1/labels?match[]=up`)).body.data).toEqual(['__name__', 'job']);
    expect((await get(`${url}/api/v1/label/__name__/values`)).body.data).toEqual(['replay_lag', 'up']);
    expect((await get(`${url}/api/v1/label/stream/values?match[]=${encodeURIComponent('replay_lag{stream="b"}')}`)).body.data).toEqual(['b']);
    const series = await get(`${url}/api/v1/series?match[]=${encodeURIComponent('replay_lag')}&match[]=up&start=${T0 / 1000 - 60}&end=${T0 / 1000}`);
    expect(series.body.data).toEqual([
      { __name__: 'replay_lag', job: 'sync', stream: 'a' },
      { __name__: 'replay_lag', job: 'sync', stream: 'b' },
      { __name__: 'up', job: 'other' },
    ]);
  });

  it('shows rule groups and alerts as they evaluate', async () => {
    const { url, clock } = await setup();
    const before = (await get(`${url}/api/v1/rules`)).body.data as { groups: Array<{ lastEvaluation: string; rules: Array<Record<string, unknown>> }> };
    expect(before.groups[0].lastEvaluation).toBe('0001-01-01T00:00:00Z');
    expect(before.groups[0].rules[1]).toMatchObject({ health: 'unknown', state: 'inactive', alerts: [] });
    expect(before.groups[0].rules[1]).not.toHaveProperty('lastError');
    await clock.advance(60_000);
    const rules = await get(`${url}/api/v1/rules`);
    const groups = (rules.body.data as { groups: Array<{ name: string; interval: number; rules: Array<Record<string, unknown>> }> }).groups;
    expect(groups).toHaveLength(1);
    expect(groups[0].name).toBe('sync');
    expect(groups[0].interval).toBe(60);
    const [record, alert] = groups[0].rules;
    expect(record).toMatchObject({ name: 'job:lag:max', query: 'max by (job) (replay_lag)', health: 'ok', type: 'recording' });
    expect(alert).toMatchObject({ name: 'LagHigh', query: 'replay_lag > 100', duration: 120, state: 'pending', health: 'ok', type: 'alerting' });
    const alerts = alert.alerts as Array<Record<string, unknown>>;
    expect(alerts.map((a) => (a.labels as Record<string, string>).stream).sort()).toEqual(['a', 'b']);
    expect(alerts.find((a) => (a.labels as Record<string, string>).stream === 'b')).toMatchObject({ state: 'pending', value: '5e+02', annotations: { summary: 'lag 500' } });
    expect((await get(`${url}/api/v1/rules?type=record`)).body.data).toMatchObject({ groups: [{ rules: [{ type: 'recording' }] }] });

    const listed = await get(`${url}/api/v1/alerts`);
    expect((listed.body.data as { alerts: unknown[] }).alerts).toHaveLength(2);
  });

  it('reloads rules on POST /-/reload with the admin token only, keeping the old rules when the new ones are invalid', async () => {
    const { url, rulesFile } = await setup();
    expect((await get(`${url}/-/reload`, { method: 'POST' })).status).toBe(401);
    expect((await get(`${url}/-/reload`, { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
    writeFileSync(rulesFile, 'groups:\n  - name: sync\n    rules:\n      - alert: X\n        expr: up ==\n');
    const bad = await get(`${url}/-/reload`, { method: 'POST', headers: { authorization: 'Bearer admin-secret' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^reload refused, the running configuration stays: .*rules\.yaml:5:/);
    expect(JSON.stringify((await get(`${url}/api/v1/rules`)).body.data)).toContain('LagHigh');
    writeFileSync(rulesFile, 'groups:\n  - name: other\n    rules:\n      - alert: Y\n        expr: up == 0\n');
    const good = await get(`${url}/-/reload`, { method: 'POST', headers: { authorization: 'Bearer admin-secret' } });
    expect(good.body).toEqual({ status: 'success', data: { groups: 1, rules: 1 } });
    expect(JSON.stringify((await get(`${url}/api/v1/rules`)).body.data)).toContain('"name":"Y"');
  });
});

describe('alert value formatting (formatFloatGo e, -1)', () => {
  it.each([
    [1, '1e+00'],
    [500, '5e+02'],
    [15000, '1.5e+04'],
    [0.25, '2.5e-01'],
    [1e100, '1e+100'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-0, '-0e+00'],
  ])('formats %d like strconv.FormatFloat(v, e, -1, 64)', (v, s) => expect(formatFloatGo(v, 'e', -1)).toBe(s));
});

