/**
 * SpacetimeTarget bundles what the SpacetimeDB probes need: one HTTP client for SQL and a way to
 * open WebSocket connections. Connections are anonymous unless a token is passed: the canaries
 * keep their own identity (the token of their first IdentityToken), and handshake sessions must
 * be distinct identities, so the deployment's configured token is used for HTTP only.
 */
import { SpacetimeHttpClient, SpacetimeWsClient } from '../../spacetime/index.js';
import type { CredentialInput } from '../../spacetime/index.js';

/** SpacetimeTarget is the SpacetimeDB host as the probes see it. */
export interface SpacetimeTarget {
  readonly http: SpacetimeHttpClient;
  /** connect creates (does not open) a WebSocket client; `token` keeps an identity across reconnects. */
  connect(token?: string): SpacetimeWsClient;
}

/** SpacetimeTargetOptions describe the host (config `target.spacetimedb`). */
export interface SpacetimeTargetOptions {
  readonly baseUrl: string;
  readonly database: string;
  readonly websocketPath?: string;
  /** token authenticates HTTP SQL (read at every request); WebSocket canaries stay anonymous (see above). */
  readonly token?: CredentialInput;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

/** createSpacetimeTarget builds the clients, checking every option now rather than at the first run. */
export function createSpacetimeTarget(options: SpacetimeTargetOptions): SpacetimeTarget {
  const http = new SpacetimeHttpClient({
    baseUrl: options.baseUrl,
    database: options.database,
    token: options.token,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
  });
  const wsOptions = { baseUrl: options.baseUrl, database: options.database, path: options.websocketPath, timeoutMs: options.timeoutMs, maxFrameBytes: options.maxResponseBytes };
  // Constructing one client validates the WebSocket options eagerly.
  new SpacetimeWsClient(wsOptions);
  return {
    http,
    connect: (token?: string) => new SpacetimeWsClient({ ...wsOptions, token }),
  };
}
