/**
 * A drill run shows up in traces: one span for the run, the preflight, each stage and each fault
 * action, with attributes an operator can search by (drill, run id, stage, proxy, toxic type,
 * decision), and without secrets (the manifest key never appears in any attribute).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { parseYamlSource } from '../../src/config/index.js';
import { parseDrillSource } from '../../src/drills/drill-file.js';
import { DrillRunner } from '../../src/drills/drill-runner.js';
import type { DrillRunResult } from '../../src/drills/drill-runner.js';
import { createEngine } from '../../src/promql/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/time/index.js';
import { FakeProbes, MemoryFaultProxy } from './helpers/memory-drill.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const YAML = `drills:
  - name: traced
    description: a short partition, traced
    environments: [dev]
    proxies:
      - name: p
    steady_state:
      - { name: delivery works, query: 'min(sentinel_probe_success{probe="delivery"})', op: '>=', threshold: 1 }
    stages:
      - name: cut
        duration: 3s
        probe_interval: 1s
        probes: [delivery]
        faults:
          - { proxy: p, type: latency, stream: upstream, attributes: { latency: 50 } }
          - { proxy: p, type: down }
        verify_fault: { name: delivery fails, query: 'min(sentinel_probe_success{probe="delivery",stage="$stage"})', op: '==', threshold: 0 }
        recovery: 10s
`;

describe('drill spans', () => {
  it('traces the run, the preflight, the stage and every fault action, with useful attributes and no secrets', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 17, 0, 0));
    const store = new MemoryStore();
    const proxy = new MemoryFaultProxy();
    const engine = createEngine();
    const root = mkdtempSync(join(tmpdir(), 'sentinel-spans-'));
    roots.push(root);
    const runner = new DrillRunner({
      driver: proxy,
      store,
      query: (e, t) => engine.instantQuery(store, e, t),
      probes: new FakeProbes(clock, store, proxy, { delivery: ({ faulty }) => ({ durationMs: 50, ok: !faulty, reason: faulty ? 'unreachable' : 'ok' }) }),
      clock,
      environment: 'dev',
      allowProd: false,
      evidenceRoot: root,
      version: 'test',
      hmacKey: 'manifest-key-SECRET',
      tracer: provider.getTracer('test'),
    });
    const [drill] = parseDrillSource(parseYamlSource('traced.yaml', YAML), { knownProbes: ['delivery'] });
    let result: DrillRunResult | undefined;
    const done = runner.run(drill, new AbortController().signal).then((r) => (result = r));
    for (let i = 0; i < 5000 && result === undefined; i++) await clock.advance(50);
    await done;
    expect(result?.decision.decision).toBe('allow');

    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.filter((s) => s.name === name);
    expect(byName('drill.run')).toHaveLength(1);
    expect(byName('drill.run')[0].attributes).toMatchObject({ 'sentinel.drill': 'traced', 'sentinel.drill.run_id': result?.runId, 'sentinel.drill.environment': 'dev', 'sentinel.drill.decision': 'allow', 'sentinel.drill.status': 'passed' });
    expect(byName('drill.preflight')[0].attributes).toMatchObject({ 'sentinel.drill': 'traced', 'sentinel.drill.preflight': 'passed' });
    expect(byName('drill.stage')[0].attributes).toMatchObject({ 'sentinel.drill.stage': 'cut', 'sentinel.drill.stage_index': 0, 'sentinel.drill.faults': 2, 'sentinel.drill.stage_status': 'passed', 'sentinel.drill.recovered': true });
    expect(byName('drill.fault.add_toxic')[0].attributes).toMatchObject({ 'sentinel.fault.proxy': 'p', 'sentinel.fault.type': 'latency', 'sentinel.fault.stream': 'upstream', 'sentinel.drill.stage': 'cut' });
    expect(byName('drill.fault.disable_proxy')[0].attributes).toMatchObject({ 'sentinel.fault.proxy': 'p', 'sentinel.fault.type': 'down' });
    // Removal in reverse order: the proxy comes back before the toxic goes.
    const removals = spans.filter((s) => s.name === 'drill.fault.enable_proxy' || s.name === 'drill.fault.remove_toxic').map((s) => s.name);
    expect(removals).toEqual(['drill.fault.enable_proxy', 'drill.fault.remove_toxic']);
    expect(byName('drill.fault.remove_toxic')[0].attributes).toMatchObject({ 'sentinel.fault.removed': true, 'sentinel.fault.attempts': 1 });
    for (const s of spans) for (const v of Object.values(s.attributes)) expect(String(v)).not.toContain('SECRET');
    await provider.shutdown();
  });
});
