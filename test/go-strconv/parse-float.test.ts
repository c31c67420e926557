import { describe, expect, it } from 'vitest';
import { formatGoFloat, parseGoFloat, parseGoInt } from '../../src/go-strconv/index.js';
import type { NumErrorReason } from '../../src/go-strconv/index.js';

/*
 * strconv.ParseFloat(s, 64) as Go answers, in three tables by outcome. Most rows come from Go's
 * own `src/strconv/atof_test.go`; every row was checked against Go 1.19.8 (Debian's promtool
 * 2.42.0: `le` labels through histogram_quantile, strings through humanize).
 */

/** Accepted: the input and the float64 Go returns, as Go prints it (%v). */
const VALUES: Array<[string, string]> = [
  // Decimal.
  ['1', '1'], ['+1', '1'], ['1e23', '1e+23'], ['1E23', '1e+23'],
  ['100000000000000000000000', '1e+23'], ['1e-100', '1e-100'], ['123456700', '1.234567e+08'],
  ['99999999999999974834176', '9.999999999999997e+22'],
  ['100000000000000000000001', '1.0000000000000001e+23'],
  ['100000000000000016777216', '1.0000000000000003e+23'], ['-1', '-1'], ['-0.1', '-0.1'],
  ['-0', '-0'], ['625e-3', '0.625'], ['.5', '0.5'], ['5.', '5'], ['+.5', '0.5'], ['-5.e1', '-50'],
  ['00012', '12'], ['1e0001', '10'], ['22.222222222222222', '22.22222222222222'],
  ['1.00000000000000011102230246251565404236316680908203125', '1'],
  ['1.00000000000000011102230246251565404236316680908203126', '1.0000000000000002'],
  ['2.2250738585072012e-308', '2.2250738585072014e-308'],
  // Hexadecimal: the p exponent is required.
  ['0x1p0', '1'], ['0x1p-1', '0.5'], ['0x1ep-1', '15'], ['-0x1ep-1', '-15'], ['-0x2p3', '-16'],
  ['0x1fFe2.p0', '131042'], ['0X1.8P1', '3'], ['0x0.fp0', '0.9375'], ['0x.1p-2', '0.015625'],
  ['0x1.1111111111111p222', '7.18931911124017e+66'], ['0x1.00000000000008p0', '1'],
  ['0x1.000000000000081p0', '1.0000000000000002'],
  // Zeros, whatever the exponent.
  ['0e+01234567890123456789', '0'], ['-0x0p+01234567890123456789', '-0'], ['0x0p1026', '0'],
  // Specials: any case; a sign before inf and infinity only; nothing after them.
  ['nan', 'NaN'], ['NAN', 'NaN'], ['inf', '+Inf'], ['-Inf', '-Inf'], ['+INF', '+Inf'],
  ['-Infinity', '-Inf'], ['Infinity', '+Inf'],
  // The largest float64, and inputs just above it that still round down to it.
  ['1.7976931348623157e308', '1.7976931348623157e+308'],
  ['0x1.fffffffffffffp1023', '1.7976931348623157e+308'],
  ['1.7976931348623158e308', '1.7976931348623157e+308'],
  ['0x1.fffffffffffff7fffp1023', '1.7976931348623157e+308'],
  // Subnormals and underflow (0 without an error), rounded half to even.
  ['1e-310', '1e-310'], ['5e-324', '5e-324'], ['3e-324', '5e-324'], ['2e-324', '0'],
  ['1e-400000', '0'], ['1e-4294967296', '0'],
  ['0x1.fffffffffffff8p-1022', '4.450147717014403e-308'],
  ['0x0.ffffffffffffe7p-1022', '2.2250738585072004e-308'],
  ['0x0.00000003456788p-1022', '1.694649e-317'], ['0x0.00000003456789p-1022', '1.6946496e-317'],
  ['0x0.00000000000010p-1022', '5e-324'], ['0x0.000000000000081p-1022', '5e-324'],
  ['0x0.00000000000008p-1022', '0'], ['0x1p-18446744073709551616', '0'],
  // Underscores: only between digits (or after a base prefix), in decimal too.
  ['1_23.50_0_0e+1_2', '1.235e+14'], ['1_000', '1000'], ['0x_1_2.3_4_5p+1_2', '74565'],
  ['-0x1_ep-1', '-15'],
];

/** Rejected with ErrSyntax (and 0). */
const SYNTAX_ERRORS: string[] = [
  // Decimal.
  '1x', '1.1.',
  // Hexadecimal: the p exponent is required.
  '0x1e2', '0x1', '1p2', '0x', '0x.', '0xp1', '0x1p', '0x1p+',
  // Specials: any case; a sign before inf and infinity only; nothing after them.
  '+nan', '-nan', 'nanx', 'infx', 'info', 'infinit', 'infinityy',
  // Underscores: only between digits (or after a base prefix), in decimal too.
  '_123.5e+12', '-_123.5e+12', '1__23.5e+12', '123_.5e+12', '123._5e+12', '123.5_e+12',
  '123.5e_+12', '123.5e+_12', '123.5e+12_', '0x__12.345p+12', '0x12.345_p+12',
  // Everything else.
  '', ' 1', '1 ', '+', '+-1', '1e', '1e-', '.e-1', '0b1', '0o7',
];

/** Finite but beyond the largest float64: ±Inf with ErrRange. */
const RANGE_ERRORS: Array<[string, string]> = [
  ['1.7976931348623159e308', '+Inf'], ['-1.7976931348623159e308', '-Inf'],
  ['1.797693134862315808e308', '+Inf'], ['0x1.fffffffffffff8p1023', '+Inf'], ['0x1p1024', '+Inf'],
  ['-0x1p1024', '-Inf'], ['2e308', '+Inf'], ['1e400000', '+Inf'], ['1e+4294967296', '+Inf'],
  ['0x1p+18446744073709551616', '+Inf'],
];

describe('parseGoFloat is Go strconv.ParseFloat(s, 64)', () => {
  for (const [input, value] of VALUES) {
    it(`${JSON.stringify(input)} -> ${value}`, () => {
      const got = parseGoFloat(input);
      expect(got.error).toBeUndefined();
      expect(formatGoFloat(got.value)).toBe(value);
    });
  }
  for (const input of SYNTAX_ERRORS) {
    it(`${JSON.stringify(input)} -> invalid syntax`, () => {
      expect(parseGoFloat(input)).toMatchObject({ value: 0, error: { reason: 'invalid syntax' } });
    });
  }
  for (const [input, value] of RANGE_ERRORS) {
    it(`${JSON.stringify(input)} -> ${value}, value out of range`, () => {
      const got = parseGoFloat(input);
      expect(got.error?.reason).toBe('value out of range');
      expect(formatGoFloat(got.value)).toBe(value);
    });
  }

  it('words its errors as Go does, the input quoted', () => {
    expect(parseGoFloat('+nan').error?.message).toBe('strconv.ParseFloat: parsing "+nan": invalid syntax');
    expect(parseGoFloat('1e400').error?.message).toBe('strconv.ParseFloat: parsing "1e400": value out of range');
    expect(parseGoFloat('a"\n').error?.message).toBe('strconv.ParseFloat: parsing "a\\"\\n": invalid syntax');
  });

  it('reads mantissas longer than a float64 holds, rounding once at the end', () => {
    expect(parseGoFloat(`2.${'2'.repeat(4000)}e+1`).value).toBe(22.22222222222222);
    expect(parseGoFloat(`0x2.${'2'.repeat(4000)}p221`).value).toBe(7.18931911124017e66);
    expect(parseGoFloat(`1.00000000000000011102230246251565404236316680908203125${'0'.repeat(10000)}1`).value).toBe(1.0000000000000002);
  });
});

/** strconv.ParseInt(s, 0, 64) by Go `strconv/atoi.go`: the prefix picks the base; int64 bounds clamp with a range error. */
describe('parseGoInt is Go strconv.ParseInt(s, 0, 64)', () => {
  const cases: Array<[string, bigint, NumErrorReason | undefined]> = [
    ['0', 0n, undefined],
    ['-0', 0n, undefined],
    ['12345', 12345n, undefined],
    ['-012345', -5349n, undefined],
    ['0x12345', 0x12345n, undefined],
    ['-0X12345', -0x12345n, undefined],
    ['0b101', 5n, undefined],
    ['0o17', 15n, undefined],
    ['1_000', 1000n, undefined],
    ['0x_1_2', 18n, undefined],
    ['08', 0n, 'invalid syntax'],
    ['1__0', 0n, 'invalid syntax'],
    ['_10', 0n, 'invalid syntax'],
    ['0x', 0n, 'invalid syntax'],
    ['1.5', 0n, 'invalid syntax'],
    ['', 0n, 'invalid syntax'],
    ['9223372036854775807', 9223372036854775807n, undefined],
    ['9223372036854775808', 9223372036854775807n, 'value out of range'],
    ['-9223372036854775808', -9223372036854775808n, undefined],
    ['-9223372036854775809', -9223372036854775808n, 'value out of range'],
    ['18446744073709551616x', 9223372036854775807n, 'value out of range'],
  ];
  for (const [input, value, reason] of cases) {
    it(`${JSON.stringify(input)} -> ${value}${reason === undefined ? '' : ` (${reason})`}`, () => {
      const got = parseGoInt(input);
      expect(got.value).toBe(value);
      expect(got.error?.reason).toBe(reason);
    });
  }
});
