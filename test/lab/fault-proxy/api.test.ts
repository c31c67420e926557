import { describe, expect, it } from 'vitest';
import { api, dial, portOf, useFaultProxy } from './helpers.js';
import { freePort } from '../../helpers/free-port.js';

const fx = useFaultProxy();

async function isListening(listen: string): Promise<boolean> {
  try {
    const s = await dial(portOf(listen));
    s.destroy();
    return true;
  } catch {
    return false;
  }
}

/**
 * expectBodyErrors posts each `[body, status, message]` case to `path` and expects Toxiproxy's
 * error answer (`apiError` in Toxiproxy `api.go`, written by Go's `http.Error`): `{"error":…,"status":…}`
 * and a newline, as text/plain with nosniff.
 */
async function expectBodyErrors(path: string, cases: ReadonlyArray<readonly [string, number, string]>): Promise<void> {
  for (const [body, status, message] of cases) {
    const r = await api(fx.fp.url, 'POST', path, body);
    expect({ body, status: r.status, text: r.text }).toEqual({ body, status, text: `${JSON.stringify({ error: message, status })}\n` });
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  }
}

describe('fault proxy HTTP API: generic behaviour', () => {
  it('serves the version with the space after the colon and a newline', async () => {
    const r = await api(fx.fp.url, 'GET', '/version');
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"version": "2.12.0"}\n');
    expect(r.headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(JSON.parse(await fx.tp.getVersion())).toEqual({ version: '2.12.0' });
  });

  it('tags responses with a request id and refuses browsers', async () => {
    const ok = await api(fx.fp.url, 'GET', '/proxies', undefined, { 'User-Agent': 'Wget/2.1' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-toxiproxy-request-id')).toMatch(/^[0-9a-v]{20}$/);
    const again = await api(fx.fp.url, 'GET', '/proxies');
    expect(again.headers.get('x-toxiproxy-request-id')).not.toBe(ok.headers.get('x-toxiproxy-request-id'));
    const browser = await api(fx.fp.url, 'GET', '/proxies', undefined, { 'User-Agent': 'Mozilla/5.0 (X11)' });
    expect(browser.status).toBe(403);
    expect(browser.text).toBe('User agent not allowed\n');
  });

  it('answers unknown paths 404, trailing slashes 404 and wrong methods 405 with an empty body', async () => {
    for (const path of ['/nope', '/proxies/', '/version/']) {
      const r = await api(fx.fp.url, 'GET', path);
      expect(r.status).toBe(404);
      expect(r.text).toBe('404 page not found\n');
      expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    }
    const r = await api(fx.fp.url, 'PUT', '/proxies');
    expect(r.status).toBe(405);
    expect(r.text).toBe('');
    expect((await api(fx.fp.url, 'GET', '/reset')).status).toBe(405);
  });

  it('redirects non-canonical paths with 301 like gorilla/mux', async () => {
    const res = await fetch(`${fx.fp.url}/proxies//x?y=1`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/proxies/x?y=1');
    const dbl = await fetch(`${fx.fp.url}//proxies`, { redirect: 'manual' });
    expect(dbl.status).toBe(301);
    expect(dbl.headers.get('location')).toBe('/proxies');
  });

  it('lists no proxies as an empty object', async () => {
    const r = await api(fx.fp.url, 'GET', '/proxies');
    expect(r.text).toBe('{}');
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await fx.tp.getAll()).toEqual({});
  });
});

describe('fault proxy HTTP API: proxies', () => {
  it('creates a proxy with the bound address and serves it with Toxiproxy key order', async () => {
    const r = await api(fx.fp.url, 'POST', '/proxies', JSON.stringify({ name: 'echo', listen: '127.0.0.1:0', upstream: 'localhost:20001' }));
    expect(r.status).toBe(201);
    const port = portOf(JSON.parse(r.text).listen);
    expect(port).toBeGreaterThan(0);
    expect(r.text).toBe(`{"name":"echo","listen":"127.0.0.1:${port}","upstream":"localhost:20001","enabled":true,"Logger":{},"toxics":[]}`);
    const p = await fx.tp.get('echo');
    expect(p.listen).toBe(`127.0.0.1:${port}`);
    expect(await isListening(p.listen)).toBe(true);
  });

  it('reports localhost listen addresses as 127.0.0.1', async () => {
    const port = await freePort();
    const p = await fx.tp.createProxy({ name: 'lh', listen: `localhost:${port}`, upstream: fx.upstream });
    expect(p.listen).toBe(`127.0.0.1:${port}`);
  });

  it('checks the create body in Toxiproxy order with its messages, as text/plain JSON', async () => {
    const cases: Array<[string, number, string]> = [
      ['', 400, 'bad request body: EOF'],
      ['{"name":', 400, 'bad request body: unexpected EOF'],
      ['nope', 400, "bad request body: invalid character 'o' in literal null (expecting 'u')"],
      ['{"name":"x","upstream":5}', 400, 'bad request body: json: cannot unmarshal number into Go struct field Proxy.upstream of type string'],
      ['[]', 400, 'bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy'],
      ['{"name":"","upstream":"x"}', 400, 'missing required field: name'],
      ['{"name":"a"}', 400, 'missing required field: upstream'],
      ['{"name":"a","listen":"local373","upstream":"x"}', 500, 'listen tcp: address local373: missing port in address'],
    ];
    await expectBodyErrors('/proxies', cases);
    expect(await fx.tp.getAll()).toEqual({});
  });

  it('matches JSON keys case-insensitively and ignores bytes after the first value', async () => {
    const r = await api(fx.fp.url, 'POST', '/proxies', `{"NAME":"ci","Listen":"127.0.0.1:0","upstream":"${fx.upstream}","enabled":false} trailing`);
    expect(r.status).toBe(201);
    expect(JSON.parse(r.text)).toMatchObject({ name: 'ci', listen: '127.0.0.1:0', enabled: false });
  });

  it('refuses duplicate names with 409 before binding, and port conflicts with 500', async () => {
    const first = await fx.tp.createProxy({ name: 'a', listen: '127.0.0.1:0', upstream: fx.upstream });
    const dup = await api(fx.fp.url, 'POST', '/proxies', JSON.stringify({ name: 'a', listen: first.listen, upstream: fx.upstream }));
    expect(dup.status).toBe(409);
    expect(JSON.parse(dup.text)).toEqual({ error: 'proxy already exists', status: 409 });
    const conflict = await api(fx.fp.url, 'POST', '/proxies', JSON.stringify({ name: 'b', listen: first.listen, upstream: fx.upstream }));
    expect(conflict.status).toBe(500);
    expect(JSON.parse(conflict.text)).toEqual({ error: `listen tcp ${first.listen}: bind: address already in use`, status: 500 });
    expect(Object.keys(await fx.tp.getAll())).toEqual(['a']);
    await first.remove();
    expect((await api(fx.fp.url, 'POST', '/proxies', JSON.stringify({ name: 'b', listen: first.listen, upstream: fx.upstream }))).status).toBe(201);
  });

  it('keeps a disabled proxy unbound with its listen verbatim, and toggles it with {enabled}', async () => {
    const port = await freePort();
    const p = await fx.tp.createProxy({ name: 'd', listen: `localhost:${port}`, upstream: fx.upstream, enabled: false });
    expect(p.listen).toBe(`localhost:${port}`);
    expect(await isListening(`x:${port}`)).toBe(false);
    const on = await api(fx.fp.url, 'PATCH', '/proxies/d', '{"enabled":true}');
    expect(on.status).toBe(200);
    expect(JSON.parse(on.text)).toMatchObject({ enabled: true, listen: `127.0.0.1:${port}` });
    expect(await isListening(`x:${port}`)).toBe(true);
    const off = await api(fx.fp.url, 'PATCH', '/proxies/d', '{"enabled":false}');
    expect(JSON.parse(off.text)).toMatchObject({ enabled: false, listen: `127.0.0.1:${port}` });
    expect(await isListening(`x:${port}`)).toBe(false);
    // The deprecated POST still updates.
    const viaPost = await api(fx.fp.url, 'POST', '/proxies/d', '{"enabled":true}');
    expect(JSON.parse(viaPost.text)).toMatchObject({ enabled: true, listen: `127.0.0.1:${port}` });
  });

  it('moves to a new port when listen changes and reports resolver errors as 500', async () => {
    const p = await fx.tp.createProxy({ name: 'm', listen: '127.0.0.1:0', upstream: fx.upstream });
    const moved = JSON.parse((await api(fx.fp.url, 'PATCH', '/proxies/m', '{"listen":"127.0.0.1:0"}')).text);
    expect(moved.listen).not.toBe(p.listen);
    expect(await isListening(moved.listen)).toBe(true);
    expect(await isListening(p.listen)).toBe(false);
    const bad = await api(fx.fp.url, 'PATCH', '/proxies/m', '{"listen":"bad::addr::x"}');
    expect(bad.status).toBe(500);
    expect(JSON.parse(bad.text).error).toBe('address bad::addr::x: too many colons in address');
    expect((await api(fx.fp.url, 'PATCH', '/proxies/none', '{}')).status).toBe(404);
  });

  it('deletes a proxy once; the second delete is 404 proxy not found', async () => {
    const p = await fx.tp.createProxy({ name: 'del', listen: '127.0.0.1:0', upstream: fx.upstream });
    expect((await api(fx.fp.url, 'DELETE', '/proxies/del')).status).toBe(204);
    expect(await isListening(p.listen)).toBe(false);
    const again = await api(fx.fp.url, 'DELETE', '/proxies/del');
    expect(again.status).toBe(404);
    expect(JSON.parse(again.text)).toEqual({ error: 'proxy not found', status: 404 });
    expect((await api(fx.fp.url, 'GET', '/proxies/del')).status).toBe(404);
  });

  it('lists proxies keyed and sorted by name', async () => {
    for (const name of ['zeta', 'alpha', 'mid']) await fx.tp.createProxy({ name, listen: '127.0.0.1:0', upstream: fx.upstream, enabled: false });
    const r = await api(fx.fp.url, 'GET', '/proxies');
    expect(r.text.indexOf('"alpha"')).toBeLessThan(r.text.indexOf('"mid"'));
    expect(r.text.indexOf('"mid"')).toBeLessThan(r.text.indexOf('"zeta"'));
  });
});

describe('fault proxy HTTP API: populate', () => {
  it('creates proxies in input order, enabled by default, and honours enabled:false', async () => {
    const r = await api(fx.fp.url, 'POST', '/populate', JSON.stringify([
      { name: 'one', listen: '127.0.0.1:0', upstream: fx.upstream },
      { name: 'two', listen: '127.0.0.1:0', upstream: fx.upstream, enabled: false },
    ]));
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('application/json');
    const out = JSON.parse(r.text).proxies;
    expect(out.map((p: { name: string }) => p.name)).toEqual(['one', 'two']);
    expect(await isListening(out[0].listen)).toBe(true);
    expect(out[1]).toMatchObject({ enabled: false, listen: '127.0.0.1:0' });
    const viaClient = await fx.tp.populate([{ name: 'three', listen: '127.0.0.1:0', upstream: fx.upstream }]);
    expect(viaClient.three.enabled).toBe(true);
  });

  it('answers an empty array with {"proxies":null}', async () => {
    const r = await api(fx.fp.url, 'POST', '/populate', '[]');
    expect(r.status).toBe(201);
    expect(r.text).toBe('{"proxies":null}');
  });

  it('keeps an equal existing proxy untouched (toxics, enabled state) and replaces a changed one', async () => {
    const port = await freePort();
    const kept = await fx.tp.createProxy({ name: 'kept', listen: `127.0.0.1:${port}`, upstream: fx.upstream });
    await kept.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 5, jitter: 0 } });
    const changed = await fx.tp.createProxy({ name: 'changed', listen: '127.0.0.1:0', upstream: fx.upstream });
    await changed.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 5, jitter: 0 } });
    const r = await api(fx.fp.url, 'POST', '/populate', JSON.stringify([
      { name: 'kept', listen: `localhost:${port}`, upstream: fx.upstream, enabled: false },
      { name: 'changed', listen: '127.0.0.1:0', upstream: fx.upstream },
    ]));
    expect(r.status).toBe(201);
    const [k, c] = JSON.parse(r.text).proxies;
    expect(k).toMatchObject({ listen: `127.0.0.1:${port}`, enabled: true });
    expect(k.toxics).toHaveLength(1);
    expect(c.toxics).toHaveLength(0);
    expect(c.listen).not.toBe(changed.listen);
    expect(await isListening(k.listen)).toBe(true);
    expect(await isListening(c.listen)).toBe(true);
  });

  it('validates every entry first and creates nothing on a missing field', async () => {
    const r = await api(fx.fp.url, 'POST', '/populate', JSON.stringify([
      { name: 'ok', listen: '127.0.0.1:0', upstream: fx.upstream },
      { name: '', listen: '127.0.0.1:0', upstream: fx.upstream },
    ]));
    expect(r.status).toBe(400);
    expect(r.text).toBe('{"error":"missing required field: name at proxy 2","status":400,"proxies":null}');
    const r2 = await api(fx.fp.url, 'POST', '/populate', JSON.stringify([{ name: 'x', listen: '127.0.0.1:0' }]));
    expect(JSON.parse(r2.text).error).toBe('missing required field: upstream at proxy 1');
    expect(await fx.tp.getAll()).toEqual({});
  });

  it('stops at the first failure and reports what was done before it', async () => {
    const r = await api(fx.fp.url, 'POST', '/populate', JSON.stringify([
      { name: 'first', listen: '127.0.0.1:0', upstream: fx.upstream },
      { name: 'second', listen: 'local373', upstream: fx.upstream },
      { name: 'third', listen: '127.0.0.1:0', upstream: fx.upstream },
    ]));
    expect(r.status).toBe(500);
    expect(r.headers.get('content-type')).toBe('application/json');
    const body = JSON.parse(r.text);
    expect(body.error).toBe('listen tcp: address local373: missing port in address');
    expect(body.proxies.map((p: { name: string }) => p.name)).toEqual(['first']);
    expect(Object.keys(await fx.tp.getAll())).toEqual(['first']);
  });

  it('lets toxics be added to a populated proxy', async () => {
    const { pop } = await fx.tp.populate([{ name: 'pop', listen: '127.0.0.1:0', upstream: fx.upstream }]);
    const t = await pop.addToxic({ name: 't', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 1, jitter: 0 } });
    expect(t.name).toBe('t');
  });
});

describe('fault proxy HTTP API: toxics', () => {
  it('creates toxics with Toxiproxy defaults and ordering', async () => {
    await fx.tp.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: fx.upstream });
    const down = await api(fx.fp.url, 'POST', '/proxies/p/toxics', '{"type":"latency","attributes":{"latency":100}}');
    expect(down.status).toBe(200);
    expect(down.text).toBe('{"attributes":{"latency":100,"jitter":0},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1}');
    const up = await api(fx.fp.url, 'POST', '/proxies/p/toxics', '{"type":"latency","stream":"UPSTREAM","toxicity":0}');
    expect(JSON.parse(up.text)).toEqual({ attributes: { latency: 0, jitter: 0 }, name: 'latency_UPSTREAM', type: 'latency', stream: 'UPSTREAM', toxicity: 0 });
    const noop = await api(fx.fp.url, 'POST', '/proxies/p/toxics', '{"type":"noop","toxicity":0.2,"attributes":{"unknown":"ignored"}}');
    expect(JSON.parse(noop.text)).toEqual({ attributes: {}, name: 'noop_downstream', type: 'noop', stream: 'downstream', toxicity: 0.2 });
    const list = JSON.parse((await api(fx.fp.url, 'GET', '/proxies/p/toxics')).text);
    expect(list.map((t: { name: string }) => t.name)).toEqual(['latency_UPSTREAM', 'latency_downstream', 'noop_downstream']);
    const proxy = JSON.parse((await api(fx.fp.url, 'GET', '/proxies/p')).text);
    expect(proxy.toxics.map((t: { name: string }) => t.name)).toEqual(['latency_UPSTREAM', 'latency_downstream', 'noop_downstream']);
  });

  it('lists an empty toxic array and 404s unknown proxies and toxics', async () => {
    await fx.tp.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: fx.upstream });
    expect((await api(fx.fp.url, 'GET', '/proxies/p/toxics')).text).toBe('[]');
    const cases: Array<[string, string, string]> = [
      ['GET', '/proxies/x/toxics', 'proxy not found'],
      ['POST', '/proxies/x/toxics', 'proxy not found'],
      ['GET', '/proxies/p/toxics/t', 'toxic not found'],
      ['PATCH', '/proxies/p/toxics/t', 'toxic not found'],
      ['DELETE', '/proxies/p/toxics/t', 'toxic not found'],
      ['DELETE', '/proxies/x/toxics/t', 'proxy not found'],
    ];
    for (const [method, path, message] of cases) {
      const r = await api(fx.fp.url, method, path, method === 'GET' || method === 'DELETE' ? undefined : 'not json');
      expect({ path, method, status: r.status, body: r.text }).toEqual({ path, method, status: 404, body: `{"error":"${message}","status":404}\n` });
    }
  });

  it('rejects bad toxics with Toxiproxy messages in its check order', async () => {
    await fx.tp.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: fx.upstream });
    await api(fx.fp.url, 'POST', '/proxies/p/toxics', '{"name":"taken","type":"latency","stream":"upstream"}');
    const cases: Array<[string, number, string]> = [
      ['{', 400, 'bad request body: unexpected EOF'],
      ['{"type":"latency","stream":"walrustream"}', 400, 'stream was invalid, can be either upstream or downstream'],
      ['{"type":"latency","stream":""}', 400, 'stream was invalid, can be either upstream or downstream'],
      ['{"type":"down"}', 400, 'invalid toxic type'],
      ['{}', 400, 'invalid toxic type'],
      ['{"name":"taken","type":"timeout"}', 409, 'toxic already exists'],
      ['{"type":"latency","attributes":{"latency":"1"}}', 400, 'bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of type int64'],
      ['{"type":"latency","attributes":{"latency":1.5}}', 400, 'bad request body: json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64'],
      ['{"type":"slicer","attributes":{"delay":true}}', 400, 'bad request body: json: cannot unmarshal bool into Go struct field SlicerToxic.attributes.delay of type int'],
      ['{"type":"latency","toxicity":"high"}', 400, 'bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type float32'],
      ['{"type":"latency","attributes":[]}', 400, 'bad request body: json: cannot unmarshal array into Go struct field ToxicWrapper.attributes of type toxics.NoopToxic'],
    ];
    await expectBodyErrors('/proxies/p/toxics', cases);
    const list = JSON.parse((await api(fx.fp.url, 'GET', '/proxies/p/toxics')).text);
    expect(list).toEqual([{ attributes: { latency: 0, jitter: 0 }, name: 'taken', type: 'latency', stream: 'upstream', toxicity: 1 }]);
  });

  it('accepts out-of-range values without validation (negative latency, toxicity 2.5)', async () => {
    await fx.tp.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: fx.upstream });
    const r = await api(fx.fp.url, 'POST', '/proxies/p/toxics', '{"type":"latency","toxicity":2.5,"attributes":{"latency":-5}}');
    expect(JSON.parse(r.text)).toMatchObject({ toxicity: 2.5, attributes: { latency: -5 } });
  });

  it('merges attribute updates, keeps toxicity when omitted and ignores name/type/stream', async () => {
    const p = await fx.tp.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: fx.upstream });
    const t = await p.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 10 } });
    const u1 = await t.update({ toxicity: 0.5, attributes: { latency: 1000 } } as never);
    expect(u1.attributes).toEqual({ latency: 1000, jitter: 10 });
    expect(u1.toxicity).toBe(0.5);
    const r = await api(fx.fp.url, 'PATCH', '/proxies/p/toxics/lat', '{"name":"other","type":"timeout","stream":"upstream","attributes":{"jitter":3}}');
    expect(r.text).toBe('{"attributes":{"latency":1000,"jitter":3},"name":"lat","type":"latency","stream":"downstream","toxicity":0.5}');
    const bad = await api(fx.fp.url, 'PATCH', '/proxies/p/toxics/lat', '{"attributes":{"latency":"x"}}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toBe('bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of type int64');
  });

  it('removes a toxic, and reset strips all toxics and re-enables proxies', async () => {
    const p = await fx.tp.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: fx.upstream });
    const t = await p.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 1, jitter: 0 } });
    await t.remove();
    expect((await api(fx.fp.url, 'GET', '/proxies/p/toxics')).text).toBe('[]');
    await p.addToxic({ name: 'again', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 1, jitter: 0 } });
    await api(fx.fp.url, 'PATCH', '/proxies/p', '{"enabled":false}');
    const r = await api(fx.fp.url, 'POST', '/reset', 'ignored body');
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const after = await fx.tp.get('p');
    expect(after.enabled).toBe(true);
    expect(await isListening(after.listen)).toBe(true);
    expect((await api(fx.fp.url, 'GET', '/proxies/p/toxics')).text).toBe('[]');
  });

  it('surfaces client errors the way toxiproxy-node-client reports them', async () => {
    const p = await fx.tp.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: fx.upstream });
    await expect(p.addToxic({ type: 'down' } as never)).rejects.toThrow('Request failed with status code 400');
    await expect(fx.tp.get('missing')).rejects.toThrow('Request failed with status code 404');
  });
});
