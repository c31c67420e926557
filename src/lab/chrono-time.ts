/**
 * chrono-time: timestamps printed the way chrono 0.4 prints `DateTime<Utc>` in the OpenAgents
 * services. Both forms use chrono's `SecondsFormat::AutoSi`: no fraction when the nanoseconds
 * are 0, else 3, 6 or 9 digits, the fewest that are exact.
 * - `to_rfc3339()` ends in `+00:00` (the control service's token times,
 *   `apps/openagents.com/service/src/sync_token.rs:400-402` at 9b2b978949);
 * - serde's serialization ends in `Z` (the runtime's `generated_at`, `apps/runtime/src/server.rs:916`).
 */

/** ChronoInstant is a UTC instant with nanosecond precision. */
export interface ChronoInstant {
  /** seconds since the epoch (integer; chrono's `timestamp()`). */
  readonly seconds: number;
  /** nanos within the second, 0..999_999_999. */
  readonly nanos: number;
}

/**
 * instantAt builds an instant from epoch milliseconds plus the sub-millisecond nanoseconds
 * (0..999_999) a real clock would have: the lab's clock counts milliseconds, chrono's nanoseconds.
 */
export function instantAt(epochMs: number, subMillisecondNanos = 0): ChronoInstant {
  const ms = Math.floor(epochMs);
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000 + (Math.floor(subMillisecondNanos) % 1_000_000);
  return { seconds, nanos };
}

/** addSeconds is chrono's `instant + Duration::seconds(n)`: the nanoseconds are kept. */
export function addSeconds(t: ChronoInstant, n: number): ChronoInstant {
  return { seconds: t.seconds + n, nanos: t.nanos };
}

function fraction(nanos: number): string {
  if (nanos === 0) return '';
  if (nanos % 1_000_000 === 0) return `.${String(nanos / 1_000_000).padStart(3, '0')}`;
  if (nanos % 1_000 === 0) return `.${String(nanos / 1_000).padStart(6, '0')}`;
  return `.${String(nanos).padStart(9, '0')}`;
}

function dateTime(t: ChronoInstant): string {
  return new Date(t.seconds * 1000).toISOString().slice(0, 19);
}

/** toRfc3339 is chrono's `DateTime<Utc>::to_rfc3339()`: `2026-02-25T20:48:29.123456789+00:00`. */
export function toRfc3339(t: ChronoInstant): string {
  return `${dateTime(t)}${fraction(t.nanos)}+00:00`;
}

/** toSerde is chrono's serde form of a `DateTime<Utc>`: `2026-02-25T20:51:07.412093518Z`. */
export function toSerde(t: ChronoInstant): string {
  return `${dateTime(t)}${fraction(t.nanos)}Z`;
}
