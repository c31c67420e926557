/**
 * caller-policy: who may subscribe and call reducers. The deployed `autopilot-sync` module checks
 * nothing about the caller: all tables are public and `append_sync_event` /
 * `ack_stream_checkpoint` accept any sender (OpenAgents
 * `spacetime/modules/autopilot-sync/spacetimedb/src/lib.rs:10-63`, `:206-315` at 9b2b978949), so
 * by default every caller is allowed. The lab's `enforce_caller_auth` mode applies what the
 * operators' token contract intends instead (`docs/sync/SPACETIME_TOKEN_SCOPE_AND_ROTATION.md`):
 * subscriptions and reducer calls need a control-issued sync token that is valid now (`nbf`,
 * `exp`, checked at every request, so a session outlives its token only until its next request).
 * Stream grants are not enforced: the deployed token grants topics, not the streams written.
 */
import type { AuthFailureReason, Caller } from './identities.js';

/** CallerAction is what a caller asks to do. */
export type CallerAction = { readonly kind: 'subscribe' } | { readonly kind: 'call'; readonly reducer: string };

/** CallerRefusal is why a caller was refused: the text it gets and the auth counter it bumps. */
export interface CallerRefusal {
  readonly message: string;
  readonly reason: Extract<AuthFailureReason, 'unauthorized' | 'token_expired'>;
}

/** CallerPolicyOptions: the mode switch and the clock. */
export interface CallerPolicyOptions {
  /** isEnforcing is the `enforce_caller_auth` knob, read at every request. */
  readonly isEnforcing: () => boolean;
  readonly nowMs: () => number;
}

function describe(action: CallerAction): string {
  return action.kind === 'subscribe' ? 'subscribe' : `call reducer ${action.reducer}`;
}

/** CallerPolicy decides whether a caller may perform an action. */
export class CallerPolicy {
  constructor(private readonly opts: CallerPolicyOptions) {}

  /** refusal returns why `caller` may not perform `action`, or undefined when it may. */
  refusal(caller: Caller, action: CallerAction): CallerRefusal | undefined {
    if (!this.opts.isEnforcing()) return undefined;
    const grant = caller.syncGrant;
    if (!grant) return { message: `unauthorized: a sync token issued by the control service is required to ${describe(action)}`, reason: 'unauthorized' };
    const nowSec = Math.floor(this.opts.nowMs() / 1000);
    if (grant.expSec !== undefined && grant.expSec <= nowSec) {
      return { message: `unauthorized: the sync token expired at ${new Date(grant.expSec * 1000).toISOString()}; mint a new one to ${describe(action)}`, reason: 'token_expired' };
    }
    if (grant.nbfSec !== undefined && grant.nbfSec > nowSec) return { message: `unauthorized: the sync token is not valid before ${new Date(grant.nbfSec * 1000).toISOString()}`, reason: 'unauthorized' };
    return undefined;
  }
}
