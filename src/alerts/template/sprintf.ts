/**
 * goSprintf is the subset of Go's fmt.Sprintf that alert templates use: verbs
 * `%v %s %d %f %F %e %E %g %G %x %X %o %b %q %t %c %U %T %%` with flags `+ - # 0 space`, width and
 * precision, and Go's in-band error text (`%!d(float64=1.5)`, `%!s(MISSING)`).
 */
import { formatFloatGo, quoteGoString } from '../../go-strconv/index.js';
import { GoInt, goTypeName, printValue } from './values.js';
import type { TemplateValue } from './values.js';

interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
  width: number | undefined;
  prec: number | undefined;
}

function pad(s: string, spec: Spec, isNumeric: boolean): string {
  if (spec.width === undefined || s.length >= spec.width) return s;
  const n = spec.width - s.length;
  if (spec.minus) return s + ' '.repeat(n);
  if (spec.zero && isNumeric) {
    const sign = s[0] === '-' || s[0] === '+' || s[0] === ' ' ? s[0] : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function withSign(s: string, spec: Spec): string {
  if (s.startsWith('-') || s.startsWith('+')) return s;
  if (spec.plus) return `+${s}`;
  if (spec.space) return ` ${s}`;
  return s;
}

/**
 * bad is Go's badVerb: `%!verb(type=value)`, the value printed with %v under the same flags,
 * width and precision (so `%5.2f` of a string shows `%!f(string=   ab)`).
 */
function bad(verb: string, v: TemplateValue, spec?: Spec): string {
  if (v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${spec === undefined ? printValue(v) : formatOne('v', v, spec)})`;
}

const f64 = new DataView(new ArrayBuffer(8));

/** floatBits splits a float64 like strconv does: sign, mantissa with the implicit bit, unbiased exponent. */
function floatBits(v: number): { neg: boolean; mant: bigint; exp: number } {
  f64.setFloat64(0, v);
  const hi = f64.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(f64.getUint32(4));
  let exp = biased - 1023;
  if (biased === 0) exp++;
  else mant |= 1n << 52n;
  return { neg: hi >>> 31 === 1, mant, exp };
}

/** formatFloatHex is strconv.FormatFloat(v, 'x'|'X', prec, 64): `-0x1.8p+01`. */
function formatFloatHex(v: number, upper: boolean, prec: number): string {
  const bits = floatBits(v);
  const neg = bits.neg;
  let mant = bits.mant;
  let exp = bits.exp;
  if (mant === 0n) exp = 0;
  // Leading 1 at bit 60.
  mant <<= 8n;
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = `${neg ? '-' : ''}0${upper ? 'X' : 'x'}${(mant >> 60n) & 1n}`;
  mant = (mant << 4n) & ((1n << 64n) - 1n);
  if (prec < 0 && mant !== 0n) {
    out += '.';
    while (mant !== 0n) {
      out += digits[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  } else if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) {
      out += digits[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  }
  const e = Math.abs(exp);
  return `${out}${upper ? 'P' : 'p'}${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
}

/** formatFloatBinary is strconv.FormatFloat(v, 'b', -1, 64): `4503599627370496p-52`. */
function formatFloatBinary(v: number): string {
  const { neg, mant, exp } = floatBits(v);
  const e = exp - 52;
  return `${neg ? '-' : ''}${mant}p${e >= 0 ? '+' : ''}${e}`;
}

function formatFloatVerb(v: number, verb: string, spec: Spec): string {
  let s: string;
  switch (verb) {
    case 'v':
      s = formatFloatGo(v, 'g', spec.prec ?? -1);
      break;
    case 'f':
    case 'F':
      s = formatFloatGo(v, 'f', spec.prec ?? 6);
      break;
    case 'e':
    case 'E':
      s = formatFloatGo(v, verb, spec.prec ?? 6);
      break;
    case 'x':
    case 'X':
      s = Number.isFinite(v) ? formatFloatHex(v, verb === 'X', spec.prec ?? -1) : formatFloatGo(v, 'g', -1);
      break;
    case 'b':
      s = Number.isFinite(v) ? formatFloatBinary(v) : formatFloatGo(v, 'g', -1);
      break;
    default:
      s = formatFloatGo(v, verb as 'g' | 'G', spec.prec ?? -1);
  }
  // Go keeps the sign of infinities (a space instead of "+" under the space flag), shows NaN's
  // only when asked for, and never zero-pads either.
  if (!Number.isFinite(v)) {
    let t = Number.isNaN(v) ? '+NaN' : v > 0 ? '+Inf' : '-Inf';
    if (spec.space && t[0] === '+' && !spec.plus) t = ` ${t.slice(1)}`;
    if (Number.isNaN(v) && !spec.space && !spec.plus) t = t.slice(1);
    return pad(t, { ...spec, zero: false }, false);
  }
  return pad(withSign(s, spec), spec, true);
}

function formatIntVerb(n: number, verb: string, spec: Spec): string {
  let s: string;
  const abs = Math.abs(n);
  switch (verb) {
    case 'd':
    case 'v':
      s = String(abs);
      break;
    case 'x':
      s = (spec.sharp ? '0x' : '') + abs.toString(16);
      break;
    case 'X':
      s = (spec.sharp ? '0X' : '') + abs.toString(16).toUpperCase();
      break;
    case 'o':
      s = (spec.sharp ? '0' : '') + abs.toString(8);
      break;
    case 'b':
      s = abs.toString(2);
      break;
    case 'c':
      return pad(String.fromCodePoint(n), spec, false);
    case 'q':
      return pad(`'${String.fromCodePoint(n)}'`, spec, false);
    case 'U': {
      let u = `U+${(n < 0 ? BigInt.asUintN(64, BigInt(n)) : BigInt(n)).toString(16).toUpperCase().padStart(spec.prec ?? 4, '0')}`;
      if (spec.sharp && n >= 0 && n <= 0x10ffff) u += ` '${String.fromCodePoint(n)}'`;
      return pad(u, spec, false);
    }
    default:
      return bad(verb, new GoInt(n), spec);
  }
  if (spec.prec !== undefined) s = s.padStart(spec.prec, '0');
  if (n < 0) s = `-${s}`;
  return pad(withSign(s, spec), spec, spec.prec === undefined);
}

function formatOne(verb: string, v: TemplateValue, spec: Spec): string {
  if (verb === 'T') return pad(goTypeName(v), spec, false);
  if (typeof v === 'number') {
    if ('vfFeEgGxXb'.includes(verb)) return formatFloatVerb(v, verb, spec);
    return bad(verb, v, spec);
  }
  if (v instanceof GoInt) {
    if ('dvxXobcqU'.includes(verb)) return formatIntVerb(v.value, verb, spec);
    return bad(verb, v, spec);
  }
  if (typeof v === 'string') {
    switch (verb) {
      case 'v':
      case 's': {
        const s = spec.prec !== undefined ? [...v].slice(0, spec.prec).join('') : v;
        return pad(s, spec, false);
      }
      case 'q':
        // The precision truncates the string (in runes) before it is quoted.
        return pad(quoteGoString(spec.prec !== undefined ? [...v].slice(0, spec.prec).join('') : v), spec, false);
      case 'x':
      case 'X': {
        const bytes = Buffer.from(v, 'utf8');
        const hex = (spec.prec !== undefined ? bytes.subarray(0, spec.prec) : bytes).toString('hex');
        return pad(verb === 'X' ? hex.toUpperCase() : hex, spec, false);
      }
      default:
        return bad(verb, v, spec);
    }
  }
  if (typeof v === 'boolean') {
    if (verb === 'v' || verb === 't') return pad(v ? 'true' : 'false', spec, false);
    return bad(verb, v, spec);
  }
  if (verb === 'v' || verb === 's') return pad(printValue(v), spec, false);
  return bad(verb, v, spec);
}

/** goSprintf formats `args` with Go's fmt.Sprintf rules for the supported verbs. */
export function goSprintf(format: string, args: readonly TemplateValue[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    const spec: Spec = { plus: false, minus: false, sharp: false, zero: false, space: false, width: undefined, prec: undefined };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '+') spec.plus = true;
      else if (f === '-') spec.minus = true;
      else if (f === '#') spec.sharp = true;
      else if (f === '0') spec.zero = !spec.minus;
      else if (f === ' ') spec.space = true;
      else break;
    }
    let digits = '';
    while (i < format.length && format[i] >= '0' && format[i] <= '9') digits += format[i++];
    if (digits) spec.width = Number(digits);
    if (format[i] === '.') {
      i++;
      let p = '';
      while (i < format.length && format[i] >= '0' && format[i] <= '9') p += format[i++];
      spec.prec = p ? Number(p) : 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = format[i++];
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, args[argi++], spec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args.slice(argi).map((a) => `${goTypeName(a)}=${printValue(a)}`).join(', ')})`;
  }
  return out;
}

/** goSprint is Go's fmt.Sprint: spaces only between operands when neither is a string. */
export function goSprint(args: readonly TemplateValue[]): string {
  let out = '';
  for (let j = 0; j < args.length; j++) {
    if (j > 0 && typeof args[j] !== 'string' && typeof args[j - 1] !== 'string') out += ' ';
    out += printValue(args[j]);
  }
  return out;
}

/** goSprintln is Go's fmt.Sprintln: always a space between operands, newline at the end. */
export function goSprintln(args: readonly TemplateValue[]): string {
  return `${args.map(printValue).join(' ')}\n`;
}
