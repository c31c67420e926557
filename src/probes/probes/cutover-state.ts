/**
 * cutover_state: the control service's `syncCutover.defaultTransport` and the runtime's
 * `transport` must both be `spacetime_ws` (and the token route the one live route). Either side
 * disagreeing is a contract violation; either side unreachable fails the run with that reason.
 */
import type { ControlClient, RuntimeMetricsClient } from '../../spacetime/index.js';
import { SYNC_TOKEN_PATH } from '../../spacetime/index.js';
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
      return {
        ok,
        reason: ok ? 'ok' : 'contract_violation',
        durationMs: ctx.clock.nowMs() - start,
        detail: { control_default_transport: status.defaultTransport ?? 'absent', runtime_transport: metrics.transport ?? 'absent', sync_token_route: status.syncTokenRoute ?? 'absent', violations },
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
