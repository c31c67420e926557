/**
 * For tests of what schedules and keeps drills (the scheduler, retention, the drills API), not of
 * the runner: a drill `tiny` of one short stage without faults, and a DrillRunner for it over the
 * lab's fault proxy on real HTTP whose only probe is `health` (every service ready).
 */
import { afterAll, beforeAll } from 'vitest';
import { parseYamlSource } from '../../../src/config/index.js';
import { DrillRunner, parseDrillSource, ToxiproxyFaultDriver } from '../../../src/drills/index.js';
import type { DrillSpec } from '../../../src/drills/index.js';
import { startFaultProxy } from '../../../src/lab/fault-proxy/index.js';
import type { FaultProxyServer } from '../../../src/lab/fault-proxy/index.js';
import { createEngine } from '../../../src/promql/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { SystemClock } from '../../../src/time/index.js';
import { readyServicesOnly } from './memory-drill.js';

/**
 * tinyDrillYaml is a drill file whose first drill is `tiny`: one stage `s` of `stageMs` probed
 * every 100 ms, recovery within 1 s; `more` is appended (further drills, indented as list items).
 */
export function tinyDrillYaml(options: { description: string; stageMs: number; more?: string }): string {
  return `drills:
  - name: tiny
    description: ${options.description}
    environments: [dev]
    proxies:
      - { name: tiny-proxy, listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }
    steady_state:
      - { name: always, query: vector(1), op: '>=', threshold: 1 }
    stages:
      - name: s
        duration: ${options.stageMs}ms
        probe_interval: 100ms
        recovery: 1s
${options.more ?? ''}`;
}

/**
 * useFaultProxy starts the lab's fault proxy before the tests of the enclosing file or describe
 * and closes it after them; the returned function gives the running proxy.
 */
export function useFaultProxy(): () => FaultProxyServer {
  let proxy: FaultProxyServer | undefined;
  beforeAll(async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await proxy?.close();
  });
  return () => {
    if (!proxy) throw new Error('the fault proxy is not running (useFaultProxy runs it for the tests only)');
    return proxy;
  };
}

/** TinyRig is what the drill's runner works with, for the scheduler the test builds around it. */
export interface TinyRig {
  readonly drills: DrillSpec[];
  readonly store: MemoryStore;
  readonly query: (expr: string, tMs: number) => ReturnType<ReturnType<typeof createEngine>['instantQuery']>;
  readonly driver: ToxiproxyFaultDriver;
  readonly clock: SystemClock;
  readonly runner: DrillRunner;
}

/** tinyRig parses `yaml` and builds its runner over the fault proxy at `proxyUrl`, evidence under `evidenceRoot`. */
export function tinyRig(options: { yaml: string; proxyUrl: string; evidenceRoot: string; store?: MemoryStore }): TinyRig {
  const store = options.store ?? new MemoryStore();
  const engine = createEngine();
  const query = (expr: string, tMs: number) => engine.instantQuery(store, expr, tMs);
  const driver = new ToxiproxyFaultDriver({ url: options.proxyUrl });
  const clock = new SystemClock();
  const drills = parseDrillSource(parseYamlSource('d.yaml', options.yaml));
  const runner = new DrillRunner({ driver, store, query, probes: readyServicesOnly(store, clock), clock, environment: 'dev', allowProd: false, evidenceRoot: options.evidenceRoot, version: 't' });
  return { drills, store, query, driver, clock, runner };
}
