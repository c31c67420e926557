/**
 * An HA pair: two `sentinel run` daemons (child processes) watching one lab, one real Alertmanager
 * and one throwaway PostgreSQL holding the drill lease.
 *
 * - Both probe and both notify; Alertmanager sends one notification for the alert both fire.
 * - Concurrent `POST /api/v1/drills/:name/run` on both runs one drill; the other answers 409
 *   naming the holder.
 * - The holder losing its PostgreSQL session mid-stage aborts its drill: faults removed, evidence
 *   saying why, decision block.
 * - A holder frozen mid-stage (SIGSTOP, as a hung or cut-off host) keeps the other refused until
 *   it has been silent for the lease's ttl; then the other runs, and the thawed holder aborts.
 * - kill -9 of the holder mid-stage: the other takes the lease, its preflight removes the dead
 *   holder's toxics, and it runs.
 * - `sentinel drill cleanup` on one host leaves the other's live drill alone.
 * No sentinel toxic is left on the lab's fault proxy after any of them.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import { main } from '../../src/cli.js';
import { ToxiproxyFaultDriver } from '../../src/drills/index.js';
import { freePort, RealAlertmanager, WebhookListener } from '../alerts/notifiers/alertmanager-harness.js';
import { postgresBinDir, ThrowawayPostgres } from './postgres-harness.js';

const bin = postgresBinDir();
if (!bin) console.warn('test/ha: PostgreSQL binaries not found under /usr/lib/postgresql (npm test installs Debian postgresql); skipping the HA pair tests');

const DRILL = 'ha-partition';
/** HELD is DRILL with a 60 s stage, for tests that end the holder's drill mid-stage themselves. */
const HELD = 'ha-partition-held';
const DRILLS = join(REPO_ROOT, 'test', 'fixtures', 'ha', 'ha-drills.yaml');
const RULES = join(REPO_ROOT, 'test', 'fixtures', 'ha', 'ha.rules.yaml');
const ADMIN_TOKEN = 'ha-admin-token-for-tests';
const TTL = '4s';

/** Daemon is one `sentinel run` child process. */
interface Daemon {
  readonly name: string;
  readonly url: string;
  readonly evidence: string;
  readonly child: ChildProcess;
  output(): string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** haConfig is the lab config, made one member of the pair. */
function haConfig(base: string, o: { holder: string; port: number; dir: string; pg: ThrowawayPostgres; alertmanager: string; tokenFile: string }): string {
  const doc: Document = parseDocument(base);
  // Only the probes the drill and the alert need: two daemons share two cores with the lab.
  for (const p of ['replay_lag', 'resume', 'connections', 'token', 'cutover_state', 'retired_routes']) doc.setIn(['probes', p, 'enabled'], false);
  doc.setIn(['probes', 'health', 'schedule'], '*/2 * * * * *');
  doc.setIn(['probes', 'delivery', 'timeout'], '4s');
  doc.setIn(['probes', 'delivery', 'params', 'receive_timeout'], '2s');
  doc.setIn(['rules', 'files'], [RULES]);
  doc.setIn(['alerting', 'alertmanagers'], doc.createNode([{ url: o.alertmanager, timeout: '2s' }]));
  doc.setIn(['alerting', 'log'], false);
  doc.setIn(['server', 'listen'], `127.0.0.1:${o.port}`);
  doc.setIn(['server', 'admin_token'], `\${file:${o.tokenFile}}`);
  doc.setIn(['storage', 'data_dir'], join(o.dir, 'data'));
  doc.setIn(['drills', 'evidence_dir'], join(o.dir, 'evidence'));
  doc.setIn(['drills', 'lease'], doc.createNode({ postgres: { url: o.pg.url, password: `\${file:${o.pg.passwordFile}}` }, name: 'spacetime-sentinel/ha-lab', holder: o.holder, ttl: TTL }));
  doc.setIn(['log', 'level'], 'info');
  return doc.toString();
}

async function startDaemon(name: string, configFile: string, port: number, evidence: string): Promise<Daemon> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli.ts'), 'run', '--config', configFile], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const daemon: Daemon = { name, url: `http://127.0.0.1:${port}`, evidence, child, output: () => out };
  await until(`${name} to be ready`, 45_000, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${out}`);
    const res = await fetch(`${daemon.url}/readyz`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? true : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${out}`);
  });
  return daemon;
}

async function stopDaemon(d: Daemon | undefined): Promise<void> {
  if (!d || d.child.exitCode !== null || d.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => d.child.once('exit', () => r()));
  d.child.kill('SIGTERM');
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function runDrill(d: Daemon, drill = DRILL): Promise<{ status: number; body: { status: string; error?: string; data?: unknown } }> {
  const res = await fetch(`${d.url}/api/v1/drills/${drill}/run`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: (await res.json()) as { status: string; error?: string } };
}

async function drillRunning(d: Daemon): Promise<boolean> {
  const res = await fetch(`${d.url}/api/v1/drills`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { data: { scheduler: { running?: unknown } } };
  return body.data.scheduler.running !== undefined;
}

async function waitDrillDone(d: Daemon): Promise<void> {
  await until(`${d.name}'s drill to finish`, 90_000, async () => ((await drillRunning(d)) ? undefined : true));
}

/** runDirs lists a daemon's finished evidence directories, oldest first. */
function runDirs(d: Daemon): string[] {
  if (!existsSync(d.evidence)) return [];
  return readdirSync(d.evidence, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(d.evidence, e.name, 'results.jsonl')))
    .map((e) => join(d.evidence, e.name))
    .sort();
}

/** cli runs a `sentinel` command in this process. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' },
    cwd: REPO_ROOT,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

/** latestJournal is the journal of a daemon's newest run, finished or not. */
function latestJournal(d: Daemon): string {
  const dirs = readdirSync(d.evidence, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(d.evidence, e.name, 'journal.jsonl')))
    .map((e) => join(d.evidence, e.name))
    .sort();
  return dirs[dirs.length - 1];
}

function journalEvents(dir: string): Array<{ type: string; event?: string; detail?: Record<string, unknown> }> {
  return readFileSync(join(dir, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; event?: string; detail?: Record<string, unknown> });
}

describe.skipIf(!bin)('an HA pair of sentinels sharing a PostgreSQL drill lease', () => {
  const work: string[] = [];
  let pg: ThrowawayPostgres;
  let hook: WebhookListener;
  let am: RealAlertmanager;
  let env: LabEnvironment;
  let a: Daemon;
  let b: Daemon;
  let driver: ToxiproxyFaultDriver;
  const configs: Record<string, { file: string; port: number; evidence: string }> = {};

  async function ownedToxics(): Promise<string[]> {
    return (await driver.listProxies()).flatMap((p) => p.toxics.filter((t) => t.name.startsWith('sentinel-')).map((t) => `${p.name}/${t.name}`));
  }

  /** faultsIn waits until the drill's stage has injected both its toxics and returns them. */
  async function faultsIn(): Promise<string[]> {
    return until('the drill to inject its two toxics', 45_000, async () => {
      const t = await ownedToxics();
      return t.length >= 2 ? t : undefined;
    });
  }

  beforeAll(async () => {
    pg = await ThrowawayPostgres.start(bin as string);
    hook = new WebhookListener();
    const hookUrl = await hook.start();
    am = new RealAlertmanager(hookUrl, { groupWait: '200ms', groupInterval: '1s', repeatInterval: '1h' });
    await am.start();
    const labDir = mkdtempSync(join(tmpdir(), 'sentinel-ha-lab-'));
    work.push(labDir);
    env = await startLabEnvironment({ workDir: labDir, evidenceDir: join(labDir, 'unused-evidence'), drillFiles: [DRILLS], idleTimeoutMs: 10_000 });
    driver = new ToxiproxyFaultDriver({ url: env.urls.toxiproxy });
    const base = readFileSync(env.configFile, 'utf8');
    const tokenFile = join(labDir, 'admin-token');
    writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    for (const holder of ['sentinel-a', 'sentinel-b']) {
      const dir = mkdtempSync(join(tmpdir(), `${holder}-`));
      work.push(dir);
      const port = await freePort();
      const file = join(dir, 'sentinel.yaml');
      writeFileSync(file, haConfig(base, { holder, port, dir, pg, alertmanager: am.url, tokenFile }));
      configs[holder] = { file, port, evidence: join(dir, 'evidence') };
    }
    [a, b] = await Promise.all(['sentinel-a', 'sentinel-b'].map((h) => startDaemon(h, configs[h].file, configs[h].port, configs[h].evidence)));
  }, 120_000);

  // Every test starts from a known state, whatever the one before left running: no drill on a
  // live daemon, the lease free, no sentinel toxic on the fault proxy.
  beforeEach(async () => {
    const alive = [a, b].filter((d) => d.child.exitCode === null && d.child.signalCode === null);
    let last = '';
    await until('no drill running, the lease free and no sentinel toxic', 90_000, async () => {
      const running = [];
      for (const d of alive) if (await drillRunning(d)) running.push(d.name);
      const sessions = (await pg.leaseSessions()).map((s) => s.application_name);
      const toxics = await ownedToxics();
      last = JSON.stringify({ running, sessions, toxics });
      return running.length === 0 && sessions.length === 0 && toxics.length === 0 ? true : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}: ${last}`);
    });
  }, 100_000);

  afterAll(async () => {
    await Promise.all([stopDaemon(a), stopDaemon(b)]);
    await env?.close();
    await am?.destroy();
    await hook?.close();
    await pg?.stop();
    for (const d of work) rmSync(d, { recursive: true, force: true });
  }, 60_000);

  it('both notify the alert they both fire; Alertmanager sends one notification', async () => {
    const sent = async (d: Daemon): Promise<number> => {
      const text = await (await fetch(`${d.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      const m = /^sentinel_notifications_total\{notifier="alertmanager",result="sent"\} (\d+)/m.exec(text);
      return m ? Number(m[1]) : 0;
    };
    // Both daemons deliver the alert to Alertmanager themselves...
    await until('both sentinels to send the alert to Alertmanager', 45_000, async () => ((await sent(a)) > 0 && (await sent(b)) > 0 ? true : undefined));
    const ours = (): typeof hook.received => hook.received.filter((m) => m.body.alerts.some((x) => x.labels.alertname === 'SentinelHaPairProbing'));
    await hook.waitFor(() => ours().length > 0, 10_000);
    // ...and after several group intervals Alertmanager has still notified once, with one alert.
    await sleep(3500);
    expect(ours()).toHaveLength(1);
    expect(ours()[0].body.alerts).toHaveLength(1);
    expect(ours()[0].body.alerts[0].labels).toEqual({ alertname: 'SentinelHaPairProbing', severity: 'info', env: 'lab' });
    expect((await am.activeAlerts()).filter((x) => x.labels.alertname === 'SentinelHaPairProbing')).toHaveLength(1);
  }, 90_000);

  it('runs one drill when both are asked at once; the other refuses with 409 naming the holder', async () => {
    const [ra, rb] = await Promise.all([runDrill(a), runDrill(b)]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses, JSON.stringify([ra.body, rb.body])).toEqual([202, 409]);
    const [holder, other, refused] = ra.status === 202 ? [a, b, rb] : [b, a, ra];
    expect(refused.body.error).toMatch(new RegExp(`^the drill lease 'spacetime-sentinel/ha-lab' \\(PostgreSQL advisory lock 'spacetime-sentinel/ha-lab' on 127\\.0\\.0\\.1:\\d+/postgres\\) is held by sentinel '${holder.name}' running drill '${DRILL}' since `));
    // `sentinel drill run` on the other host meanwhile is refused too, and its evidence says by whom.
    const out = mkdtempSync(join(tmpdir(), 'sentinel-ha-cli-'));
    work.push(out);
    const cliRun = await cli(['drill', 'run', DRILL, '--config', configs[other.name].file, '--out', out, '--skip-alert-check']);
    expect(cliRun.code).toBe(1);
    expect(cliRun.stdout).toContain('Decision: block');
    expect(cliRun.stdout).toContain(`lock: the drill lease 'spacetime-sentinel/ha-lab'`);
    expect(cliRun.stdout).toContain(`is held by sentinel '${holder.name}' running drill '${DRILL}'`);
    await waitDrillDone(holder);
    expect(runDirs(holder)).toHaveLength(1);
    expect(runDirs(other)).toHaveLength(0);
    const result = JSON.parse(readFileSync(join(runDirs(holder)[0], 'results.jsonl'), 'utf8').trim()) as { faults: unknown[]; faults_removed: boolean };
    expect(result.faults.length).toBeGreaterThan(0);
    expect(result.faults_removed).toBe(true);
    expect(await ownedToxics()).toEqual([]);
  }, 120_000);

  it("aborts the holder's drill when it loses its PostgreSQL session mid-stage: faults removed, evidence says why, block", async () => {
    const before = runDirs(a).length;
    expect((await runDrill(a, HELD)).status).toBe(202);
    const live = await faultsIn();
    // `sentinel drill cleanup` on the other host leaves the live drill's faults alone.
    const cleanup = await cli(['drill', 'cleanup', '--config', configs['sentinel-b'].file]);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(cleanup.stderr).toContain(`is held by sentinel 'sentinel-a' running drill '${HELD}'`);
    expect(cleanup.stderr).toContain('only expired sentinel toxics were removed');
    expect(await ownedToxics()).toEqual(live);
    // The lease's session dies (as when the database fails over or the network cuts it).
    expect(await pg.terminate('sentinel-lease sentinel-a')).toBe(1);
    await waitDrillDone(a);
    expect(await ownedToxics()).toEqual([]);
    const dirs = runDirs(a);
    expect(dirs).toHaveLength(before + 1);
    const dir = dirs[dirs.length - 1];
    const result = JSON.parse(readFileSync(join(dir, 'results.jsonl'), 'utf8').trim()) as { status: string; reasons: string[]; faults_removed: boolean };
    expect(result.status).toBe('aborted');
    expect(result.faults_removed).toBe(true);
    expect(result.reasons.join('\n')).toMatch(/interrupted: drill lease 'spacetime-sentinel\/ha-lab' lost: the PostgreSQL session/);
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toMatch(/Decision: block\s*$/);
    expect(journalEvents(dir).some((e) => e.event === 'drill_lease_lost')).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({ status: 'interrupted' });
  }, 120_000);

  it('lets the other run once a frozen holder (SIGSTOP) has been silent for the ttl; the thawed holder aborts its drill', async () => {
    const aRuns = runDirs(a).length;
    expect((await runDrill(a, HELD)).status).toBe(202);
    const left = await faultsIn();
    a.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    const refusals: string[] = [];
    let waitedMs: number;
    try {
      waitedMs = await until('the other sentinel to take the lease', 20_000, async () => {
        const r = await runDrill(b);
        if (r.status === 202) return Date.now() - frozenAt;
        refusals.push(r.body.error ?? '');
        return undefined;
      });
      // The holder stays frozen until the other's preflight has dealt with its toxics, so the
      // thawed holder's own clean-up cannot get there first.
      await until("the other's preflight to pass its leftover check", 30_000, async () => (journalEvents(latestJournal(b)).some((e) => e.event === 'leftover_faults_removed' || e.event === 'stage_start' || e.type === 'run_end') ? true : undefined));
    } finally {
      a.child.kill('SIGCONT');
    }
    console.log(`ha-pair: the other sentinel ran ${waitedMs} ms after the holder froze (ttl ${TTL}; ${refusals.length} refusals before)`);
    // Refused, naming the frozen holder, until the server ended its silent session.
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) expect(r).toContain("held by sentinel 'sentinel-a'");
    // The server ends the session a ttl after the holder's last lease check, which came at most
    // ttl/3 before it froze.
    expect(waitedMs).toBeGreaterThanOrEqual(2600);
    expect(waitedMs).toBeLessThan(12_000);
    await Promise.all([waitDrillDone(a), waitDrillDone(b)]);
    expect(await ownedToxics()).toEqual([]);
    const aDirs = runDirs(a);
    expect(aDirs).toHaveLength(aRuns + 1);
    const aResult = JSON.parse(readFileSync(join(aDirs[aDirs.length - 1], 'results.jsonl'), 'utf8').trim()) as { status: string; reasons: string[] };
    expect(aResult.status).toBe('aborted');
    expect(aResult.reasons.join('\n')).toMatch(/interrupted: drill lease 'spacetime-sentinel\/ha-lab' lost: /);
    expect(readFileSync(join(aDirs[aDirs.length - 1], 'SUMMARY.md'), 'utf8')).toMatch(/Decision: block\s*$/);
    // The other's preflight, holding the lease, removed what the frozen holder had injected.
    const bDirs = runDirs(b);
    const removed = journalEvents(bDirs[bDirs.length - 1]).find((e) => e.event === 'leftover_faults_removed')?.detail?.removed as string[] | undefined;
    expect(removed?.sort()).toEqual(left.sort());
  }, 150_000);

  it('lets the other run when the holder is killed mid-stage; its preflight removes the dead holder’s toxics', async () => {
    expect((await runDrill(a, HELD)).status).toBe(202);
    const left = await faultsIn();
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const refusals: string[] = [];
    const accepted = await until('the other sentinel to take the lease', 15_000, async () => {
      const r = await runDrill(b);
      if (r.status === 202) return Date.now() - killedAt;
      refusals.push(r.body.error ?? '');
      return undefined;
    });
    console.log(`ha-pair: the other sentinel ran ${accepted} ms after kill -9 of the holder (${refusals.length} refusals before)`);
    for (const r of refusals) expect(r).toContain("held by sentinel 'sentinel-a'");
    expect(accepted).toBeLessThan(3000 + 5000);
    await waitDrillDone(b);
    expect(await ownedToxics()).toEqual([]);
    const dirs = runDirs(b);
    const journal = journalEvents(dirs[dirs.length - 1]);
    const removed = journal.find((e) => e.event === 'leftover_faults_removed')?.detail?.removed as string[] | undefined;
    expect(removed?.sort()).toEqual(left.sort());
    // The password reached neither daemon's logs nor any evidence.
    for (const d of [a, b]) {
      expect(d.output()).not.toContain(pg.password);
      for (const run of runDirs(d)) for (const f of readdirSync(run)) expect(readFileSync(join(run, f), 'utf8').includes(pg.password), `${run}/${f}`).toBe(false);
    }
  }, 150_000);
});
