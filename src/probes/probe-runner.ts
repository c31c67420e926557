/**
 * ProbeRunner: one run of one probe, with a deadline, configured retries, a span, and the
 * guarantee that it returns a result (a probe that throws or hangs becomes `error`/`timeout`).
 */
import { SpanStatusCode } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';
import { isSentinelError } from '../errors.js';
import { resultReason } from './reason-class.js';
import type { Probe, ProbeContext, ProbeResult, ReasonClass } from './types.js';

/** DEFAULT_RETRY_ON: only transport failures are retried; a gap or a leak must never be retried away. */
export const DEFAULT_RETRY_ON: readonly ReasonClass[] = ['timeout', 'unreachable'];

/** ProbeRunPolicy is how one probe is run. */
export interface ProbeRunPolicy {
  /** timeoutMs is the deadline of each attempt. */
  readonly timeoutMs: number;
  /** retries is how many more attempts a failed run gets (default 0). */
  readonly retries?: number;
  /** retryDelayMs is the pause between attempts (default 1 s). */
  readonly retryDelayMs?: number;
  /** retryOn are the reasons that allow a retry (default timeout, unreachable). */
  readonly retryOn?: readonly ReasonClass[];
}

/** ProbeRunOutcome is a finished run. */
export interface ProbeRunOutcome {
  readonly result: ProbeResult;
  readonly reason: ReasonClass;
  readonly attempts: number;
  /** startedAtMs and completedAtMs are read from the clock. */
  readonly startedAtMs: number;
  readonly completedAtMs: number;
}

/** ProbeRunnerDeps are the collaborators of a runner. */
export interface ProbeRunnerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tracer?: Tracer;
}

/**
 * runProbe runs `probe` for the slot `scheduledAtMs`; `signal` (shutdown) aborts it early.
 * Never throws.
 */
export async function runProbe(probe: Probe, policy: ProbeRunPolicy, scheduledAtMs: number, deps: ProbeRunnerDeps, signal?: AbortSignal): Promise<ProbeRunOutcome> {
  const { clock } = deps;
  const retries = Math.max(0, policy.retries ?? 0);
  const retryOn = policy.retryOn ?? DEFAULT_RETRY_ON;
  const startedAtMs = clock.nowMs();
  let attempt = 0;
  for (;;) {
    attempt++;
    const result = await runAttempt(probe, policy.timeoutMs, scheduledAtMs, attempt, deps, signal);
    const reason = resultReason(result);
    const canRetry = !result.ok && attempt <= retries && retryOn.includes(reason) && !signal?.aborted;
    if (!canRetry) return { result, reason, attempts: attempt, startedAtMs, completedAtMs: clock.nowMs() };
    deps.logger.info({ probe: probe.name, attempt, reason }, 'probe attempt failed; retrying');
    try {
      await clock.sleep(policy.retryDelayMs ?? 1000, signal);
    } catch {
      return { result, reason, attempts: attempt, startedAtMs, completedAtMs: clock.nowMs() };
    }
  }
}

async function runAttempt(probe: Probe, timeoutMs: number, scheduledAtMs: number, attempt: number, deps: ProbeRunnerDeps, outer?: AbortSignal): Promise<ProbeResult> {
  const { clock, logger, tracer } = deps;
  const controller = new AbortController();
  const timerStop = new AbortController();
  const startMs = clock.nowMs();
  const deadlineMs = startMs + timeoutMs;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  // The deadline runs on the injected clock, so tests drive timeouts with ManualClock.advance.
  clock.sleep(timeoutMs, timerStop.signal).then(
    () => controller.abort(new Error(`probe ${probe.name} ran past its ${timeoutMs} ms deadline`)),
    () => undefined,
  );
  const span = tracer?.startSpan(`probe ${probe.name}`, { attributes: { 'sentinel.probe': probe.name, 'sentinel.probe.attempt': attempt, 'sentinel.probe.scheduled_at_ms': scheduledAtMs } });
  const ctx: ProbeContext = { signal: controller.signal, scheduledAtMs, deadlineMs, clock, logger: logger.child({ probe: probe.name }), tracer };
  let result: ProbeResult;
  try {
    const running = probe.run(ctx).then((r) => ({ kind: 'result' as const, r }));
    // A probe that ignores its signal must not hold the loop: the deadline (or shutdown) wins the race.
    const aborted = new Promise<{ kind: 'aborted' }>((resolve) => {
      if (controller.signal.aborted) resolve({ kind: 'aborted' });
      controller.signal.addEventListener('abort', () => resolve({ kind: 'aborted' }), { once: true });
    });
    const first = await Promise.race([running, aborted]);
    if (first.kind === 'result') {
      result = first.r;
    } else {
      running.catch((err: unknown) => logger.debug({ probe: probe.name, err }, 'probe settled after its deadline'));
      const shutdown = outer?.aborted === true;
      result = {
        ok: false,
        reason: 'timeout',
        durationMs: clock.nowMs() - startMs,
        detail: { error: shutdown ? 'run aborted at shutdown' : `no result within the ${timeoutMs} ms deadline` },
        samples: [],
      };
    }
  } catch (err) {
    // A secret file the probe needs that cannot be read is `config` (the file names itself in the
    // message); any other throw is a bug: `error`. Either way the loop stays alive.
    const isConfig = isSentinelError(err) && err.code === 'SENTINEL_CONFIG_INVALID';
    if (!isConfig) logger.error({ probe: probe.name, err }, 'probe threw instead of returning a result');
    result = { ok: false, reason: isConfig ? 'config' : 'error', durationMs: clock.nowMs() - startMs, detail: { error: err instanceof Error ? err.message : String(err) }, samples: [] };
  } finally {
    timerStop.abort();
    outer?.removeEventListener('abort', onOuterAbort);
  }
  if (span) {
    span.setAttribute('sentinel.probe.reason', resultReason(result));
    span.setStatus(result.ok ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: resultReason(result) });
    span.end();
  }
  return result;
}
