/**
 * token: mint sync tokens at `POST /api/sync/token` and check each grant against the issuer's
 * own contract (token-contract.ts), the JWT verified with jose against the current and fallback
 * signing keys. The token itself never leaves this file.
 *
 * Threshold 6 (token issue failures above 2% of attempts) needs two things the control service
 * does not publish, so the probe measures them on its own mints:
 * 1. A failure is what the control's `sync.token.issue.failed` counter means: an issuer error,
 *    which the service answers with a 5xx (`sync_token_unavailable` 503,
 *    `apps/openagents.com/service/src/sync_handlers.rs:49-57`, `lib.rs:14669-14686` at
 *    9b2b978949), plus a mint that timed out. A policy denial (403), a refused session (401, the
 *    router's gate, which counts nothing) or a malformed request (4xx) is not one.
 * 2. Enough attempts per window: one mint per run cannot resolve 2% (a single failure in a
 *    5-minute window of 5-10 mints reads 10-20%), so each run makes `mintsPerRun` sequential
 *    mints; the rule also requires a minimum number of attempts in its window.
 * `sentinel_token_issue_attempts_total` counts every mint that got an answer or timed out;
 * `sentinel_token_issue_failures_total{reason="http_status"|"timeout"}` the issuer failures;
 * `sentinel_token_mints_total{outcome}` every mint by outcome, for diagnosis.
 */
import { isSentinelError } from '../../errors.js';
import { credentialOf } from '../../spacetime/index.js';
import type { ControlClient, Credential, CredentialInput, SyncTokenRequest } from '../../spacetime/index.js';
import { reasonFromError } from '../reason-class.js';
import type { Probe, ProbeContext, ProbeCounter, ProbeInstruments, ProbeResult, ProbeSample, ReasonClass } from '../types.js';
import { errorDetail, probeFailure } from './probe-failure.js';
import { checkGrant, DEFAULT_CLOCK_SKEW_SECONDS, verifySignature } from './token-contract.js';

/**
 * DEFAULT_MINTS_PER_RUN resolves 2% within 5 minutes from a one-minute schedule on (60 attempts
 * per window, above the rule's 50 with room for a skipped run; 120 at a 30 s schedule).
 */
export const DEFAULT_MINTS_PER_RUN = 12;

/** MintOutcomes classify one mint. */
export const MintOutcomes = ['issued', 'issuer_error', 'timeout', 'unauthorized', 'forbidden', 'rejected', 'unreachable', 'bad_response'] as const;
/** MintOutcome is one of MintOutcomes. */
export type MintOutcome = (typeof MintOutcomes)[number];

/** TokenProbeOptions configure the probe. */
export interface TokenProbeOptions {
  readonly control: ControlClient;
  readonly instruments: ProbeInstruments;
  /** jwtSigningKey, when known, lets the probe verify the HS256 signature (read at every run). */
  readonly jwtSigningKey?: CredentialInput;
  /** jwtFallbackSigningKeys are tried after the current key fails (key rotation). */
  readonly jwtFallbackSigningKeys?: readonly CredentialInput[];
  /** clockSkewSeconds tolerates clock differences in the time claims (default 30). */
  readonly clockSkewSeconds?: number;
  /** mintsPerRun is the burst of sequential mints per run (default 12). */
  readonly mintsPerRun?: number;
  /** scopes and ttlSeconds, when set, are requested (and then expected back). */
  readonly scopes?: readonly string[];
  readonly ttlSeconds?: number;
  /** issuer and audience, when set, are what the control service is configured with. */
  readonly issuer?: string;
  readonly audience?: string;
}

/** classifyMintError tells the outcome of a mint that did not return a grant. */
export function classifyMintError(err: unknown): MintOutcome | 'aborted' {
  if (!isSentinelError(err)) return 'bad_response';
  switch (err.code) {
    case 'SENTINEL_ABORTED':
      return 'aborted';
    case 'SENTINEL_TIMEOUT':
      return 'timeout';
    case 'SENTINEL_UNREACHABLE':
      return 'unreachable';
    case 'SENTINEL_HTTP_STATUS': {
      const status = (err as { status?: number }).status ?? 0;
      if (status >= 500) return 'issuer_error';
      if (status === 401) return 'unauthorized';
      if (status === 403) return 'forbidden';
      return 'rejected';
    }
    default:
      return 'bad_response';
  }
}

/** TokenProbe is the `token` probe. */
export class TokenProbe implements Probe {
  readonly name = 'token';
  private readonly attempts: ProbeCounter;
  private readonly failures: ProbeCounter;
  private readonly mints: ProbeCounter;
  private readonly keys: readonly Credential[];
  private readonly clockSkewSeconds: number;
  private readonly mintsPerRun: number;
  private readonly request: SyncTokenRequest;

  constructor(private readonly options: TokenProbeOptions) {
    this.attempts = options.instruments.counter('sentinel_token_issue_attempts_total', 'Sync token mints the token probe made that got an answer or timed out.');
    this.failures = options.instruments.counter('sentinel_token_issue_failures_total', 'Sync token mints that failed in the issuer (HTTP 5xx) or timed out, by reason.', ['reason']);
    this.mints = options.instruments.counter('sentinel_token_mints_total', 'Sync token mints by outcome.', ['outcome']);
    // Ratios over increase() need every series to exist from the start.
    this.attempts.inc({}, 0);
    for (const reason of ['http_status', 'timeout']) this.failures.inc({ reason }, 0);
    for (const outcome of MintOutcomes) this.mints.inc({ outcome }, 0);
    this.keys = [options.jwtSigningKey, ...(options.jwtFallbackSigningKeys ?? [])].filter((k): k is CredentialInput => k !== undefined && (typeof k !== 'string' || k.trim() !== '')).map(credentialOf);
    this.clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    this.mintsPerRun = Math.max(1, Math.floor(options.mintsPerRun ?? DEFAULT_MINTS_PER_RUN));
    this.request = {
      ...(options.scopes !== undefined && options.scopes.length > 0 ? { scopes: options.scopes } : {}),
      ...(options.ttlSeconds !== undefined ? { ttl_seconds: options.ttlSeconds } : {}),
    };
  }

  async run(ctx: ProbeContext): Promise<ProbeResult> {
    const start = ctx.clock.nowMs();
    // The keys are read at every run, so a rotated key file is in effect now; one that cannot be read is a config failure.
    let keys: string[];
    try {
      keys = this.keys.map((k) => k.reveal());
    } catch (err) {
      return probeFailure(err, ctx.clock.nowMs() - start);
    }
    const counts: Partial<Record<MintOutcome, number>> = {};
    const violations = new Set<string>();
    let lastError: unknown;
    let lastReason: ReasonClass = 'error';
    let issueSeconds = 0;
    let checked = 0;
    let clockOffsetSeconds: number | undefined;
    let keyIndex: number | undefined;
    for (let i = 0; i < this.mintsPerRun && !ctx.signal.aborted; i += 1) {
      const t0 = ctx.clock.nowMs();
      let grant;
      try {
        grant = await this.options.control.mintSyncToken({ request: this.request, signal: ctx.signal });
      } catch (err) {
        // The session token could not be read: no mint was attempted, and the control is not to blame.
        if (isSentinelError(err) && err.code === 'SENTINEL_CONFIG_INVALID') return probeFailure(err, ctx.clock.nowMs() - start, { detail: { mints: counts } });
        const outcome = classifyMintError(err);
        // A mint cut short by the run's own deadline is no attempt: the control never answered it.
        if (outcome === 'aborted') break;
        this.count(counts, outcome);
        lastError = err;
        lastReason = outcome === 'bad_response' ? 'bad_response' : reasonFromError(err);
        if (outcome === 'issuer_error') this.failures.inc({ reason: 'http_status' });
        if (outcome === 'timeout') this.failures.inc({ reason: 'timeout' });
        if (outcome === 'bad_response') violations.add(errorDetail(err).message);
        continue;
      }
      const receivedMs = ctx.clock.nowMs();
      issueSeconds = Math.max(issueSeconds, (receivedMs - t0) / 1000);
      this.count(counts, 'issued');
      const expect = { scopes: this.options.scopes, ttlSeconds: this.options.ttlSeconds, issuer: this.options.issuer, audience: this.options.audience, clockSkewSeconds: this.clockSkewSeconds };
      const result = checkGrant(grant.data, grant.token, expect);
      const signature = await verifySignature(grant.token, keys, result.issuedAtMs, this.clockSkewSeconds);
      for (const v of result.violations) violations.add(v);
      if (signature.checked && !signature.ok) violations.add(signature.violation);
      if (signature.checked && signature.ok) keyIndex = signature.keyIndex;
      if (result.issuedAtMs !== undefined) clockOffsetSeconds = (receivedMs - result.issuedAtMs) / 1000;
      checked += 1;
    }
    const issued = counts.issued ?? 0;
    const list = [...violations];
    let ok: boolean;
    let reason: ReasonClass;
    if (list.length > 0) {
      ok = false;
      reason = issued > 0 ? 'contract_violation' : 'bad_response';
    } else if (issued === 0) {
      ok = false;
      reason = lastError === undefined ? 'timeout' : lastReason;
    } else {
      ok = true;
      reason = 'ok';
    }
    const samples: ProbeSample[] = [];
    if (checked > 0) {
      samples.push({ name: 'sentinel_token_contract_ok', value: list.length === 0 ? 1 : 0 });
      samples.push({ name: 'sentinel_token_issue_duration_seconds', value: issueSeconds });
    }
    if (clockOffsetSeconds !== undefined) samples.push({ name: 'sentinel_token_clock_offset_seconds', value: clockOffsetSeconds });
    if (keyIndex !== undefined) samples.push({ name: 'sentinel_token_fallback_key_used', value: keyIndex > 0 ? 1 : 0 });
    return {
      ok,
      reason,
      durationMs: ctx.clock.nowMs() - start,
      detail: {
        mints: counts,
        issuer_failures: (counts.issuer_error ?? 0) + (counts.timeout ?? 0),
        signature_checked: keys.length > 0,
        ...(keyIndex !== undefined ? { verified_with: keyIndex === 0 ? 'current key' : `fallback key ${keyIndex}` } : {}),
        ...(clockOffsetSeconds !== undefined
          ? { clock_offset_seconds: clockOffsetSeconds, clock_offset_within_skew: Math.abs(clockOffsetSeconds) <= this.clockSkewSeconds }
          : {}),
        violations: list,
        ...(lastError !== undefined ? { last_error: errorDetail(lastError) } : {}),
      },
      samples,
    };
  }

  private count(counts: Partial<Record<MintOutcome, number>>, outcome: MintOutcome): void {
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    this.attempts.inc();
    this.mints.inc({ outcome });
  }
}
