/**
 * The parity harness: the shipped daemon (`buildDaemon`, real time) watching the lab through its
 * fault proxy, and Debian's real `prometheus` scraping the daemon's /metrics and evaluating the
 * shipped rule files unchanged (plus, optionally, the operators' deploy rule groups extracted
 * from their PrometheusRule). Both engines write ALERTS for every evaluation; the harness reads
 * those samples back from both query APIs and turns them into alert episodes (active at, fired
 * at, resolved at), which the parity test and the bench compare.
 *
 * Used by test/export/prometheus-parity.test.ts and bench/export/prometheus-parity.bench.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parse, stringify } from 'yaml';
import type { Document } from 'yaml';
import { REPO_ROOT, startLabEnvironment } from '../../src/commands/lab-environment.js';
import type { LabEnvironment } from '../../src/commands/lab-environment.js';
import { buildDaemon } from '../../src/commands/run.js';
import type { Daemon } from '../../src/commands/run.js';
import { loadConfig } from '../../src/config/index.js';
import { ToxiproxyFaultDriver } from '../../src/drills/index.js';
import type { ToxicSpec } from '../../src/drills/index.js';
import { startComponents, stopComponents } from '../../src/daemon/index.js';
import type { Component } from '../../src/daemon/index.js';
import { SystemClock } from '../../src/time/index.js';
import { freePort, startPrometheus } from '../helpers/prometheus-process.js';
import type { PrometheusProcess } from '../helpers/prometheus-process.js';

/** SCRAPE_LABELS are the labels Prometheus adds from the scrape, left out of alert identities. */
const SCRAPE_LABELS = new Set(['job', 'instance']);

/** OPERATOR_RULES is the operators' PrometheusRule (their deploy rules), copied byte for byte. */
export const OPERATOR_RULES = join(REPO_ROOT, 'test', 'fixtures', 'real', 'spacetime-slo-alert-rules.yaml');

/** ParityOptions configure one harness. */
export interface ParityOptions {
  readonly scrapeIntervalMs: number;
  readonly evalIntervalMs: number;
  /** knobs the lab starts with. */
  readonly knobs?: Record<string, unknown>;
  /** patchConfig edits the daemon's config (probe schedules) after the harness' own edits. */
  readonly patchConfig?: (doc: Document) => void;
  /**
   * prepareLab runs against the lab before the daemon and Prometheus start: heavy lab changes
   * (bursts) stall the test's process, which the lab shares with the daemon, and a stalled daemon
   * misses scrapes.
   */
  readonly prepareLab?: (lab: LabAdmin) => Promise<void>;
  /** operatorRules also loads the operators' deploy groups into Prometheus (and compat_metrics on the daemon). */
  readonly operatorRules?: boolean;
}

/** Episode is one activation of an alert in one engine, in evaluation timestamps (ms). */
export interface Episode {
  readonly activeAtMs: number;
  readonly firedAtMs: number | undefined;
  /** lastActiveMs is the last evaluation with the alert active. */
  readonly lastActiveMs: number;
  /** resolvedAtMs is the first evaluation without it, undefined while still active. */
  readonly resolvedAtMs: number | undefined;
}

/** AlertTimelines maps an alert identity (name and labels, without job/instance) to its episodes. */
export type AlertTimelines = Map<string, Episode[]>;

/** LabAdmin is the lab's admin API as the scenario uses it. */
export interface LabAdmin {
  setKnobs(knobs: Record<string, unknown>): Promise<void>;
  labState(): Promise<LabState>;
}

function labAdmin(adminUrl: string): LabAdmin {
  return {
    async setKnobs(knobs) {
      const res = await fetch(`${adminUrl}/lab/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(knobs), signal: AbortSignal.timeout(30_000) });
      if (res.status !== 200) throw new Error(`POST /lab/knobs ${JSON.stringify(knobs)}: ${res.status} ${await res.text()}`);
    },
    async labState() {
      const res = await fetch(`${adminUrl}/lab/state`, { signal: AbortSignal.timeout(5000) });
      return (await res.json()) as LabState;
    },
  };
}

/** LabState is the part of `GET /lab/state` the scenario reads. */
export interface LabState {
  readonly streams: ReadonlyArray<{ readonly stream_id: string }>;
  readonly clients: ReadonlyArray<{ readonly client_id: string; readonly streams: ReadonlyArray<{ readonly stream_id: string }> }>;
}

/** ParityHarness is a running daemon, lab and Prometheus. */
export interface ParityHarness {
  readonly env: LabEnvironment;
  readonly sentinelUrl: string;
  readonly prometheusUrl: string;
  readonly startedAtMs: number;
  setKnobs(knobs: Record<string, unknown>): Promise<void>;
  labState(): Promise<LabState>;
  addToxic(proxy: string, toxic: ToxicSpec): Promise<void>;
  removeToxic(proxy: string, name: string): Promise<void>;
  /** timelines reads both engines' ALERTS since `sinceMs` up to now. */
  timelines(sinceMs: number): Promise<{ readonly sentinel: AlertTimelines; readonly prometheus: AlertTimelines; readonly endMs: number }>;
  /** prometheusAlerts lists the alerts Prometheus has pending or firing now (via /api/v1/alerts). */
  prometheusAlerts(): Promise<Array<{ labels: Record<string, string>; state: string; activeAt: string }>>;
  /** waitScraped waits (30 s at most) until Prometheus has scraped the daemon successfully. */
  waitScraped(): Promise<void>;
  /** query runs an instant query on the daemon or Prometheus. */
  query(engine: 'sentinel' | 'prometheus', expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  close(): Promise<void>;
}

/** alertIdentity names an alert by alertname and labels, without alertstate and the scrape labels. */
export function alertIdentity(labels: Record<string, string>): string {
  const keys = Object.keys(labels)
    .filter((k) => k !== '__name__' && k !== 'alertstate' && k !== 'alertname' && !SCRAPE_LABELS.has(k))
    .sort();
  return `${labels.alertname}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

/** operatorGroupsFile writes the PrometheusRule's spec.groups, unchanged, as a rule file. */
function operatorGroupsFile(dir: string): string {
  const rule = parse(readFileSync(OPERATOR_RULES, 'utf8')) as { spec: { groups: unknown[] } };
  const file = join(dir, 'operator-slo.rules.yaml');
  writeFileSync(file, stringify({ groups: rule.spec.groups }));
  return file;
}

async function waitScrapeLoop(url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('up{job="spacetime-sentinel"}')}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { data?: { result?: unknown[] } };
    if ((body.data?.result?.length ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error(`prometheus did not start scraping within 30 s: ${output().slice(-2000)}`);
    await sleep(200);
  }
}

/** episodesOf turns one identity's ALERTS samples into episodes; a gap of over 2.5 intervals ends one. */
function episodesOf(samples: Array<{ t: number; state: string }>, evalIntervalMs: number, endMs: number): Episode[] {
  const out: Episode[] = [];
  let cur: { activeAtMs: number; firedAtMs: number | undefined; lastActiveMs: number } | undefined;
  const close = (): void => {
    if (!cur) return;
    const ended = endMs - cur.lastActiveMs > 2.5 * evalIntervalMs;
    out.push({ ...cur, resolvedAtMs: ended ? cur.lastActiveMs + evalIntervalMs : undefined });
    cur = undefined;
  };
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    if (cur && s.t - cur.lastActiveMs > 2.5 * evalIntervalMs) close();
    if (!cur) cur = { activeAtMs: s.t, firedAtMs: undefined, lastActiveMs: s.t };
    cur.lastActiveMs = s.t;
    if (s.state === 'firing' && cur.firedAtMs === undefined) cur.firedAtMs = s.t;
  }
  close();
  return out;
}

/** startParityHarness starts the lab, the daemon and Prometheus, and waits for the first scrapes. */
export async function startParityHarness(options: ParityOptions): Promise<ParityHarness> {
  const logger = pino({ level: 'silent' });
  const work = mkdtempSync(join(tmpdir(), 'sentinel-parity-'));
  const clock = new SystemClock();
  let env: LabEnvironment | undefined;
  let started: Component[] = [];
  let prometheus: PrometheusProcess | undefined;
  const promOutput = (): string => prometheus?.output() ?? '';
  const close = async (): Promise<void> => {
    await prometheus?.stop();
    if (started.length > 0) await Promise.race([stopComponents(started, { deadlineMs: clock.nowMs() + 5000, clock, logger }), sleep(15_000)]);
    started = [];
    await env?.close();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    // Prometheus starts first, scraping the daemon's fixed port, so that both engines see the
    // probes' first samples: an alert raised before Prometheus scraped would differ by design.
    const daemonPort = await freePort();
    const patchConfig = (doc: Document): void => {
      doc.setIn(['server', 'listen'], `127.0.0.1:${daemonPort}`);
      doc.setIn(['rules', 'evaluation_interval'], seconds(options.evalIntervalMs));
      doc.setIn(['alerting', 'log'], false);
      doc.setIn(['export', 'compat_metrics'], options.operatorRules === true);
      options.patchConfig?.(doc);
    };
    env = await startLabEnvironment({ workDir: join(work, 'env'), evidenceDir: join(work, 'evidence'), patchConfig, ...(options.knobs ? { knobs: options.knobs } : {}) });
    const admin = labAdmin(env.urls.admin);
    await options.prepareLab?.(admin);
    const config = loadConfig(env.configFile);
    const sentinelUrl = `http://127.0.0.1:${daemonPort}`;

    const promDir = join(work, 'prometheus');
    mkdirSync(promDir, { recursive: true });
    const ruleFiles = [...config.rules.files];
    if (options.operatorRules) ruleFiles.push(operatorGroupsFile(promDir));
    prometheus = await startPrometheus({
      dir: promDir,
      config: {
        global: { scrape_interval: seconds(options.scrapeIntervalMs), scrape_timeout: seconds(options.scrapeIntervalMs), evaluation_interval: seconds(options.evalIntervalMs) },
        rule_files: ruleFiles,
        scrape_configs: [{ job_name: 'spacetime-sentinel', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${daemonPort}`] }] }],
      },
    });
    const prometheusUrl = prometheus.url;
    // Prometheus hands new targets to its scrape loops every 5 s: wait for the first (failed)
    // scrape of the daemon's port, so that from the daemon's start on it is scraped every interval.
    await waitScrapeLoop(prometheusUrl, promOutput);
    const daemon: Daemon = await buildDaemon(config, { clock, logger, registry: new Registry(), tracer: trace.getTracer('parity'), version: 'parity', env: {} });
    started = await startComponents(daemon.components, { signal: new AbortController().signal, logger, clock, deadlineMs: () => clock.nowMs() + 5000 });
    const startedAtMs = Date.now();
    const labEnv = env;
    const driver = new ToxiproxyFaultDriver({ url: labEnv.urls.toxiproxy });

    const query = async (engine: 'sentinel' | 'prometheus', expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const base = engine === 'sentinel' ? sentinelUrl : prometheusUrl;
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`${engine} query ${expr}: ${body.error ?? res.status}`);
      return body.data.result;
    };
    const alertsRange = async (engine: 'sentinel' | 'prometheus', rangeS: number, endMs: number): Promise<AlertTimelines> => {
      const base = engine === 'sentinel' ? sentinelUrl : prometheusUrl;
      const url = `${base}/api/v1/query?query=${encodeURIComponent(`ALERTS[${rangeS}s]`)}&time=${endMs / 1000}`;
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { status: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
      if (body.status !== 'success') throw new Error(`${engine}: ALERTS query failed: ${JSON.stringify(body).slice(0, 300)}`);
      const byId = new Map<string, Array<{ t: number; state: string }>>();
      for (const series of body.data.result) {
        const id = alertIdentity(series.metric);
        const list = byId.get(id) ?? [];
        for (const [t] of series.values) list.push({ t: Math.round(t * 1000), state: series.metric.alertstate });
        byId.set(id, list);
      }
      const out: AlertTimelines = new Map();
      for (const [id, samples] of byId) out.set(id, episodesOf(samples, options.evalIntervalMs, endMs));
      return out;
    };

    return {
      env: labEnv,
      sentinelUrl,
      prometheusUrl,
      startedAtMs,
      setKnobs: admin.setKnobs,
      labState: admin.labState,
      addToxic: (proxy, toxic) => driver.addToxic(proxy, toxic),
      removeToxic: (proxy, name) => driver.removeToxic(proxy, name),
      async timelines(sinceMs) {
        const endMs = Date.now();
        const rangeS = Math.ceil((endMs - sinceMs) / 1000);
        const [sentinel, prom] = await Promise.all([alertsRange('sentinel', rangeS, endMs), alertsRange('prometheus', rangeS, endMs)]);
        return { sentinel, prometheus: prom, endMs };
      },
      async prometheusAlerts() {
        const res = await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string; activeAt: string }> } };
        return body.data.alerts;
      },
      async waitScraped() {
        const deadline = Date.now() + 30_000;
        while ((await query('prometheus', 'up{job="spacetime-sentinel"} == 1')).length === 0) {
          if (Date.now() > deadline) throw new Error(`prometheus did not scrape the daemon within 30 s: ${promOutput().slice(-2000)}`);
          await sleep(250);
        }
      },
      query,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** ParityRow is one alert identity compared between the engines. */
export interface ParityRow {
  readonly identity: string;
  readonly sentinel: Episode | undefined;
  readonly prometheus: Episode | undefined;
  /** problems are the comparisons that failed the tolerance (empty when the row agrees). */
  readonly problems: string[];
}

/**
 * compareTimelines pairs the episodes of each identity in order and checks active/fired/resolved
 * times within `toleranceMs`. Events closer than the tolerance to the end of the window are not
 * judged (the other engine may simply not have evaluated yet).
 */
export function compareTimelines(
  sentinel: AlertTimelines,
  prometheus: AlertTimelines,
  toleranceMs: number,
  endMs: number,
  include: (identity: string) => boolean = () => true,
  /** sampled names alerts whose value depends on how often a gauge is sampled: their resolution is reported, not judged. */
  sampled: (identity: string) => boolean = () => false,
): ParityRow[] {
  const rows: ParityRow[] = [];
  const ids = [...new Set([...sentinel.keys(), ...prometheus.keys()])].filter(include).sort();
  const judged = (t: number | undefined): boolean => t !== undefined && t < endMs - 2 * toleranceMs;
  for (const id of ids) {
    const a = sentinel.get(id) ?? [];
    const b = prometheus.get(id) ?? [];
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const s = a[i];
      const p = b[i];
      const problems: string[] = [];
      const check = (what: string, x: number | undefined, y: number | undefined): void => {
        if (!judged(x) && !judged(y)) return;
        if (x === undefined || y === undefined) problems.push(`${what}: sentinel ${x === undefined ? 'never' : new Date(x).toISOString()}, prometheus ${y === undefined ? 'never' : new Date(y).toISOString()}`);
        else if (Math.abs(x - y) > toleranceMs) problems.push(`${what}: sentinel - prometheus = ${x - y} ms (tolerance ${toleranceMs} ms)`);
      };
      check('active', s?.activeAtMs, p?.activeAtMs);
      check('fired', s?.firedAtMs, p?.firedAtMs);
      if (!sampled(id)) check('resolved', s?.resolvedAtMs, p?.resolvedAtMs);
      rows.push({ identity: id, sentinel: s, prometheus: p, problems });
    }
  }
  return rows;
}
