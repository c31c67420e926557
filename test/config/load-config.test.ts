import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig, loadConfig, Secret } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { BASE, MALFORMED } from './malformed-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ENV = { RT_TOKEN: 'rt-secret-value', CT_TOKEN: 'ct-secret-value' };

let serial = 0;
function write(yaml: string, name = `case-${++serial}.yaml`): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

describe('malformed configurations', () => {
  it('has at least 25 cases', () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of MALFORMED) {
    it(c.name, () => {
      const file = write(c.yaml);
      const result = checkConfig(file, { env: { ...ENV, ...c.env } });
      expect(result.ok).toBe(false);
      const lines = result.ok ? [] : result.issues.map((l) => l.replace(file, 'FILE'));
      expect(lines).toEqual(c.lines);
    });
  }

  it('collects every error of a file, sorted by position', () => {
    const file = write(
      BASE.replace('environment: dev', 'environment: test').replace('token: ${RT_TOKEN}', 'token: plain') +
        'server:\n  listen: nowhere\nstorage:\n  retention: forever\n',
    );
    const result = checkConfig(file, { env: ENV });
    expect(result.ok ? [] : result.issues.map((l) => l.replace(file, 'FILE'))).toEqual([
      'FILE:1:14: environment: invalid value "test" (expected one of dev, staging, prod)',
      'FILE:8:12: target.runtime.token: literal secrets are not allowed; use ${ENV_VAR} or ${file:PATH}',
      'FILE:13:11: server.listen: invalid listen address "nowhere" (expected HOST:PORT, like 127.0.0.1:9464)',
      'FILE:15:14: storage.retention: invalid duration "forever" (expected a duration like 30s, 5m or 1h30m)',
    ]);
  });

  it('loadConfig throws a ConfigError whose issues are the lines and whose message holds them all', () => {
    const file = write(BASE.replace('environment: dev', 'environment: qa') + 'log:\n  level: loud\n');
    let caught: unknown;
    try {
      loadConfig(file, { env: ENV });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.code).toBe('SENTINEL_CONFIG_INVALID');
    expect(err.issues).toHaveLength(2);
    expect(err.message).toBe(err.issues.join('\n'));
  });

  it('names a missing file and says what to do', () => {
    const result = checkConfig('no/such/sentinel.yaml', { cwd: dir, env: ENV });
    expect(result).toEqual({ ok: false, issues: ['no/such/sentinel.yaml: file not found; pass an existing file with --config'] });
  });
});

describe('references and secrets', () => {
  it('reads secrets from the environment and files relative to the config file, dropping the final newline', () => {
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'session'), 'from-a-file\n', { mode: 0o600 });
    const file = write(BASE.replace('session_token: ${CT_TOKEN}', 'session_token: ${file:secrets/session}'));
    const config = loadConfig(file, { env: ENV });
    expect(config.target.runtime.token?.reveal()).toBe('rt-secret-value');
    expect(config.target.runtime.token?.source).toBe('env:RT_TOKEN');
    expect(config.target.control.sessionToken.reveal()).toBe('from-a-file');
    expect(config.target.control.sessionToken.source).toBe(`file:${join(dir, 'secrets', 'session')}`);
  });

  it('names an unreadable secret file', () => {
    const file = write(BASE.replace('session_token: ${CT_TOKEN}', 'session_token: ${file:secrets/missing}'));
    const result = checkConfig(file, { env: ENV });
    expect(result.ok ? [] : result.issues).toEqual([
      `${file}:11:20: target.control.session_token: cannot read file ${join(dir, 'secrets', 'missing')} (ENOENT) referenced by \${file:secrets/missing} (expected a readable file)`,
    ]);
  });

  it('substitutes ${ENV} inside plain strings and keeps $${ as a literal', () => {
    const file = write(BASE.replace('base_url: http://127.0.0.1:17310', 'base_url: http://${LAB_HOST}:17310').replace('database: autopilot-sync', () => 'database: db-$${x}'));
    const config = loadConfig(file, { env: { ...ENV, LAB_HOST: 'lab.internal' } });
    expect(config.target.spacetimedb.baseUrl).toBe('http://lab.internal:17310');
    expect(config.target.spacetimedb.database).toBe('db-${x}');
  });

  it('never prints a secret: JSON, String and inspect of the config show <redacted>', () => {
    const config = loadConfig(write(BASE), { env: ENV });
    const json = JSON.stringify(config);
    const inspected = inspect(config, { depth: 10 });
    for (const text of [json, inspected, String(config.target.runtime.token)]) {
      expect(text).not.toContain('rt-secret-value');
      expect(text).not.toContain('ct-secret-value');
      expect(text).toContain('<redacted>');
    }
    expect(config.target.runtime.token).toBeInstanceOf(Secret);
  });

  it('does not mistake the probe named token for a secret', () => {
    const config = loadConfig(write(BASE + 'probes:\n  token:\n    schedule: "*/30 * * * * *"\n'), { env: ENV });
    expect(config.probes.token?.schedule).toBe('*/30 * * * * *');
  });

  it('LOG_LEVEL overrides log.level', () => {
    const file = write(BASE + 'log:\n  level: warn\n');
    expect(loadConfig(file, { env: ENV }).log.level).toBe('warn');
    expect(loadConfig(file, { env: { ...ENV, LOG_LEVEL: 'debug' } }).log.level).toBe('debug');
  });
});

describe('a valid configuration', () => {
  it('fills every default from a minimal file', () => {
    const file = write(BASE, 'minimal.yaml');
    const config = loadConfig(file, { env: ENV });
    expect(config.file).toBe(file);
    expect(config.environment).toBe('dev');
    expect(config.target.spacetimedb).toMatchObject({
      baseUrl: 'http://127.0.0.1:17310',
      database: 'autopilot-sync',
      websocketPath: '/v1/database/autopilot-sync/subscribe',
      healthPath: '/v1/ping',
      requestTimeoutMs: 5000,
      maxResponseBytes: 8 * 1024 * 1024,
    });
    expect(config.target.spacetimedb.token).toBeUndefined();
    expect(config.target.runtime.metricsPath).toBe('/internal/v1/spacetime/sync/metrics');
    expect(config.probes).toEqual({});
    expect(config.rules).toEqual({ files: [], evaluationIntervalMs: 60_000, lookbackDeltaMs: 300_000, queryTimeoutMs: 120_000 });
    expect(config.alerting).toMatchObject({ resendDelayMs: 60_000, externalUrl: 'http://127.0.0.1:9464', queueCapacity: 10_000, queueDir: join(dir, 'data', 'notify'), log: true });
    expect(config.drills).toMatchObject({ toxiproxyUrl: 'http://127.0.0.1:8474', evidenceDir: join(dir, 'output/chaos/spacetime'), allowProd: false });
    expect(config.drills.gate).toEqual({ requiredDrills: [], maxEvidenceAgeMs: 86_400_000, soakWindowMs: 3_600_000, deliveryP95MaxSeconds: 0.6, errorBudgetRatioMax: 0.02 });
    expect(config.server).toEqual({ listen: { host: '127.0.0.1', port: 9464 }, shutdownTimeoutMs: 10_000, queryTimeoutMs: 30_000, queryMaxSamples: 2_000_000 });
    expect(config.storage).toEqual({ dataDir: join(dir, 'data'), retentionMs: 26 * 3_600_000, maxSeries: 50_000 });
    expect(config.log.level).toBe('info');
    expect(Object.isFrozen(config.target.spacetimedb)).toBe(true);
  });

  it('round-trips a full configuration with every option set', () => {
    const yaml = `environment: staging
target:
  spacetimedb:
    base_url: https://spacetime.staging.example/
    database: autopilot sync
    websocket_path: /v1/database/{database}/subscribe
    health_path: /v1/health
    token: \${ST_TOKEN}
    request_timeout: 3s
    max_response_bytes: 1024
  runtime:
    base_url: https://runtime.staging.example
    metrics_path: /metrics.json
    token: \${RT_TOKEN}
    request_timeout: 2s
  control:
    base_url: https://control.staging.example
    session_token: \${CT_TOKEN}
    jwt_signing_key: \${JWT_KEY}
    jwt_fallback_signing_keys:
      - \${JWT_OLD_KEY}
probes:
  read_only: true
  canary: {namespace: canary.x., daily_event_budget: 12}
  runtime_metrics: {schedule: "*/30 * * * * *", timeout: 5s, retries: 2, jitter: 500ms}
  replay_lag: {schedule: "0 * * * * *", params: {streams: [a, b], activity_window: 3m}}
  delivery: {schedule: "* * * * *", params: {canary_stream: canary.x.c, receive_timeout: 2s}}
  resume: {schedule: "* * * * *", enabled: false, params: {stream: canary.x.r, client_id: canary.x.me, events_while_away: 3, receive_timeout: 4s}}
  connections: {schedule: "* * * * *", params: {sessions: 3, settle_timeout: 40s}, timeout: 1m}
  token: {schedule: "* * * * *", params: {mints_per_run: 4, clock_skew: 10s, scopes: [runtime.run_summaries], ttl_seconds: 600, issuer: "https://openagents.com", audience: openagents-sync}}
  cutover_state: {schedule: "* * * * *"}
  retired_routes: {schedule: "* * * * *", params: {extra_routes: [/api/old]}}
  preflight: {schedule: "* * * * *"}
rules:
  files: ["rules/*.yaml", /etc/sentinel/extra.yaml]
  evaluation_interval: 30s
  lookback_delta: 2m
  query_timeout: 10s
alerting:
  resend_delay: 2m
  external_url: https://sentinel.example
  external_labels: {env: staging, team: sync}
  queue_capacity: 50
  queue_dir: queue
  alertmanagers:
    - {url: https://am.example, timeout: 3s, bearer_token: "\${AM_TOKEN}"}
  webhooks:
    - {url: https://hook.example/x, receiver: oncall}
  log: false
drills:
  files: [drills/*.yaml]
  toxiproxy_url: http://toxiproxy:8474
  evidence_dir: /srv/evidence
  allow_prod: true
  manifest_hmac_key: \${HMAC_KEY}
  schedules: [{drill: restart, cron: "0 3 * * *"}]
  evidence_retention: {keep_last: 3, keep_within: 2d}
  gate: {required_drills: [restart], max_evidence_age: 12h, soak_window: 30m, delivery_p95_max_seconds: 0.5, error_budget_ratio_max: 0.01}
server:
  listen: "[::1]:0"
  admin_token: \${ADMIN_TOKEN}
  shutdown_timeout: 5s
  query_timeout: 15s
  query_max_samples: 500000
storage: {data_dir: /var/lib/sentinel, retention: 2d, max_series: 10}
rollout:
  output_dir: canary
  slo_window: 5m
  cohort_effect_timeout: 2m
  status_poll_interval: 5s
  soak: {probes: [delivery], probe_interval: 10s, failed_probe_streak: 2}
  chaos_suite: [restart]
  rollback_drill: {recovery_timeout: 1m, user_id: user_1}
query_source:
  url: https://prometheus.example/
  timeout: 20s
  bearer_token: \${RW_TOKEN}
export:
  compat_metrics: true
  remote_write:
    - url: https://prom.example/api/v1/write
      bearer_token: \${RW_TOKEN}
      external_labels: {replica: a, token: not-a-secret}
    - url: https://mimir.example/api/v1/push
      name: mimir
      remote_timeout: 10s
      basic_auth: {username: sentinel, password: "\${RW_PASSWORD}"}
      queue: {capacity: 5000, max_samples_per_send: 500, batch_send_deadline: 2s, min_backoff: 100ms, max_backoff: 10s}
log: {level: debug}
lab: {ports: {spacetimedb: 0}, token: literal-is-fine-here}
`;
    const env = { ...ENV, ST_TOKEN: 's', JWT_KEY: 'j', JWT_OLD_KEY: 'old', AM_TOKEN: 'a', HMAC_KEY: 'h', ADMIN_TOKEN: 'adm', RW_TOKEN: 'rw', RW_PASSWORD: 'rwp' };
    const config = loadConfig(write(yaml, 'full.yaml'), { env });
    const plain = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
    expect(plain).toEqual({
      file: join(dir, 'full.yaml'),
      baseDir: dir,
      environment: 'staging',
      target: {
        spacetimedb: {
          baseUrl: 'https://spacetime.staging.example',
          database: 'autopilot sync',
          websocketPath: '/v1/database/autopilot%20sync/subscribe',
          healthPath: '/v1/health',
          token: '<redacted>',
          requestTimeoutMs: 3000,
          maxResponseBytes: 1024,
        },
        runtime: { baseUrl: 'https://runtime.staging.example', metricsPath: '/metrics.json', token: '<redacted>', requestTimeoutMs: 2000 },
        control: { baseUrl: 'https://control.staging.example', sessionToken: '<redacted>', jwtSigningKey: '<redacted>', jwtFallbackSigningKeys: ['<redacted>'], requestTimeoutMs: 5000 },
      },
      probes: {
        runtime_metrics: { name: 'runtime_metrics', enabled: true, schedule: '*/30 * * * * *', timeoutMs: 5000, retries: 2, jitterMs: 500, params: {} },
        replay_lag: { name: 'replay_lag', enabled: true, schedule: '0 * * * * *', timeoutMs: 30000, retries: 0, jitterMs: 0, params: { streams: ['a', 'b'], activityWindowMs: 180000 } },
        delivery: { name: 'delivery', enabled: true, schedule: '* * * * *', timeoutMs: 30000, retries: 0, jitterMs: 0, params: { canaryStream: 'canary.x.c', receiveTimeoutMs: 2000 } },
        resume: { name: 'resume', enabled: false, schedule: '* * * * *', timeoutMs: 30000, retries: 0, jitterMs: 0, params: { stream: 'canary.x.r', clientId: 'canary.x.me', eventsWhileAway: 3, receiveTimeoutMs: 4000 } },
        connections: { name: 'connections', enabled: true, schedule: '* * * * *', timeoutMs: 60000, retries: 0, jitterMs: 0, params: { sessions: 3, settleTimeoutMs: 40000 } },
        token: {
          name: 'token',
          enabled: true,
          schedule: '* * * * *',
          timeoutMs: 10000,
          retries: 0,
          jitterMs: 0,
          params: { mintsPerRun: 4, clockSkewMs: 10_000, scopes: ['runtime.run_summaries'], ttlSeconds: 600, issuer: 'https://openagents.com', audience: 'openagents-sync' },
        },
        cutover_state: { name: 'cutover_state', enabled: true, schedule: '* * * * *', timeoutMs: 10000, retries: 0, jitterMs: 0, params: {} },
        retired_routes: { name: 'retired_routes', enabled: true, schedule: '* * * * *', timeoutMs: 10000, retries: 0, jitterMs: 0, params: { extraRoutes: ['/api/old'] } },
        preflight: { name: 'preflight', enabled: true, schedule: '* * * * *', timeoutMs: 10000, retries: 0, jitterMs: 0, params: { env: 'staging' } },
      },
      canary: { readOnly: true, namespace: 'canary.x.', dailyEventBudget: 12 },
      rules: { files: [join(dir, 'rules/*.yaml'), '/etc/sentinel/extra.yaml'], evaluationIntervalMs: 30000, lookbackDeltaMs: 120000, queryTimeoutMs: 10000 },
      alerting: {
        resendDelayMs: 120000,
        externalUrl: 'https://sentinel.example',
        externalLabels: { env: 'staging', team: 'sync' },
        queueCapacity: 50,
        queueDir: join(dir, 'queue'),
        alertmanagers: [{ url: 'https://am.example', timeoutMs: 3000, bearerToken: '<redacted>' }],
        webhooks: [{ url: 'https://hook.example/x', timeoutMs: 10000, receiver: 'oncall' }],
        log: false,
      },
      drills: {
        files: [join(dir, 'drills/*.yaml')],
        toxiproxyUrl: 'http://toxiproxy:8474',
        evidenceDir: '/srv/evidence',
        allowProd: true,
        manifestHmacKey: '<redacted>',
        schedules: [{ drill: 'restart', cron: '0 3 * * *' }],
        evidenceRetention: { keepLast: 3, keepWithinMs: 172_800_000 },
        gate: { requiredDrills: ['restart'], maxEvidenceAgeMs: 43_200_000, soakWindowMs: 1_800_000, deliveryP95MaxSeconds: 0.5, errorBudgetRatioMax: 0.01 },
      },
      server: { listen: { host: '::1', port: 0 }, adminToken: '<redacted>', shutdownTimeoutMs: 5000, queryTimeoutMs: 15_000, queryMaxSamples: 500_000 },
      storage: { dataDir: '/var/lib/sentinel', retentionMs: 2 * 86_400_000, maxSeries: 10 },
      rollout: {
        outputDir: join(dir, 'canary'),
        sloWindowMs: 300_000,
        cohortEffectTimeoutMs: 120_000,
        statusPollIntervalMs: 5000,
        soak: { probes: ['delivery'], probeIntervalMs: 10_000, failedProbeStreak: 2 },
        chaosSuite: ['restart'],
        rollbackDrill: { recoveryTimeoutMs: 60_000, userId: 'user_1' },
      },
      querySource: { url: 'https://prometheus.example', timeoutMs: 20_000, bearerToken: '<redacted>' },
      export: {
        compatMetrics: true,
        remoteWrite: [
          {
            name: 'prom.example_443',
            url: 'https://prom.example/api/v1/write',
            timeoutMs: 30_000,
            externalLabels: { replica: 'a', token: 'not-a-secret' },
            bearerToken: '<redacted>',
            queue: { capacity: 100_000, maxSamplesPerSend: 2000, batchSendDeadlineMs: 5000, minBackoffMs: 30, maxBackoffMs: 5000 },
            queueFile: '/var/lib/sentinel/remote-write/prom.example_443.sqlite',
          },
          {
            name: 'mimir',
            url: 'https://mimir.example/api/v1/push',
            timeoutMs: 10_000,
            externalLabels: {},
            basicAuth: { username: 'sentinel', password: '<redacted>' },
            queue: { capacity: 5000, maxSamplesPerSend: 500, batchSendDeadlineMs: 2000, minBackoffMs: 100, maxBackoffMs: 10_000 },
            queueFile: '/var/lib/sentinel/remote-write/mimir.sqlite',
          },
        ],
      },
      log: { level: 'debug' },
      lab: { ports: { spacetimedb: 0 }, token: 'literal-is-fine-here' },
    });
    expect(config.server.adminToken?.reveal()).toBe('adm');
    expect(config.alerting.alertmanagers[0].bearerToken?.reveal()).toBe('a');
    expect(config.drills.manifestHmacKey?.reveal()).toBe('h');
    expect(config.target.control.jwtFallbackSigningKeys.map((k) => k.reveal())).toEqual(['old']);
  });
});
