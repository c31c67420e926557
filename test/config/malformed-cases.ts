/**
 * Malformed daemon configurations and the exact lines `checkConfig` prints for each. `FILE`
 * stands for the file name. BASE is a valid minimal config (11 lines) the cases start from.
 */

export const BASE = `environment: dev
target:
  spacetimedb:
    base_url: http://127.0.0.1:17310
    database: autopilot-sync
  runtime:
    base_url: http://127.0.0.1:17311
    token: \${RT_TOKEN}
  control:
    base_url: http://127.0.0.1:17312
    session_token: \${CT_TOKEN}
`;

/** MalformedCase is one bad file and what it must produce. */
export interface MalformedCase {
  readonly name: string;
  readonly yaml: string;
  readonly lines: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

const swap = (from: string, to: string): string => {
  if (!BASE.includes(from)) throw new Error(`case setup: ${from} not in BASE`);
  return BASE.replace(from, to);
};

export const MALFORMED: readonly MalformedCase[] = [
  {
    name: 'misspelled top-level key and the missing one',
    yaml: swap('environment: dev', 'enviroment: dev'),
    lines: [
      'FILE:1:1: enviroment: unknown key (expected one of environment, target, probes, rules, alerting, drills, server, storage, rollout, query_source, export, log, lab)',
      'FILE:1:1: environment: missing required key (expected one of dev, staging, prod)',
    ],
  },
  {
    name: 'environment outside the closed list',
    yaml: swap('environment: dev', 'environment: qa'),
    lines: ['FILE:1:14: environment: invalid value "qa" (expected one of dev, staging, prod)'],
  },
  {
    name: 'non-http URL',
    yaml: swap('base_url: http://127.0.0.1:17310', 'base_url: ftp://127.0.0.1:17310'),
    lines: ['FILE:4:15: target.spacetimedb.base_url: invalid URL "ftp://127.0.0.1:17310" (expected an http:// or https:// URL)'],
  },
  {
    name: 'URL that does not parse',
    yaml: swap('base_url: http://127.0.0.1:17311', 'base_url: runtime-host'),
    lines: ['FILE:7:15: target.runtime.base_url: invalid URL "runtime-host" (expected an http:// or https:// URL)'],
  },
  {
    name: 'URL with credentials',
    yaml: swap('base_url: http://127.0.0.1:17312', 'base_url: http://u:p@127.0.0.1:17312'),
    lines: ['FILE:10:15: target.control.base_url: URL contains credentials (expected them in a token field via ${ENV_VAR} or ${file:PATH})'],
  },
  {
    name: 'missing required secret',
    yaml: swap('    session_token: ${CT_TOKEN}\n', ''),
    lines: ['FILE:9:3: target.control.session_token: missing required key (expected ${ENV_VAR} or ${file:PATH})'],
  },
  {
    name: 'literal secret in a list of secrets',
    yaml: swap('    session_token: ${CT_TOKEN}\n', '    session_token: ${CT_TOKEN}\n    jwt_fallback_signing_keys:\n      - ${CT_TOKEN}\n      - old-key\n'),
    lines: ['FILE:14:9: target.control.jwt_fallback_signing_keys[1]: literal secrets are not allowed; use ${ENV_VAR} or ${file:PATH}'],
  },
  {
    name: 'literal secret',
    yaml: swap('token: ${RT_TOKEN}', 'token: hunter2'),
    lines: ['FILE:8:12: target.runtime.token: literal secrets are not allowed; use ${ENV_VAR} or ${file:PATH}'],
  },
  {
    name: 'secret built from a reference plus text is still a literal',
    yaml: swap('session_token: ${CT_TOKEN}', 'session_token: Bearer ${CT_TOKEN}'),
    lines: ['FILE:11:20: target.control.session_token: literal secrets are not allowed; use ${ENV_VAR} or ${file:PATH}'],
  },
  {
    name: 'secret from an unset variable',
    yaml: swap('token: ${RT_TOKEN}', 'token: ${NOT_SET_ANYWHERE}'),
    lines: ['FILE:8:12: target.runtime.token: environment variable NOT_SET_ANYWHERE is not set (expected it to be set and non-empty)'],
  },
  {
    name: 'secret from an empty variable',
    yaml: BASE,
    env: { RT_TOKEN: '' },
    lines: ['FILE:8:12: target.runtime.token: environment variable RT_TOKEN is not set (expected it to be set and non-empty)'],
  },
  {
    name: 'malformed reference',
    yaml: swap('token: ${RT_TOKEN}', 'token: ${RT-TOKEN}'),
    lines: ['FILE:8:12: target.runtime.token: invalid reference ${RT-TOKEN} (expected ${ENV_VAR} or ${file:PATH})'],
  },
  {
    name: 'unset variable inside a plain string',
    yaml: swap('database: autopilot-sync', 'database: ${SENTINEL_DB}'),
    lines: ['FILE:5:15: target.spacetimedb.database: environment variable SENTINEL_DB is not set (expected it to be set and non-empty)'],
  },
  {
    name: 'path without leading slash',
    yaml: swap('    database: autopilot-sync\n', '    database: autopilot-sync\n    health_path: v1/ping\n'),
    lines: ['FILE:6:18: target.spacetimedb.health_path: invalid path "v1/ping" (expected a path starting with /)'],
  },
  {
    name: 'renamed key names its replacement',
    yaml: swap('base_url: http://127.0.0.1:17311', 'url: http://127.0.0.1:17311'),
    lines: [
      'FILE:6:3: target.runtime.base_url: missing required key (expected an http:// or https:// URL)',
      'FILE:7:5: target.runtime.url: key was renamed; use base_url instead',
    ],
  },
  {
    name: 'unknown probe name',
    yaml: BASE + 'probes:\n  latency:\n    schedule: "* * * * *"\n',
    lines: ['FILE:13:3: probes.latency: unknown key (expected one of runtime_metrics, replay_lag, delivery, resume, connections, token, cutover_state, retired_routes, preflight, health, read_only, canary)'],
  },
  {
    name: 'canary stream outside the canary namespace',
    yaml: BASE + 'probes:\n  resume:\n    schedule: "* * * * *"\n    params:\n      client_id: desktop-1\n',
    lines: ['FILE:16:18: probes.resume.params.client_id: desktop-1 is outside the canary namespace "sentinel.canary." (probes.canary.namespace); the sentinel writes only under it'],
  },
  {
    name: 'cron with too few fields',
    yaml: BASE + 'probes:\n  delivery:\n    schedule: "* * *"\n',
    lines: ['FILE:14:15: probes.delivery.schedule: invalid cron expression "* * *" (expected 5 fields, or 6 with seconds first, like "*/30 * * * * *")'],
  },
  {
    name: 'cron with an out-of-range minute',
    yaml: BASE + 'probes:\n  token:\n    schedule: "61 * * * *"\n',
    lines: ['FILE:14:15: probes.token.schedule: invalid cron expression "61 * * * *" (expected 5 fields, or 6 with seconds first, like "*/30 * * * * *")'],
  },
  {
    name: 'probe without a schedule',
    yaml: BASE + 'probes:\n  cutover_state:\n    timeout: 5s\n',
    lines: ['FILE:13:3: probes.cutover_state.schedule: missing required key (expected a cron expression like "*/30 * * * * *")'],
  },
  {
    name: 'removed interval key',
    yaml: BASE + 'probes:\n  token:\n    schedule: "* * * * *"\n    interval: 30s\n',
    lines: ['FILE:15:5: probes.token.interval: key was removed; use schedule with a cron expression instead (like "*/30 * * * * *")'],
  },
  {
    name: 'duration in words',
    yaml: BASE + 'probes:\n  token:\n    schedule: "* * * * *"\n    timeout: 5 minutes\n',
    lines: ['FILE:15:14: probes.token.timeout: invalid duration "5 minutes" (expected a duration like 30s, 5m or 1h30m)'],
  },
  {
    name: 'duration as a bare number',
    yaml: BASE + 'probes:\n  token:\n    schedule: "* * * * *"\n    timeout: 10\n',
    lines: ['FILE:15:14: probes.token.timeout: wrong type number (expected a duration like 30s, 5m or 1h30m)'],
  },
  {
    name: 'zero timeout',
    yaml: BASE + 'probes:\n  token:\n    schedule: "* * * * *"\n    timeout: 0s\n',
    lines: ['FILE:15:14: probes.token.timeout: zero duration (expected a duration > 0, like 10s)'],
  },
  {
    name: 'negative retries',
    yaml: BASE + 'probes:\n  token:\n    schedule: "* * * * *"\n    retries: -1\n',
    lines: ['FILE:15:14: probes.token.retries: value -1 is too small (expected a number >= 0)'],
  },
  {
    name: 'fractional retries',
    yaml: BASE + 'probes:\n  token:\n    schedule: "* * * * *"\n    retries: 1.5\n',
    lines: ['FILE:15:14: probes.token.retries: wrong type number (expected an integer >= 0)'],
  },
  {
    name: 'unknown probe param',
    yaml: BASE + 'probes:\n  delivery:\n    schedule: "* * * * *"\n    params:\n      canary: x\n',
    lines: ['FILE:16:7: probes.delivery.params.canary: unknown key (expected one of canary_stream, receive_timeout)'],
  },
  {
    name: 'params on a probe that takes none',
    yaml: BASE + 'probes:\n  runtime_metrics:\n    schedule: "* * * * *"\n    params:\n      path: /x\n',
    lines: ['FILE:16:7: probes.runtime_metrics.params.path: unknown key (expected no keys here)'],
  },
  {
    name: 'probe timeout shorter than what it waits for',
    yaml: BASE + 'probes:\n  connections:\n    schedule: "* * * * *"\n    timeout: 30s\n',
    lines: ['FILE:15:14: probes.connections.timeout: timeout 30s does not leave room for params.settle_timeout 35s (expected a timeout longer than 35s)'],
  },
  {
    name: 'preflight env outside the list',
    yaml: BASE + 'probes:\n  preflight:\n    schedule: "* * * * *"\n    params:\n      env: production\n',
    lines: ['FILE:16:12: probes.preflight.params.env: invalid value "production" (expected one of dev, staging, prod)'],
  },
  {
    name: 'rule files as a string instead of a list',
    yaml: BASE + 'rules:\n  files: rules/a.yaml\n',
    lines: ['FILE:13:10: rules.files: wrong type string (expected a list of strings)'],
  },
  {
    name: 'bad evaluation interval and renamed interval',
    yaml: BASE + 'rules:\n  evaluation_interval: 1x\n  interval: 1m\n',
    lines: [
      'FILE:13:24: rules.evaluation_interval: invalid duration "1x" (expected a duration like 30s, 5m or 1h30m)',
      'FILE:14:3: rules.interval: key was renamed; use rules.evaluation_interval instead',
    ],
  },
  {
    name: 'alertmanager without url, literal bearer token',
    yaml: BASE + 'alerting:\n  alertmanagers:\n    - timeout: 5s\n      bearer_token: abc\n',
    lines: [
      'FILE:14:7: alerting.alertmanagers[0].url: missing required key (expected an http:// or https:// URL)',
      'FILE:15:21: alerting.alertmanagers[0].bearer_token: literal secrets are not allowed; use ${ENV_VAR} or ${file:PATH}',
    ],
  },
  {
    name: 'reserved external label name',
    yaml: BASE + 'alerting:\n  external_labels:\n    __name__: x\n    env: 3\n',
    lines: [
      'FILE:14:5: alerting.external_labels.__name__: invalid label name "__name__" (expected [a-zA-Z_][a-zA-Z0-9_]* not starting with __)',
      'FILE:15:10: alerting.external_labels.env: wrong type number (expected a string label value)',
    ],
  },
  {
    name: 'listen without a port',
    yaml: BASE + 'server:\n  listen: localhost\n',
    lines: ['FILE:13:11: server.listen: invalid listen address "localhost" (expected HOST:PORT, like 127.0.0.1:9464)'],
  },
  {
    name: 'listen port out of range and renamed key',
    yaml: BASE + 'server:\n  listen: 127.0.0.1:70000\n  listen_address: 127.0.0.1:1\n',
    lines: [
      'FILE:13:11: server.listen: invalid listen address "127.0.0.1:70000" (expected HOST:PORT, like 127.0.0.1:9464)',
      'FILE:14:3: server.listen_address: key was renamed; use server.listen instead',
    ],
  },
  {
    name: 'zero max_series',
    yaml: BASE + 'storage:\n  max_series: 0\n',
    lines: ['FILE:13:15: storage.max_series: value 0 is too small (expected a number >= 1)'],
  },
  {
    name: 'unknown log level',
    yaml: BASE + 'log:\n  level: verbose\n',
    lines: ['FILE:13:10: log.level: invalid value "verbose" (expected one of trace, debug, info, warn, error, fatal, silent)'],
  },
  {
    name: 'ratio above 1 and a bad drill schedule',
    yaml: BASE + 'drills:\n  schedules:\n    - drill: restart\n      cron: nightly\n  gate:\n    error_budget_ratio_max: 2\n',
    lines: [
      'FILE:15:13: drills.schedules[0].cron: invalid cron expression "nightly" (expected 5 fields, or 6 with seconds first, like "*/30 * * * * *")',
      'FILE:17:29: drills.gate.error_budget_ratio_max: value 2 is too large (expected a number <= 1)',
    ],
  },
  {
    name: 'section of the wrong type',
    yaml: BASE + 'server: 127.0.0.1:9464\n',
    lines: ['FILE:12:9: server: wrong type string (expected a mapping)'],
  },
  {
    name: 'YAML syntax error',
    yaml: BASE + 'server:\n  listen: "127.0.0.1:9464\n',
    lines: ['FILE:14:1: YAML syntax error: Missing closing "quote'],
  },
  {
    name: 'duplicate key',
    yaml: BASE + 'log:\n  level: info\nlog:\n  level: debug\n',
    lines: ['FILE:14:1: YAML syntax error: Map keys must be unique'],
  },
  {
    name: 'empty file',
    yaml: '',
    lines: ['FILE:1:1: (top level): the file is empty (expected a mapping with at least environment and target)'],
  },
  {
    name: 'a list instead of a mapping',
    yaml: '- environment: dev\n',
    lines: ['FILE:1:1: (top level): wrong type list (expected a mapping)'],
  },
  {
    name: 'bad LOG_LEVEL in the environment',
    yaml: BASE,
    env: { LOG_LEVEL: 'loud' },
    lines: ['FILE: LOG_LEVEL (environment): invalid value "loud" (expected one of trace, debug, info, warn, error, fatal, silent)'],
  },
  {
    name: 'remote_write URL that is not http',
    yaml: BASE + 'export:\n  remote_write:\n    - url: prometheus:9090\n',
    lines: ['FILE:14:12: export.remote_write[0].url: invalid URL "prometheus:9090" (expected an http:// or https:// URL)'],
  },
  {
    name: 'remote_write with two credentials',
    yaml: BASE + 'export:\n  remote_write:\n    - url: http://127.0.0.1:9090/api/v1/write\n      bearer_token: ${RW_TOKEN}\n      basic_auth:\n        username: u\n        password: ${RW_TOKEN}\n',
    env: { RW_TOKEN: 'c' },
    lines: ['FILE:15:7: export.remote_write[0].bearer_token: basic_auth and bearer_token are both set (expected at most one of them)'],
  },
  {
    name: 'remote_write endpoints that would share a queue file',
    yaml: BASE + 'export:\n  remote_write:\n    - url: http://127.0.0.1:9090/api/v1/write\n    - url: http://127.0.0.1:9090/other\n',
    lines: ['FILE:15:12: export.remote_write[1].url: remote_write[0] already uses the name "127.0.0.1_9090" (expected a distinct name per endpoint: set name, which names the queue file and the remote_name label)'],
  },
  {
    name: 'remote_write queue bounds that contradict each other',
    yaml: BASE + 'export:\n  remote_write:\n    - url: http://127.0.0.1:9090/api/v1/write\n      queue:\n        min_backoff: 10s\n        max_backoff: 1s\n        capacity: 10\n',
    lines: [
      'FILE:17:22: export.remote_write[0].queue.max_backoff: max_backoff 1s is shorter than min_backoff 10s (expected max_backoff >= min_backoff)',
      'FILE:18:19: export.remote_write[0].queue.capacity: capacity 10 is smaller than max_samples_per_send 2000 (expected capacity >= max_samples_per_send)',
    ],
  },
  {
    name: 'remote_write bearer token written in the file',
    yaml: BASE + 'export:\n  remote_write:\n    - url: http://127.0.0.1:9090/api/v1/write\n      bearer_token: abc\n',
    lines: ['FILE:15:21: export.remote_write[0].bearer_token: literal secrets are not allowed; use ${ENV_VAR} or ${file:PATH}'],
  },
  {
    name: 'query_source URL that does not parse',
    yaml: BASE + 'query_source:\n  url: prometheus:9090\n',
    lines: ['FILE:13:8: query_source.url: invalid URL "prometheus:9090" (expected an http:// or https:// URL)'],
  },
  {
    name: 'query_source with two credentials',
    yaml: BASE + 'query_source:\n  url: http://127.0.0.1:9090\n  bearer_token: ${RW_TOKEN}\n  basic_auth: {username: u, password: "${RW_TOKEN}"}\n',
    env: { RW_TOKEN: 'c' },
    lines: ['FILE:14:3: query_source.bearer_token: basic_auth and bearer_token are both set (expected at most one of them)'],
  },
];
