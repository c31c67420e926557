/**
 * Daemon soak: `sentinel run` as its own process against the lab, through the fault
 * proxy, with RSS and CPU time read from /proc every 5 s. Targets: RSS <= 80 MB (max over the
 * soak), CPU <= 2% of one core (from "sentinel running" to the end). Then SIGTERM, reporting the
 * exit code and how long the shutdown took.
 *
 * The lab and the fault proxy run inside this process (so their cost is not the daemon's); the
 * daemon's config is config/lab.yaml with the proxies' ephemeral ports, the lab's secret files,
 * and temp data/evidence directories substituted.
 *
 * Environment:
 *   SOAK_SECONDS    soak length after the daemon is ready (default 600: 10 minutes)
 *   SOAK_SCHEDULES  `lab` (default: config/lab.yaml's fast 15-60 s schedules and 15 s rule
 *                   evaluation) or `default` (the probe schedules and 1 m rule evaluation of
 *                   config/sentinel.yaml, the daemon's documented defaults)
 *   SOAK_RUNTIME    `tsx` (default: `node --import tsx src/cli.ts`, as in development) or
 *                   `compiled` (tsc output in the temp directory, run with plain `node`, as
 *                   `bin/sentinel.js` runs a build: no TypeScript loader in the daemon's memory)
 *   SOAK_NODE_FLAGS node/V8 flags for the daemon's process, space-separated (e.g.
 *                   `--max-semi-space-size=1`), to measure what a flag buys
 *   SOAK_KEEP=1     keep the temp directory (config, daemon log, data) for inspection
 * Run: SOAK_SECONDS=60 npm run bench -- soak
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document } from 'yaml';
import { ToxiproxyFaultDriver } from '../../src/drills/index.js';
import { startFaultProxy } from '../../src/lab/fault-proxy/index.js';
import { SECRET_FILE_NAMES, startLab } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';
import { figure } from '../figure.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIG_DIR = path.join(ROOT, 'config');
const SAMPLE_EVERY_MS = 5000;
const READY_DEADLINE_MS = 90_000;
const STOP_DEADLINE_MS = 30_000;
const RSS_TARGET_MB = 80;
const CPU_TARGET_PERCENT = 2;

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const SCHEDULES = process.env.SOAK_SCHEDULES ?? 'lab';
const RUNTIME = process.env.SOAK_RUNTIME ?? 'tsx';
/** NODE_FLAGS go before the daemon's entry on its node command line (e.g. V8 heap flags to compare). */
const NODE_FLAGS = (process.env.SOAK_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');

interface ProcSample {
  readonly atMs: number;
  readonly cpuSeconds: number;
  readonly rssKiB: number;
}

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * rssSplit reads how the resident memory divides: anonymous (V8 heaps, malloc, buffers), file
 * mappings (the node binary's code and read-only data, shared libraries) and shared memory.
 */
function rssSplit(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return `anonymous ${(kb('RssAnon') / 1024).toFixed(1)} MB, file-backed (code, libraries) ${(kb('RssFile') / 1024).toFixed(1)} MB, shared ${(kb('RssShmem') / 1024).toFixed(1)} MB`;
  } catch {
    return '';
  }
}

/** readProc reads the process' user+system CPU time (all threads) and resident set size. */
function readProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name start at field 3 (state); utime and stime are 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return { atMs: performance.now(), cpuSeconds: ticks / CLK_TCK, rssKiB: rss ? Number(rss[1]) : NaN };
}

function peakRssKiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const mb = (kib: number): string => `${(kib / 1024).toFixed(1)} MB`;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** absolutize rewrites a config-relative path (or glob) so the temp config can live elsewhere. */
function absolutize(p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(CONFIG_DIR, p);
}

/** buildConfig turns config/lab.yaml into a config for this lab, proxies and temp directory. */
function buildConfig(lab: Lab, proxyPorts: ReadonlyMap<string, number>, toxiproxyUrl: string, tmp: string): string {
  const doc: Document = parseDocument(readFileSync(path.join(CONFIG_DIR, 'lab.yaml'), 'utf8'));
  if (doc.errors.length > 0) throw new Error(`config/lab.yaml does not parse: ${doc.errors[0].message}`);
  const secretFiles = lab.secretFiles;
  if (!secretFiles) throw new Error('the lab wrote no secret files; it needs a stateDir');
  // Point every ${file:.../secrets/<name>} reference at the file this lab wrote.
  const byName = new Map<string, string>(Object.entries(SECRET_FILE_NAMES).map(([key, name]) => [name, secretFiles[key as keyof typeof secretFiles]]));
  let substituted = 0;
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string') return;
      node.value = node.value.replace(/\$\{file:([^}]*)\}/g, (ref: string, file: string) => {
        const replacement = byName.get(path.basename(file));
        if (replacement === undefined) return ref;
        substituted++;
        return `\${file:${replacement}}`;
      });
    },
  });
  // The lab keeps more secrets than the daemon reads (the personal access token is for operators).
  if (substituted === 0) throw new Error(`config/lab.yaml references none of the lab's secret files (${[...byName.keys()].join(', ')}); the bench cannot point it at this lab's`);
  for (const service of ['spacetimedb', 'runtime', 'control'] as const) {
    const port = proxyPorts.get(service);
    if (port === undefined) throw new Error(`fault proxy '${service}' is missing`);
    doc.setIn(['target', service, 'base_url'], `http://127.0.0.1:${port}`);
  }
  for (const key of [['rules', 'files'], ['drills', 'files']]) {
    const node = doc.getIn(key, true);
    if (isSeq(node)) node.items = node.items.map((item) => (isScalar(item) && typeof item.value === 'string' ? doc.createNode(absolutize(item.value)) : item));
  }
  doc.setIn(['drills', 'toxiproxy_url'], toxiproxyUrl);
  doc.setIn(['drills', 'evidence_dir'], path.join(tmp, 'evidence'));
  doc.setIn(['storage', 'data_dir'], path.join(tmp, 'data'));
  doc.setIn(['server', 'listen'], '127.0.0.1:0');
  doc.setIn(['log', 'level'], 'info');
  if (doc.hasIn(['lab', 'state_dir'])) doc.setIn(['lab', 'state_dir'], path.join(tmp, 'lab'));

  if (SCHEDULES === 'default') {
    const defaults = parseDocument(readFileSync(path.join(CONFIG_DIR, 'sentinel.yaml'), 'utf8'));
    const probes = defaults.get('probes', true);
    if (!isMap(probes)) throw new Error('config/sentinel.yaml has no probes map');
    // preflight checks a real environment's provisioning variables; keep config/lab.yaml's
    // setting for it (the lab has none of them) rather than the staging template's.
    const labPreflight = doc.getIn(['probes', 'preflight'], true);
    doc.set('probes', probes);
    if (labPreflight !== undefined) doc.setIn(['probes', 'preflight'], labPreflight);
    const interval = defaults.getIn(['rules', 'evaluation_interval']);
    if (typeof interval === 'string') doc.setIn(['rules', 'evaluation_interval'], interval);
  } else if (SCHEDULES !== 'lab') {
    throw new Error(`SOAK_SCHEDULES=${SCHEDULES}: expected lab or default`);
  }
  const file = path.join(tmp, 'sentinel.yaml');
  writeFileSync(file, String(doc), { mode: 0o600 });
  return file;
}

interface LogLine {
  msg?: string;
  level?: number | string;
  address?: string;
}

function logLines(file: string): LogLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line still being written
    }
  }
  return out;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

async function fetchMetrics(address: string): Promise<string> {
  const res = await fetch(`${address}/metrics`, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/** heapBreakdown says where the RSS goes, from prom-client's nodejs_* metrics when exposed. */
function heapBreakdown(text: string): string {
  const value = (name: string, labels = ''): number | undefined => {
    // A sample line may end in a timestamp (the store's series carry the time of their sample).
    const m = new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)(?: -?\\d+)?$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const parts: Array<[string, number | undefined]> = [
    ['V8 heap used', value('nodejs_heap_size_used_bytes')],
    ['V8 heap total', value('nodejs_heap_size_total_bytes')],
    ['external', value('nodejs_external_memory_bytes')],
    ['old space used', value('nodejs_heap_space_size_used_bytes', 'space="old"')],
    ['code space used', value('nodejs_heap_space_size_used_bytes', 'space="code"')],
  ];
  const known = parts.filter((p): p is [string, number] => p[1] !== undefined);
  return known.length ? known.map(([k, v]) => `${k} ${mb(v / 1024)}`).join(', ') : '(no nodejs_* metrics)';
}

/** probeRuns sums sentinel_probe_runs_total by probe and result from the daemon's /metrics. */
function probeRuns(text: string): string {
  const runs = new Map<string, Map<string, number>>();
  for (const m of text.matchAll(/^sentinel_probe_runs_total\{([^}]*)\} (\S+)(?: -?\d+)?$/gm)) {
    const probe = /probe="([^"]*)"/.exec(m[1])?.[1] ?? '?';
    const result = /result="([^"]*)"/.exec(m[1])?.[1] ?? '?';
    const per = runs.get(probe) ?? new Map<string, number>();
    per.set(result, (per.get(result) ?? 0) + Number(m[2]));
    runs.set(probe, per);
  }
  if (runs.size === 0) return '(no sentinel_probe_runs_total in /metrics)';
  return [...runs.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([probe, per]) => `${probe} ${[...per.entries()].filter(([, n]) => n > 0).map(([r, n]) => `${r}=${n}`).join(',') || '0'}`)
    .join('; ');
}

/**
 * compileDaemon builds src/ with tsc into `<tmp>/build/dist`, beside a copy of package.json
 * (ESM, version lookup) and a node_modules symlink, so the shared tree's dist/ is never touched.
 */
function compileDaemon(tmp: string): string {
  const build = path.join(tmp, 'build');
  mkdirSync(build, { recursive: true });
  copyFileSync(path.join(ROOT, 'package.json'), path.join(build, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(build, 'node_modules'), 'dir');
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(build, 'dist'), '--sourceMap', 'false'], { cwd: ROOT, stdio: 'pipe', timeout: 300_000 });
  } catch (err) {
    // tsc still emits on type errors elsewhere in the tree; only a missing entry point is fatal.
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    console.log(`soak: tsc reported errors (emitted anyway):\n${out.split('\n').slice(0, 5).join('\n')}`);
  }
  const cli = path.join(build, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`tsc did not produce ${cli}`);
  return cli;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function main(): Promise<number> {
  if (!(SOAK_SECONDS > 0)) throw new Error(`SOAK_SECONDS=${process.env.SOAK_SECONDS} must be a positive number of seconds`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sentinel-soak-'));
  const logFile = path.join(tmp, 'daemon.log');
  let lab: Lab | undefined;
  let fp: Awaited<ReturnType<typeof startFaultProxy>> | undefined;
  let child: ChildProcess | undefined;
  try {
    lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, stateDir: path.join(tmp, 'lab') });
    fp = await startFaultProxy();
    const driver = new ToxiproxyFaultDriver({ url: fp.url });
    const hostPort = (url: string): string => new URL(url).host;
    await driver.ensureProxies([
      { name: 'spacetimedb', listen: '127.0.0.1:0', upstream: hostPort(lab.urls.spacetimedb) },
      { name: 'runtime', listen: '127.0.0.1:0', upstream: hostPort(lab.urls.runtime) },
      { name: 'control', listen: '127.0.0.1:0', upstream: hostPort(lab.urls.control) },
    ]);
    const proxyPorts = new Map((await driver.listProxies()).map((p) => [p.name, Number(p.listen.slice(p.listen.lastIndexOf(':') + 1))]));
    const configFile = buildConfig(lab, proxyPorts, fp.url, tmp);
    console.log(`soak: ${SOAK_SECONDS} s, runtime '${RUNTIME}', schedules '${SCHEDULES}',${NODE_FLAGS.length ? ` node flags '${NODE_FLAGS.join(' ')}',` : ''} sampling every ${SAMPLE_EVERY_MS / 1000} s; lab ${lab.urls.spacetimedb} via proxies ${[...proxyPorts].map(([n, p]) => `${n}:${p}`).join(' ')}; work dir ${tmp}`);

    let entry: string[];
    if (RUNTIME === 'compiled') entry = [compileDaemon(tmp)];
    else if (RUNTIME === 'tsx') entry = ['--import', 'tsx', path.join(ROOT, 'src', 'cli.ts')];
    else throw new Error(`SOAK_RUNTIME=${RUNTIME}: expected tsx or compiled`);
    const out = openSync(logFile, 'a');
    const t0 = performance.now();
    child = spawn(process.execPath, [...NODE_FLAGS, ...entry, 'run', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', out, out],
      env: process.env,
    });
    closeSync(out);
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not spawn sentinel run');
    const childExit = exited(child);

    // Ready when the daemon logs "sentinel running" (with its address); a crash ends the wait.
    let address: string | undefined;
    let early: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void childExit.then((e) => (early = e));
    while (performance.now() - t0 < READY_DEADLINE_MS && early === undefined) {
      const ready = logLines(logFile).find((l) => l.msg === 'sentinel running');
      if (ready) {
        address = ready.address ?? '';
        break;
      }
      await sleep(200);
    }
    if (address === undefined) {
      const why = early ? `exited with ${early.signal ?? `code ${early.code}`}` : `did not log "sentinel running" within ${READY_DEADLINE_MS / 1000} s`;
      console.error(`soak: FAILED: the daemon ${why}; its last output:\n${tail(logFile, 30)}`);
      return 1;
    }
    const startupMs = performance.now() - t0;
    const first = readProc(pid);
    console.log(`daemon pid ${pid} ready in ${(startupMs / 1000).toFixed(1)} s at ${address}; RSS ${mb(first.rssKiB)}, CPU ${first.cpuSeconds.toFixed(2)} s so far`);

    const samples: ProcSample[] = [first];
    const rounds = Math.ceil((SOAK_SECONDS * 1000) / SAMPLE_EVERY_MS);
    let died = false;
    for (let i = 1; i <= rounds; i++) {
      const dueAt = first.atMs + Math.min(i * SAMPLE_EVERY_MS, SOAK_SECONDS * 1000);
      await Promise.race([sleep(Math.max(0, dueAt - performance.now())), childExit]);
      if (early !== undefined) {
        died = true;
        break;
      }
      const s = readProc(pid);
      samples.push(s);
      const prev = samples[samples.length - 2];
      if (i % 12 === 0 || i === rounds) {
        const pct = ((s.cpuSeconds - prev.cpuSeconds) / ((s.atMs - prev.atMs) / 1000)) * 100;
        console.log(`  t+${((s.atMs - first.atMs) / 1000).toFixed(0).padStart(4)} s  RSS ${mb(s.rssKiB)}  CPU ${pct.toFixed(2)}% over the last ${((s.atMs - prev.atMs) / 1000).toFixed(0)} s`);
      }
    }
    if (died) {
      console.error(`soak: FAILED: the daemon exited during the soak (${early?.signal ?? `code ${early?.code}`}); its last output:\n${tail(logFile, 30)}`);
      return 1;
    }

    const last = samples[samples.length - 1];
    const wallS = (last.atMs - first.atMs) / 1000;
    const cpuPct = ((last.cpuSeconds - first.cpuSeconds) / wallS) * 100;
    const intervalPcts = samples.slice(1).map((s, i) => ((s.cpuSeconds - samples[i].cpuSeconds) / ((s.atMs - samples[i].atMs) / 1000)) * 100);
    const rss = samples.map((s) => s.rssKiB);
    const rssMax = Math.max(...rss);
    const half = Math.floor(samples.length / 2);
    // Startup garbage is still resident when the daemon reports ready; the steady state is later.
    const settled = samples.filter((s) => s.atMs - first.atMs >= 60_000).map((s) => s.rssKiB);
    const settledNote = settled.length ? `, max after the first 60 s ${mb(Math.max(...settled))}` : '';
    const hwm = peakRssKiB(pid);
    let runs = '';
    let heap = '';
    const residentSplit = rssSplit(pid);
    try {
      const metrics = await fetchMetrics(address);
      runs = probeRuns(metrics);
      heap = heapBreakdown(metrics);
    } catch (err) {
      runs = `(could not read ${address}/metrics: ${(err as Error).message})`;
    }
    const errors = logLines(logFile).filter((l) => l.level === 50 || l.level === 60 || l.level === 'error' || l.level === 'fatal').length;
    console.log(`probe runs during the soak: ${runs}`);
    console.log(`daemon log: ${logLines(logFile).length} lines, ${errors} at error/fatal`);
    console.log(`RSS over ${samples.length} samples in ${wallS.toFixed(0)} s: max ${mb(rssMax)}, median ${mb(median(rss))}, first-half median ${mb(median(rss.slice(0, half)))}, second-half median ${mb(median(rss.slice(half)))}${settledNote}; peak incl. startup (VmHWM) ${mb(hwm)}; target max <= ${RSS_TARGET_MB} MB: ${rssMax / 1024 <= RSS_TARGET_MB ? 'PASS' : 'MISS'}`);
    if (heap) console.log(`daemon memory at the end (its /metrics): ${heap}`);
    if (residentSplit) console.log(`daemon RSS at the end by kind (/proc status): ${residentSplit}`);
    figure(
      `daemon RSS, ${(wallS / 60).toFixed(0)} min, ${SCHEDULES} schedules, ${RUNTIME}`,
      `max ${mb(rssMax)}${settled.length ? `, after 60 s ${mb(Math.max(...settled))}` : ''}`,
      'Prometheus 2.42 with the same rules 44-46 MB, Alertmanager 0.25 32 MB (issue figures)',
      `<= ${RSS_TARGET_MB} MB (stretch 60)`,
      rssMax / 1024 <= RSS_TARGET_MB ? 'PASS' : 'MISS',
    );
    console.log(`CPU over ${wallS.toFixed(0)} s after ready: ${cpuPct.toFixed(2)}% of one core (${(last.cpuSeconds - first.cpuSeconds).toFixed(2)} s), busiest 5 s ${Math.max(0, ...intervalPcts).toFixed(1)}%; startup used ${first.cpuSeconds.toFixed(2)} s; target <= ${CPU_TARGET_PERCENT}%: ${cpuPct <= CPU_TARGET_PERCENT ? 'PASS' : 'MISS'}`);

    const tStop = performance.now();
    child.kill('SIGTERM');
    const stopped = await Promise.race([childExit, sleep(STOP_DEADLINE_MS).then(() => undefined)]);
    if (stopped === undefined) {
      child.kill('SIGKILL');
      await childExit;
      console.log(`SIGTERM: no exit within ${STOP_DEADLINE_MS / 1000} s; killed. MISS`);
      return 1;
    }
    const stopMs = performance.now() - tStop;
    const clean = stopped.code === 0;
    const stoppedLine = logLines(logFile).find((l) => l.msg === 'sentinel stopped') as (LogLine & { isClean?: boolean }) | undefined;
    console.log(`SIGTERM -> exit ${stopped.signal ?? `code ${stopped.code}`} in ${stopMs.toFixed(0)} ms (daemon reported isClean=${String(stoppedLine?.isClean)}): ${clean ? 'PASS' : 'MISS'}`);
    return clean ? 0 : 1;
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await fp?.close();
    await lab?.close();
    if (process.env.SOAK_KEEP === '1') console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
