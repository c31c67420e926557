/**
 * ServiceSnapshots: the runtime metrics and control status documents a rollout and the cutover
 * announcement keep as evidence, each fetched with the credentials its route needs: control
 * status with the session bearer (it refuses anything else: OpenAgents
 * `apps/openagents.com/service/src/lib.rs:14529-14567` at 9b2b978949), runtime metrics with no
 * credentials unless a token is configured (the real route has none: `apps/runtime/src/server.rs:1621-1651`).
 * A failure throws, with the endpoint and status in the message and no secret.
 */
import { RequestError } from '../errors.js';
import { bodyExcerpt, credentialOf, httpRequest, parseJsonBig } from '../spacetime/index.js';
import type { CredentialInput } from '../spacetime/index.js';
import type { SnapshotSource } from './rollout-deps.js';

/** ServiceSnapshotsOptions are the two URLs and their credentials. */
export interface ServiceSnapshotsOptions {
  readonly runtimeMetricsUrl: string;
  /** runtimeToken is sent only when set. Both tokens are read at every request (a rotated secret file is in effect at once). */
  readonly runtimeToken?: CredentialInput;
  readonly controlStatusUrl: string;
  readonly sessionToken: CredentialInput;
  readonly timeoutMs: number;
}

const MAX_BYTES = 8 * 1024 * 1024;

async function getJson(url: string, credential: CredentialInput | undefined, timeoutMs: number, signal: AbortSignal): Promise<unknown> {
  const token = credential === undefined ? undefined : credentialOf(credential).reveal();
  const secrets = token ? [token] : [];
  const res = await httpRequest({
    method: 'GET',
    url: new URL(url),
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    timeoutMs,
    maxResponseBytes: MAX_BYTES,
    signal,
    secrets,
  });
  if (res.status < 200 || res.status > 299) {
    const excerpt = bodyExcerpt(res.body, secrets);
    throw new RequestError('SENTINEL_HTTP_STATUS', res.endpoint, `${res.endpoint}: HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`, { status: res.status, excerpt });
  }
  try {
    return parseJsonBig(res.body);
  } catch (err) {
    throw new RequestError('SENTINEL_BAD_RESPONSE', res.endpoint, `${res.endpoint}: the body is not JSON`, { status: res.status, cause: err });
  }
}

/** ServiceSnapshots implements SnapshotSource over HTTP. */
export class ServiceSnapshots implements SnapshotSource {
  constructor(private readonly options: ServiceSnapshotsOptions) {}

  runtimeMetrics(signal: AbortSignal): Promise<unknown> {
    return getJson(this.options.runtimeMetricsUrl, this.options.runtimeToken, this.options.timeoutMs, signal);
  }

  controlStatus(signal: AbortSignal): Promise<unknown> {
    return getJson(this.options.controlStatusUrl, this.options.sessionToken, this.options.timeoutMs, signal);
  }
}
