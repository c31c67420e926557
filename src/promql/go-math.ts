/**
 * Ports of the Go math functions whose results differ from V8's in the last bit, so PromQL
 * answers agree with Prometheus' (Go) to the last digit: Pow, Atan2, Log2, Log10, Frexp, Ldexp,
 * the Cephes trigonometric functions and the inverse hyperbolic ones. Not ported: Exp (Go uses
 * FMA-dependent assembly on amd64), hence also Sinh/Cosh/Tanh and the fractional part of Pow.
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


// Pi/4 split into three parts for extended-precision argument reduction (Cephes, as Go).
const PI4A = 0.7853981256484985;
const PI4B = 3.774894707930798e-8;
const PI4C = 2.6951514290790595e-15;
const FOUR_OVER_PI = 1.2732395447351628;
// Above this Go switches to Payne-Hanek reduction; the engine falls back to V8 there.
const REDUCE_THRESHOLD = 2 ** 29;

const SIN = [1.5896230157654656e-10, -2.5050747762857807e-8, 2.7557313621385722e-6, -0.0001984126982958954, 0.008333333333322118, -0.1666666666666663];
const COS = [-1.1358536521387682e-11, 2.087570084197473e-9, -2.755731417929674e-7, 2.4801587288851704e-5, -0.0013888888888873056, 0.041666666666666595];
const TAN_P = [-13093.693918138379, 1153516.6483858742, -17956525.197648488];
const TAN_Q = [1.0, 13681.296347069296, -1320892.3444021097, 25008380.18233579, -53869575.592945464];

function sinPoly(z: number, zz: number): number {
  return z + z * zz * (((((SIN[0] * zz + SIN[1]) * zz + SIN[2]) * zz + SIN[3]) * zz + SIN[4]) * zz + SIN[5]);
}

function cosPoly(zz: number): number {
  return 1.0 - 0.5 * zz + zz * zz * (((((COS[0] * zz + COS[1]) * zz + COS[2]) * zz + COS[3]) * zz + COS[4]) * zz + COS[5]);
}

/** reduce maps x >= 0 to its octant j (made even) and the remainder z, as Go's sin/cos/tan. */
function reduce(x: number): [number, number] {
  let j = Math.floor(x * FOUR_OVER_PI);
  let y = j;
  if (j % 2 === 1) {
    j++;
    y++;
  }
  j %= 8;
  return [j, x - y * PI4A - y * PI4B - y * PI4C];
}

/** goSin is Go's math.Sin (Cephes polynomials), which differs from V8's in the last bit. */
export function goSin(x0: number): number {
  if (x0 === 0 || Number.isNaN(x0)) return x0;
  if (!Number.isFinite(x0)) return NaN;
  let x = x0;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  if (x >= REDUCE_THRESHOLD) return Math.sin(x0);
  const [j0, z] = reduce(x);
  let j = j0;
  if (j > 3) {
    sign = !sign;
    j -= 4;
  }
  const zz = z * z;
  const y = j === 1 || j === 2 ? cosPoly(zz) : sinPoly(z, zz);
  return sign ? -y : y;
}

/** goCos is Go's math.Cos. */
export function goCos(x0: number): number {
  if (!Number.isFinite(x0)) return NaN;
  const x = Math.abs(x0);
  if (x >= REDUCE_THRESHOLD) return Math.cos(x0);
  let sign = false;
  const [j0, z] = reduce(x);
  let j = j0;
  if (j > 3) {
    j -= 4;
    sign = !sign;
  }
  if (j > 1) sign = !sign;
  const zz = z * z;
  const y = j === 1 || j === 2 ? sinPoly(z, zz) : cosPoly(zz);
  return sign ? -y : y;
}

/** goTan is Go's math.Tan. */
export function goTan(x0: number): number {
  if (x0 === 0 || Number.isNaN(x0)) return x0;
  if (!Number.isFinite(x0)) return NaN;
  let x = x0;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  if (x >= REDUCE_THRESHOLD) return Math.tan(x0);
  let j = Math.floor(x * FOUR_OVER_PI);
  let y = j;
  if (j % 2 === 1) {
    j++;
    y++;
  }
  const z = x - y * PI4A - y * PI4B - y * PI4C;
  const zz = z * z;
  if (zz > 1e-14) {
    y = z + z * ((zz * ((TAN_P[0] * zz + TAN_P[1]) * zz + TAN_P[2])) / ((((zz + TAN_Q[1]) * zz + TAN_Q[2]) * zz + TAN_Q[3]) * zz + TAN_Q[4]));
  } else {
    y = z;
  }
  if (j % 4 === 2) y = -1 / y;
  return sign ? -y : y;
}

/** goAtanFn is Go's math.Atan. */
export function goAtanFn(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return goAtan(x);
}

/** goAsin is Go's math.Asin (via its atan series). */
export function goAsin(x0: number): number {
  if (x0 === 0) return x0;
  let x = x0;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  if (x > 1 || Number.isNaN(x)) return NaN;
  let temp = Math.sqrt(1 - x * x);
  if (x > 0.7) temp = Math.PI / 2 - satan(temp / x);
  else temp = satan(x / temp);
  return sign ? -temp : temp;
}

/** goAcos is Go's math.Acos: Pi/2 - Asin(x). */
export function goAcos(x: number): number {
  return Math.PI / 2 - goAsin(x);
}

const LN2 = 0.6931471805599453;
const NEAR_ZERO = 2 ** -28;
const LARGE = 2 ** 28;

/** goAcosh is Go's math.Acosh. */
export function goAcosh(x: number): number {
  if (x < 1 || Number.isNaN(x)) return NaN;
  if (x === 1) return 0;
  if (x >= LARGE) return Math.log(x) + LN2;
  if (x > 2) return Math.log(2 * x - 1 / (x + Math.sqrt(x * x - 1)));
  const t = x - 1;
  return Math.log1p(t + Math.sqrt(2 * t + t * t));
}

/** goAsinh is Go's math.Asinh. */
export function goAsinh(x0: number): number {
  if (Number.isNaN(x0) || !Number.isFinite(x0)) return x0;
  const x = Math.abs(x0);
  let temp: number;
  if (x > LARGE) temp = Math.log(x) + LN2;
  else if (x > 2) temp = Math.log(2 * x + 1 / (Math.sqrt(x * x + 1) + x));
  else if (x < NEAR_ZERO) temp = x;
  else temp = Math.log1p(x + (x * x) / (1 + Math.sqrt(1 + x * x)));
  return x0 < 0 ? -temp : temp;
}

/** goAtanh is Go's math.Atanh. */
export function goAtanh(x0: number): number {
  if (x0 < -1 || x0 > 1 || Number.isNaN(x0)) return NaN;
  if (x0 === 1) return Infinity;
  if (x0 === -1) return -Infinity;
  const x = Math.abs(x0);
  let temp: number;
  if (x < NEAR_ZERO) temp = x;
  else if (x < 0.5) {
    temp = x + x;
    temp = 0.5 * Math.log1p(temp + (temp * x) / (1 - x));
  } else temp = 0.5 * Math.log1p((x + x) / (1 - x));
  return x0 < 0 ? -temp : temp;
}
