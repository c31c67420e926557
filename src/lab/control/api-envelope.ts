/**
 * api-envelope: the control service's JSON envelopes (OpenAgents
 * `apps/openagents.com/service/src/api_envelope.rs:61-146` at 9b2b978949): errors are
 * `{"message":M,"error":{"code":C,"message":M}}` plus `"errors":{"<field>":[M]}` for validation
 * errors; successes are `{"data":…}`.
 */
import type { LabResponse } from '../axum-router.js';
import { jsonResponse } from '../axum-router.js';

/** API_ERROR_STATUS maps the envelope's codes with their default statuses (`api_envelope.rs:25-59`). */
export const API_ERROR_STATUS = {
  invalid_request: 422,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  not_found: 404,
  conflict: 409,
  invalid_scope: 422,
  service_unavailable: 503,
  sync_token_unavailable: 503,
  static_asset_error: 500,
  legacy_route_unavailable: 503,
  internal_error: 500,
} as const;
/** ApiErrorCode is one of the envelope's codes. */
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** errorResponse is `error_response_with_status`: the code's default status unless given. */
export function errorResponse(code: ApiErrorCode, message: string, status: number = API_ERROR_STATUS[code]): LabResponse {
  return jsonResponse(status, { message, error: { code, message } });
}

/** validationError is `validation_error(field, message)`: 422 with `errors`. */
export function validationError(field: string, message: string): LabResponse {
  return jsonResponse(422, { message, error: { code: 'invalid_request', message }, errors: { [field]: [message] } });
}

/** unauthorized is `unauthorized_error(message)`. */
export function unauthorized(message = 'Unauthenticated.'): LabResponse {
  return errorResponse('unauthorized', message);
}

/** forbidden is `forbidden_error(message)`. */
export function forbidden(message: string): LabResponse {
  return errorResponse('forbidden', message);
}

/** okData is `ok_data(value)`: 200 `{"data": value}`. */
export function okData(data: unknown, status = 200): LabResponse {
  return jsonResponse(status, { data });
}
