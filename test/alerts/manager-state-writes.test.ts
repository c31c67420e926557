/**
 * The alert state file is written when a restart would need what changed (an alert appears,
 * changes state or resolves) and at shutdown, not at every evaluation; a restart after a crash
 * still resumes a pending `for` clock, dating the outage by the rules' ALERTS_FOR_STATE samples.
 */
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleManager } from '../../src/alerts/manager.js';
import { parseExpr } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { storeRuleManager } from '../helpers/store-rule-manager.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(forDuration: string): { clock: ManualClock; store: MemoryStore; stateFile: string; manager(outageToleranceMs?: number): RuleManager; step(lag: number): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-state-writes-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(
    rulesFile,
    `groups:\n  - name: lag\n    rules:\n      - alert: LagHigh\n        expr: lag > 100\n        for: ${forDuration}\n        annotations:\n          summary: 'lag {{ $value }}'\n`,
  );
  const clock = new ManualClock(1_800_000_000_000);
  const store = new MemoryStore();
  const stateFile = join(dir, 'state.json');
  return {
    clock,
    store,
    stateFile,
    manager(outageToleranceMs = 3600_000) {
      const m = storeRuleManager({
        rulesFile,
        store,
        checkExpr: (expr) => {
          parseExpr(expr);
          return undefined;
        },
        clock,
        notifiers: [],
        stateFile,
        outageToleranceMs,
      });
      cleanups.push(() => m.stop(Date.now() + 2000));
      return m;
    },
    async step(lag) {
      const app = store.appender();
      app.append({ __name__: 'lag', stream: 's' }, clock.nowMs(), lag);
      app.commit();
      await clock.advance(60_000);
    },
  };
}

/** writes follows the file's identity: every save renames a fresh file over it. */
function fileId(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

describe('alert state writes', () => {
  it('writes when an alert becomes pending, fires, resolves and at shutdown, not while it stays', async () => {
    const h = setup('3m');
    const m = h.manager();
    await m.start();
    const ids: string[] = [];
    const note = (): void => {
      const id = fileId(h.stateFile);
      if (ids.at(-1) !== id) ids.push(id);
    };
    note();
    await h.step(50);
    note();
    const quiet = ids.length;
    // Pending from here; the value (and the annotation that prints it) changes every minute.
    for (let i = 0; i < 3; i++) {
      await h.step(200 + i);
      note();
    }
    expect(m.activeAlerts().map((a) => a.state)).toEqual(['pending']);
    expect(ids.length).toBe(quiet + 1);
    for (let i = 0; i < 6; i++) {
      await h.step(300 + i);
      note();
    }
    expect(m.activeAlerts().map((a) => a.state)).toEqual(['firing']);
    expect(ids.length).toBe(quiet + 2);
    await h.step(10);
    await h.step(10);
    note();
    expect(ids.length).toBe(quiet + 3);
    const beforeStop = ids.length;
    await m.stop(Date.now() + 2000);
    note();
    expect(ids.length).toBe(beforeStop + 1);
  });

  it('resumes a pending for-clock after a crash long after the file was written', async () => {
    const h = setup('2h');
    let m = h.manager(3600_000);
    await m.start();
    await h.step(500);
    await h.step(500);
    const activeAt = m.activeAlerts()[0].activeAtMs;
    const pendingFile = `${h.stateFile}.at-pending`;
    copyFileSync(h.stateFile, pendingFile);
    // 90 quiet minutes: nothing changes, nothing is written.
    for (let i = 0; i < 90; i++) await h.step(500);
    expect(m.activeAlerts().map((a) => [a.state, a.activeAtMs])).toEqual([['pending', activeAt]]);
    // A crash: the shutdown write never happens, so the file is the one written at pending.
    await m.stop(Date.now() + 2000);
    copyFileSync(pendingFile, h.stateFile);
    await h.clock.advance(60_000);
    m = h.manager(3600_000);
    await m.start();
    expect(m.activeAlerts().map((a) => [a.state, a.activeAtMs])).toEqual([['pending', activeAt]]);
  });
});
