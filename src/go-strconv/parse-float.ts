/**
 * Go's strconv.ParseFloat(s, 64), which Prometheus uses to read histogram `le` labels
 * (`promql/functions.go`), template arguments (`template/template.go` convertToFloat) and PromQL
 * number literals (`promql/parser/parse.go` number). The syntax is ported from Go
 * `strconv/atof.go` (special, readFloat, ParseFloat) and `strconv/atoi.go` (underscoreOK); the
 * rounding is JavaScript's, which like Go's rounds to the nearest float64, ties to even.
 */
import { NumError } from './num-error.js';
import type { Parsed } from './num-error.js';
import { isDecimalDigit, isHexLetter, underscoreOK } from './parse-int.js';

/**
 * parseGoFloat is strconv.ParseFloat(s, 64): decimal and hexadecimal (`0x1.8p3`, the exponent
 * required) floats, underscores between digits, and `Inf`, `Infinity` (either signed) and `NaN`
 * (unsigned) in any case. A syntax error gives 0; a finite number too large for a float64 gives
 * ±Inf, both with the error beside it, as Go returns them.
 */
export function parseGoFloat(s: string): Parsed<number> {
  const special = readSpecial(s);
  if (special !== undefined) {
    return special.length === s.length ? { value: special.value } : syntaxError(s);
  }
  const r = readFloat(s);
  if (r === undefined || r.length !== s.length) return syntaxError(s);
  const magnitude = r.hex ? hexMagnitude(r.digits, r.exp) : Number(`${r.digits}e${r.exp}`);
  const value = r.neg ? -magnitude : magnitude;
  if (!Number.isFinite(value)) return { value, error: new NumError('ParseFloat', s, 'value out of range') };
  return { value };
}

function syntaxError(s: string): Parsed<number> {
  return { value: 0, error: new NumError('ParseFloat', s, 'invalid syntax') };
}

/** Length of the common prefix of s and a lower-case word, ignoring the case of s. */
function commonPrefixLenIgnoreCase(s: string, word: string): number {
  const n = Math.min(s.length, word.length);
  for (let i = 0; i < n; i++) if (s[i].toLowerCase() !== word[i] || s.charCodeAt(i) > 0x7f) return i;
  return n;
}

/** Go's special: a sign may precede inf and infinity, never nan; the longest of inf/infinity wins. */
function readSpecial(s: string): { value: number; length: number } | undefined {
  let sign = 1;
  let rest = s;
  const signed = s[0] === '+' || s[0] === '-';
  if (signed) {
    if (s[0] === '-') sign = -1;
    rest = s.slice(1);
  }
  if (signed || rest[0] === 'i' || rest[0] === 'I') {
    let n = commonPrefixLenIgnoreCase(rest, 'infinity');
    if (n > 3 && n < 8) n = 3;
    if (n === 3 || n === 8) return { value: sign * Infinity, length: (signed ? 1 : 0) + n };
    return undefined;
  }
  if (commonPrefixLenIgnoreCase(rest, 'nan') === 3) return { value: NaN, length: 3 };
  return undefined;
}

/**
 * The number read from the start of s: its sign, every mantissa digit (point and underscores
 * dropped), and the exponent to scale that integer by (base 10, or base 2 for hex). Go's
 * readFloat: the exponent's digits count only up to 10000, as there.
 */
interface ReadFloat {
  readonly neg: boolean;
  readonly hex: boolean;
  readonly digits: string;
  readonly exp: number;
  /** The number of characters read. */
  readonly length: number;
}

function readFloat(s: string): ReadFloat | undefined {
  let i = 0;
  let underscores = false;
  const neg = s[0] === '-';
  if (s[0] === '+' || s[0] === '-') i++;
  let hex = false;
  if (i + 2 < s.length && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) {
    hex = true;
    i += 2;
  }
  let digits = '';
  let fractionDigits = 0;
  let sawDot = false;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '_') {
      underscores = true;
    } else if (c === '.') {
      if (sawDot) break;
      sawDot = true;
    } else if (isDecimalDigit(c) || (hex && isHexLetter(c))) {
      digits += c;
      if (sawDot) fractionDigits++;
    } else {
      break;
    }
  }
  if (digits === '') return undefined;
  // A hex digit is four bits of the base-2 exponent.
  let exp = hex ? -4 * fractionDigits : -fractionDigits;
  const expChar = hex ? 'p' : 'e';
  if (i < s.length && s[i].toLowerCase() === expChar) {
    i++;
    let esign = 1;
    if (s[i] === '+' || s[i] === '-') {
      if (s[i] === '-') esign = -1;
      i++;
    }
    if (i >= s.length || !isDecimalDigit(s[i])) return undefined;
    let e = 0;
    for (; i < s.length && (isDecimalDigit(s[i]) || s[i] === '_'); i++) {
      if (s[i] === '_') underscores = true;
      else if (e < 10000) e = e * 10 + Number(s[i]);
    }
    exp += esign * e;
  } else if (hex) {
    // A hex float must have a p exponent.
    return undefined;
  }
  if (underscores && !underscoreOK(s.slice(0, i))) return undefined;
  return { neg, hex, digits, exp, length: i };
}

const FLOAT64_MANTISSA_BITS = 53;
const FLOAT64_MIN_EXP = -1022;

/** The float64 nearest to the hex integer `digits` × 2^exp, ties to even (Go's atofHex). */
function hexMagnitude(digits: string, exp: number): number {
  const m = BigInt(`0x${digits}`);
  if (m === 0n) return 0;
  const bits = m.toString(2).length;
  // The exponent of the leading bit, as in m × 2^exp = 1.xxx × 2^top.
  const top = bits - 1 + exp;
  if (top > 1024) return Infinity;
  if (top < FLOAT64_MIN_EXP - FLOAT64_MANTISSA_BITS) return 0;
  // Bits the result keeps: 53, fewer for a subnormal.
  const keep = Math.min(FLOAT64_MANTISSA_BITS, top - (FLOAT64_MIN_EXP - FLOAT64_MANTISSA_BITS));
  const shift = bits - keep;
  if (shift <= 0) return Number(m) * 2 ** exp;
  let q = m >> BigInt(shift);
  const rest = m & ((1n << BigInt(shift)) - 1n);
  const half = 1n << BigInt(shift - 1);
  if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
  return Number(q) * 2 ** (exp + shift);
}
