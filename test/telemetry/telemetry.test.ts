import { Writable } from 'node:stream';
import { SpanStatusCode } from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/index.js';
import { createLogger, createMetricsRegistry, startTracing, withSpan } from '../../src/telemetry/index.js';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

describe('createLogger', () => {
  const TOKEN = 'tok-3f9a1c0d-very-secret';

  it('never writes a token logged under the usual keys', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream });
    logger.info({ token: TOKEN }, 'top-level token');
    logger.info({ headers: { authorization: `Bearer ${TOKEN}`, cookie: `sid=${TOKEN}` } }, 'headers');
    logger.info({ req: { headers: { authorization: `Bearer ${TOKEN}` } } }, 'request');
    logger.info({ target: { session_token: TOKEN, admin_token: TOKEN, bearer_token: TOKEN, jwt_signing_key: TOKEN } }, 'snake keys');
    logger.info({ config: { control: { sessionToken: TOKEN, jwtSigningKey: TOKEN } } }, 'camel keys');
    logger.info({ alertmanager: { bearerToken: new Secret(TOKEN, 'env:X') }, direct: new Secret(TOKEN, 'env:Y') }, 'secret objects');
    logger.info({ password: TOKEN, secret: TOKEN, api_key: TOKEN }, 'other names');
    const lines = out.lines();
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line).not.toContain(TOKEN);
    const first = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(first).toMatchObject({ level: 'info', msg: 'top-level token', token: '<redacted>' });
    expect(typeof first.time).toBe('string');
    const headers = JSON.parse(lines[1]) as { headers: Record<string, string> };
    expect(headers.headers).toEqual({ authorization: '<redacted>', cookie: '<redacted>' });
  });

  it('keeps ordinary fields and honours the level', () => {
    const out = capture();
    const logger = createLogger({ level: 'warn', destination: out.stream });
    logger.info({ probe: 'delivery' }, 'hidden');
    logger.warn({ probe: 'delivery', durationSeconds: 0.25 }, 'slow');
    const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', probe: 'delivery', durationSeconds: 0.25, msg: 'slow' });
  });
});

describe('createMetricsRegistry', () => {
  it('builds a separate registry per call, with build info and default process metrics', async () => {
    const a = createMetricsRegistry({ version: '1.0.0' });
    const b = createMetricsRegistry({ version: '2.0.0', defaultMetrics: false });
    expect(a).not.toBe(b);
    const textA = await a.metrics();
    const textB = await b.metrics();
    expect(textA).toContain(`sentinel_build_info{version="1.0.0",node_version="${process.version}"} 1`);
    expect(textA).toContain('process_cpu_user_seconds_total');
    expect(textB).toContain('sentinel_build_info{version="2.0.0"');
    expect(textB).not.toContain('process_cpu_user_seconds_total');
  });
});

describe('tracing', () => {
  it('starts no SDK without OTEL_* exporter settings', async () => {
    const t = await startTracing({ serviceName: 'sentinel-test', env: {} });
    expect(t.enabled).toBe(false);
    const result = await withSpan(t.tracer, 'noop', {}, () => 42);
    expect(result).toBe(42);
    await t.shutdown();
    expect((await startTracing({ serviceName: 's', env: { OTEL_TRACES_EXPORTER: 'none' } })).enabled).toBe(false);
  });

  it('starts the NodeSDK when an exporter is configured, and shuts it down', async () => {
    const t = await startTracing({ serviceName: 'sentinel-test', env: { OTEL_TRACES_EXPORTER: 'console' } });
    expect(t.enabled).toBe(true);
    await t.shutdown();
  });

  it('withSpan records attributes, OK status, and exceptions with ERROR status', async () => {
    const exporter = new tracing.InMemorySpanExporter();
    const provider = new tracing.BasicTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test');
    await withSpan(tracer, 'probe delivery', { probe: 'delivery' }, () => Promise.resolve('ok'));
    const failure = Object.assign(new Error('runtime unreachable'), { code: 'SENTINEL_UNREACHABLE' });
    await expect(withSpan(tracer, 'probe token', { probe: 'token' }, () => Promise.reject(failure))).rejects.toBe(failure);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['probe delivery', 'probe token']);
    expect(spans[0].attributes).toEqual({ probe: 'delivery' });
    expect(spans[0].status.code).toBe(SpanStatusCode.OK);
    expect(spans[1].status).toEqual({ code: SpanStatusCode.ERROR, message: 'runtime unreachable' });
    expect(spans[1].attributes['error.type']).toBe('SENTINEL_UNREACHABLE');
    expect(spans[1].events.map((e) => e.name)).toEqual(['exception']);
    await provider.shutdown();
  });
});
