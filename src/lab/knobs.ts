/**
 * knobs: the lab's fault and traffic settings (`POST /lab/knobs`, `startLab({ knobs })`). Every
 * knob reports itself in `GET /lab/state`; unknown knobs and bad values are refused by name.
 *
 * Timed injection: a body with `"after_ms": N` is validated at once and applied N ms later on the
 * lab's clock (the injected Clock, so a ManualClock drives it). Until then it is listed under
 * `pending_knobs` in `GET /lab/state`; a restart (the `restart` knob) or closing the lab cancels
 * every pending change.
 */
import { LabKnobError } from '../errors.js';
import type { SecretName } from './lab-secrets.js';
import { SECRET_KNOB_NAMES } from './lab-secrets.js';
import { SENTINEL_CANARY_PREFIX } from './traffic.js';

/** ResumeFaults names what `next_resume` does to the next resuming subscription. */
export const ResumeFaults = ['gap', 'duplicate', 'reorder'] as const;
/** ResumeFault is one of ResumeFaults. */
export type ResumeFault = (typeof ResumeFaults)[number];

/**
 * RebootstrapFaults names what `next_rebootstrap` does to the next subscription that takes a
 * fresh snapshot of one stream: drop an event, repeat one, swap two, or refuse the subscription.
 */
export const RebootstrapFaults = ['gap', 'duplicate', 'reorder', 'fail'] as const;
/** RebootstrapFault is one of RebootstrapFaults. */
export type RebootstrapFault = (typeof RebootstrapFaults)[number];

/** MAX_AFTER_MS bounds `after_ms` (one day): a timed change is a drill step, not a calendar. */
export const MAX_AFTER_MS = 86_400_000;

/**
 * PublishFailureKinds are the mirror failure classes of the runtime endpoint (`mirror.<kind>_failures_total`)
 * a failed publish is counted under.
 */
export const PublishFailureKinds = ['network', 'auth', 'rate_limited', 'validation', 'unknown'] as const;
/** PublishFailureKind is one of PublishFailureKinds. */
export type PublishFailureKind = (typeof PublishFailureKinds)[number];

/** RuntimeFieldSets: `published` is exactly the published endpoint; `documented` adds the documented fields. */
export const RuntimeFieldSets = ['published', 'documented'] as const;
/** RuntimeFieldSet is one of RuntimeFieldSets. */
export type RuntimeFieldSet = (typeof RuntimeFieldSets)[number];

/** LabKnobs is every persistent knob in effect (snake_case, as on the wire). */
export interface LabKnobs {
  traffic: { paused: boolean; events_per_second: number };
  /** retention_floor drops events with `seq` below it (0 = keep everything). */
  retention_floor: number;
  /** publish_failures is the ratio (0..1) of mirror publishes that fail into the outbox. */
  publish_failures: number;
  /** publish_failure_kind is the class `publish_failures` are counted under (default network). */
  publish_failure_kind: PublishFailureKind;
  /**
   * token_failure_ratio is the ratio (0..1) of `POST /api/sync/token` calls that fail as an
   * issuer error: 503 `sync_token_unavailable`, counted in `sync.token.issue.failed`.
   */
  token_failure_ratio: number;
  /**
   * slow_clients are simulated client ids that fall behind: they apply at the lab's slow rate
   * (default 0 events/s) but stay alive, re-acking their checkpoint every ack interval.
   */
  slow_clients: string[];
  /**
   * dead_clients are simulated client ids that stop applying and acking for good (until removed
   * from the list); their `stream_checkpoint` rows stay, as the module never deletes one.
   */
  dead_clients: string[];
  /** next_resume is a one-time fault for the next subscription resuming with `seq > N`. */
  next_resume: ResumeFault | null;
  /**
   * next_rebootstrap is a one-time fault for the next subscription that re-bootstraps a stream
   * from a fresh snapshot: a `sync_event` query for one stream (`stream_id = 'x'`) with no other
   * filter, as a client sends after resetting a stale cursor. Queries with a `seq > N` bound
   * (resumes) or a `committed_at_unix_ms` bound (live followers) never consume it. `gap` drops
   * the snapshot's second event (its only event when it has one), `duplicate` repeats its first
   * event, `reorder` swaps its first two (needs two events; until then the knob stays armed),
   * and `fail` answers with the subscription error SpacetimeDB sends when a query's estimated
   * cardinality exceeds the database's `row_limit`.
   */
  next_rebootstrap: RebootstrapFault | null;
  /** streaming_stopped keeps sessions open but delivers no transaction updates. */
  streaming_stopped: boolean;
  /** leak_connection_rows makes `client_disconnected` keep the presence row (a handshake leak). */
  leak_connection_rows: boolean;
  /**
   * enforce_caller_auth (default false: the deployed module accepts any caller) refuses
   * subscriptions and reducer calls whose caller did not connect with a control-issued sync
   * token, or whose token has expired by the time of the request, as the operators' token
   * contract intends: a subscription gets its subscription error, a reducer call fails with
   * `unauthorized: …` (HTTP 530), and each refusal counts as an auth failure.
   */
  enforce_caller_auth: boolean;
  auth_failures_per_minute: { unauthorized: number; token_expired: number };
  stale_cursor_events_per_minute: number;
  runtime_fields: RuntimeFieldSet;
  /**
   * runtime_routing is the control service's runtime-routing configuration (its
   * `OA_RUNTIME_CANARY_*` / `OA_RUNTIME_SHADOW_*` settings) plus `evaluate_fails_with`, a 5xx status
   * that `POST /api/v1/control/runtime-routing/evaluate` then answers (null = answer normally).
   */
  runtime_routing: RuntimeRoutingKnob;
  /** readiness: false makes that service's `/readyz` answer 503 `not_ready`. */
  readiness: { runtime: boolean; control: boolean };
  /**
   * control_admin puts the lab user's email in the control's admin emails (`OA_ADMIN_EMAILS`,
   * empty by default), which `POST /api/v1/control/runtime-routing/override` requires.
   */
  control_admin: boolean;
}

/** RuntimeRoutingKnob is the `runtime_routing` knob. */
export interface RuntimeRoutingKnob {
  overrides_enabled: boolean;
  canary_user_percent: number;
  canary_autopilot_percent: number;
  shadow_enabled: boolean;
  shadow_sample_rate: number;
  force_control_service: boolean;
  evaluate_fails_with: number | null;
}

/** AppendBurst is the one-shot `append_burst` knob: append `count` events to `stream` at once. */
export interface AppendBurst {
  readonly stream: string;
  readonly count: number;
}

/**
 * KnobPatch is a validated `POST /lab/knobs` body: persistent changes plus one-shot actions.
 * `afterMs` (body key `after_ms`) defers the whole patch by that many ms on the lab's clock.
 */
export interface KnobPatch {
  readonly knobs: Partial<LabKnobs>;
  readonly restart: boolean;
  readonly appendBurst: AppendBurst | undefined;
  /**
   * rotateSecrets is the one-shot `rotate_secrets`: `true` rotates every secret, a list names
   * them (control_session_token, control_personal_access_token, jwt_signing_key). The files under
   * `<stateDir>/secrets/` are rewritten atomically and the services use the new values at once.
   */
  readonly rotateSecrets: readonly SecretName[] | undefined;
  readonly afterMs: number | undefined;
}

/** defaultKnobs is a healthy lab: traffic flowing, no faults. */
export function defaultKnobs(): LabKnobs {
  return {
    traffic: { paused: false, events_per_second: 5 },
    retention_floor: 0,
    publish_failures: 0,
    publish_failure_kind: 'network',
    token_failure_ratio: 0,
    slow_clients: [],
    dead_clients: [],
    next_resume: null,
    next_rebootstrap: null,
    streaming_stopped: false,
    leak_connection_rows: false,
    enforce_caller_auth: false,
    auth_failures_per_minute: { unauthorized: 0, token_expired: 0 },
    stale_cursor_events_per_minute: 0,
    runtime_fields: 'published',
    runtime_routing: { overrides_enabled: true, canary_user_percent: 0, canary_autopilot_percent: 0, shadow_enabled: false, shadow_sample_rate: 1, force_control_service: false, evaluate_fails_with: null },
    readiness: { runtime: true, control: true },
    control_admin: false,
  };
}

/** KNOB_NAMES lists every knob `POST /lab/knobs` accepts, one-shots included. */
export const KNOB_NAMES = [
  'traffic', 'retention_floor', 'publish_failures', 'publish_failure_kind', 'token_failure_ratio', 'slow_clients', 'dead_clients', 'restart', 'next_resume',
  'next_rebootstrap', 'streaming_stopped', 'leak_connection_rows', 'enforce_caller_auth', 'auth_failures_per_minute', 'stale_cursor_events_per_minute',
  'runtime_fields', 'append_burst', 'rotate_secrets', 'after_ms', 'runtime_routing', 'readiness', 'control_admin',
] as const;

function fail(message: string): never {
  throw new LabKnobError(message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function nonNegative(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`knob ${name} must be a number >= 0, got ${JSON.stringify(v)}`);
  return v;
}

function ratio(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) fail(`knob ${name} must be a ratio between 0 and 1, got ${JSON.stringify(v)}`);
  return v;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(`knob ${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function onlyKeys(name: string, obj: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!keys.includes(k)) fail(`unknown knob ${name}.${k}; known: ${keys.join(', ')}`);
}

function percent(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) fail(`knob ${name} must be an integer percent between 0 and 100, got ${JSON.stringify(v)}`);
  return v;
}

function statusOrNull(name: string, v: unknown): number | null {
  if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 500 || v > 599)) fail(`knob ${name} must be a 5xx status or null, got ${JSON.stringify(v)}`);
  return v;
}

/** FieldReaders reads each field of an object knob, given its dotted name and the value sent. */
type FieldReaders<T> = { readonly [K in keyof T]: (name: string, v: unknown) => T[K] };

/**
 * objectKnob reads a knob that sets some fields of an object: unknown fields are refused, the
 * fields sent are read in `read`'s order, and the fields left out keep their `current` values.
 */
function objectKnob<T extends object>(name: string, v: unknown, current: T, read: FieldReaders<T>): T {
  const keys = Object.keys(read) as Array<keyof T & string>;
  if (!isObject(v)) fail(`knob ${name} must be an object {${keys.map((k) => `${k}?`).join(', ')}}`);
  onlyKeys(name, v, keys);
  const merged = { ...current };
  for (const k of keys) if (v[k] !== undefined) merged[k] = read[k](`${name}.${k}`, v[k]);
  return merged;
}

function oneOf<T>(values: readonly T[]): (name: string, v: unknown) => T {
  return (name, v) => {
    if (!(values as readonly unknown[]).includes(v)) fail(`knob ${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };
}

function oneOfOrNull<T>(values: readonly T[]): (name: string, v: unknown) => T | null {
  return (name, v) => {
    if (v !== null && !(values as readonly unknown[]).includes(v)) fail(`knob ${name} must be one of ${values.join(', ')} or null, got ${JSON.stringify(v)}`);
    return v as T | null;
  };
}

function clientIds(name: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`knob ${name} must be an array of client ids`);
  return [...(v as string[])];
}

/** KnobReaders reads each persistent knob from the value sent; `current` is the knob in effect. */
type KnobReaders = { readonly [K in keyof LabKnobs]: (name: string, v: unknown, current: LabKnobs[K]) => LabKnobs[K] };

const KNOB_READERS: KnobReaders = {
  traffic: (name, v, current) => objectKnob(name, v, current, { paused: bool, events_per_second: nonNegative }),
  retention_floor: (name, v) => {
    const n = nonNegative(name, v);
    if (!Number.isInteger(n)) fail(`knob retention_floor must be an integer seq, got ${n}`);
    return n;
  },
  publish_failures: ratio,
  publish_failure_kind: oneOf(PublishFailureKinds),
  token_failure_ratio: ratio,
  slow_clients: clientIds,
  dead_clients: clientIds,
  next_resume: oneOfOrNull(ResumeFaults),
  next_rebootstrap: oneOfOrNull(RebootstrapFaults),
  streaming_stopped: bool,
  leak_connection_rows: bool,
  enforce_caller_auth: bool,
  auth_failures_per_minute: (name, v, current) => objectKnob(name, v, current, { unauthorized: nonNegative, token_expired: nonNegative }),
  stale_cursor_events_per_minute: nonNegative,
  runtime_fields: oneOf(RuntimeFieldSets),
  runtime_routing: (name, v, current) =>
    objectKnob(name, v, current, {
      overrides_enabled: bool,
      canary_user_percent: percent,
      canary_autopilot_percent: percent,
      shadow_enabled: bool,
      shadow_sample_rate: ratio,
      force_control_service: bool,
      evaluate_fails_with: statusOrNull,
    }),
  readiness: (name, v, current) => objectKnob(name, v, current, { runtime: bool, control: bool }),
  control_admin: bool,
};

function isPersistentKnob(name: string): name is keyof LabKnobs {
  return Object.hasOwn(KNOB_READERS, name);
}

/** setKnob reads persistent knob `name` into `knobs`. */
function setKnob<K extends keyof LabKnobs>(knobs: Partial<LabKnobs>, name: K, v: unknown, current: LabKnobs): void {
  knobs[name] = KNOB_READERS[name](name, v, current[name]);
}

/**
 * parseKnobPatch validates a knobs object against `current` (partial nested objects merge into
 * it). Throws LabKnobError naming the first unknown knob or bad value.
 */
export function parseKnobPatch(input: unknown, current: LabKnobs): KnobPatch {
  if (!isObject(input)) fail('the knobs body must be a JSON object such as {"traffic": {"paused": true}}');
  const knobs: Partial<LabKnobs> = {};
  let restart = false;
  let appendBurst: AppendBurst | undefined;
  let rotateSecrets: SecretName[] | undefined;
  let afterMs: number | undefined;
  for (const [name, v] of Object.entries(input)) {
    if (isPersistentKnob(name)) {
      setKnob(knobs, name, v, current);
      continue;
    }
    switch (name) {
      case 'restart':
        restart = bool(name, v);
        break;
      case 'rotate_secrets': {
        const names = Object.keys(SECRET_KNOB_NAMES);
        if (v === true) rotateSecrets = names.map((n) => SECRET_KNOB_NAMES[n] as SecretName);
        else if (v === false) rotateSecrets = undefined;
        else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && names.includes(x))) rotateSecrets = [...new Set(v as string[])].map((n) => SECRET_KNOB_NAMES[n] as SecretName);
        else fail(`knob rotate_secrets must be true or a non-empty list of ${names.join(', ')}, got ${JSON.stringify(v)}`);
        break;
      }
      case 'after_ms': {
        const n = nonNegative(name, v);
        if (!Number.isInteger(n) || n > MAX_AFTER_MS) fail(`after_ms must be an integer number of ms between 0 and ${MAX_AFTER_MS}, got ${JSON.stringify(v)}`);
        afterMs = n;
        break;
      }
      case 'append_burst': {
        if (!isObject(v)) fail('knob append_burst must be an object {stream, count}');
        onlyKeys('append_burst', v, ['stream', 'count']);
        if (typeof v.stream !== 'string' || v.stream.trim() === '') fail('knob append_burst.stream must be a stream id');
        if (v.stream.startsWith(SENTINEL_CANARY_PREFIX)) fail(`knob append_burst.stream must not be a sentinel canary stream (${SENTINEL_CANARY_PREFIX}*)`);
        const count = nonNegative('append_burst.count', v.count);
        if (!Number.isInteger(count) || count > 100_000) fail('knob append_burst.count must be an integer between 0 and 100000');
        appendBurst = { stream: v.stream, count };
        break;
      }
      default:
        fail(`unknown knob ${name}; known knobs: ${KNOB_NAMES.join(', ')}`);
    }
  }
  if (afterMs !== undefined && Object.keys(input).length === 1) fail('after_ms needs at least one knob to apply later, e.g. {"after_ms": 5000, "streaming_stopped": true}');
  return { knobs, restart, appendBurst, rotateSecrets, afterMs };
}
