/**
 * Ports of the Go math functions whose results differ from V8's in the last bit, so PromQL
 * answers agree with Prometheus' (Go 1.19 on amd64, as Debian's promtool 2.42 is built) to the
 * last digit: Exp and Log (Go's amd64 assembly; Exp takes its FMA path on CPUs with AVX2+FMA),
 * and through them Pow, Log2, Log10, Sinh, Cosh, Tanh and the inverse hyperbolic functions;
 * Atan2, Frexp, Ldexp and the Cephes trigonometric functions.
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
    a1 = goExp(yf * goLog(x));
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
  return goLog(frac) * 1.4426950408889634 + exp;
}

/** goLog10 is Go's math.Log10: Log(x) × (1/Ln10), the constant rounded once (Go folds it exactly). */
export function goLog10(x: number): number {
  return goLog(x) * 0.4342944819032518;
}


// Pi/4 split into three parts for extended-precision argument reduction (Cephes, as Go).
const PI4A = 0.7853981256484985;
const PI4B = 3.774894707930798e-8;
const PI4C = 2.6951514290790595e-15;
const FOUR_OVER_PI = 1.2732395447351628;
// Above this Go switches to Payne-Hanek reduction (trigReduce).
const REDUCE_THRESHOLD = 2 ** 29;
const MASK64 = (1n << 64n) - 1n;

/**
 * M_PI4 is 4/π in binary as 20 × 64-bit words, the first holding the integer part (Go's mPi4
 * table), computed once from π by Machin's formula with guard bits.
 */
const M_PI4: readonly bigint[] = (() => {
  const prec = 64n * 20n + 64n;
  const one = 1n << prec;
  const atanInv = (n: bigint): bigint => {
    let sum = 0n;
    let term = one / n;
    let k = 1n;
    let positive = true;
    while (term !== 0n) {
      sum += positive ? term / k : -(term / k);
      term /= n * n;
      k += 2n;
      positive = !positive;
    }
    return sum;
  };
  const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
  const q = (4n << (prec + 64n * 19n)) / pi;
  return Array.from({ length: 20 }, (_, i) => (q >> (64n * BigInt(19 - i))) & MASK64);
})();

/** trigReduce is Go's Payne-Hanek reduction for x >= 2^29: octant j (made even) and remainder z. */
function trigReduce(x: number): [number, number] {
  const PI4 = Math.PI / 4;
  if (x < PI4) return [0, x];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = (BigInt(view.getUint32(0)) << 32n) | BigInt(view.getUint32(4));
  const exp = Number((bits >> 52n) & 0x7ffn) - 1023 - 52;
  const ix = (bits & ((1n << 52n) - 1n)) | (1n << 52n);
  const digit = Math.floor((exp + 61) / 64);
  const shift = BigInt((exp + 61) % 64);
  const word = (i: number): bigint => ((M_PI4[i] << shift) | (M_PI4[i + 1] >> (64n - shift))) & MASK64;
  const z0 = word(digit);
  const z1 = word(digit + 1);
  const z2 = word(digit + 2);
  const z2hi = (z2 * ix) >> 64n;
  const z1p = z1 * ix;
  const sum = (z1p & MASK64) + z2hi;
  const lo = sum & MASK64;
  let hi = ((z0 * ix) + (z1p >> 64n) + (sum >> 64n)) & MASK64;
  let j = Number(hi >> 61n);
  hi = ((hi << 3n) | (lo >> 61n)) & MASK64;
  const lz = hi === 0n ? 64 : 64 - hi.toString(2).length;
  const e = BigInt(1023 - (lz + 1));
  hi = ((hi << BigInt(lz + 1)) | (lz + 1 <= 64 ? lo >> BigInt(64 - (lz + 1)) : 0n)) & MASK64;
  hi >>= 12n;
  hi |= e << 52n;
  view.setUint32(0, Number(hi >> 32n));
  view.setUint32(4, Number(hi & 0xffffffffn));
  let z = view.getFloat64(0);
  if ((j & 1) === 1) {
    j = (j + 1) & 7;
    z--;
  }
  return [j, z * PI4];
}

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
  if (x >= REDUCE_THRESHOLD) return trigReduce(x);
  let j = Math.floor(x * FOUR_OVER_PI);
  let y = j;
  if (j % 2 === 1) {
    j++;
    y++;
  }
  j %= 8;
  return [j, x - y * PI4A - y * PI4B - y * PI4C];
}

/**
 * oddTrig is how Go's Sin and Tan (odd functions) treat their argument: ±0 and NaN come back
 * as they are, ±Inf is NaN, and a negative x is the negated value at -x. `f` gets x > 0.
 */
function oddTrig(x: number, f: (x: number) => number): number {
  if (x === 0 || Number.isNaN(x)) return x;
  if (!Number.isFinite(x)) return NaN;
  return x < 0 ? -f(-x) : f(x);
}

/** goSin is Go's math.Sin (Cephes polynomials), which differs from V8's in the last bit. */
export function goSin(x0: number): number {
  return oddTrig(x0, (x) => {
    const [j0, z] = reduce(x);
    let j = j0;
    let sign = false;
    if (j > 3) {
      sign = true;
      j -= 4;
    }
    const zz = z * z;
    const y = j === 1 || j === 2 ? cosPoly(zz) : sinPoly(z, zz);
    return sign ? -y : y;
  });
}

/** goCos is Go's math.Cos. */
export function goCos(x0: number): number {
  if (!Number.isFinite(x0)) return NaN;
  const x = Math.abs(x0);
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
  return oddTrig(x0, (x) => {
    // Go's Tan keeps the octant unreduced; only j mod 4 matters below, which reduce's mod 8 keeps.
    const [j, z] = reduce(x);
    const zz = z * z;
    const y = zz > 1e-14 ? z + z * ((zz * ((TAN_P[0] * zz + TAN_P[1]) * zz + TAN_P[2])) / ((((zz + TAN_Q[1]) * zz + TAN_Q[2]) * zz + TAN_Q[3]) * zz + TAN_Q[4])) : z;
    return j % 4 === 2 ? -1 / y : y;
  });
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
  if (x >= LARGE) return goLog(x) + LN2;
  if (x > 2) return goLog(2 * x - 1 / (x + Math.sqrt(x * x - 1)));
  const t = x - 1;
  return Math.log1p(t + Math.sqrt(2 * t + t * t));
}

/** goAsinh is Go's math.Asinh. */
export function goAsinh(x0: number): number {
  if (Number.isNaN(x0) || !Number.isFinite(x0)) return x0;
  const x = Math.abs(x0);
  let temp: number;
  if (x > LARGE) temp = goLog(x) + LN2;
  else if (x > 2) temp = goLog(2 * x + 1 / (Math.sqrt(x * x + 1) + x));
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

const f64 = new DataView(new ArrayBuffer(8));

/** decompose writes a finite x as m × 2^e with an integer m. */
function decompose(x: number): [bigint, number] {
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    e = biased - 1075;
  }
  return [hi >>> 31 === 1 ? -mant : mant, e];
}

/**
 * fma is a × b + c rounded once (the VFMADD instructions Go's assembly uses), computed exactly
 * with BigInt and rounded by Number(), which rounds to nearest-even.
 */
export function fma(a: number, b: number, c: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c) || a === 0 || b === 0) return a * b + c;
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  let m = ma * mb;
  let e = ea + eb;
  if (c !== 0) {
    const [mc, ec] = decompose(c);
    if (ec >= e) m += mc << BigInt(ec - e);
    else {
      m = (m << BigInt(e - ec)) + mc;
      e = ec;
    }
  }
  if (m === 0n) return 0;
  const neg = m < 0n;
  let abs = neg ? -m : m;
  // Keep 64 significant bits and a sticky bit, so Number() below rounds once, correctly.
  const bits = abs.toString(2).length;
  if (bits > 64) {
    const shift = BigInt(bits - 64);
    const sticky = (abs & ((1n << shift) - 1n)) !== 0n ? 1n : 0n;
    abs = (abs >> shift) | sticky;
    e += bits - 64;
  }
  const r = Number(abs) * 2 ** e;
  return neg ? -r : r;
}

/** roundHalfEven is CVTSD2SL's rounding (the default MXCSR mode). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const EXP_OVERFLOW = 709.782712893384;
const LOG2E = 1.4426950408889634;
const LN2U = 0.693147180559663;
const LN2L = 2.8235290563031577e-13;

/**
 * goExp is Go's math.Exp on amd64 (exp_amd64.s, FMA path): argument reduction by ln 2 split in
 * two, a Taylor series on x/16 and four squarings. Results below 2^-1022 are flushed to 0, as the
 * assembly does.
 */
export function goExp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === -Infinity) return 0;
  if (x > EXP_OVERFLOW) return Infinity;
  const scaled = LOG2E * x;
  // CVTSD2SL: out-of-range conversions give the "integer indefinite" value.
  const n = Math.abs(scaled) < 2147483647.5 ? roundHalfEven(scaled) : -2147483648;
  let r = fma(-n, LN2U, x);
  r = fma(-n, LN2L, r);
  r *= 0.0625;
  let p = 2.48015873015873e-05;
  p = fma(p, r, 0.0001984126984126984);
  p = fma(p, r, 0.001388888888888889);
  p = fma(p, r, 0.008333333333333333);
  p = fma(p, r, 0.041666666666666664);
  p = fma(p, r, 0.16666666666666666);
  p = fma(p, r, 0.5);
  p = fma(p, r, 1);
  r *= p;
  r *= r + 2;
  r *= r + 2;
  r *= r + 2;
  r = fma(r, r + 2, 1);
  const biased = n + 0x3ff;
  if (biased <= 0) return 0;
  if (biased >= 0x7ff) return Infinity;
  return r * 2 ** (biased - 1023);
}

/**
 * goLog is Go's math.Log on amd64 (log_amd64.s): FreeBSD's algorithm with the exponent taken
 * straight from the bits (so subnormals are not renormalised, as in the assembly).
 */
export function goLog(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return -Infinity;
  if (x < 0) return NaN;
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  let k = ((hi >>> 20) & 0x7ff) - 0x3fe;
  f64.setUint32(0, (hi & 0x000fffff) | 0x3fe00000);
  let f1 = f64.getFloat64(0);
  if (f1 < Math.SQRT2 / 2) {
    k -= 1;
    f1 *= 2;
  }
  const f = f1 - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (0.6666666666666735 + s4 * (0.2857142874366239 + s4 * (0.1818357216161805 + s4 * 0.14798198605116586)));
  const t2 = s4 * (0.3999999999940942 + s4 * (0.22222198432149784 + s4 * 0.15313837699209373));
  const R = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * 0.6931471803691238 - (hfsq - (s * (hfsq + R) + k * 1.9082149292705877e-10) - f);
}

/** goSinh is Go's math.Sinh (Hart & Cheney below 0.5, Exp above). */
export function goSinh(x0: number): number {
  const x = Math.abs(x0);
  let temp: number;
  if (x > 21) temp = goExp(x) * 0.5;
  else if (x > 0.5) {
    const ex = goExp(x);
    temp = (ex - 1 / ex) * 0.5;
  } else {
    const sq = x * x;
    temp = (((-26.30563213397497 * sq + -2894.211355989564) * sq + -89912.72022039509) * sq + -630767.3640497717) * x;
    temp = temp / (((sq + -173.6789535582337) * sq + 15215.17378790019) * sq + -630767.3640497717);
  }
  return x0 < 0 ? -temp : temp;
}

/** goCosh is Go's math.Cosh. */
export function goCosh(x0: number): number {
  const x = Math.abs(x0);
  if (x > 21) return goExp(x) * 0.5;
  const ex = goExp(x);
  return (ex + 1 / ex) * 0.5;
}

/** goTanh is Go's math.Tanh (Cephes). */
export function goTanh(x: number): number {
  const MAXLOG = 88.02969193111305;
  let z = Math.abs(x);
  if (z > 0.5 * MAXLOG) return x < 0 ? -1 : 1;
  if (z >= 0.625) {
    const s = goExp(2 * z);
    z = 1 - 2 / (s + 1);
    return x < 0 ? -z : z;
  }
  if (x === 0) return x;
  const s = x * x;
  return x + (x * s * ((-0.9643991794250523 * s + -99.28772310019185) * s + -1614.6876844170845)) / (((s + 112.81167849163293) * s + 2235.4883906010045) * s + 4844.063053251255);
}
