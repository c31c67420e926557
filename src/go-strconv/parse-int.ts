/**
 * Go's strconv.ParseInt(s, 0, 64): an int64 in Go's literal syntax (sign, 0b/0o/0x prefix or a
 * leading 0 for octal, underscores between digits), with Go's errors. Go `strconv/atoi.go`.
 */
import { NumError } from './num-error.js';
import type { Parsed } from './num-error.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** parseGoInt is strconv.ParseInt(s, 0, 64): the base comes from the prefix. */
export function parseGoInt(s: string): Parsed<bigint> {
  const syntax = (): Parsed<bigint> => ({ value: 0n, error: new NumError('ParseInt', s, 'invalid syntax') });
  const range = (value: bigint): Parsed<bigint> => ({ value, error: new NumError('ParseInt', s, 'value out of range') });
  if (s === '') return syntax();
  const neg = s[0] === '-';
  const unsigned = s[0] === '+' || s[0] === '-' ? s.slice(1) : s;
  const un = parseUint64(unsigned);
  if (un === 'syntax') return syntax();
  if (un === 'range') return range(neg ? INT64_MIN : INT64_MAX);
  if (!neg && un > INT64_MAX) return range(INT64_MAX);
  if (neg && un > -INT64_MIN) return range(INT64_MIN);
  return { value: neg ? -un : un };
}

/** strconv.ParseUint(s, 0, 64), reporting only the kind of failure. */
function parseUint64(s0: string): bigint | 'syntax' | 'range' {
  if (s0 === '') return 'syntax';
  let s = s0;
  let base = 10n;
  if (s[0] === '0') {
    const prefix = s.length >= 3 ? s[1].toLowerCase() : '';
    base = prefix === 'b' ? 2n : prefix === 'o' ? 8n : prefix === 'x' ? 16n : 8n;
    s = s.slice(prefix === 'b' || prefix === 'o' || prefix === 'x' ? 2 : 1);
  }
  let underscores = false;
  let n = 0n;
  for (const c of s) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = digitValue(c);
    if (d === undefined || d >= base) return 'syntax';
    // Go stops at the first digit that overflows, before looking at the rest.
    n = n * base + d;
    if (n > UINT64_MAX) return 'range';
  }
  if (underscores && !underscoreOK(s0)) return 'syntax';
  return n;
}

/**
 * underscoreOK is Go's rule for digit separators: an underscore only between digits, or between
 * a base prefix (0b, 0o, 0x) and a digit. Go `strconv/atoi.go` underscoreOK.
 */
export function underscoreOK(s: string): boolean {
  // The class of the last character: ^ start, 0 digit or base prefix, _ underscore, ! other.
  let saw: '^' | '0' | '_' | '!' = '^';
  let i = 0;
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1])) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if (isDecimalDigit(c) || (hex && isHexLetter(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** The value of an ASCII digit or letter (a-z and A-Z count 10 to 35), as Go's ParseUint reads it. */
function digitValue(c: string): bigint | undefined {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return BigInt(code - 48);
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 122) return BigInt(lower - 87);
  return undefined;
}

export function isDecimalDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function isHexLetter(c: string): boolean {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
