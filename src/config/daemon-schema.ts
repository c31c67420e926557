/**
 * daemonSchema: the schema of the daemon's configuration file (`config/sentinel.yaml`). It
 * checks shapes and fills defaults; loadConfig turns its output into a `Config`.
 */
import { z } from 'zod';
import { count, cronExpression, durationMs, httpUrl, listenAddress, nonEmptyString, positiveDurationMs, postgresUrl, secret, urlPath } from './field-schemas.js';
import { ENVIRONMENTS, HEALTH_CHECKED_SERVICES, LOG_LEVELS, PROBE_NAMES } from './types.js';
import type { KeyHints } from './validate-section.js';
import { expecting } from './validate-section.js';

const environment = z.enum(ENVIRONMENTS, expecting(`one of ${ENVIRONMENTS.join(', ')}`));
const stringList = z.array(nonEmptyString, expecting('a list of strings'));
const noParams = z.strictObject({}, expecting('a mapping'));

function probe<P extends z.ZodType>(params: P, defaultTimeout: number) {
  return z.strictObject(
    {
      enabled: z.boolean(expecting('true or false')).default(true),
      schedule: cronExpression,
      timeout: positiveDurationMs.default(defaultTimeout),
      retries: count(0).default(0),
      jitter: durationMs.default(0),
      params: params.prefault({} as z.input<P>),
    },
    expecting('a mapping'),
  );
}

const probes = z.strictObject(
  {
    runtime_metrics: probe(noParams, 10_000).optional(),
    replay_lag: probe(z.strictObject({ streams: stringList.optional(), activity_window: positiveDurationMs.default(600_000) }, expecting('a mapping')), 30_000).optional(),
    delivery: probe(
      z.strictObject(
        { canary_stream: nonEmptyString.default('sentinel.canary.delivery'), receive_timeout: positiveDurationMs.default(10_000) },
        expecting('a mapping'),
      ),
      30_000,
    ).optional(),
    resume: probe(
      z.strictObject(
        {
          stream: nonEmptyString.default('sentinel.canary.resume'),
          client_id: nonEmptyString.default('sentinel.canary.resume-client'),
          events_while_away: count(1).default(5),
          receive_timeout: positiveDurationMs.default(10_000),
        },
        expecting('a mapping'),
      ),
      30_000,
    ).optional(),
    connections: probe(z.strictObject({ sessions: count(1).default(2), settle_timeout: positiveDurationMs.default(35_000) }, expecting('a mapping')), 60_000).optional(),
    token: probe(
      z.strictObject(
        {
          mints_per_run: count(1).max(100).default(12),
          clock_skew: durationMs.default(30_000),
          scopes: stringList.optional(),
          ttl_seconds: count(1).optional(),
          issuer: nonEmptyString.optional(),
          audience: nonEmptyString.optional(),
        },
        expecting('a mapping'),
      ),
      10_000,
    ).optional(),
    cutover_state: probe(noParams, 10_000).optional(),
    retired_routes: probe(z.strictObject({ extra_routes: z.array(urlPath, expecting('a list of paths')).optional() }, expecting('a mapping')), 10_000).optional(),
    preflight: probe(z.strictObject({ env: environment.optional() }, expecting('a mapping')), 10_000).optional(),
    health: probe(
      z.strictObject(
        {
          services: z
            .array(z.enum(HEALTH_CHECKED_SERVICES, expecting(`one of ${HEALTH_CHECKED_SERVICES.join(', ')}`)), expecting('a list of services'))
            .min(1)
            .default(['runtime', 'control']),
        },
        expecting('a mapping'),
      ),
      10_000,
    ).optional(),
    // Not probes: what the canaries may write (see CanaryWrites).
    read_only: z.boolean(expecting('true or false')).default(false),
    canary: z
      .strictObject({ namespace: nonEmptyString.default('sentinel.canary.'), daily_event_budget: count(0).default(10_000) }, expecting('a mapping'))
      .prefault({}),
  },
  expecting('a mapping of probe names (and read_only, canary)'),
);

const target = z.strictObject(
  {
    spacetimedb: z.strictObject(
      {
        base_url: httpUrl,
        database: nonEmptyString,
        websocket_path: urlPath.default('/v1/database/{database}/subscribe'),
        health_path: urlPath.default('/v1/ping'),
        token: secret.optional(),
        request_timeout: positiveDurationMs.default(5_000),
        max_response_bytes: count(1).default(8 * 1024 * 1024),
      },
      expecting('a mapping'),
    ),
    runtime: z.strictObject(
      {
        base_url: httpUrl,
        metrics_path: urlPath.default('/internal/v1/spacetime/sync/metrics'),
        token: secret.optional(),
        request_timeout: positiveDurationMs.default(5_000),
      },
      expecting('a mapping'),
    ),
    control: z.strictObject(
      {
        base_url: httpUrl,
        session_token: secret,
        jwt_signing_key: secret.optional(),
        jwt_fallback_signing_keys: z.array(secret, expecting('a list of ${ENV_VAR} or ${file:PATH} references')).optional(),
        request_timeout: positiveDurationMs.default(5_000),
      },
      expecting('a mapping'),
    ),
  },
  expecting('a mapping with spacetimedb, runtime and control'),
);

const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** labelMap is a mapping of label names (not starting with __) to string values. */
const labelMap = z.record(
  z.string().refine((name) => labelName.test(name) && !name.startsWith('__'), {
    error: (issue) => `invalid label name ${JSON.stringify(issue.input)} (expected [a-zA-Z_][a-zA-Z0-9_]* not starting with __)`,
  }),
  z.string(expecting('a string label value')),
  expecting('a mapping of label names to values'),
);

const alerting = z.strictObject(
  {
    resend_delay: positiveDurationMs.default(60_000),
    external_url: httpUrl.optional(),
    external_labels: labelMap.default({}),
    queue_capacity: count(1).default(10_000),
    queue_dir: nonEmptyString.optional(),
    alertmanagers: z
      .array(z.strictObject({ url: httpUrl, timeout: positiveDurationMs.default(10_000), bearer_token: secret.optional() }, expecting('a mapping')), expecting('a list'))
      .default([]),
    webhooks: z
      .array(
        z.strictObject(
          { url: httpUrl, timeout: positiveDurationMs.default(10_000), bearer_token: secret.optional(), receiver: nonEmptyString.default('sentinel') },
          expecting('a mapping'),
        ),
        expecting('a list'),
      )
      .default([]),
    log: z.boolean(expecting('true or false')).default(true),
  },
  expecting('a mapping'),
);

/** MIN_LEASE_TTL_MS: the holder checks its lease every ttl/3, and needs a few checks per ttl. */
const MIN_LEASE_TTL_MS = 3000;

const lease = z.strictObject(
  {
    postgres: z.strictObject({ url: postgresUrl, password: secret.optional() }, expecting('a mapping with url (and password)')),
    name: nonEmptyString.optional(),
    holder: z
      .string(expecting('a name without whitespace'))
      .regex(/^[\x21-\x7e]{1,40}$/, { error: 'invalid holder name (expected 1 to 40 printable ASCII characters without whitespace)' })
      .optional(),
    ttl: positiveDurationMs.default(15_000).refine((ms) => ms >= MIN_LEASE_TTL_MS, { error: 'lease ttl too short (expected at least 3s)' }),
  },
  expecting('a mapping with postgres'),
);

const drills = z.strictObject(
  {
    files: stringList.default([]),
    toxiproxy_url: httpUrl.default('http://127.0.0.1:8474'),
    evidence_dir: nonEmptyString.default('output/chaos/spacetime'),
    allow_prod: z.boolean(expecting('true or false')).default(false),
    manifest_hmac_key: secret.optional(),
    schedules: z.array(z.strictObject({ drill: nonEmptyString, cron: cronExpression }, expecting('a mapping')), expecting('a list')).default([]),
    lease: lease.optional(),
    evidence_retention: z
      .strictObject({ keep_last: count(1).default(10), keep_within: durationMs.default(7 * 24 * 3600_000) }, expecting('a mapping'))
      .prefault({}),
    gate: z
      .strictObject(
        {
          required_drills: stringList.default([]),
          max_evidence_age: positiveDurationMs.default(24 * 3600_000),
          soak_window: positiveDurationMs.default(3600_000),
          delivery_p95_max_seconds: z.number(expecting('a number of seconds')).positive().default(0.6),
          error_budget_ratio_max: z.number(expecting('a ratio between 0 and 1')).min(0).max(1).default(0.02),
        },
        expecting('a mapping'),
      )
      .prefault({}),
  },
  expecting('a mapping'),
);

const probeName = z.enum(PROBE_NAMES, expecting(`one of ${PROBE_NAMES.join(', ')}`));

const rollout = z.strictObject(
  {
    output_dir: nonEmptyString.default('output/canary/spacetime'),
    slo_window: positiveDurationMs.default(10 * 60_000),
    cohort_effect_timeout: positiveDurationMs.default(15 * 60_000),
    status_poll_interval: positiveDurationMs.default(10_000),
    soak: z
      .strictObject(
        {
          probes: z.array(probeName, expecting('a list of probe names')).default(['delivery', 'resume', 'token']),
          probe_interval: positiveDurationMs.default(30_000),
          failed_probe_streak: count(1).default(3),
        },
        expecting('a mapping'),
      )
      .prefault({}),
    chaos_suite: stringList.optional(),
    rollback_drill: z
      .strictObject({ recovery_timeout: positiveDurationMs.default(120_000), user_id: nonEmptyString.optional() }, expecting('a mapping'))
      .prefault({}),
  },
  expecting('a mapping'),
);

/** remoteWrite is one Prometheus remote-write endpoint (Prometheus' remote_write entry, shard-less). */
const remoteWrite = z.strictObject(
  {
    url: httpUrl,
    name: z
      .string(expecting('a name of letters, digits, _ . -'))
      .regex(/^[A-Za-z0-9_.-]+$/, { error: (issue) => `invalid name ${JSON.stringify(issue.input)} (expected letters, digits, _ . and - only: it names the queue file)` })
      .optional(),
    remote_timeout: positiveDurationMs.default(30_000),
    external_labels: labelMap.default({}),
    basic_auth: z.strictObject({ username: nonEmptyString, password: secret }, expecting('a mapping with username and password')).optional(),
    bearer_token: secret.optional(),
    queue: z
      .strictObject(
        {
          capacity: count(1).default(100_000),
          max_samples_per_send: count(1).default(2_000),
          batch_send_deadline: positiveDurationMs.default(5_000),
          min_backoff: positiveDurationMs.default(30),
          max_backoff: positiveDurationMs.default(5_000),
        },
        expecting('a mapping'),
      )
      .prefault({}),
  },
  expecting('a mapping with at least url'),
);

/** querySource is an external Prometheus HTTP API the rules, drill conditions and gate query instead of the store. */
const querySource = z.strictObject(
  {
    url: httpUrl,
    timeout: positiveDurationMs.default(30_000),
    basic_auth: z.strictObject({ username: nonEmptyString, password: secret }, expecting('a mapping with username and password')).optional(),
    bearer_token: secret.optional(),
  },
  expecting('a mapping with at least url'),
);

/** daemonSchema validates a whole daemon configuration file. */
export const daemonSchema = z.strictObject(
  {
    environment,
    target,
    probes: probes.prefault({}),
    rules: z
      .strictObject(
        {
          files: stringList.default([]),
          evaluation_interval: positiveDurationMs.default(60_000),
          lookback_delta: positiveDurationMs.default(5 * 60_000),
          query_timeout: positiveDurationMs.default(2 * 60_000),
        },
        expecting('a mapping'),
      )
      .prefault({}),
    alerting: alerting.prefault({}),
    drills: drills.prefault({}),
    server: z
      .strictObject(
        {
          listen: listenAddress.default({ host: '127.0.0.1', port: 9464 }),
          admin_token: secret.optional(),
          shutdown_timeout: positiveDurationMs.default(10_000),
          query_timeout: positiveDurationMs.default(30_000),
          query_max_samples: count(1).default(2_000_000),
        },
        expecting('a mapping'),
      )
      .prefault({}),
    storage: z
      .strictObject(
        { data_dir: nonEmptyString.default('data'), retention: positiveDurationMs.default(26 * 3600_000), max_series: count(1).default(50_000) },
        expecting('a mapping'),
      )
      .prefault({}),
    rollout: rollout.prefault({}),
    query_source: querySource.optional(),
    export: z
      .strictObject(
        {
          compat_metrics: z.boolean(expecting('true or false')).default(false),
          remote_write: z.array(remoteWrite, expecting('a list of remote-write endpoints')).default([]),
        },
        expecting('a mapping'),
      )
      .prefault({}),
    log: z.strictObject({ level: z.enum(LOG_LEVELS, expecting(`one of ${LOG_LEVELS.join(', ')}`)).default('info') }, expecting('a mapping')).prefault({}),
    lab: z.record(z.string(), z.unknown(), expecting('a mapping')).optional(),
  },
  expecting('a mapping'),
);

/** DaemonFile is the schema's output: the file's shape with defaults filled in. */
export type DaemonFile = z.output<typeof daemonSchema>;

/** DAEMON_KEY_HINTS name the replacement of keys that were removed or renamed. */
export const DAEMON_KEY_HINTS: KeyHints = {
  'server.listen_address': 'key was renamed; use server.listen instead',
  'server.address': 'key was renamed; use server.listen instead',
  'storage.path': 'key was renamed; use storage.data_dir instead',
  'storage.retention_time': 'key was renamed; use storage.retention instead',
  'rules.interval': 'key was renamed; use rules.evaluation_interval instead',
  'target.*.url': 'key was renamed; use base_url instead',
  'probes.*.interval': 'key was removed; use schedule with a cron expression instead (like "*/30 * * * * *")',
  'probes.*.timeout_ms': 'key was renamed; use timeout with a duration instead (like 10s)',
  'alerting.alertmanager_url': 'key was removed; use alerting.alertmanagers: [{url: ...}] instead',
  'log.format': 'key was removed; logs are always JSON lines',
};
