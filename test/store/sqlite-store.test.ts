import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { openSampleStore, STORE_FILE } from '../../src/store/index.js';
import { StoreError } from '../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sentinel-store-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const all = [{ name: '__name__', type: '=~', value: '.+' }] as const;

describe('openSampleStore', () => {
  it('keeps history across a restart, including NaN, ±Inf and stale markers', async () => {
    const store = openSampleStore({ dataDir: dir });
    const app = store.appender();
    app.append({ __name__: 'a', job: 'x' }, 1000, 1.5);
    app.append({ __name__: 'a', job: 'x' }, 2000, NaN);
    app.append({ __name__: 'a', job: 'x' }, 3000, Infinity);
    app.append({ __name__: 'a', job: 'x' }, 4000, -Infinity);
    app.appendStale({ __name__: 'a', job: 'x' }, 5000);
    app.append({ __name__: 'b' }, 1000, 7);
    app.commit();
    await store.close();

    const reopened = openSampleStore({ dataDir: dir });
    const out = reopened.select(all, 0, 10_000);
    expect(out.map((s) => s.labels)).toEqual([{ __name__: 'a', job: 'x' }, { __name__: 'b' }]);
    const a = out[0].samples;
    expect(a[0]).toEqual({ t: 1000, v: 1.5 });
    expect(Number.isNaN(a[1].v) && a[1].stale === undefined).toBe(true);
    expect(a[2].v).toBe(Infinity);
    expect(a[3].v).toBe(-Infinity);
    expect(a[4]).toEqual({ t: 5000, v: NaN, stale: true });
    // Out-of-order refusal still holds against history loaded from disk.
    const app2 = reopened.appender();
    app2.append({ __name__: 'b' }, 500, 1);
    app2.append({ __name__: 'c' }, 500, 1);
    expect(app2.commit()).toEqual({ appended: 1, outOfOrder: 1, refusedSeriesLimit: 0 });
    await reopened.close();
    const third = openSampleStore({ dataDir: dir });
    expect(third.labelValues('__name__')).toEqual(['a', 'b', 'c']);
    await third.close();
  });

  it('applies retention on disk too', async () => {
    const store = openSampleStore({ dataDir: dir, retentionMs: 10_000 });
    const app = store.appender();
    app.append({ __name__: 'gone' }, 1000, 1);
    app.append({ __name__: 'kept' }, 1000, 1);
    app.append({ __name__: 'kept' }, 15_000, 2);
    app.commit();
    store.applyRetention(20_000);
    await store.close();
    const reopened = openSampleStore({ dataDir: dir, retentionMs: 10_000 });
    expect(reopened.select(all, 0, 1e9)).toEqual([{ labels: { __name__: 'kept' }, samples: [{ t: 15_000, v: 2 }] }]);
    await reopened.close();
  });

  it('lets a read-only reader see what a running writer committed, and refuses to append', async () => {
    const writer = openSampleStore({ dataDir: dir });
    const app = writer.appender();
    app.append({ __name__: 'up' }, 1000, 1);
    app.commit();
    const reader = openSampleStore({ dataDir: dir, readOnly: true });
    expect(reader.select(all, 0, 2000)[0].samples).toEqual([{ t: 1000, v: 1 }]);
    expect(() => reader.appender()).toThrow(StoreError);
    await reader.close();
    await writer.close();
  });

  it('names the path when there is no store to read or the file is not a store', () => {
    expect(() => openSampleStore({ dataDir: path.join(dir, 'missing'), readOnly: true })).toThrow(/no sample store at .*missing/);
    fs.writeFileSync(path.join(dir, STORE_FILE), 'not a database at all, just text that is long enough to look like a header');
    try {
      openSampleStore({ dataDir: dir });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toContain(path.join(dir, STORE_FILE));
    }
  });

  it('counts series and appended samples in the given registry', async () => {
    const registry = new Registry();
    const store = openSampleStore({ dataDir: dir, registry, maxSeries: 1 });
    const app = store.appender();
    app.append({ __name__: 'a' }, 1, 1);
    app.append({ __name__: 'b' }, 1, 1);
    expect(app.commit().refusedSeriesLimit).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('sentinel_store_series 1');
    expect(text).toContain('sentinel_store_samples_appended_total 1');
    await store.close();
  });
});
