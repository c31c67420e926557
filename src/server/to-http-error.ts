/**
 * toHttpError: the one place that maps errors to HTTP statuses and Prometheus-shaped bodies
 * (`{status: 'error', errorType, error}`), like Toxiproxy's `apiError`. Anything that is not a
 * SentinelError is a bug: 500 with a fixed message; the stack stays in the log.
 */
import { ApiError, isSentinelError } from '../errors.js';
import type { ApiErrorType, ErrorCode } from '../errors.js';

/** HttpErrorBody is the JSON body of every error response. */
export interface HttpErrorBody {
  readonly status: 'error';
  readonly errorType: ApiErrorType;
  readonly error: string;
}

/** HttpErrorResponse is a status plus body. */
export interface HttpErrorResponse {
  readonly status: number;
  readonly body: HttpErrorBody;
  /** isInternal marks errors that are bugs and deserve an error-level log with the stack. */
  readonly isInternal: boolean;
}

const BY_CODE: Readonly<Partial<Record<ErrorCode, readonly [number, ApiErrorType]>>> = {
  SENTINEL_USAGE: [400, 'bad_data'],
  SENTINEL_CONFIG_INVALID: [400, 'bad_data'],
  SENTINEL_PROMQL_PARSE: [400, 'bad_data'],
  SENTINEL_RULE_FILE_INVALID: [400, 'bad_data'],
  SENTINEL_DRILL_INVALID: [400, 'bad_data'],
  SENTINEL_EVIDENCE_INVALID: [400, 'bad_data'],
  SENTINEL_OUT_OF_ORDER: [400, 'bad_data'],
  SENTINEL_QUERY: [422, 'execution'],
  SENTINEL_TOO_MANY_SAMPLES: [422, 'execution'],
  SENTINEL_SERIES_LIMIT: [422, 'execution'],
  SENTINEL_QUERY_TIMEOUT: [503, 'timeout'],
  // 499 as Prometheus answers a query whose client went away (web/api/v1/api.go statusClientClosedConnection).
  SENTINEL_QUERY_CANCELED: [499, 'canceled'],
  SENTINEL_ABORTED: [503, 'canceled'],
  SENTINEL_TIMEOUT: [504, 'timeout'],
  SENTINEL_FAULT_PROXY: [502, 'unavailable'],
  SENTINEL_ALERTMANAGER: [502, 'unavailable'],
  SENTINEL_UNREACHABLE: [502, 'unavailable'],
  SENTINEL_HTTP_STATUS: [502, 'unavailable'],
  SENTINEL_BAD_RESPONSE: [502, 'unavailable'],
  SENTINEL_RESPONSE_TOO_LARGE: [502, 'unavailable'],
  SENTINEL_PROTOCOL: [502, 'unavailable'],
  SENTINEL_STORE: [500, 'internal'],
};

/** toHttpError maps any thrown value to the response the client sees. */
export function toHttpError(err: unknown): HttpErrorResponse {
  if (err instanceof ApiError) return { status: err.status, body: { status: 'error', errorType: err.errorType, error: err.message }, isInternal: false };
  if (isSentinelError(err)) {
    const mapped = BY_CODE[err.code];
    if (mapped) return { status: mapped[0], body: { status: 'error', errorType: mapped[1], error: err.message }, isInternal: mapped[0] === 500 };
  }
  return { status: 500, body: { status: 'error', errorType: 'internal', error: 'internal error; see the sentinel log' }, isInternal: true };
}
