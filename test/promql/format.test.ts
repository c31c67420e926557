import { describe, expect, it } from 'vitest';
import { formatGoFloat, formatGoFloatPlain, quoteGoString } from '../../src/go-strconv/index.js';
import { formatApiValue, formatQueryValue, toApiQueryData } from '../../src/promql/index.js';

describe('formatGoFloat prints like Go %v', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-2.5, '-2.5'],
    [15000, '15000'],
    [100000, '100000'],
    [999999, '999999'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [0.000123, '0.000123'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e21, '1e+21'],
    [1.5e300, '1.5e+300'],
    [5e-324, '5e-324'],
    [123456.789, '123456.789'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ];
  for (const [v, want] of cases) it(`${String(v)} -> ${want}`, () => expect(formatGoFloat(v)).toBe(want));
});

describe('formatGoFloatPlain prints like strconv.FormatFloat(v, f, -1)', () => {
  const cases: Array<[number, string]> = [
    [1234567, '1234567'],
    [1e21, '1000000000000000000000'],
    [0.00001, '0.00001'],
    [1.5e-7, '0.00000015'],
    [-3.25, '-3.25'],
    [Infinity, '+Inf'],
    [NaN, 'NaN'],
  ];
  for (const [v, want] of cases) it(`${String(v)} -> ${want}`, () => expect(formatGoFloatPlain(v)).toBe(want));
});

describe('formatApiValue prints like Prometheus util/jsonutil MarshalValue', () => {
  it('is plain between 1e-6 and 1e21, an exponent outside', () => {
    expect([0, -0, 0.1 + 0.2, 1e-6, 123456789012345680000, 1e21, 9.99e-7, -1e-300, Number.MAX_VALUE, NaN, Infinity, -Infinity].map(formatApiValue)).toEqual([
      '0',
      '-0',
      '0.30000000000000004',
      '0.000001',
      '123456789012345680000',
      '1e+21',
      '9.99e-07',
      '-1e-300',
      '1.7976931348623157e+308',
      'NaN',
      '+Inf',
      '-Inf',
    ]);
    expect(toApiQueryData({ type: 'scalar', t: 1000, v: Number.MAX_VALUE })).toEqual({ resultType: 'scalar', result: [1, '1.7976931348623157e+308'] });
  });
});

describe('quoteGoString', () => {
  it('escapes like strconv.Quote', () => {
    expect(quoteGoString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteGoString('tab\there\nnl')).toBe('"tab\\there\\nnl"');
    expect(quoteGoString('\x01é')).toBe('"\\x01é"');
  });
});

describe('query result formatters', () => {
  const vector = { type: 'vector' as const, samples: [{ labels: { __name__: 'up', job: 'api', instance: 'a' }, t: 1500, v: 1 }] };
  it('prints vectors, matrices and scalars in promtool style', () => {
    expect(formatQueryValue(vector)).toBe('up{instance="a", job="api"} => 1 @[1.5]');
    expect(formatQueryValue({ type: 'scalar', t: 60_000, v: 0.5 })).toBe('scalar: 0.5 @[60]');
    expect(
      formatQueryValue({
        type: 'matrix',
        series: [{ labels: { job: 'x' }, points: [{ t: 0, v: 1 }, { t: 15_000, v: 1e6 }] }],
      }),
    ).toBe('{job="x"} =>\n1 @[0]\n1000000 @[15]');
  });

  it('gives the Prometheus HTTP API data shape with string values and second timestamps', () => {
    expect(toApiQueryData(vector)).toEqual({ resultType: 'vector', result: [{ metric: { __name__: 'up', instance: 'a', job: 'api' }, value: [1.5, '1'] }] });
    expect(toApiQueryData({ type: 'scalar', t: 2000, v: Infinity })).toEqual({ resultType: 'scalar', result: [2, '+Inf'] });
    expect(toApiQueryData({ type: 'matrix', series: [{ labels: {}, points: [{ t: 1000, v: NaN }] }] })).toEqual({
      resultType: 'matrix',
      result: [{ metric: {}, values: [[1, 'NaN']] }],
    });
    expect(toApiQueryData({ type: 'string', t: 3000, v: 'x' })).toEqual({ resultType: 'string', result: [3, 'x'] });
  });
});
