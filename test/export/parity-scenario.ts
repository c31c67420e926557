/**
 * The parity scenario shared by the test and the bench: fast probe schedules for the daemon, the
 * lab knobs that trigger each alert of the shipped rules, and the alerts each step must raise.
 */
import type { Document } from 'yaml';
import { setProbeTimings } from '../helpers/probe-timings.js';
import type { LabAdmin, ParityHarness } from './parity-harness.js';

/** SCRAPE_INTERVAL_MS and EVAL_INTERVAL_MS: the tolerance of a comparison is their sum. */
export const SCRAPE_INTERVAL_MS = 1000;
export const EVAL_INTERVAL_MS = 2000;

/**
 * START_KNOBS: every mirror publish fails (thresholds 1 and 2 need failures with no publish in
 * 5m), but traffic waits until Prometheus scrapes, so both engines see the first failure; the
 * runtime serves the documented fields.
 */
export const START_KNOBS = { publish_failures: 1, runtime_fields: 'documented', traffic: { paused: true, events_per_second: 2 } };

/** startTraffic lets the lab's traffic (and with it the mirror's failures) flow. */
export async function startTraffic(h: ParityHarness): Promise<void> {
  await h.setKnobs({ traffic: { paused: false } });
}

/** A live route declared retired: no lab knob revives a retired route, so the configuration does. */
export const REVIVED_ROUTE = '/api/v1/control/status';

/**
 * fastProbes gives every probe a schedule of a few seconds, so alerts move within a test. No probe
 * runs more often than the rules evaluate: a value a probe holds for less than one evaluation
 * interval may be seen by one engine and not the other.
 */
export function fastProbes(doc: Document): void {
  setProbeTimings(doc, {
    runtime_metrics: { schedule: '*/2 * * * * *', timeout: '1900ms' },
    replay_lag: { schedule: '*/2 * * * * *', timeout: '1900ms' },
    delivery: { schedule: '*/2 * * * * *', timeout: '1900ms', params: { receive_timeout: '1500ms' } },
    resume: { schedule: '*/3 * * * * *', timeout: '2900ms', params: { receive_timeout: '1s' } },
    connections: { schedule: '*/3 * * * * *', timeout: '2900ms', params: { sessions: 1, settle_timeout: '2s' } },
    token: { schedule: '*/2 * * * * *', timeout: '1900ms' },
    cutover_state: { schedule: '*/5 * * * * *', timeout: '4s' },
    retired_routes: { schedule: '*/3 * * * * *', timeout: '2900ms', params: { extra_routes: [REVIVED_ROUTE] } },
  });
}

/** LATENCY_TOXIC slows every SpacetimeDB answer past the 600 ms delivery budget. */
export const LATENCY_TOXIC = { name: 'parity-latency', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 700, jitter: 0 } } as const;

/** Step is one lab change and the alert names it must raise in both engines. */
export interface Step {
  readonly name: string;
  apply(h: ParityHarness): Promise<void>;
}

/**
 * replayBurst stops one simulated client and appends 10,500 events to a stream it follows
 * (threshold 3 is 10,000). It runs before the daemon starts (`prepareLab`): the burst stalls the
 * process the lab shares with the daemon.
 */
export async function replayBurst(lab: LabAdmin): Promise<void> {
  const state = await lab.labState();
  const client = state.clients[0]?.client_id;
  // With every publish failing the mirror has created no stream yet: burst into one the clients follow.
  const stream = state.streams.find((s) => !s.stream_id.startsWith('sentinel.canary.'))?.stream_id ?? state.clients[0]?.streams[0]?.stream_id;
  if (!client || !stream) throw new Error('the lab has no simulated client or traffic stream');
  await lab.setKnobs({ slow_clients: [client], append_burst: { stream, count: 10_500 } });
}

/** faultsOn starts every fault that leaves the WebSocket handshake working: token failures, stopped streaming, stale-cursor incidents, a replay gap. */
export async function faultsOn(h: ParityHarness): Promise<void> {
  await h.setKnobs({ token_failure_ratio: 1, streaming_stopped: true, stale_cursor_events_per_minute: 600, next_resume: 'gap' });
}

/** handshakeLeak ends the token and streaming faults and leaks connection rows. */
export async function handshakeLeak(h: ParityHarness): Promise<void> {
  await h.setKnobs({ token_failure_ratio: 0, streaming_stopped: false, leak_connection_rows: true });
}

/** slowAnswers ends the leak and delays every SpacetimeDB answer (the handshake probe then times out, so not together). */
export async function slowAnswers(h: ParityHarness): Promise<void> {
  await h.setKnobs({ leak_connection_rows: false });
  await h.addToxic('spacetimedb', LATENCY_TOXIC);
}

/** recover removes every fault. */
export async function recover(h: ParityHarness): Promise<void> {
  await h.setKnobs({ leak_connection_rows: false, slow_clients: [], stale_cursor_events_per_minute: 0, publish_failures: 0 });
  await h.removeToxic('spacetimedb', LATENCY_TOXIC.name).catch(() => undefined);
}

/** PARITY_ALERTS are the shipped alerts the scenario raises (pending at least) in both engines. */
export const PARITY_ALERTS = [
  'SpacetimeMirrorFailuresWithoutRecovery',
  'SpacetimeOutboxDepthRising',
  'SpacetimeReplayLagHigh',
  'SpacetimeStaleCursorSpike',
  'SpacetimeTokenIssueFailuresHigh',
  'SpacetimeReplayLagP95SLO',
  'SpacetimeStaleCursorIncidentsSLO',
  'SentinelProbeFailing',
  'SentinelResumeOutcomeNotOk',
  'SentinelOrderingDivergence',
  'SentinelDeliveryLatencyP95High',
  'SentinelConnectedNotStreaming',
  'SentinelHandshakeLeak',
  'SentinelRetiredRouteAlive',
] as const;

/** OPERATOR_ALERTS are the operators' deploy alerts the compatibility export brings to life in the lab. */
export const OPERATOR_ALERTS = ['OpenAgentsSpacetimeReplayLagP95High', 'OpenAgentsSpacetimeStaleCursorRateHigh'] as const;

/**
 * isGaugeWindow names the alerts over a window of a gauge (`quantile_over_time` of the replay lag):
 * Prometheus samples the gauge at every scrape, the sentinel at every probe run, so the quantile
 * itself differs and its crossings (mostly its resolution, as the window drains) can be seconds
 * apart. Counters and histograms are exported with their sample times, so their windows agree.
 */
export function isGaugeWindow(identity: string): boolean {
  return identity.startsWith('SpacetimeReplayLagP95SLO{');
}
