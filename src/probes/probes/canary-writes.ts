/**
 * canary-writes: what the sentinel may write into the watched database, and how much.
 *
 * The deployed module lets any caller append to any stream and write any checkpoint, and deletes
 * neither (OpenAgents `spacetime/modules/autopilot-sync/spacetimedb/src/lib.rs:206-315` at
 * 9b2b978949), so whatever the canaries write stays forever. The canaries therefore write only:
 *
 * - to streams under one namespace (`sentinel.canary.` by default), outside the runtime's own
 *   `runtime.` streams (its topic mapping can never produce one), so no product client reads them;
 * - a fixed set of stream ids and checkpoint client ids, reused across runs and restarts, so
 *   `stream_head` and `stream_checkpoint` hold a constant number of canary rows;
 * - at most `dailyEventBudget` events per UTC day, all canaries together: `sync_event` grows by
 *   that much a day at most. The day's count is read back from the database once per day (and
 *   after a restart), so restarts do not reset it.
 *
 * In read-only mode nothing is written: the probes that need writes report themselves disabled
 * (result `disabled`, `sentinel_probe_disabled{probe,reason}` = 1), which is not a failure and
 * raises no alert.
 */
import type { SpacetimeHttpClient } from '../../spacetime/index.js';
import type { ProbeContext, ProbeResult, ProbeSample } from '../types.js';
import { probeFailure } from './probe-failure.js';
import { sqlString } from './sql-literal.js';

/** CANARY_NAMESPACE prefixes every stream id and checkpoint client id the sentinel writes. */
export const CANARY_NAMESPACE = 'sentinel.canary.';

/** DEFAULT_DAILY_EVENT_BUDGET bounds the canary events appended per UTC day (all canaries). */
export const DEFAULT_DAILY_EVENT_BUDGET = 10_000;

/** DisabledReason says why a writing probe did not run: read-only mode or the spent day budget. */
export type DisabledReason = 'read_only' | 'canary_budget';

/** CanaryWritesOptions configure the canaries' writes (config `probes.read_only`, `probes.canary`). */
export interface CanaryWritesOptions {
  readonly readOnly?: boolean;
  readonly namespace?: string;
  readonly dailyEventBudget?: number;
  /** streams are the canary streams whose events count against the budget. */
  readonly streams?: readonly string[];
}

/** Permit is the answer to a request to append events. */
export type Permit = { readonly allowed: true } | { readonly allowed: false; readonly reason: DisabledReason };

const DAY_MS = 86_400_000;

/** CanaryWrites is shared by every writing probe of one daemon. */
export class CanaryWrites {
  readonly readOnly: boolean;
  readonly namespace: string;
  readonly dailyEventBudget: number;
  private readonly streams = new Set<string>();
  private day = Number.NaN;
  private spent = 0;
  private counting: Promise<void> | undefined;

  constructor(options: CanaryWritesOptions = {}) {
    this.readOnly = options.readOnly ?? false;
    this.namespace = options.namespace ?? CANARY_NAMESPACE;
    this.dailyEventBudget = options.dailyEventBudget ?? DEFAULT_DAILY_EVENT_BUDGET;
    if (!Number.isInteger(this.dailyEventBudget) || this.dailyEventBudget < 0) throw new TypeError(`canary: dailyEventBudget must be a non-negative integer, got ${this.dailyEventBudget}`);
    for (const s of options.streams ?? []) this.register(s);
  }

  /** register adds a canary stream, which must lie in the namespace. */
  register(streamId: string): void {
    if (!streamId.startsWith(this.namespace)) throw new TypeError(`canary stream ${streamId} is outside the canary namespace ${this.namespace}; canaries write only under it`);
    this.streams.add(streamId);
  }

  /** spentToday is how many canary events this UTC day has seen (as far as this process knows). */
  get spentToday(): number {
    return this.spent;
  }

  /**
   * reserve asks to append `events` events now: refused in read-only mode, or when the UTC day's
   * budget cannot take them. The day's count is read from `sync_event` the first time each day.
   */
  async reserve(events: number, http: SpacetimeHttpClient, ctx: ProbeContext): Promise<Permit> {
    if (this.readOnly) return { allowed: false, reason: 'read_only' };
    const day = Math.floor(ctx.clock.nowMs() / DAY_MS);
    if (day !== this.day) {
      this.counting ??= this.countDay(day, http, ctx).finally(() => (this.counting = undefined));
      await this.counting;
    }
    if (this.spent + events > this.dailyEventBudget) return { allowed: false, reason: 'canary_budget' };
    this.spent += events;
    return { allowed: true };
  }

  private async countDay(day: number, http: SpacetimeHttpClient, ctx: ProbeContext): Promise<void> {
    let n = 0;
    for (const s of this.streams) {
      n += await http.sqlCount(`SELECT COUNT(*) AS n FROM sync_event WHERE stream_id = ${sqlString(s)} AND committed_at_unix_ms >= ${day * DAY_MS}`, { signal: ctx.signal });
    }
    this.day = day;
    this.spent = n;
  }

  /** samples are the budget gauges a writing probe reports on every run. */
  samples(probe: string, disabled: DisabledReason | undefined): ProbeSample[] {
    return [
      { name: 'sentinel_probe_disabled', labels: { probe, reason: 'read_only' }, value: disabled === 'read_only' ? 1 : 0 },
      { name: 'sentinel_probe_disabled', labels: { probe, reason: 'canary_budget' }, value: disabled === 'canary_budget' ? 1 : 0 },
      { name: 'sentinel_canary_events_today', labels: { probe }, value: this.spent },
      { name: 'sentinel_canary_event_budget', labels: { probe }, value: this.dailyEventBudget },
    ];
  }

  /**
   * guard runs `body` (a run that appends `events` canary events) only when the writes are
   * permitted; otherwise the run reports itself disabled. Either way the result carries the
   * budget gauges.
   */
  async guard(probe: string, events: number, http: SpacetimeHttpClient, ctx: ProbeContext, body: () => Promise<ProbeResult>): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    let permit: Permit;
    try {
      permit = await this.reserve(events, http, ctx);
    } catch (err) {
      const failed = probeFailure(err, ctx.clock.nowMs() - start, { detail: { phase: 'canary_budget' } });
      return { ...failed, samples: [...failed.samples, ...this.samples(probe, undefined)] };
    }
    if (!permit.allowed) return this.disabled(probe, permit.reason, ctx.clock.nowMs() - start);
    const result = await body();
    return { ...result, samples: [...result.samples, ...this.samples(probe, undefined)] };
  }

  /** disabled is the result of a writing probe that did not run (not a failure). */
  disabled(probe: string, reason: DisabledReason, durationMs: number, detail: Record<string, unknown> = {}): ProbeResult {
    const why = reason === 'read_only'
      ? 'read-only mode (probes.read_only): this probe appends canary events, so it does not run'
      : `the canary event budget of ${this.dailyEventBudget} events for this UTC day is spent (${this.spent} appended); the probe resumes tomorrow`;
    return { ok: true, reason: 'disabled', durationMs, detail: { ...detail, disabled: reason, why }, samples: this.samples(probe, reason) };
  }
}
