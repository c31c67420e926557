/**
 * A drill run shows up in traces as one tree: the run, under it the preflight (with its service
 * health check), each stage (with its fault actions and its recovery) and the health check after
 * the drill, with attributes an operator can search by (drill, run id, stage, proxy, toxic type,
 * decision, reason), and without secrets (the manifest key never appears in any attribute). The
 * tree holds without a context manager: each span names its parent. A fault action the proxy
 * refuses is an error span carrying the proxy's own text.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { FaultProxyError } from '../../src/errors.js';
import type { DrillRunResult } from '../../src/drills/drill-runner.js';
import { deliveryFailsUnderFault, MemoryFaultProxy, partitionDrillYaml, runMemoryDrill } from './helpers/memory-drill.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import type { ToxicSpec } from '../../src/drills/fault-driver.js';

const newRoot = tempDirs('sentinel-spans-');

const YAML = partitionDrillYaml({ name: 'traced', description: 'a short partition, traced', duration: '3s', faults: ['{ proxy: p, type: latency, stream: upstream, attributes: { latency: 50 } }', '{ proxy: p, type: down }'] });

/** RefusingProxy answers adding a toxic as Toxiproxy does for a bad attribute. */
class RefusingProxy extends MemoryFaultProxy {
  override addToxic(_proxy: string, _toxic: ToxicSpec): Promise<void> {
    return Promise.reject(new FaultProxyError('POST /proxies/p/toxics at memory://fault-proxy answered 400: {"error":"invalid toxic attribute latency","status":400}', { status: 400 }));
  }
}

async function tracedRun(proxy: MemoryFaultProxy): Promise<{ result: DrillRunResult; spans: ReadableSpan[] }> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const result = await runMemoryDrill({
    yaml: YAML,
    file: 'traced.yaml',
    knownProbes: ['delivery'],
    proxy,
    evidenceRoot: newRoot(),
    behaviours: { delivery: deliveryFailsUnderFault('unreachable') },
    runner: { hmacKey: 'manifest-key-SECRET', tracer: provider.getTracer('test') },
  });
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return { result, spans };
}

function parentOf(span: ReadableSpan, spans: readonly ReadableSpan[]): string | undefined {
  return spans.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId)?.name;
}

describe('drill spans', () => {
  it('traces the run as one tree: preflight, health checks, the stage, every fault action and the recovery, with useful attributes and no secrets', async () => {
    const { result, spans } = await tracedRun(new MemoryFaultProxy());
    expect(result.decision.decision).toBe('allow');
    const byName = (name: string) => spans.filter((s) => s.name === name);
    expect(byName('drill.run')).toHaveLength(1);
    expect(byName('drill.run')[0].attributes).toMatchObject({ 'sentinel.drill': 'traced', 'sentinel.drill.run_id': result.runId, 'sentinel.drill.environment': 'dev', 'sentinel.drill.decision': 'allow', 'sentinel.drill.status': 'passed' });
    expect(byName('drill.preflight')[0].attributes).toMatchObject({ 'sentinel.drill': 'traced', 'sentinel.drill.preflight': 'passed' });
    expect(byName('drill.health_check').map((s) => [s.attributes['sentinel.drill.phase'], s.attributes['sentinel.drill.health'], parentOf(s, spans)])).toEqual([
      ['preflight', 'passed', 'drill.preflight'],
      ['after', 'passed', 'drill.run'],
    ]);
    expect(byName('drill.stage')[0].attributes).toMatchObject({ 'sentinel.drill.stage': 'cut', 'sentinel.drill.stage_index': 0, 'sentinel.drill.faults': 2, 'sentinel.drill.stage_status': 'passed', 'sentinel.drill.recovered': true });
    expect(byName('drill.recovery')[0].attributes).toMatchObject({ 'sentinel.drill.stage': 'cut', 'sentinel.drill.recovery_status': 'passed', 'sentinel.drill.recovered_after_ms': expect.any(Number) });
    expect(byName('drill.fault.add_toxic')[0].attributes).toMatchObject({ 'sentinel.fault.proxy': 'p', 'sentinel.fault.type': 'latency', 'sentinel.fault.stream': 'upstream', 'sentinel.drill.stage': 'cut' });
    expect(byName('drill.fault.disable_proxy')[0].attributes).toMatchObject({ 'sentinel.fault.proxy': 'p', 'sentinel.fault.type': 'down' });
    // Removal in reverse order: the proxy comes back before the toxic goes.
    const removals = spans.filter((s) => s.name === 'drill.fault.enable_proxy' || s.name === 'drill.fault.remove_toxic').map((s) => s.name);
    expect(removals).toEqual(['drill.fault.enable_proxy', 'drill.fault.remove_toxic']);
    expect(byName('drill.fault.remove_toxic')[0].attributes).toMatchObject({ 'sentinel.fault.removed': true, 'sentinel.fault.attempts': 1 });
    // One tree, whatever the context manager.
    const tree = Object.fromEntries(spans.filter((s) => s.name !== 'drill.health_check').map((s) => [s.name, parentOf(s, spans) ?? null]));
    expect(tree).toEqual({
      'drill.run': null,
      'drill.preflight': 'drill.run',
      'drill.stage': 'drill.run',
      'drill.fault.add_toxic': 'drill.stage',
      'drill.fault.disable_proxy': 'drill.stage',
      'drill.fault.enable_proxy': 'drill.stage',
      'drill.fault.remove_toxic': 'drill.stage',
      'drill.recovery': 'drill.stage',
    });
    for (const s of spans) for (const v of Object.values(s.attributes)) expect(String(v)).not.toContain('SECRET');
  });

  it("records a fault action the proxy refuses as an error span with the proxy's text, and the run's reason", async () => {
    const { result, spans } = await tracedRun(new RefusingProxy());
    expect(result.decision.decision).toBe('block');
    const add = spans.find((s) => s.name === 'drill.fault.add_toxic');
    expect(add?.status.code).toBe(SpanStatusCode.ERROR);
    expect(add?.status.message).toContain('invalid toxic attribute latency');
    expect(add?.events.some((e) => e.name === 'exception')).toBe(true);
    expect(add?.attributes['error.type']).toBe('SENTINEL_FAULT_PROXY');
    const stage = spans.find((s) => s.name === 'drill.stage');
    expect(stage?.attributes['sentinel.drill.stage_status']).toBe('error');
    expect(String(stage?.attributes['sentinel.drill.reason'])).toContain('invalid toxic attribute latency');
    expect(spans.find((s) => s.name === 'drill.run')?.attributes).toMatchObject({ 'sentinel.drill.decision': 'block', 'sentinel.drill.status': 'error' });
  });
});
