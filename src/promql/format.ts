/**
 * Go-compatible number and string formatting, and the two ways a query result is shown: the
 * Prometheus text style and the HTTP API's `data` JSON shape.
 *
 * JavaScript's `String(x)` switches to exponent form only at 1e21 / 1e-7 while Go's `%v` does
 * at 1e6 / 1e-5, so every place that must print like Prometheus goes through these helpers.
 */
import type { Labels } from '../store/types.js';
import type { QueryValue } from './types.js';

/** Shortest round-trip decimal digits and decimal point position of a finite, non-zero |v|. */
function shortestDigits(abs: number): { digits: string; exp: number } {
  // toExponential() without an argument gives the shortest digits that round-trip, as Go's
  // strconv does with precision -1.
  const s = abs.toExponential();
  const eIdx = s.indexOf('e');
  const mantissa = s.slice(0, eIdx).replace('.', '');
  return { digits: mantissa, exp: Number(s.slice(eIdx + 1)) };
}

function plainFromDigits(digits: string, exp: number): string {
  // exp is the decimal exponent of the first digit.
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return digits + '0'.repeat(exp + 1 - digits.length);
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return undefined;
}

/**
 * formatGoFloat prints a float64 like Go's `%v` (strconv 'g', shortest): plain when the decimal
 * exponent is in [-4, 6), otherwise `d.ddde±XX`; `+Inf`, `-Inf`, `NaN`.
 */
export function formatGoFloat(v: number): string {
  const sp = special(v);
  if (sp !== undefined) return sp;
  const sign = v < 0 ? '-' : '';
  const { digits, exp } = shortestDigits(Math.abs(v));
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expAbs = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${expAbs < 10 ? '0' : ''}${expAbs}`;
  }
  return sign + plainFromDigits(digits, exp);
}

/**
 * formatGoFloatPlain prints a float64 like Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest
 * digits, never an exponent. Prometheus uses it for sample values in the HTTP API and for
 * `count_values` labels.
 */
export function formatGoFloatPlain(v: number): string {
  const sp = special(v);
  if (sp !== undefined) return sp;
  const sign = v < 0 ? '-' : '';
  const { digits, exp } = shortestDigits(Math.abs(v));
  return sign + plainFromDigits(digits, exp);
}

function isPrintable(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp >= 0x80 && cp < 0xa0) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  if (cp === 0xfeff) return false;
  return true;
}

/** quoteGoString quotes a string like Go's `strconv.Quote` (`%q`). */
export function quoteGoString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (isPrintable(cp)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** formatLabels prints a label set as Prometheus' model.Metric: `name{a="b", c="d"}`. */
export function formatLabels(labels: Labels): string {
  const name = labels.__name__;
  const names = Object.keys(labels)
    .filter((n) => n !== '__name__')
    .sort();
  const body = names.map((n) => `${n}=${quoteGoString(labels[n])}`).join(', ');
  if (name !== undefined && name !== '') return names.length === 0 ? name : `${name}{${body}}`;
  return `{${body}}`;
}

function formatSeconds(tMs: number): string {
  return formatGoFloatPlain(tMs / 1000);
}

/**
 * formatQueryValue prints a query result the way promtool prints one: one `metric => value
 * @[seconds]` line per vector element, a `metric =>` block per matrix series.
 */
export function formatQueryValue(value: QueryValue): string {
  switch (value.type) {
    case 'vector':
      return value.samples.map((s) => `${formatLabels(s.labels)} => ${formatGoFloatPlain(s.v)} @[${formatSeconds(s.t)}]`).join('\n');
    case 'matrix':
      return value.series
        .map((s) => `${formatLabels(s.labels)} =>\n${s.points.map((p) => `${formatGoFloatPlain(p.v)} @[${formatSeconds(p.t)}]`).join('\n')}`)
        .join('\n');
    case 'scalar':
      return `scalar: ${formatGoFloatPlain(value.v)} @[${formatSeconds(value.t)}]`;
    case 'string':
      return value.v;
  }
}

/** ApiSamplePair is `[unixSeconds, "value"]` as the Prometheus HTTP API writes it. */
export type ApiSamplePair = [number, string];

/** ApiQueryData is the `data` member of a Prometheus `/api/v1/query(_range)` response. */
export type ApiQueryData =
  | { resultType: 'vector'; result: Array<{ metric: Record<string, string>; value: ApiSamplePair }> }
  | { resultType: 'matrix'; result: Array<{ metric: Record<string, string>; values: ApiSamplePair[] }> }
  | { resultType: 'scalar'; result: ApiSamplePair }
  | { resultType: 'string'; result: [number, string] };

function sortedMetric(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of Object.keys(labels).sort()) out[n] = labels[n];
  return out;
}

/** toApiQueryData converts a query value to the Prometheus HTTP API `data` shape. */
export function toApiQueryData(value: QueryValue): ApiQueryData {
  switch (value.type) {
    case 'vector':
      return {
        resultType: 'vector',
        result: value.samples.map((s) => ({ metric: sortedMetric(s.labels), value: [s.t / 1000, formatGoFloatPlain(s.v)] })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: value.series.map((s) => ({
          metric: sortedMetric(s.labels),
          values: s.points.map((p): ApiSamplePair => [p.t / 1000, formatGoFloatPlain(p.v)]),
        })),
      };
    case 'scalar':
      return { resultType: 'scalar', result: [value.t / 1000, formatGoFloatPlain(value.v)] };
    case 'string':
      return { resultType: 'string', result: [value.t / 1000, value.v] };
  }
}
