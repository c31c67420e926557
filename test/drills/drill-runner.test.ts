/**
 * DrillRunner against the lab's Toxiproxy-compatible fault proxy over real TCP: the "echo" probe
 * below really dials through the proxy, so a fault is in effect only if the proxy really injects
 * it, and recovery only if it was really removed.
 */
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDrillSource } from '../../src/drills/drill-file.js';
import type { DrillSpec } from '../../src/drills/drill-file.js';
import { DrillRunner } from '../../src/drills/drill-runner.js';
import type { DrillLabels, DrillProbeRun, DrillProbes } from '../../src/drills/drill-probes.js';
import { readJournal } from '../../src/drills/journal.js';
import { renderReport } from '../../src/drills/report.js';
import { ToxiproxyFaultDriver } from '../../src/drills/toxiproxy-fault-driver.js';
import { readVerdict } from '../../src/drills/verdict.js';
import { parseYamlSource } from '../../src/config/index.js';
import { startFaultProxy } from '../../src/lab/fault-proxy/index.js';
import type { FaultProxyServer } from '../../src/lab/fault-proxy/index.js';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { SystemClock } from '../../src/time/index.js';
import { appendHealthSamples } from './helpers/memory-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newDir = tempDirs('sentinel-drill-');

let proxy: FaultProxyServer;
let echo: Server;
let echoPort: number;

beforeAll(async () => {
  proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(async () => {
  await proxy.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

/** echoOnce sends a line through the proxy and reports whether it came back within 400 ms. */
function echoOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 400);
    socket.on('connect', () => socket.write('ping\n'));
    socket.on('data', (d) => {
      got += d.toString();
      if (got.includes('ping\n')) done(true);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

class EchoProbes implements DrillProbes {
  labels: DrillLabels | undefined;
  runs = 0;
  private last: Record<string, string> | undefined;
  private readonly busy = new Set<string>();
  constructor(
    private readonly store: MemoryStore,
    private readonly driver: ToxiproxyFaultDriver,
    private readonly proxyName: string,
  ) {}

  isBusy(name: string): boolean {
    return this.busy.has(name);
  }

  async runProbe(name: string, labels: DrillLabels): Promise<DrillProbeRun> {
    if (name === 'health') {
      const t = Date.now();
      appendHealthSamples(this.store, t, labels);
      return { ok: true, reason: 'ok', startedAtMs: t, endedAtMs: t, cutOff: false };
    }
    if (name !== 'echo') throw new Error(`unknown probe ${name}`);
    const startedAtMs = Date.now();
    this.busy.add(name);
    try {
      this.runs += 1;
      const p = (await this.driver.listProxies()).find((x) => x.name === this.proxyName);
      const port = Number(p?.listen.split(':').pop());
      const ok = p?.enabled ? await echoOnce(port) : false;
      // Like the probe framework: a series the run no longer produces (the labels moved on to the
      // next phase) gets a stale marker; counters carry no drill labels.
      const app = this.store.appender();
      const now = Date.now();
      const series = { __name__: 'sentinel_probe_success', probe: 'echo', drill: labels.drill, stage: labels.stage };
      if (this.last && this.last.stage !== labels.stage) app.appendStale(this.last, now);
      app.append(series, now, ok ? 1 : 0);
      app.append({ __name__: 'sentinel_echo_garbled_total', probe: 'echo' }, now, 0);
      app.commit();
      this.last = series;
      return { ok, reason: ok ? 'ok' : 'timeout', startedAtMs, endedAtMs: Date.now(), cutOff: false };
    } finally {
      this.busy.delete(name);
    }
  }

  setDrillLabels(labels: DrillLabels | undefined): void {
    this.labels = labels;
  }

  reserve(): void {
    return undefined;
  }

  whenIdle(): Promise<void> {
    return Promise.resolve();
  }
}

function drillYaml(proxyName: string, stage: string): string {
  return `drills:
  - name: echo-drill
    description: the echo path through the proxy breaks and recovers
    environments: [dev]
    proxies:
      - name: ${proxyName}
        listen: 127.0.0.1:0
        upstream: 127.0.0.1:${echoPort}
    steady_state:
      - name: echo works
        query: min(sentinel_probe_success{probe="echo"})
        op: '>='
        threshold: 1
    stages:
${stage}`;
}

function parse(yaml: string): DrillSpec {
  return parseDrillSource(parseYamlSource('test.yaml', yaml))[0];
}

function setup(proxyName: string): { runner: DrillRunner; probes: EchoProbes; driver: ToxiproxyFaultDriver; root: string; store: MemoryStore } {
  const store = new MemoryStore();
  const engine = createEngine();
  const driver = new ToxiproxyFaultDriver({ url: proxy.url });
  const probes = new EchoProbes(store, driver, proxyName);
  const root = newDir();
  const runner = new DrillRunner({
    driver,
    store,
    query: (e, t) => engine.instantQuery(store, e, t),
    probes,
    clock: new SystemClock(),
    environment: 'dev',
    allowProd: false,
    evidenceRoot: root,
    version: 'test',
    renderReport: (input) => renderReport(input),
  });
  return { runner, probes, driver, root, store };
}

const PARTITION = `      - name: partition
        duration: 1500ms
        probe_interval: 250ms
        probes: [echo]
        faults:
          - proxy: P
            type: timeout
            stream: downstream
            attributes: { timeout: 0 }
        verify_fault:
          name: echo fails
          query: min(sentinel_probe_success{probe="echo",stage="$stage"})
          op: '=='
          threshold: 0
        expect:
          - name: no echo reply garbled
            query: sum(increase(sentinel_echo_garbled_total{probe="echo"}[$window]))
            op: '<='
            threshold: 0
            count: 2
            consecutive_error_limit: 1
        recovery: 5s
`;

describe('DrillRunner with the lab fault proxy', () => {
  it('injects a real partition, proves it, removes it, sees recovery, and allows', async () => {
    const { runner, driver, root } = setup('echo-a');
    const drill = parse(drillYaml('echo-a', PARTITION.replace('proxy: P', 'proxy: echo-a')));
    const result = await runner.run(drill, new AbortController().signal);
    expect(result.scenario.reasons).toEqual([]);
    expect(result.scenario.status).toBe('passed');
    expect(result.decision.decision).toBe('allow');
    expect(result.scenario.faults_removed).toBe(true);
    const kinds = result.scenario.conditions.map((c) => `${c.kind}:${c.status}`);
    expect(kinds).toContain('fault_in_effect:passed');
    expect(kinds).toContain('expect:passed');
    expect(kinds).toContain('recovery:passed');
    // Nothing of ours is left on the proxy.
    const p = (await driver.listProxies()).find((x) => x.name === 'echo-a');
    expect(p?.toxics).toEqual([]);
    // The evidence verifies and re-derives allow.
    const verdict = await readVerdict(result.dir);
    expect(verdict.kind === 'decided' && verdict.report.decision).toBe('allow');
    expect(readFileSync(join(result.dir, 'report.html'), 'utf8')).toContain('class="fault"');
    expect(root).toBeTruthy();
  });

  it('marks a stage inconclusive (block) when the fault never takes effect', async () => {
    const { runner } = setup('echo-b');
    const stage = PARTITION.replace('proxy: P', 'proxy: echo-b').replace('stream: downstream', 'stream: downstream\n            toxicity: 0');
    const result = await runner.run(parse(drillYaml('echo-b', stage)), new AbortController().signal);
    expect(result.scenario.status).toBe('inconclusive');
    expect(result.decision.decision).toBe('block');
    expect(result.scenario.reasons.join('\n')).toContain('never shown to be in effect');
  });

  it('aborts at once when an abort condition holds, still removing the faults', async () => {
    const { runner, driver } = setup('echo-c');
    const stage = PARTITION.replace('proxy: P', 'proxy: echo-c').replace(
      '        recovery: 5s',
      `        abort_when:
          - name: echo down
            query: min(sentinel_probe_success{probe="echo",stage="$stage"})
            op: '=='
            threshold: 0
        recovery: 5s`,
    );
    const result = await runner.run(parse(drillYaml('echo-c', stage)), new AbortController().signal);
    expect(result.scenario.status).toBe('aborted');
    expect(result.runStatus).toBe('aborted');
    expect(result.scenario.faults_removed).toBe(true);
    expect((await driver.listProxies()).find((x) => x.name === 'echo-c')?.toxics).toEqual([]);
  });

  it('removes the faults when interrupted mid-stage (SIGINT) and never allows', async () => {
    const { runner, driver } = setup('echo-d');
    const controller = new AbortController();
    const stage = PARTITION.replace('proxy: P', 'proxy: echo-d').replace('duration: 1500ms', 'duration: 30s');
    const running = runner.run(parse(drillYaml('echo-d', stage)), controller.signal);
    // Interrupt once the toxic is really on the proxy.
    for (let i = 0; i < 100; i++) {
      const p = (await driver.listProxies()).find((x) => x.name === 'echo-d');
      if (p && p.toxics.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort(new Error('received SIGINT'));
    const result = await running;
    expect(result.runStatus).toBe('interrupted');
    expect(result.decision.decision).toBe('block');
    expect((await driver.listProxies()).find((x) => x.name === 'echo-d')?.toxics).toEqual([]);
    const journal = readJournal(join(result.dir, 'journal.jsonl'));
    expect(journal.at(-1)).toMatchObject({ type: 'run_end', status: 'interrupted' });
    expect(journal.some((e) => e.type === 'intent' && e.action === 'remove_toxic')).toBe(true);
  });

  it('refuses an environment the drill does not allow, before any side effect', async () => {
    const { runner, driver } = setup('echo-e');
    const drill = { ...parse(drillYaml('echo-e', PARTITION.replace('proxy: P', 'proxy: echo-e'))), environments: ['staging' as const] };
    await expect(runner.run(drill, new AbortController().signal)).rejects.toThrow(/not allowed in environment 'dev'/);
    expect((await driver.listProxies()).some((x) => x.name === 'echo-e')).toBe(false);
  });
});
