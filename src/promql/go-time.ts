/**
 * go-time: the calendar fields Go's time package gives PromQL's date functions, for every int64
 * second (JavaScript's Date stops at ±8.64e12 s). Prometheus converts the sample with Go's
 * int64(v), which on amd64 yields math.MinInt64 for NaN, ±Inf and out-of-range values, and the
 * time package's unsigned arithmetic then wraps; both are reproduced here with BigInt.
 */

const MIN_INT64 = -(1n << 63n);
/** UNIX_TO_ABSOLUTE is Go's `unixToInternal + internalToAbsolute` (time package constants). */
const UNIX_TO_ABSOLUTE = 9223372028715321600n;
const ABSOLUTE_ZERO_YEAR = -292277022399n;
const SECONDS_PER_DAY = 86400n;
const DAYS_PER_400_YEARS = 365n * 400n + 97n;
const DAYS_PER_100_YEARS = 365n * 100n + 24n;
const DAYS_PER_4_YEARS = 365n * 4n + 1n;
const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

/** goInt64 is Go's int64(v) for a float64 on amd64 (truncation; MinInt64 when not representable). */
export function goInt64(v: number): bigint {
  if (!(v >= -9223372036854775808 && v < 9223372036854775808)) return MIN_INT64;
  return BigInt(Math.trunc(v));
}

/** goAbs is time.Unix(sec, 0).UTC().abs(): seconds since Go's absolute epoch, as uint64. */
function goAbs(sec: bigint): bigint {
  return BigInt.asUintN(64, sec + UNIX_TO_ABSOLUTE);
}

function isLeap(year: bigint): boolean {
  return year % 4n === 0n && (year % 100n !== 0n || year % 400n === 0n);
}

/** GoDate is the calendar date of a time, as Go's absDate computes it. */
interface GoDate {
  readonly year: bigint;
  readonly month: number;
  readonly day: number;
}

function absDate(abs: bigint): GoDate {
  let d = abs / SECONDS_PER_DAY;
  let n = d / DAYS_PER_400_YEARS;
  let y = 400n * n;
  d -= DAYS_PER_400_YEARS * n;
  n = d / DAYS_PER_100_YEARS;
  n -= n >> 2n;
  y += 100n * n;
  d -= DAYS_PER_100_YEARS * n;
  n = d / DAYS_PER_4_YEARS;
  y += 4n * n;
  d -= DAYS_PER_4_YEARS * n;
  n = d / 365n;
  n -= n >> 2n;
  y += n;
  d -= 365n * n;
  // int(int64(y) + absoluteZeroYear): y is a uint64, reinterpreted as int64.
  const year = BigInt.asIntN(64, BigInt.asIntN(64, y) + ABSOLUTE_ZERO_YEAR);
  let day = Number(d);
  if (isLeap(year)) {
    if (day > 31 + 29 - 1) day--;
    else if (day === 31 + 29 - 1) return { year, month: 2, day: 29 };
  }
  let month = Math.floor(day / 31);
  const end = DAYS_BEFORE[month + 1];
  let begin: number;
  if (day >= end) {
    month++;
    begin = end;
  } else {
    begin = DAYS_BEFORE[month];
  }
  return { year, month: month + 1, day: day - begin + 1 };
}

/** daysSinceEpoch is Go's days from the absolute epoch to January 1 of `year` (uint64). */
function daysSinceEpoch(year: bigint): bigint {
  let y = BigInt.asUintN(64, year - ABSOLUTE_ZERO_YEAR);
  let n = y / 400n;
  y -= 400n * n;
  let d = DAYS_PER_400_YEARS * n;
  n = y / 100n;
  y -= 100n * n;
  d += DAYS_PER_100_YEARS * n;
  n = y / 4n;
  y -= 4n * n;
  d += DAYS_PER_4_YEARS * n;
  d += 365n * y;
  return BigInt.asUintN(64, d);
}

/** GoTimeFields are the fields PromQL's date functions read from one timestamp. */
export interface GoTimeFields {
  readonly year: number;
  readonly month: number;
  readonly dayOfMonth: number;
  readonly dayOfWeek: number;
  readonly hour: number;
  readonly minute: number;
  readonly daysInMonth: number;
}

/** goTimeFields is time.Unix(sec, 0).UTC() broken into PromQL's date fields. */
export function goTimeFields(sec: bigint): GoTimeFields {
  const abs = goAbs(sec);
  const { year, month, day } = absDate(abs);
  return {
    year: Number(year),
    month,
    dayOfMonth: day,
    // January 1 of the absolute year was a Monday.
    dayOfWeek: Number(((abs + SECONDS_PER_DAY) % (7n * SECONDS_PER_DAY)) / SECONDS_PER_DAY),
    hour: Number((abs % SECONDS_PER_DAY) / 3600n),
    minute: Number((abs % 3600n) / 60n),
    daysInMonth: daysInMonth(year, month),
  };
}

/**
 * daysInMonth is Prometheus' `32 - time.Date(y, m, 32, 0, 0, 0, 0, UTC).Day()`, through Go's
 * Date arithmetic (which wraps for years near the int64 limits).
 */
function daysInMonth(year: bigint, month: number): number {
  let d = daysSinceEpoch(year) + BigInt(DAYS_BEFORE[month - 1]);
  if (isLeap(year) && month >= 3) d++;
  d += 31n;
  const abs = BigInt.asUintN(64, d * SECONDS_PER_DAY);
  // unix := int64(abs) + (absoluteToInternal + internalToUnix); then t.abs() adds it back.
  const unix = BigInt.asIntN(64, BigInt.asIntN(64, abs) - UNIX_TO_ABSOLUTE);
  return 32 - absDate(goAbs(unix)).day;
}
