/**
 * Go's float formatting (strconv.FormatFloat, which fmt's float verbs and `%v` use) on the exact
 * binary value of a float64, so that `%.2f`, `%.4g` and `%e` round like Go: the exact decimal
 * expansion of the double, exact ties to the even digit. JavaScript's `toFixed` rounds exact ties
 * away from zero, and `String(x)` switches to exponent form only at 1e21 / 1e-7 where Go's `%v`
 * does at 1e+06 / 1e-05, so everything that must print like Prometheus goes through here.
 */

/** Digits is a decimal `0.d × 10^dp`; `d` has no trailing zeros, `''` is zero. */
interface Digits {
  readonly d: string;
  readonly dp: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** exactDigits is the exact decimal expansion of a finite, positive float64. */
function exactDigits(x: number): Digits {
  f64[0] = x;
  // Little-endian: u32[1] holds the sign, exponent and top of the mantissa.
  const hi = u32[1];
  const lo = u32[0];
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) {
    exp = -1074;
  } else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  if (mant === 0n) return { d: '', dp: 0 };
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  return trim({ d: digits, dp });
}

function trim(dg: Digits): Digits {
  let end = dg.d.length;
  while (end > 0 && dg.d[end - 1] === '0') end--;
  let start = 0;
  while (start < end && dg.d[start] === '0') start++;
  if (start === end) return { d: '', dp: 0 };
  return { d: dg.d.slice(start, end), dp: dg.dp - start };
}

/** shortestDigits are the fewest digits that read back as `x` (Go's shortest formatting). */
function shortestDigits(x: number): Digits {
  const [mant, expText] = x.toExponential().split('e');
  const d = mant.replace('.', '');
  return trim({ d, dp: Number(expText) + 1 });
}

/** roundDigits keeps `nd` significant digits, rounding exact ties to the even digit as Go does. */
function roundDigits(dg: Digits, nd: number): Digits {
  if (nd < 0) return { d: '', dp: 0 };
  if (nd >= dg.d.length) return dg;
  let up: boolean;
  const next = dg.d[nd];
  if (next === '5' && nd + 1 === dg.d.length) {
    up = nd > 0 && (dg.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = next >= '5';
  }
  if (!up) return trim({ d: dg.d.slice(0, nd), dp: dg.dp });
  const chars = dg.d.slice(0, nd).split('');
  let i = nd - 1;
  while (i >= 0 && chars[i] === '9') {
    chars[i] = '0';
    i--;
  }
  if (i < 0) return { d: '1', dp: dg.dp + 1 };
  chars[i] = String.fromCharCode(chars[i].charCodeAt(0) + 1);
  return trim({ d: chars.join(''), dp: dg.dp });
}

function fmtF(dg: Digits, prec: number): string {
  let out = '';
  if (dg.dp > 0) {
    for (let i = 0; i < dg.dp; i++) out += i < dg.d.length ? dg.d[i] : '0';
  } else {
    out = '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = dg.dp + i - 1;
      out += j >= 0 && j < dg.d.length ? dg.d[j] : '0';
    }
  }
  return out;
}

function fmtE(dg: Digits, prec: number, expChar: string): string {
  let out = dg.d.length > 0 ? dg.d[0] : '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += i < dg.d.length ? dg.d[i] : '0';
  }
  const exp = dg.d.length === 0 ? 0 : dg.dp - 1;
  const abs = Math.abs(exp);
  return `${out}${expChar}${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

/**
 * formatFloatGo is strconv.FormatFloat(x, fmt, prec, 64) for fmt 'f', 'e', 'E', 'g', 'G';
 * prec -1 means the shortest representation that round-trips. `+Inf`, `-Inf`, `NaN` as Go.
 */
export function formatFloatGo(x: number, fmt: 'f' | 'e' | 'E' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const shortest = prec < 0;
  let dg = abs === 0 ? { d: '', dp: 0 } : shortest ? shortestDigits(abs) : exactDigits(abs);
  let body: string;
  switch (fmt) {
    case 'f': {
      if (!shortest) dg = roundDigits(dg, dg.dp + prec);
      body = fmtF(dg, shortest ? Math.max(dg.d.length - dg.dp, 0) : prec);
      break;
    }
    case 'e':
    case 'E': {
      if (!shortest) dg = roundDigits(dg, prec + 1);
      body = fmtE(dg, shortest ? Math.max(dg.d.length - 1, 0) : prec, fmt === 'e' ? 'e' : 'E');
      break;
    }
    case 'g':
    case 'G': {
      let p = prec;
      if (!shortest) {
        if (p === 0) p = 1;
        dg = roundDigits(dg, p);
      }
      let eprec = p;
      const nd = dg.d.length;
      if (eprec > nd && nd >= dg.dp) eprec = nd;
      // Shortest formatting switches to exponent form from 1e+06 on, as Go's %v does.
      if (shortest) eprec = 6;
      // Go computes the exponent as dp - 1 even for zero, so 0 prints plainly.
      const exp = dg.dp - 1;
      if (shortest) p = nd;
      if (exp < -4 || exp >= eprec) {
        const ep = Math.min(p, nd);
        body = fmtE(dg, Math.max(ep - 1, 0), fmt === 'g' ? 'e' : 'E');
      } else {
        const fp = p > dg.dp ? nd : p;
        body = fmtF(dg, Math.max(fp - dg.dp, 0));
      }
      break;
    }
  }
  return neg ? `-${body}` : body;
}

/** formatGoFloat prints a float64 the way Go's `%v` does (`1e+06`, `0.0001`, `+Inf`, `-0`). */
export function formatGoFloat(x: number): string {
  return formatFloatGo(x, 'g', -1);
}

/**
 * formatGoFloatPlain is `strconv.FormatFloat(v, 'f', -1, 64)`: shortest digits, never an
 * exponent. Prometheus uses it for `count_values` labels and promtool's query output (the HTTP
 * API switches to an exponent for very small and very large values: `formatApiValue`).
 */
export function formatGoFloatPlain(x: number): string {
  return formatFloatGo(x, 'f', -1);
}
