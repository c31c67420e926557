/**
 * spacetime: clients of the watched system (SpacetimeDB HTTP and WebSocket, the runtime's sync
 * metrics, the control service). Each client checks its options in the constructor, takes an
 * AbortSignal and a timeout per call, caps response sizes, never retries on its own, and fails
 * with a `RequestError` whose `code` says how.
 */
export type { CallOptions } from './call-options.js';
export { DEFAULT_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES } from './call-options.js';
export { SpacetimeHttpClient, stringifyArgs } from './http-client.js';
export type { SpacetimeHttpClientOptions, SqlResult, ReducerCallResult, HealthInfo, IdentityInfo, DatabaseInfo, RawResponse } from './http-client.js';
export { SpacetimeWsClient, SUBPROTOCOL, DEFAULT_WEBSOCKET_PATH } from './ws-client.js';
export type { SpacetimeWsClientOptions, CloseInfo, SubscriptionHandle } from './ws-client.js';
export { decodeServerMessage, rowsOf, MessageDecodeError, SERVER_VARIANTS } from './ws-messages.js';
export type {
  ServerMessage,
  TableUpdate,
  DecodedRow,
  IdentityTokenMessage,
  InitialSubscriptionMessage,
  TransactionUpdateMessage,
  TransactionUpdateLightMessage,
  OneOffQueryResponseMessage,
  SubscribeAppliedMessage,
  SubscribeMultiAppliedMessage,
  SubscriptionErrorMessage,
  OtherMessage,
  ProtocolErrorMessage,
  ClosedMessage,
} from './ws-messages.js';
export { RuntimeMetricsClient, parseRuntimeMetrics, DEFAULT_METRICS_PATH, KNOWN_NUMERIC_FIELDS } from './runtime-metrics-client.js';
export type { RuntimeMetricsClientOptions, RuntimeSyncMetrics } from './runtime-metrics-client.js';
export { ControlClient, SYNC_TOKEN_PATH, CONTROL_STATUS_PATH } from './control-client.js';
export type { ControlClientOptions, SyncTokenResponse, SyncTokenRequest, ControlStatus, RawRouteResponse, RouteRequestOptions } from './control-client.js';
export { withRetry, isTransientFailure } from './with-retry.js';
export type { RetryOptions } from './with-retry.js';
export { TABLE_COLUMNS, decodeTableRow, fromSqlRow, isTableName } from './tables.js';
export type { ActiveConnectionRow, StreamHeadRow, SyncEventRow, StreamCheckpointRow, TableRows, TableName } from './tables.js';
export { decodeRow, decodeValue, normalizeIdentity, productElements, SatsDecodeError } from './sats.js';
export type { Column, SatsValue, AlgebraicType } from './sats.js';
export { parseJsonBig, isJsonObject, JsonSyntaxError } from './json.js';
export type { JsonValue, JsonObject } from './json.js';
export { redactSecrets, REDACTED } from './redact.js';
export { bodyExcerpt, httpRequest } from './http-request.js';
export type { HttpRequest, HttpResponse } from './http-request.js';
export { credentialOf, bearerValue } from './credential.js';
export type { Credential, CredentialInput } from './credential.js';
