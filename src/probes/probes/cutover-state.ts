/**
 * cutover_state: the operators' cutover announcement as a probe
 * (`scripts/spacetime/announce-cutover-state.sh` at OpenAgents 9b2b978949): the control
 * status's `data.syncCutover.defaultTransport` (Bearer session token) and the runtime metrics'
 * `transport` (no auth) must both be `spacetime_ws`, and `syncTokenRoute` the one live token
 * route. The script also reads emergency-mode flags that neither service publishes; they are
 * reported only if a body actually carries them, never invented. Either side disagreeing is a
 * contract violation; either side unreachable fails the run with that reason.
 */
import type { ControlClient, JsonObject, JsonValue, RuntimeMetricsClient } from '../../spacetime/index.js';
import { isJsonObject, SYNC_TOKEN_PATH } from '../../spacetime/index.js';
import type { Probe, ProbeContext, ProbeResult } from '../types.js';
import { probeFailure } from './probe-failure.js';

/** EXPECTED_TRANSPORT is the cutover target. */
export const EXPECTED_TRANSPORT = 'spacetime_ws';

/** CutoverStateProbeOptions configure the probe. */
export interface CutoverStateProbeOptions {
  readonly control: ControlClient;
  readonly runtime: RuntimeMetricsClient;
}

/** CutoverStateProbe is the `cutover_state` probe. */
export class CutoverStateProbe implements Probe {
  readonly name = 'cutover_state';

  constructor(private readonly options: CutoverStateProbeOptions) {}

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    try {
      const [status, metrics] = await Promise.all([this.options.control.status({ signal: ctx.signal }), this.options.runtime.fetchMetrics({ signal: ctx.signal })]);
      const controlOk = status.defaultTransport === EXPECTED_TRANSPORT;
      const runtimeOk = metrics.transport === EXPECTED_TRANSPORT;
      const routeOk = status.syncTokenRoute === undefined || status.syncTokenRoute === SYNC_TOKEN_PATH;
      const violations: string[] = [];
      if (!controlOk) violations.push(`control syncCutover.defaultTransport is ${JSON.stringify(status.defaultTransport ?? null)}, expected ${EXPECTED_TRANSPORT}`);
      if (!runtimeOk) violations.push(`runtime transport is ${JSON.stringify(metrics.transport ?? null)}, expected ${EXPECTED_TRANSPORT}`);
      if (!routeOk) violations.push(`control syncCutover.syncTokenRoute is ${JSON.stringify(status.syncTokenRoute)}, expected ${SYNC_TOKEN_PATH}`);
      const ok = violations.length === 0;
      const flags = emergencyFlags(status.data);
      return {
        ok,
        reason: ok ? 'ok' : 'contract_violation',
        durationMs: ctx.clock.nowMs() - start,
        detail: {
          control_default_transport: status.defaultTransport ?? 'absent',
          runtime_transport: metrics.transport ?? 'absent',
          sync_token_route: status.syncTokenRoute ?? 'absent',
          ...(Object.keys(flags).length > 0 ? { control_emergency_flags: flags } : {}),
          violations,
        },
        samples: [
          { name: 'sentinel_cutover_transport_ok', labels: { source: 'control' }, value: controlOk ? 1 : 0 },
          { name: 'sentinel_cutover_transport_ok', labels: { source: 'runtime' }, value: runtimeOk ? 1 : 0 },
          { name: 'sentinel_cutover_ok', value: ok ? 1 : 0 },
        ],
      };
    } catch (err) {
      return probeFailure(err, ctx.clock.nowMs() - start);
    }
  }
}

/** EMERGENCY_FLAG_KEYS are the `syncCutover` keys the announcement script reads (absent in the real body). */
export const EMERGENCY_FLAG_KEYS = ['legacyEmergencyModeEnabled', 'spacetimeEmergencyModeEnabled'] as const;

/** emergencyFlags returns the emergency flags a control status carries, if any. */
export function emergencyFlags(data: JsonObject): Record<string, JsonValue> {
  const cut = data.syncCutover;
  const out: Record<string, JsonValue> = {};
  if (!isJsonObject(cut)) return out;
  for (const k of EMERGENCY_FLAG_KEYS) if (cut[k] !== undefined) out[k] = cut[k];
  return out;
}
