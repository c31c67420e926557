/**
 * errors: every error a user can cause or a peer can produce, with a stable `code`.
 *
 * Branch on `code` or `instanceof`, never on `message`. Messages are written for the user:
 * one sentence naming the file, endpoint or option, and what to do.
 */

/** ErrorCodes is the closed vocabulary of `SentinelError.code`. */
export const ErrorCodes = [
  'SENTINEL_CONFIG_INVALID',
  'SENTINEL_USAGE',
  'SENTINEL_PROMQL_PARSE',
  'SENTINEL_QUERY',
  'SENTINEL_QUERY_TIMEOUT',
  'SENTINEL_QUERY_CANCELED',
  'SENTINEL_TOO_MANY_SAMPLES',
  'SENTINEL_RULE_FILE_INVALID',
  'SENTINEL_DRILL_INVALID',
  'SENTINEL_FAULT_PROXY',
  'SENTINEL_ALERTMANAGER',
  'SENTINEL_STORE',
  'SENTINEL_OUT_OF_ORDER',
  'SENTINEL_SERIES_LIMIT',
  'SENTINEL_UNREACHABLE',
  'SENTINEL_TIMEOUT',
  'SENTINEL_ABORTED',
  'SENTINEL_HTTP_STATUS',
  'SENTINEL_BAD_RESPONSE',
  'SENTINEL_RESPONSE_TOO_LARGE',
  'SENTINEL_PROTOCOL',
  'SENTINEL_REDUCER_FAILED',
  'SENTINEL_EVIDENCE_INVALID',
  'SENTINEL_API',
  'SENTINEL_LAB_KNOB',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** SentinelError is the base of every error the sentinel raises on purpose. */
export class SentinelError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** ConfigError is a configuration file problem; `issues` holds one line per problem. */
export class ConfigError extends SentinelError {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [message], options?: { cause?: unknown }) {
    super('SENTINEL_CONFIG_INVALID', message, options);
    this.issues = issues;
  }
}

/** UsageError is a bad command line. */
export class UsageError extends SentinelError {
  constructor(message: string) {
    super('SENTINEL_USAGE', message);
  }
}

/** SourcePosition is a 0-based character range inside a PromQL expression. */
export interface SourcePosition {
  readonly start: number;
  readonly end: number;
}

/** PromqlParseError is a PromQL expression that does not parse or uses an unsupported construct. */
export class PromqlParseError extends SentinelError {
  readonly pos: SourcePosition;
  constructor(message: string, pos: SourcePosition, options?: { cause?: unknown }) {
    super('SENTINEL_PROMQL_PARSE', message, options);
    this.pos = pos;
  }
}

/** QueryError is a PromQL evaluation failure (many-to-many matching, duplicate label sets, ...). */
export class QueryError extends SentinelError {
  constructor(message: string, options?: { cause?: unknown; code?: 'SENTINEL_QUERY' | 'SENTINEL_QUERY_TIMEOUT' | 'SENTINEL_QUERY_CANCELED' | 'SENTINEL_TOO_MANY_SAMPLES' }) {
    super(options?.code ?? 'SENTINEL_QUERY', message, options);
  }
}

/** QueryTimeoutError: the query ran past its deadline (Prometheus' text, `promql.ErrQueryTimeout`). */
export class QueryTimeoutError extends QueryError {
  constructor(message = 'query timed out in expression evaluation') {
    super(message, { code: 'SENTINEL_QUERY_TIMEOUT' });
  }
}

/** QueryCanceledError: the query's abort signal fired (Prometheus' text, `promql.ErrQueryCanceled`). */
export class QueryCanceledError extends QueryError {
  constructor(message = 'query was canceled in expression evaluation') {
    super(message, { code: 'SENTINEL_QUERY_CANCELED' });
  }
}

/**
 * TooManySamplesError: the query would hold more samples than its limit; Prometheus' text
 * (`promql.ErrTooManySamples`), the limit kept on the error.
 */
export class TooManySamplesError extends QueryError {
  readonly limit: number;
  constructor(limit: number) {
    super('query processing would load too many samples into memory in query execution', { code: 'SENTINEL_TOO_MANY_SAMPLES' });
    this.limit = limit;
  }
}

/** RuleFileError is a rule or rule-test file problem; `issues` are `FILE:LINE:COL: ...` lines. */
export class RuleFileError extends SentinelError {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [message]) {
    super('SENTINEL_RULE_FILE_INVALID', message);
    this.issues = issues;
  }
}

/** DrillValidationError is a drill file problem; `issues` are `FILE:LINE:COL: ...` lines. */
export class DrillValidationError extends SentinelError {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [message]) {
    super('SENTINEL_DRILL_INVALID', message);
    this.issues = issues;
  }
}

/** FaultProxyError is a failure talking to Toxiproxy (or the lab's fault proxy). */
export class FaultProxyError extends SentinelError {
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('SENTINEL_FAULT_PROXY', message, options);
    this.status = options?.status;
  }
}

/** AlertmanagerError is a failed delivery to an Alertmanager or webhook receiver. */
export class AlertmanagerError extends SentinelError {
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('SENTINEL_ALERTMANAGER', message, options);
    this.status = options?.status;
  }
}

/** StoreError is a sample-store failure (persistence, out-of-order, series limit). */
export class StoreError extends SentinelError {
  constructor(code: 'SENTINEL_STORE' | 'SENTINEL_OUT_OF_ORDER' | 'SENTINEL_SERIES_LIMIT', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** EvidenceError is a missing, incomplete or tampered evidence directory. */
export class EvidenceError extends SentinelError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SENTINEL_EVIDENCE_INVALID', message, options);
  }
}

/**
 * RequestError is a failed call to the watched system or another peer: `code` tells which way
 * it failed (unreachable, timeout, HTTP status, bad or oversized response, protocol violation).
 */
export class RequestError extends SentinelError {
  /** endpoint is the method and URL (secrets removed) the request went to. */
  readonly endpoint: string;
  readonly status: number | undefined;
  /** excerpt is the start of the response body (secrets removed), when there was one. */
  readonly excerpt: string | undefined;
  constructor(
    code: 'SENTINEL_UNREACHABLE' | 'SENTINEL_TIMEOUT' | 'SENTINEL_ABORTED' | 'SENTINEL_HTTP_STATUS' | 'SENTINEL_BAD_RESPONSE' | 'SENTINEL_RESPONSE_TOO_LARGE' | 'SENTINEL_PROTOCOL' | 'SENTINEL_REDUCER_FAILED',
    endpoint: string,
    message: string,
    options?: { cause?: unknown; status?: number; excerpt?: string },
  ) {
    super(code, message, options);
    this.endpoint = endpoint;
    this.status = options?.status;
    this.excerpt = options?.excerpt;
  }
}

/**
 * ReducerError is a reducer that ran and refused: HTTP 530 with the reducer's error text, or a
 * WebSocket `TransactionUpdate` with status `Failed`. `reducerMessage` is that text verbatim
 * (e.g. `sequence_conflict expected_next_seq=5 actual_next_seq=3`).
 */
export class ReducerError extends RequestError {
  readonly reducer: string;
  readonly reducerMessage: string;
  constructor(endpoint: string, reducer: string, reducerMessage: string, options?: { status?: number }) {
    super('SENTINEL_REDUCER_FAILED', endpoint, `${endpoint}: reducer ${reducer} failed: ${reducerMessage}`, { status: options?.status, excerpt: reducerMessage });
    this.reducer = reducer;
    this.reducerMessage = reducerMessage;
  }
}

/** LabKnobError is a refused `POST /lab/knobs` body or lab option: an unknown knob or a bad value. */
export class LabKnobError extends SentinelError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SENTINEL_LAB_KNOB', message, options);
  }
}

/** ApiErrorTypes are the `errorType` values of Prometheus' HTTP API, plus the auth ones. */
export const ApiErrorTypes = ['bad_data', 'execution', 'timeout', 'canceled', 'internal', 'unavailable', 'not_found', 'unauthorized', 'forbidden', 'method_not_allowed', 'too_large'] as const;
export type ApiErrorType = (typeof ApiErrorTypes)[number];

/** ApiError is a request the daemon's HTTP API refuses: it carries its HTTP status and Prometheus `errorType`. */
export class ApiError extends SentinelError {
  readonly status: number;
  readonly errorType: ApiErrorType;
  constructor(status: number, errorType: ApiErrorType, message: string, options?: { cause?: unknown }) {
    super('SENTINEL_API', message, options);
    this.status = status;
    this.errorType = errorType;
  }
}

/** isSentinelError tells errors raised on purpose (print the message) from bugs (print the stack). */
export function isSentinelError(err: unknown): err is SentinelError {
  return err instanceof SentinelError;
}
