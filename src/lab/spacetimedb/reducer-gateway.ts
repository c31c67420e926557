/**
 * reducer-gateway: runs a client's reducer call (over WebSocket or HTTP `/call`) on the module,
 * after the caller policy, turning undecodable JSON arguments into SpacetimeDB's
 * invalid-arguments failure. The caller publishes the committed delta.
 */
import type { CallerPolicy } from './caller-policy.js';
import type { AuthFailureReason, Caller } from './identities.js';
import type { ModuleDb, ReducerOutcome } from './module-db.js';
import { NO_SUCH_REDUCER_ID, isLifecycleReducer, reducerId } from './module-db.js';

/** ReducerGateway is the one path from a client to the module's reducers. */
export class ReducerGateway {
  constructor(
    private readonly db: ModuleDb,
    private readonly policy: CallerPolicy,
    private readonly onAuthFailure: (reason: AuthFailureReason) => void,
  ) {}

  /** call runs `reducer` with the JSON text `argsText` as `caller`. */
  call(reducer: string, argsText: string, caller: Caller): ReducerOutcome {
    let args: unknown;
    try {
      args = JSON.parse(argsText);
    } catch (err) {
      const id = reducerId(reducer);
      return id === undefined
        ? { ok: false, kind: 'no_such_reducer', message: 'no such reducer', reducerId: NO_SUCH_REDUCER_ID }
        : { ok: false, kind: 'invalid_arguments', message: `invalid arguments for reducer ${reducer}: ${(err as Error).message}`, reducerId: id };
    }
    const id = reducerId(reducer);
    if (id !== undefined && !isLifecycleReducer(reducer)) {
      // A refusal is what a module-side check would return: the reducer's Err.
      const denied = this.policy.refusal(caller, { kind: 'call', reducer });
      if (denied) {
        this.onAuthFailure(denied.reason);
        return { ok: false, kind: 'reducer_error', message: denied.message, reducerId: id };
      }
    }
    return this.db.callReducer(reducer, args, caller.identityHex);
  }
}
