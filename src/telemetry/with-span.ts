/**
 * withSpan: runs `fn` inside an active span that records exceptions and status, so each probe
 * run, drill stage, rule group evaluation and notification shows up as one span.
 */
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';

/**
 * withSpan runs `fn` in a span named `name`; a thrown error is recorded and rethrown. `parent`,
 * when given, is the span's parent even without a registered context manager (otherwise the
 * active span is, where the SDK tracks one).
 */
export async function withSpan<T>(tracer: Tracer, name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T, parent?: Span): Promise<T> {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer.startActiveSpan(name, { attributes }, ctx, async (span) => {
    try {
      const result = await fn(span);
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string') span.setAttribute('error.type', code);
      throw err;
    } finally {
      span.end();
    }
  });
}
