/**
 * Evidence retention and the evidence index: each drill keeps its newest runs and everything
 * younger than the configured age; runs in progress, crashed runs awaiting cleanup and foreign
 * directories are never touched; the daemon prunes at start and after each run; the drills API
 * reads an index that follows additions, removals and edits without rescanning the history.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/index.js';
import { DrillScheduler, EvidenceIndex, evidenceDirName, pruneEvidence, queryAlertsSource } from '../../src/drills/index.js';
import type { RunRecord } from '../../src/drills/index.js';
import { registerDrillsApi } from '../../src/server/index.js';
import { tinyDrillYaml, tinyRig, useFaultProxy } from './helpers/tiny-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { routeServer } from '../helpers/route-server.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2030-06-01T12:00:00Z');
const newRoot = tempDirs('sentinel-retention-');

/** fakeRun writes a finished run of `drill` that finished `ageMs` before `nowMs`. */
function fakeRun(root: string, drill: string, ageMs: number, suffix = '', nowMs = NOW): string {
  const startMs = nowMs - ageMs - 60_000;
  const dir = join(root, evidenceDirName(startMs) + suffix);
  mkdirSync(dir);
  const run: RunRecord = {
    run_id: `${evidenceDirName(startMs).toLowerCase()}${suffix}`,
    drills: [drill],
    environment: 'dev',
    started_at: new Date(startMs).toISOString(),
    finished_at: new Date(nowMs - ageMs).toISOString(),
    status: 'completed',
    deviated: false,
    sentinel_version: 't',
  };
  writeFileSync(join(dir, 'journal.jsonl'), [{ type: 'run_start', atMs: startMs, runId: run.run_id, drills: [drill], faultProxy: 'x' }, { type: 'run_end', atMs: nowMs - ageMs, status: 'completed' }].map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
  return dir;
}

/** journalOnly writes a run without run.json, its journal finished or not. */
function journalOnly(root: string, drill: string, ageMs: number, isFinished: boolean): string {
  const startMs = NOW - ageMs - 60_000;
  const dir = join(root, `${evidenceDirName(startMs)}-j`);
  mkdirSync(dir);
  const lines: object[] = [{ type: 'run_start', atMs: startMs, runId: 'r', drills: [drill], faultProxy: 'x' }];
  if (isFinished) lines.push({ type: 'event', atMs: NOW - ageMs, event: 'reconciled_after_crash' }, { type: 'run_end', atMs: NOW - ageMs, status: 'interrupted' });
  writeFileSync(join(dir, 'journal.jsonl'), lines.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return dir;
}

function names(dirs: readonly string[]): string[] {
  return dirs.map((d) => d.slice(d.lastIndexOf('/') + 1)).sort();
}

describe('pruneEvidence', () => {
  it('keeps each drill\'s newest runs and everything younger than keep_within, and removes the rest', async () => {
    const root = newRoot();
    const a = [fakeRun(root, 'a', 1 * HOUR), fakeRun(root, 'a', 3 * DAY), fakeRun(root, 'a', 9 * DAY), fakeRun(root, 'a', 10 * DAY), fakeRun(root, 'a', 30 * DAY)];
    const b = [fakeRun(root, 'b', 40 * DAY)];
    const index = new EvidenceIndex(root, () => NOW);
    const report = await pruneEvidence(index, { keepLast: 3, keepWithinMs: 7 * DAY }, NOW);
    // a: the newest three (1h, 3d, 9d) stay; 10d and 30d go. b: its only run stays, however old.
    expect(names(report.removed)).toEqual(names([a[3], a[4]]));
    expect(report.failed).toEqual([]);
    expect(names(readdirSync(root).map((n) => join(root, n)))).toEqual(names([a[0], a[1], a[2], b[0]]));
    expect(index.list().map((e) => e.dir)).toEqual([a[0], a[1], a[2], b[0]]);
  });

  it('keeps every run younger than keep_within even beyond keep_last', async () => {
    const root = newRoot();
    const runs = [1, 2, 3, 4, 5].map((h) => fakeRun(root, 'a', h * HOUR));
    const old = fakeRun(root, 'a', 8 * DAY);
    const report = await pruneEvidence(new EvidenceIndex(root, () => NOW), { keepLast: 1, keepWithinMs: 7 * DAY }, NOW);
    expect(report.removed).toEqual([old]);
    for (const r of runs) expect(existsSync(r)).toBe(true);
  });

  it('never touches a run in progress, a crash not yet cleaned up or a foreign directory; prunes an old cleaned-up crash', async () => {
    const root = newRoot();
    fakeRun(root, 'a', 1 * HOUR);
    const inProgress = journalOnly(root, 'a', 30 * DAY, false);
    const oldCrash = journalOnly(root, 'a', 20 * DAY, true);
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'notes', 'README'), 'not evidence');
    const report = await pruneEvidence(new EvidenceIndex(root, () => NOW), { keepLast: 1, keepWithinMs: 7 * DAY }, NOW);
    expect(report.removed).toEqual([oldCrash]);
    expect(existsSync(inProgress)).toBe(true);
    expect(existsSync(join(root, 'notes', 'README'))).toBe(true);
  });

  it('a crashed run does not count towards keep_last: it decided nothing', async () => {
    const root = newRoot();
    const crash = journalOnly(root, 'a', 1 * HOUR, true);
    const real = fakeRun(root, 'a', 10 * DAY);
    const report = await pruneEvidence(new EvidenceIndex(root, () => NOW), { keepLast: 1, keepWithinMs: 7 * DAY }, NOW);
    expect(report.removed).toEqual([]);
    expect(existsSync(crash)).toBe(true);
    expect(existsSync(real)).toBe(true);
  });
});

describe('EvidenceIndex', () => {
  it('follows runs added, finished and removed between reads', async () => {
    const root = newRoot();
    const first = fakeRun(root, 'a', 2 * DAY);
    // Timestamps older than the racy window, so that the index trusts unchanged mtimes.
    const settle = (path: string): void => utimesSync(path, new Date(NOW - DAY), new Date(NOW - DAY));
    settle(first);
    settle(root);
    const index = new EvidenceIndex(root, () => Date.now());
    expect(index.latest('a')?.dir).toBe(first);

    const second = fakeRun(root, 'a', 1 * DAY);
    expect(index.latest('a')?.dir).toBe(second);

    // A run in progress has no run.json: not listed until it writes one.
    const startMs = NOW - HOUR;
    const running = join(root, evidenceDirName(startMs));
    mkdirSync(running);
    expect(index.latest('a')?.dir).toBe(second);
    expect(index.incomplete()).toEqual([running]);
    writeFileSync(join(running, 'run.json'), JSON.stringify({ run_id: 'x', drills: ['a'], environment: 'dev', started_at: new Date(startMs).toISOString(), finished_at: new Date(NOW).toISOString(), status: 'completed', deviated: false, sentinel_version: 't' }));
    expect(index.latest('a')?.dir).toBe(running);

    rmSync(running, { recursive: true });
    expect(index.latest('a')?.dir).toBe(second);
    rmSync(root, { recursive: true });
    expect(index.list()).toEqual([]);
  });
});

describe('the daemon\'s drills: retention at start and after each run, and the API over the index', () => {
  const proxy = useFaultProxy();
  const DRILL = tinyDrillYaml({ description: 'a short stage without faults', stageMs: 200 });

  it('prunes at start and after a run, and GET /api/v1/drills shows the newest verdict, noticing an edited file', async () => {
    const root = newRoot();
    // History: 200 runs of tiny, each a year old and so beyond keep_within (1h).
    const oldRuns = Array.from({ length: 200 }, (_, i) => fakeRun(root, 'tiny', 365 * DAY - i * 60_000, '', Date.now()));
    const { drills, query, driver, clock, runner } = tinyRig({ yaml: DRILL, proxyUrl: proxy().url, evidenceRoot: root });
    const evidence = new EvidenceIndex(root);
    const scheduler = new DrillScheduler({
      runner,
      drills,
      schedules: [],
      driver,
      evidenceRoot: root,
      environment: 'dev',
      allowProd: false,
      alerts: queryAlertsSource(query),
      clock,
      logger: pino({ level: 'silent' }),
      evidence,
      retention: { keepLast: 2, keepWithinMs: HOUR },
    });
    const server = routeServer({ adminToken: new Secret('s3cret', 'test') });
    registerDrillsApi(server, { scheduler, drills, evidenceRoot: root, evidence });
    await server.start();
    await scheduler.start();
    try {
      // At start, keep_last 2 keeps the newest two of the history.
      expect(names(readdirSync(root).map((n) => join(root, n)))).toEqual(names(oldRuns.slice(-2)));
      const result = await scheduler.runNow('tiny');
      expect(result?.decision.decision).toBe('allow');
      // After the run: the new run and the newest old one are the newest two.
      expect(names(readdirSync(root).map((n) => join(root, n)))).toEqual(names([result!.dir, oldRuns[199]]));

      const url = server.address()?.url ?? '';
      type Listing = { data: { drills: Array<{ name: string; latest: { dir: string; verdict: { decision: string; problems?: string[] } } | null }> } };
      const list = async (): Promise<Listing['data']['drills'][number]['latest']> => ((await (await fetch(`${url}/api/v1/drills`)).json()) as Listing).data.drills[0].latest;
      const latest = await list();
      expect(latest?.dir).toBe(result!.dir);
      expect(latest?.verdict.decision).toBe('allow');
      // An edited evidence file is noticed (the cached verdict is keyed by every file's size and mtime).
      writeFileSync(join(result!.dir, 'SUMMARY.md'), 'edited\n', { flag: 'a' });
      const edited = await list();
      expect(edited?.verdict.decision).toBe('invalid');
    } finally {
      await scheduler.stop(Date.now() + 5000);
      await server.stop(Date.now() + 2000);
    }
  });
});
