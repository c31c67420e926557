/**
 * Drills end to end against the lab, through its Toxiproxy-compatible fault proxy, with the real
 * probes: a healthy lab gives allow; a faulty lab gives block naming the scenario; SIGTERM
 * mid-stage removes every fault before exit; kill -9 mid-stage leaves them for `drill cleanup`;
 * tampered evidence exits 2; report.html renders in headless Chromium with the stages shaded.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Document } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import type { CommandIO } from '../../src/commands/types.js';
import { startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import { readJournal } from '../../src/drills/journal.js';
import { ToxiproxyFaultDriver } from '../../src/drills/index.js';
import { decodePng } from '../helpers/png.js';
import { DRILL_PROBE_WAITS, setProbeTimings } from '../helpers/probe-timings.js';
import { startDaemon } from '../helpers/started-daemon.js';
import { sentinelVersion } from '../../src/version.js';
import { checkConfig } from '../../src/config/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DRILLS = join(ROOT, 'test', 'fixtures', 'drills', 'lab-drills.yaml');

/** fastProbes shortens the probes' waits so a drill takes seconds, not minutes. */
const fastProbes = (doc: Document): void => setProbeTimings(doc, DRILL_PROBE_WAITS);

interface Captured extends CommandIO {
  out(): string;
  err(): string;
}

function captureIO(signal = new AbortController().signal): Captured {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { ...process.env, LOG_LEVEL: 'silent' },
    cwd: ROOT,
    signal,
    out: () => out,
    err: () => err,
  };
}

async function sentinel(argv: string[], io: Captured = captureIO()): Promise<{ code: number; out: string; err: string }> {
  const [a, b] = argv;
  const twoWords = COMMANDS[`${a} ${b}`];
  const command = twoWords ?? COMMANDS[a];
  const rest = twoWords ? argv.slice(2) : argv.slice(1);
  const positionals = rest.filter((x, i) => !x.startsWith('--') && !(i > 0 && (rest[i - 1] === '--config' || rest[i - 1] === '--out')));
  const at = rest.indexOf('--config');
  const out = rest.indexOf('--out');
  const options = { ...(at >= 0 ? { config: rest[at + 1] } : {}), ...(out >= 0 ? { out: rest[out + 1] } : {}), ...(rest.includes('--json') ? { json: true } : {}), ...(rest.includes('--skip-alert-check') ? { 'skip-alert-check': true } : {}) };
  const code = await (await command.load()).run({ positionals, options }, io);
  return { code, out: io.out(), err: io.err() };
}

const work: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  work.push(d);
  return d;
}

async function labEnv(knobs?: Record<string, unknown>): Promise<{ env: LabEnvironment; evidence: string }> {
  const dir = tempDir('sentinel-e2e-');
  const evidence = join(dir, 'evidence');
  const env = await startLabEnvironment({ workDir: dir, evidenceDir: evidence, drillFiles: [DRILLS], patchConfig: fastProbes, ...(knobs ? { knobs } : {}), idleTimeoutMs: 10000 });
  return { env, evidence };
}

function onlyEvidenceDir(root: string): string {
  const dirs = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory());
  expect(dirs).toHaveLength(1);
  return join(root, dirs[0].name);
}

async function ownedToxics(env: LabEnvironment): Promise<string[]> {
  const proxies = await new ToxiproxyFaultDriver({ url: env.urls.toxiproxy }).listProxies();
  return proxies.flatMap((p) => p.toxics.map((t) => `${p.name}/${t.name}`)).filter((n) => n.includes('/sentinel-'));
}

afterAll(() => {
  for (const d of work) rmSync(d, { recursive: true, force: true });
});

describe('drills against a healthy lab', () => {
  let env: LabEnvironment;
  let evidence: string;
  let dir: string;
  beforeAll(async () => {
    ({ env, evidence } = await labEnv());
  }, 60_000);
  afterAll(async () => {
    await env.close();
  });

  it('runs a real partition and allows, with verifiable evidence', async () => {
    const run = await sentinel(['drill', 'run', 'quick-partition', '--config', env.configFile, '--skip-alert-check']);
    expect(run.out).toContain('Decision: allow');
    expect(run.code).toBe(0);
    dir = onlyEvidenceDir(evidence);
    for (const f of ['SUMMARY.md', 'results.jsonl', 'run.json', 'journal.jsonl', 'samples.jsonl', 'report.html', 'MANIFEST.sha256', 'target.json', 'runtime-metrics-before.json', 'runtime-metrics-after.json', 'control-status-before.json', 'control-status-after.json']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const result = JSON.parse(readFileSync(join(dir, 'results.jsonl'), 'utf8').trim()) as { status: string; faults_removed: boolean; conditions: Array<{ kind: string; status: string }> };
    expect(result.status).toBe('passed');
    expect(result.faults_removed).toBe(true);
    expect(result.conditions.find((c) => c.kind === 'fault_in_effect')?.status).toBe('passed');
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).sentinel_version).toBe(sentinelVersion());
    // The alert check was explicitly skipped, and the evidence says so.
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toContain('- Safety checks SKIPPED: firing critical alerts (skipped with --skip-alert-check)');
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).skipped_checks).toEqual(['firing critical alerts (skipped with --skip-alert-check)']);
    expect(await ownedToxics(env)).toEqual([]);
    // The report shows every probe run and every expectation measurement on the timeline.
    const report = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(report).toContain('Probe runs and expectation measurements');
    expect((report.match(/<circle /g) ?? []).length).toBeGreaterThanOrEqual(3);
    // Secrets never reach the evidence.
    const secrets = readdirSync(join(env.configFile, '..', 'lab', 'secrets')).map((f) => readFileSync(join(env.configFile, '..', 'lab', 'secrets', f), 'utf8').trim());
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const s of secrets) expect(text.includes(s), `${file} leaks a secret`).toBe(false);
    }
    const verdict = await sentinel(['verdict', dir]);
    expect(verdict.code).toBe(0);
    expect(verdict.out).toContain('Decision: allow');
  }, 120_000);

  it('asks the running daemon for firing critical alerts (GET /api/v1/alerts)', async () => {
    const checked = checkConfig(env.configFile, { env: process.env, cwd: ROOT });
    if (!checked.ok) throw new Error(checked.issues.join('\n'));
    const { daemon, stop } = await startDaemon({ ...checked.config, storage: { ...checked.config.storage, dataDir: tempDir('sentinel-daemon-data-') } }, { env: process.env });
    try {
      const url = new URL(daemon.server.address()?.url ?? '');
      const config = join(tempDir('sentinel-daemon-config-'), 'sentinel.yaml');
      writeFileSync(config, readFileSync(env.configFile, 'utf8').replace(/listen: .*/, `listen: ${url.host}`));
      const out = tempDir('sentinel-asked-');
      const run = await sentinel(['drill', 'run', 'quick-restart', '--config', config, '--out', out]);
      expect(run.out).toMatch(/ok {3}alerts 'no firing critical alert'/);
      const result = JSON.parse(readFileSync(join(onlyEvidenceDir(out), 'results.jsonl'), 'utf8').trim()) as { conditions: Array<{ kind: string; query: string; status: string }>; skipped_checks?: string[] };
      expect(result.conditions.find((c) => c.kind === 'alerts')).toMatchObject({ status: 'passed', query: expect.stringContaining(`the sentinel daemon at ${url.origin}/api/v1/alerts`) });
      expect(result.skipped_checks).toBeUndefined();
    } finally {
      await stop();
    }
  }, 90_000);

  it('refuses to run (error, exit 1) when no daemon can answer for firing critical alerts', async () => {
    const out = tempDir('sentinel-refused-');
    const run = await sentinel(['drill', 'run', 'quick-partition', '--config', env.configFile, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('Decision: block');
    const refused = onlyEvidenceDir(out);
    const summary = readFileSync(join(refused, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('| quick-partition | error |');
    expect(summary).toContain('server.listen uses port 0');
    const result = JSON.parse(readFileSync(join(refused, 'results.jsonl'), 'utf8').trim()) as { status: string; faults: unknown[] };
    expect(result.status).toBe('error');
    expect(result.faults).toEqual([]);
    expect((await sentinel(['verdict', refused])).code).toBe(1);
  }, 60_000);

  it('says exit 2 for tampered or truncated evidence', async () => {
    const copy = tempDir('sentinel-tamper-');
    spawnSync('cp', ['-r', dir, copy]);
    const tampered = join(copy, readdirSync(copy)[0]);
    appendFileSync(join(tampered, 'results.jsonl'), '\n');
    expect((await sentinel(['verdict', tampered])).code).toBe(2);
    rmSync(join(tampered, 'results.jsonl'));
    expect((await sentinel(['verdict', tampered])).code).toBe(2);
  });

  it('renders report.html in headless Chromium with the fault window shaded', () => {
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
    expect(chromium, 'Debian chromium must be installed (npm test installs it)').toBeDefined();
    const shot = join(tempDir('sentinel-shot-'), 'report.png');
    const profile = tempDir('sentinel-chromium-');
    const res = spawnSync(
      chromium as string,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--hide-scrollbars', '--window-size=960,1400', `--screenshot=${shot}`, `file://${join(dir, 'report.html')}`],
      { timeout: 60_000, encoding: 'utf8' },
    );
    expect(existsSync(shot), res.stderr).toBe(true);
    const png = decodePng(readFileSync(shot));
    // The fault window is #f2a0a0 at 55% over #fafafa ≈ rgb(246,200,200); recovery ≈ rgb(249,235,213).
    let fault = 0;
    let recovery = 0;
    for (let i = 0; i < png.rgba.length; i += 4) {
      const [r, g, b] = [png.rgba[i], png.rgba[i + 1], png.rgba[i + 2]];
      if (Math.abs(r - 246) <= 8 && Math.abs(g - 200) <= 8 && Math.abs(b - 200) <= 8) fault++;
      if (Math.abs(r - 249) <= 8 && Math.abs(g - 235) <= 8 && Math.abs(b - 213) <= 8) recovery++;
    }
    expect(fault).toBeGreaterThan(2000);
    expect(recovery).toBeGreaterThan(200);
  }, 90_000);
});

describe('drills against a faulty lab', () => {
  it('blocks before any fault, naming the scenario, when resumes already come back with a gap', async () => {
    const { env, evidence } = await labEnv({ next_resume: 'gap' });
    try {
      // The preflight's second resume (the first after its bootstrap run) gets the injected gap.
      const run = await sentinel(['drill', 'run', 'quick-latency', '--config', env.configFile, '--skip-alert-check']);
      expect(run.code).toBe(1);
      expect(run.out).toContain('Decision: block');
      expect(run.out).toContain("FAILED steady_state_before 'resume works'");
      expect(run.out).toMatch(/quick-latency: failed/);
      expect(await ownedToxics(env)).toEqual([]);
      const dir = onlyEvidenceDir(evidence);
      expect(JSON.parse(readFileSync(join(dir, 'results.jsonl'), 'utf8').trim()).faults).toEqual([]);
      const verdict = await sentinel(['verdict', dir]);
      expect(verdict.code).toBe(1);
      expect(verdict.out).toContain('quick-latency: failed');
    } finally {
      await env.close();
    }
  }, 120_000);

  it('blocks when connection rows leak (presence does not return to baseline)', async () => {
    const { env } = await labEnv({ leak_connection_rows: true });
    try {
      const run = await sentinel(['drill', 'run', 'quick-restart', '--config', env.configFile, '--skip-alert-check']);
      expect(run.code).toBe(1);
      expect(run.out).toContain('Decision: block');
      expect(run.out).toContain('handshake returns to baseline');
    } finally {
      await env.close();
    }
  }, 120_000);
});

describe('faults are removed when the drill process dies', () => {
  let env: LabEnvironment;
  let evidence: string;
  beforeAll(async () => {
    ({ env, evidence } = await labEnv());
  }, 60_000);
  afterAll(async () => {
    await env.close();
  });

  function startDrill(): { child: ChildProcess; faultAdded: Promise<void>; exit: Promise<number | null> } {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'drill', 'run', 'quick-partition', '--config', env.configFile, '--skip-alert-check'], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const faultAdded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no fault within 60 s; output: ${out}`)), 60_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('+ fault')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, faultAdded, exit };
  }

  it('SIGTERM mid-stage removes every fault before the process exits', async () => {
    const { child, faultAdded, exit } = startDrill();
    await faultAdded;
    expect((await ownedToxics(env)).length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    const code = await exit;
    expect(code).toBe(1);
    expect(await ownedToxics(env)).toEqual([]);
    const dir = readdirSync(evidence).map((d) => join(evidence, d)).find((d) => existsSync(join(d, 'run.json')));
    expect(dir).toBeDefined();
    expect(JSON.parse(readFileSync(join(dir as string, 'run.json'), 'utf8')).status).toBe('interrupted');
    rmSync(evidence, { recursive: true, force: true });
  }, 120_000);

  it('kill -9 mid-stage leaves the faults, and the next start (drill cleanup) removes them', async () => {
    const { child, faultAdded, exit } = startDrill();
    await faultAdded;
    child.kill('SIGKILL');
    await exit;
    expect((await ownedToxics(env)).length).toBeGreaterThan(0);
    const cleanup = await sentinel(['drill', 'cleanup', '--config', env.configFile]);
    expect(cleanup.code).toBe(0);
    expect(cleanup.out).toContain('removed spacetimedb/sentinel-');
    expect(await ownedToxics(env)).toEqual([]);
    const journal = readdirSync(evidence).map((d) => join(evidence, d, 'journal.jsonl')).find((p) => existsSync(p));
    expect(readJournal(journal as string).at(-1)).toMatchObject({ type: 'run_end', status: 'interrupted' });
    // A crashed run has no manifest: its evidence can never say allow.
    expect((await sentinel(['verdict', join(journal as string, '..')])).code).toBe(2);
  }, 120_000);
});
