/**
 * CompatFamilies: the sentinel's own measurements under the metric names the operators' deploy
 * rules and Grafana SLO dashboard query (OpenAgents
 * `apps/runtime/deploy/monitoring/prometheus/spacetime-slo-alert-rules.yaml` and
 * `apps/runtime/deploy/monitoring/grafana/spacetime-slo-dashboard.json` at 9b2b978949). No
 * OpenAgents service emits these names, so without this export those rules never see data.
 *
 * Each family is derived at scrape time from series already in the store (no second copy):
 * counters are sums of the sentinel's counters, gauges carry a measured value. Every series
 * carries a `source` label saying how far it reaches: `sentinel_canary` (the sentinel's own
 * canary sessions, a sample of one client, not the fleet), `fleet_checkpoints` (every client's
 * durable checkpoint in SpacetimeDB) or `runtime_endpoint` (a field of the runtime's sync metrics
 * JSON, fleet-wide, when the runtime publishes it).
 */
import { labelsKey, normalizeLabels } from '../store/index.js';
import type { LabelMatcher, Labels, LatestReader } from '../store/index.js';
import type { FamilySource } from './metrics-exposition.js';
import type { ExposedFamily, ExposedSeries } from './text-format.js';

/** CompatSourceLabels are the values of the `source` label. */
export const CompatSourceLabels = ['sentinel_canary', 'fleet_checkpoints', 'runtime_endpoint'] as const;
/** CompatSourceLabel is one of CompatSourceLabels. */
export type CompatSourceLabel = (typeof CompatSourceLabels)[number];

/** CompatInput is one store selection feeding a compatibility family. */
export interface CompatInput {
  /** select picks the store series (one `latest` lookup each scrape). */
  readonly select: readonly LabelMatcher[];
  /** labels maps a selected series to its output labels, or undefined to leave it out. */
  readonly labels: (source: Labels) => Readonly<Record<string, string>> | undefined;
  /** scale multiplies the value (seconds to the operators' milliseconds). */
  readonly scale?: number;
  /**
   * zeros are output label sets shown at 0 while any selected series is live, so a counter exists
   * before its first event and the event is an increase (not a new series) to rate().
   */
  readonly zeros?: ReadonlyArray<Readonly<Record<string, string>>>;
}

/** CompatFamilyDef is one compatibility family. Counters sum their inputs, gauges keep the max. */
export interface CompatFamilyDef {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly inputs: readonly CompatInput[];
}

/** CANARY_PROBES are the probes whose sessions open WebSockets to SpacetimeDB (the canary sessions). */
const CANARY_PROBES = 'delivery|resume|connections';

const byName = (name: string, ...more: LabelMatcher[]): LabelMatcher[] => [{ name: '__name__', type: '=', value: name }, ...more];

/** runLabels carries the drill marking of a per-run gauge, so planned chaos stays separable. */
function runLabels(source: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  if (source['drill']) out['drill'] = source['drill'];
  if (source['stage']) out['stage'] = source['stage'];
  return out;
}

/** RESUME_STATUS maps the resume canary's outcomes to the operators' catch-up status. */
const RESUME_STATUS: Readonly<Record<string, string>> = {
  ok: 'ok',
  stale_rebootstrap_ok: 'stale_cursor',
  stale_rebootstrap_failed: 'stale_cursor',
  gap: 'error',
  duplicate: 'error',
  reorder: 'error',
  timeout: 'error',
  error: 'error',
};

/**
 * compatFamilyDefs lists the compatibility families. `appVersion` fills `app_version` of the
 * client telemetry family, naming the sentinel as the client.
 */
export function compatFamilyDefs(appVersion: string): CompatFamilyDef[] {
  const canary = { source: 'sentinel_canary' } as const;
  const client = { ...canary, surface: 'sentinel', app_version: appVersion } as const;
  return [
    {
      name: 'openagents_runtime_sync_socket_auth_count',
      type: 'counter',
      help:
        'WebSocket authentications of the sentinel canary sessions (delivery, resume, connections probes) by status: ok for a run that completed, error for a run refused with 401/403. source="sentinel_canary": not the fleet.',
      inputs: [
        {
          select: byName('sentinel_probe_runs_total', { name: 'probe', type: '=~', value: CANARY_PROBES }, { name: 'result', type: '=~', value: 'ok|auth' }),
          labels: (s) => (s['result'] === 'auth' ? { status: 'error', reason_code: 'auth', ...canary } : { status: 'ok', ...canary }),
          zeros: [{ status: 'ok', ...canary }, { status: 'error', reason_code: 'auth', ...canary }],
        },
      ],
    },
    {
      name: 'openagents_runtime_sync_replay_lag_events',
      type: 'gauge',
      help: 'Replay lag in events per stream: the stream head minus the furthest-behind client checkpoint, read from SpacetimeDB. source="fleet_checkpoints": every client with a durable checkpoint.',
      inputs: [{ select: byName('sentinel_replay_lag_max_events'), labels: (s) => ({ stream_id: s['stream_id'] ?? '', ...runLabels(s), source: 'fleet_checkpoints' }) }],
    },
    {
      name: 'openagents_runtime_sync_replay_catchup_duration_ms',
      type: 'gauge',
      help: 'Duration of the last catch-up (resume or stale-cursor re-bootstrap) of the sentinel resume canary, in milliseconds. source="sentinel_canary": one client, not the fleet.',
      inputs: [{ select: byName('sentinel_resume_duration_seconds'), labels: (s) => ({ status: 'ok', ...runLabels(s), ...canary }), scale: 1000 }],
    },
    {
      name: 'openagents_runtime_sync_replay_catchup_duration_ms_count',
      type: 'counter',
      help:
        'Replay catch-ups by status (ok, stale_cursor, error). source="sentinel_canary": runs of the sentinel resume canary; source="runtime_endpoint": the runtime delivery.stale_cursor_events_total field, fleet-wide, only where the runtime publishes it. A count only: no duration histogram.',
      inputs: [
        {
          select: byName('sentinel_resume_total'),
          labels: (s) => {
            const status = RESUME_STATUS[s['outcome'] ?? ''];
            return status ? { status, ...canary } : undefined;
          },
          zeros: [{ status: 'ok', ...canary }, { status: 'stale_cursor', ...canary }, { status: 'error', ...canary }],
        },
        { select: byName('openagents_spacetime_delivery_stale_cursor_events_total'), labels: () => ({ status: 'stale_cursor', source: 'runtime_endpoint' }) },
      ],
    },
    {
      name: 'openagents_sync_client_telemetry_event_count',
      type: 'counter',
      help:
        'Client sync events of the sentinel as a client (surface="sentinel"): reconnects of its long-lived canary WebSockets, and auth failures of its canary sessions (reason_code="socket_auth") and sync token requests (reason_code="token_auth"). source="sentinel_canary": not fleet telemetry.',
      inputs: [
        { select: byName('sentinel_ws_reconnects_total'), labels: () => ({ event_type: 'reconnect', ...client }), zeros: [{ event_type: 'reconnect', ...client }] },
        {
          select: byName('sentinel_probe_runs_total', { name: 'probe', type: '=~', value: CANARY_PROBES }, { name: 'result', type: '=', value: 'auth' }),
          labels: () => ({ event_type: 'auth_failure', reason_code: 'socket_auth', ...client }),
        },
        {
          select: byName('sentinel_probe_runs_total', { name: 'probe', type: '=~', value: CANARY_PROBES }),
          labels: () => undefined,
          zeros: [{ event_type: 'auth_failure', reason_code: 'socket_auth', ...client }],
        },
        {
          select: byName('sentinel_token_issue_failures_total', { name: 'reason', type: '=', value: 'auth' }),
          labels: () => ({ event_type: 'auth_failure', reason_code: 'token_auth', ...client }),
          zeros: [{ event_type: 'auth_failure', reason_code: 'token_auth', ...client }],
        },
      ],
    },
  ];
}

/** CompatFamiliesOptions configure CompatFamilies. */
export interface CompatFamiliesOptions {
  readonly store: LatestReader;
  readonly defs: readonly CompatFamilyDef[];
  /** lookbackDeltaMs is the rules' lookback delta: an input older than that is not live. */
  readonly lookbackDeltaMs: number;
}

/** CompatFamilies is the FamilySource of the compatibility families. */
export class CompatFamilies implements FamilySource {
  readonly name = 'compat';
  private readonly options: CompatFamiliesOptions;
  private readonly names: ReadonlySet<string>;

  constructor(options: CompatFamiliesOptions) {
    if (!(options.lookbackDeltaMs > 0)) throw new RangeError(`CompatFamilies: lookbackDeltaMs must be > 0, got ${options.lookbackDeltaMs}`);
    this.options = options;
    this.names = new Set(options.defs.map((d) => d.name));
  }

  claimed(): ReadonlySet<string> {
    return this.names;
  }

  collect(nowMs: number): ExposedFamily[] {
    const minT = nowMs - this.options.lookbackDeltaMs;
    const out: ExposedFamily[] = [];
    for (const def of this.options.defs) {
      const series = new Map<string, { labels: Readonly<Record<string, string>>; value: number }>();
      const put = (raw: Readonly<Record<string, string>>, value: number): void => {
        const labels = normalizeLabels(raw);
        const key = labelsKey(labels);
        const had = series.get(key);
        if (!had) series.set(key, { labels, value });
        else had.value = def.type === 'counter' ? had.value + value : Math.max(had.value, value);
      };
      for (const input of def.inputs) {
        const live = this.options.store.latest(input.select).filter(({ sample }) => !sample.stale && sample.t >= minT);
        if (live.length === 0) continue;
        for (const zero of input.zeros ?? []) put(zero, 0);
        for (const { labels, sample } of live) {
          const mapped = input.labels(labels);
          if (mapped) put(mapped, sample.v * (input.scale ?? 1));
        }
      }
      const exposed: ExposedSeries[] = [...series.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, s]) => ({ name: def.name, labels: s.labels, value: s.value }));
      out.push({ name: def.name, type: def.type, help: def.help, series: exposed });
    }
    return out;
  }
}
