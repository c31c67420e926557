/**
 * Ports of the Go math functions whose results differ from V8's in the last bit, so PromQL
 * answers agree with Prometheus' (Go) to the last digit: Pow, Atan2, Log2, Log10, Frexp, Ldexp.
 */

/** frexp splits a finite non-zero x into frac in [0.5, 1) and exp with x = frac × 2^exp (Go's math.Frexp). */
export function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  let hi = view.getUint32(0);
  let biased = (hi >>> 20) & 0x7ff;
  let adjust = 0;
  if (biased === 0) {
    // Subnormal: scale into the normal range first.
    view.setFloat64(0, x * 2 ** 52);
    hi = view.getUint32(0);
    biased = (hi >>> 20) & 0x7ff;
    adjust = -52;
  }
  const exp = biased - 1022 + adjust;
  view.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return [view.getFloat64(0), exp];
}

/** ldexp is frac × 2^exp with a single rounding in the subnormal range (Go's math.Ldexp). */
export function ldexp(frac: number, exp: number): number {
  if (frac === 0 || !Number.isFinite(frac)) return frac;
  const [f, e] = frexp(frac);
  // Go's convention: value = (2f) × 2^goExp with 2f in [1, 2).
  const goExp = exp + e - 1;
  if (goExp < -1075) return frac < 0 ? -0 : 0;
  if (goExp > 1023) return frac < 0 ? -Infinity : Infinity;
  if (goExp < -1022) return 2 * f * 2 ** (goExp + 53) * 2 ** -53;
  return 2 * f * 2 ** goExp;
}

function isOddInt(x: number): boolean {
  if (Math.abs(x) >= 2 ** 53) return false;
  return Number.isInteger(x) && Math.abs(x % 2) === 1;
}

/** goPow is Go's math.Pow: exp/log for the fraction, repeated squaring for the integer part. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0) {
    const negZero = Object.is(x, -0);
    if (y < 0) return negZero && isOddInt(y) ? -Infinity : Infinity;
    return negZero && isOddInt(y) ? x : 0;
  }
  if (!Number.isFinite(y)) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  if (!Number.isFinite(x)) {
    if (x < 0) return goPow(1 / x, -y);
    return y < 0 ? 0 : Infinity;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  const absY = Math.abs(y);
  let yi = Math.trunc(absY);
  let yf = absY - yi;
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 2 ** 63) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  let a1 = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = Math.exp(yf * Math.log(x));
  }
  let [x1, xe] = frexp(x);
  for (let i = yi; i !== 0; i = Math.floor(i / 2)) {
    if (xe < -(1 << 12) || 1 << 12 < xe) {
      // Catastrophic overflow: let ldexp handle it.
      ae += xe;
      break;
    }
    if (i % 2 === 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe <<= 1;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return ldexp(a1, ae);
}

/** xatan is Go's (Cephes) arctangent series for [0, 0.66]. */
function xatan(x: number): number {
  const P0 = -0.8750608600031904;
  const P1 = -16.157537187333652;
  const P2 = -75.00855792314705;
  const P3 = -122.88666844901361;
  const P4 = -64.85021904942025;
  const Q0 = 24.858464901423062;
  const Q1 = 165.02700983169885;
  const Q2 = 432.88106049129027;
  const Q3 = 485.3903996359137;
  const Q4 = 194.5506571482614;
  let z = x * x;
  z = (z * ((((P0 * z + P1) * z + P2) * z + P3) * z + P4)) / (((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4);
  return x * z + x;
}

function satan(x: number): number {
  const morebits = 6.123233995736766e-17;
  const tan3pio8 = 2.414213562373095;
  if (x <= 0.66) return xatan(x);
  if (x > tan3pio8) return Math.PI / 2 - xatan(1 / x) + morebits;
  return Math.PI / 4 + xatan((x - 1) / (x + 1)) + 0.5 * morebits;
}

function goAtan(x: number): number {
  if (x === 0) return x;
  return x > 0 ? satan(x) : -satan(-x);
}

function copysign(mag: number, sign: number): number {
  const neg = sign < 0 || Object.is(sign, -0);
  return neg ? -Math.abs(mag) : Math.abs(mag);
}

/** goAtan2 is Go's math.Atan2, which differs from V8's in the last bit for some inputs. */
export function goAtan2(y: number, x: number): number {
  if (Number.isNaN(y) || Number.isNaN(x)) return NaN;
  if (y === 0) return x >= 0 && !Object.is(x, -0) ? copysign(0, y) : copysign(Math.PI, y);
  if (x === 0) return copysign(Math.PI / 2, y);
  if (!Number.isFinite(x)) {
    if (x > 0) return Number.isFinite(y) ? copysign(0, y) : copysign(Math.PI / 4, y);
    return Number.isFinite(y) ? copysign(Math.PI, y) : copysign((3 * Math.PI) / 4, y);
  }
  if (!Number.isFinite(y)) return copysign(Math.PI / 2, y);
  const q = goAtan(y / x);
  if (x < 0) return q <= 0 ? q + Math.PI : q - Math.PI;
  return q;
}

/** goLog2 is Go's math.Log2 (exact for powers of two). */
export function goLog2(x: number): number {
  const [frac, exp] = frexp(x);
  if (frac === 0.5) return exp - 1;
  return Math.log(frac) * 1.4426950408889634 + exp;
}

/** goLog10 is Go's math.Log10: Log(x) × (1/Ln10), the constant rounded once (Go folds it exactly). */
export function goLog10(x: number): number {
  return Math.log(x) * 0.4342944819032518;
}

