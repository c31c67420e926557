/**
 * probeFailure turns a client error into a failed `ProbeResult`: the reason class from the
 * error's code, and its message (clients already strip secrets) in the detail.
 */
import { isSentinelError } from '../../errors.js';
import { reasonFromError } from '../reason-class.js';
import type { ProbeResult, ProbeSample, ReasonClass } from '../types.js';

/** errorDetail describes an error for a result's detail: code and message, never a stack. */
export function errorDetail(err: unknown): { code: string; message: string } {
  if (isSentinelError(err)) return { code: err.code, message: err.message };
  return { code: 'error', message: err instanceof Error ? err.message : String(err) };
}

/** probeFailure builds the result of a run that failed on `err`. */
export function probeFailure(
  err: unknown,
  durationMs: number,
  extra: { readonly detail?: Record<string, unknown>; readonly samples?: readonly ProbeSample[]; readonly reason?: ReasonClass } = {},
): ProbeResult {
  return {
    ok: false,
    reason: extra.reason ?? reasonFromError(err),
    durationMs,
    detail: { ...extra.detail, error: errorDetail(err) },
    samples: extra.samples ?? [],
  };
}
