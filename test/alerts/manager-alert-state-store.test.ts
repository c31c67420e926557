import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertStateStore } from '../../src/alerts/alert-state-store.js';
import type { AlertStateSnapshot } from '../../src/alerts/alert-state-store.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tmp = tempDirs('sentinel-state-');

const snapshot: AlertStateSnapshot = {
  version: 1,
  savedAtMs: 1000,
  groups: [
    {
      file: '/rules/a.yaml',
      name: 'g',
      lastEvalTimestampMs: 900,
      rules: [
        {
          name: 'LagHigh',
          expr: 'lag > 1',
          alerts: [
            { labels: { alertname: 'LagHigh', stream: 's' }, annotations: { summary: 'x' }, state: 'firing', value: 2, activeAtMs: 100, firedAtMs: 400, lastSentAtMs: 400, validUntilMs: 1600 },
            { labels: { alertname: 'LagHigh', stream: 't' }, annotations: {}, state: 'pending', value: 3, activeAtMs: 800, drillLabels: { drill: 'partition', stage: 's1' } },
          ],
        },
      ],
    },
  ],
};

describe('AlertStateStore', () => {
  it('round-trips a snapshot through an atomically replaced, owner-only file', () => {
    const path = join(tmp(), 'alerts', 'state.json');
    const store = new AlertStateStore({ path });
    expect(store.load()).toBeUndefined();
    store.save(snapshot);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    expect(new AlertStateStore({ path }).load()).toEqual(snapshot);
    expect(readFileSync(path, 'utf8')).not.toContain('\n');
  });

  it('moves an unreadable file aside and starts empty instead of failing', () => {
    const dir = tmp();
    const path = join(dir, 'state.json');
    for (const bad of ['{not json', JSON.stringify({ version: 2, savedAtMs: 1, groups: [] }), JSON.stringify({ ...snapshot, groups: [{ ...snapshot.groups[0], rules: [{ name: 'x', expr: 'y', alerts: [{ state: 'weird' }] }] }] })]) {
      writeFileSync(path, bad);
      expect(new AlertStateStore({ path }).load()).toBeUndefined();
      expect(existsSync(`${path}.corrupt`)).toBe(true);
      expect(existsSync(path)).toBe(false);
    }
  });

  it('keeps a NaN alert value loadable (JSON writes it as null)', () => {
    const path = join(tmp(), 'state.json');
    const store = new AlertStateStore({ path });
    const withNaN: AlertStateSnapshot = { ...snapshot, groups: [{ ...snapshot.groups[0], rules: [{ ...snapshot.groups[0].rules[0], alerts: [{ ...snapshot.groups[0].rules[0].alerts[0], value: NaN }] }] }] };
    store.save(withNaN);
    const loaded = new AlertStateStore({ path }).load();
    expect(loaded?.groups[0].rules[0].alerts[0].value).toBeNull();
  });
});
