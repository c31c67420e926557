import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { RegistryInstruments, reasonFromError } from '../../src/probes/index.js';
import { RequestError } from '../../src/errors.js';

describe('RegistryInstruments', () => {
  it('exposes counters and histograms on /metrics and snapshots the same values for the store', async () => {
    const registry = new Registry();
    const inst = new RegistryInstruments(registry);
    const resumes = inst.counter('sentinel_resume_total', 'Resume outcomes.', ['outcome']);
    const latency = inst.histogram('sentinel_delivery_latency_seconds', 'Delivery latency.', [], [0.1, 0.6]);
    resumes.inc({ outcome: 'ok' });
    resumes.inc({ outcome: 'ok' });
    resumes.inc({ outcome: 'gap' }, 0);
    latency.observe({}, 0.25);
    const text = await registry.metrics();
    expect(text).toContain('sentinel_resume_total{outcome="ok"} 2');
    expect(text).toContain('sentinel_delivery_latency_seconds_bucket{le="0.6"} 1');
    const snap = await inst.snapshot();
    expect(snap).toContainEqual({ name: 'sentinel_resume_total', labels: { outcome: 'ok' }, value: 2 });
    expect(snap).toContainEqual({ name: 'sentinel_resume_total', labels: { outcome: 'gap' }, value: 0 });
    expect(snap).toContainEqual({ name: 'sentinel_delivery_latency_seconds_bucket', labels: { le: '0.1' }, value: 0 });
    expect(snap).toContainEqual({ name: 'sentinel_delivery_latency_seconds_bucket', labels: { le: '+Inf' }, value: 1 });
    expect(snap).toContainEqual({ name: 'sentinel_delivery_latency_seconds_sum', labels: {}, value: 0.25 });
    expect(snap).toContainEqual({ name: 'sentinel_delivery_latency_seconds_count', labels: {}, value: 1 });
  });

  it('shares an instrument two probes both create instead of failing', () => {
    const registry = new Registry();
    new RegistryInstruments(registry).counter('sentinel_x_total', 'x');
    expect(() => new RegistryInstruments(registry).counter('sentinel_x_total', 'x')).not.toThrow();
  });
});

describe('reasonFromError', () => {
  it('classifies client errors by code and status', () => {
    expect(reasonFromError(new RequestError('SENTINEL_TIMEOUT', 'GET /x', 'timed out'))).toBe('timeout');
    expect(reasonFromError(new RequestError('SENTINEL_UNREACHABLE', 'GET /x', 'refused'))).toBe('unreachable');
    expect(reasonFromError(new RequestError('SENTINEL_HTTP_STATUS', 'GET /x', '403', { status: 403 }))).toBe('auth');
    expect(reasonFromError(new RequestError('SENTINEL_HTTP_STATUS', 'GET /x', '500', { status: 500 }))).toBe('http_status');
    expect(reasonFromError(new RequestError('SENTINEL_BAD_RESPONSE', 'GET /x', 'garbage'))).toBe('bad_response');
    expect(reasonFromError(new Error('bug'))).toBe('error');
  });
});
