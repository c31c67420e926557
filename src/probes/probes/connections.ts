/**
 * connections: the operators' handshake smoke test, automated (OpenAgents `scripts/spacetime/maincloud-handshake-smoke.sh` and `docs/sync/SPACETIME_MAINCLOUD_HANDSHAKE_SMOKE_TEST.md` at 9b2b978949).
 * Count `active_connection`, open N anonymous sessions (distinct identities: rows are keyed by
 * identity), check that each session's row exists and the count rose by at least N, close them,
 * and wait (bounded) until their rows are gone. Rows are matched by identity, so other clients
 * coming and going do not blur the verdict; the counts (baseline, while open, after) are
 * reported beside it.
 *
 * The wait after close is bounded by `settleTimeoutMs` (default 35 s) because the server removes
 * a row asynchronously, and a session whose close it has not noticed lingers until its 30 s idle
 * drop. A row still there after the wait is a zombie: the connection leaked.
 */
import type { SpacetimeWsClient } from '../../spacetime/index.js';
import { fromSqlRow } from '../../spacetime/index.js';
import type { Probe, ProbeContext, ProbeResult, ReasonClass } from '../types.js';
import { ConnectionChurnLock } from './churn-lock.js';
import { probeFailure } from './probe-failure.js';
import type { SpacetimeTarget } from './spacetime-target.js';
import { sqlString } from './sql-literal.js';

/** ConnectionsProbeOptions configure the probe. */
export interface ConnectionsProbeOptions {
  readonly target: SpacetimeTarget;
  /** sessions is how many handshake sessions to open (default 2). */
  readonly sessions?: number;
  /** settleTimeoutMs bounds the wait for rows to vanish after close (default 35 s). */
  readonly settleTimeoutMs?: number;
  /** pollIntervalMs is the SQL polling period while settling (default 250 ms). */
  readonly pollIntervalMs?: number;
  /** churnLock keeps the sentinel's other connects/disconnects out of the count. */
  readonly churnLock?: ConnectionChurnLock;
}

const SQL_COUNT = 'SELECT COUNT(*) AS n FROM active_connection';

/** ConnectionsProbe is the `connections` probe. */
export class ConnectionsProbe implements Probe {
  readonly name = 'connections';
  private readonly sessions: number;
  private readonly settleTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly lock: ConnectionChurnLock;

  constructor(private readonly options: ConnectionsProbeOptions) {
    this.sessions = options.sessions ?? 2;
    if (!Number.isInteger(this.sessions) || this.sessions < 1) throw new TypeError(`connections: sessions must be a positive integer, got ${this.sessions}`);
    this.settleTimeoutMs = options.settleTimeoutMs ?? 35_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.lock = options.churnLock ?? new ConnectionChurnLock();
  }

  run(ctx: ProbeContext): Promise<ProbeResult> {
    return this.lock.withLock(() => this.handshake(ctx));
  }

  private async handshake(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    const { http } = this.options.target;
    const opened: SpacetimeWsClient[] = [];
    let baseline: number;
    try {
      baseline = await http.sqlCount(SQL_COUNT, { signal: ctx.signal });
    } catch (err) {
      return probeFailure(err, ctx.clock.nowMs() - start, { detail: { phase: 'baseline' } });
    }
    const identities: string[] = [];
    let during: number;
    let presentDuring: Set<string>;
    try {
      const clients = Array.from({ length: this.sessions }, () => this.options.target.connect());
      opened.push(...clients);
      // IdentityToken arrives after client_connected committed: the row exists once this resolves.
      const hellos = await Promise.all(clients.map((c) => c.connect({ signal: ctx.signal })));
      identities.push(...hellos.map((h) => h.identity));
      during = await http.sqlCount(SQL_COUNT, { signal: ctx.signal });
      presentDuring = await this.present(identities, ctx);
    } catch (err) {
      await Promise.all(opened.map((c) => c.close(1000, '', { timeoutMs: 1000 })));
      return probeFailure(err, ctx.clock.nowMs() - start, { detail: { phase: 'open', baseline } });
    }
    const closedAtMs = ctx.clock.nowMs();
    await Promise.all(opened.map((c) => c.close(1000, 'sentinel handshake done', { timeoutMs: 2000 })));

    // Bounded wait: the settle timeout, but never past the run's own deadline.
    const deadline = Math.min(closedAtMs + this.settleTimeoutMs, ctx.deadlineMs - this.pollIntervalMs);
    let remaining = new Set(identities);
    let settleError: unknown;
    for (;;) {
      try {
        remaining = await this.present([...remaining], ctx);
      } catch (err) {
        settleError = err;
        break;
      }
      if (remaining.size === 0 || ctx.clock.nowMs() + this.pollIntervalMs > deadline) break;
      try {
        await ctx.clock.sleep(this.pollIntervalMs, ctx.signal);
      } catch {
        break;
      }
    }
    const settleMs = ctx.clock.nowMs() - closedAtMs;
    let after: number | undefined;
    try {
      after = await http.sqlCount(SQL_COUNT, { signal: ctx.signal });
    } catch {
      after = undefined;
    }
    const missing = identities.filter((id) => !presentDuring.has(id));
    const countRose = during >= baseline + this.sessions;
    const zombies = settleError === undefined ? remaining.size : 0;
    // The verdict rests on our own identities' rows: the count also moves with other clients
    // (one that closed just before the baseline may still be counted), so it is reported only.
    const ok = missing.length === 0 && zombies === 0 && settleError === undefined;
    let reason: ReasonClass = 'ok';
    if (settleError !== undefined) return probeFailure(settleError, ctx.clock.nowMs() - start, { detail: { phase: 'settle', baseline, during } });
    if (missing.length > 0) reason = 'contract_violation';
    else if (zombies > 0) reason = 'leak';
    return {
      ok,
      reason,
      durationMs: ctx.clock.nowMs() - start,
      detail: {
        sessions: this.sessions,
        baseline,
        during,
        count_rose_by_sessions: countRose,
        after: after ?? 'unknown',
        returned_to_baseline: after === baseline,
        rows_missing_while_open: missing.length,
        zombie_rows: zombies,
        settle_ms: settleMs,
        explanation:
          zombies > 0
            ? `${zombies} of the ${this.sessions} closed sessions still have an active_connection row after waiting ${settleMs} ms (bound ${this.settleTimeoutMs} ms, which covers the server's 30 s idle drop): the rows leaked`
            : undefined,
      },
      samples: [
        { name: 'sentinel_active_connections', value: baseline },
        { name: 'sentinel_handshake_success', value: ok ? 1 : 0 },
        { name: 'sentinel_connection_zombie_rows', value: zombies },
        { name: 'sentinel_handshake_settle_seconds', value: settleMs / 1000 },
      ],
    };
  }

  /** present returns which of `identities` have an active_connection row now. */
  private async present(identities: readonly string[], ctx: ProbeContext): Promise<Set<string>> {
    if (identities.length === 0) return new Set();
    const where = identities.map((id) => `identity_hex = ${sqlString(id)}`).join(' OR ');
    const r = await this.options.target.http.sql(`SELECT * FROM active_connection WHERE ${where}`, { signal: ctx.signal });
    return new Set(r.rows.map((row) => fromSqlRow('active_connection', row).identity));
  }
}
