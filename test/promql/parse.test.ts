import { describe, expect, it } from 'vitest';
import { PromqlParseError } from '../../src/errors.js';
import { collectSelectors, exprToString, exprValueType, parseExpr } from '../../src/promql/index.js';

describe('parseExpr round-trips through exprToString', () => {
  // Each pair is [input, Prometheus 2.42's String() of it].
  const cases: Array<[string, string]> = [
    ['foo', 'foo'],
    ['foo{b="2", a="1"}', 'foo{a="1",b="2"}'],
    ['{__name__="foo"}', '{__name__="foo"}'],
    ['foo{a=~"x|y", b!~"z", c!="w"}', 'foo{a=~"x|y",b!~"z",c!="w"}'],
    ['rate(foo[5m])', 'rate(foo[5m])'],
    ['rate(foo[90s])', 'rate(foo[1m30s])'],
    ['foo offset 5m', 'foo offset 5m'],
    ['foo offset -1h', 'foo offset -1h'],
    ['foo[5m] offset 1m @ 100', 'foo[5m] @ 100.000 offset 1m'],
    ['foo @ start()', 'foo @ start()'],
    ['foo @ end() offset 1m', 'foo @ end() offset 1m'],
    ['max_over_time(foo[10m:1m])', 'max_over_time(foo[10m:1m])'],
    ['max_over_time(rate(foo[1m])[10m:])', 'max_over_time(rate(foo[1m])[10m:])'],
    ['sum(foo) by (a, b)', 'sum by (a, b) (foo)'],
    ['sum without (a) (foo)', 'sum without (a) (foo)'],
    ['topk(3, foo)', 'topk(3, foo)'],
    ['count_values("v", foo)', 'count_values("v", foo)'],
    ['quantile by (x) (0.9, foo)', 'quantile by (x) (0.9, foo)'],
    ['a + on(b) group_left(c) d', 'a + on (b) group_left (c) d'],
    ['a > bool ignoring(x) b', 'a > bool ignoring (x) b'],
    ['a * on() group_right b', 'a * on () group_right () b'],
    ['a and on(x) b', 'a and on (x) b'],
    ['-foo', '-foo'],
    ['-1', '-1'],
    ['1e3', '1000'],
    ['1e6', '1e+06'],
    ['0x1F', '31'],
    ['017', '15'],
    ['08', '8'],
    ['-nan', 'NaN'],
    ['Inf', '+Inf'],
    ['-Inf', '-Inf'],
    ['NaN', 'NaN'],
    ['(a + b) * c', '(a + b) * c'],
    ['2 ^ 3 ^ 2', '2 ^ 3 ^ 2'],
    ['"a\\"b"', '"a\\"b"'],
    ["'single'", '"single"'],
    ['`raw\\n`', '"raw\\\\n"'],
    ['label_replace(up, "dst", "$1", "src", "(.*)")', 'label_replace(up, "dst", "$1", "src", "(.*)")'],
    ['holt_winters(foo[5m], 0.5, 0.1)', 'holt_winters(foo[5m], 0.5, 0.1)'],
    ['label_replace(up, "a", "holt_winters(", "b", ".*")', 'label_replace(up, "a", "holt_winters(", "b", ".*")'],
    ['sum(holt_winters(rate(x[5m])[10m:1m], 0.1, 0.9)) by (job)', 'sum by (job) (holt_winters(rate(x[5m])[10m:1m], 0.1, 0.9))'],
    ['holt_winters{a="b"} + holt_winters', 'holt_winters{a="b"} + holt_winters'],
    ['foo # a comment', 'foo'],
    ['sum by (job) (\n  rate(x[5m])\n)\n', 'sum by (job) (rate(x[5m]))'],
    ['sum(\n  # why: a comment inside a multi-line rule expression\n  x\n)', 'sum(x)'],
    ['foo{a="b",}', 'foo{a="b"}'],
    ['-foo offset 5m', '-foo offset 5m'],
    ['-foo @ 10', '-foo @ 10.000'],
    ['max_over_time(foo[5m:1m] @ 10)', 'max_over_time(foo[5m:1m] @ 10.000)'],
    ['-rate(foo[5m])', '-rate(foo[5m])'],
    ['a - b offset 5m', 'a - b offset 5m'],
    ['a * b offset 1m + c', 'a * b offset 1m + c'],
    ['a / b @ 100', 'a / b @ 100.000'],
    ['sum(rate(a[5m])) / sum(rate(b[5m] offset 1h))', 'sum(rate(a[5m])) / sum(rate(b[5m] offset 1h))'],
  ];
  for (const [input, want] of cases) {
    it(`${input} prints as ${want}`, () => {
      const e = parseExpr(input);
      expect(exprToString(e)).toBe(want);
      expect(String(e)).toBe(want);
      // Printing is a fixed point: the printed form parses back to the same print.
      expect(exprToString(parseExpr(want))).toBe(want);
    });
  }
});

describe('parseExpr structure', () => {
  it('gives ^ precedence over unary minus and is right-associative', () => {
    const e = parseExpr('-2 ^ 3 ^ 2');
    expect(e.kind).toBe('unary');
    if (e.kind !== 'unary') return;
    expect(e.expr.kind).toBe('binary');
    if (e.expr.kind !== 'binary') return;
    expect(e.expr.rhs.kind).toBe('binary');
  });

  it('binds offset, @ and ranges to the nearest selector, not to a binary expression', () => {
    const e = parseExpr('a - b offset 5m');
    expect(e.kind === 'binary' && e.rhs.kind === 'vectorSelector' && e.rhs.offsetMs).toBe(300_000);
    const f = parseExpr('x * max_over_time(y[5m:1m] @ 10)');
    expect(f.kind === 'binary' && f.rhs.kind).toBe('call');
  });

  it('binds * tighter than + and comparisons tighter than and', () => {
    const e = parseExpr('a + b * c > d and e');
    expect(e.kind === 'binary' && e.op).toBe('and');
    if (e.kind !== 'binary') return;
    expect(e.lhs.kind === 'binary' && e.lhs.op).toBe('>');
  });

  it('reads Go escapes in strings', () => {
    const e = parseExpr('foo{a="\\x41\\u00e9\\101\\t"}');
    expect(e.kind === 'vectorSelector' && e.matchers[0].value).toBe('Aé A\t'.replace(' ', ''));
  });

  it('reports value types', () => {
    expect(exprValueType(parseExpr('foo'))).toBe('vector');
    expect(exprValueType(parseExpr('foo[5m]'))).toBe('matrix');
    expect(exprValueType(parseExpr('foo[5m:]'))).toBe('matrix');
    expect(exprValueType(parseExpr('1 + 2'))).toBe('scalar');
    expect(exprValueType(parseExpr('scalar(foo)'))).toBe('scalar');
    expect(exprValueType(parseExpr('"x"'))).toBe('string');
    expect(exprValueType(parseExpr('foo * 2'))).toBe('vector');
  });

  it('collects every selector with its metric name and matchers', () => {
    const sels = collectSelectors(parseExpr('sum(rate(a{x="1"}[5m])) / on() group_left count({__name__="b", y=~"z"}) or absent(c)'));
    expect(sels).toEqual([
      { metricName: 'a', matchers: [{ name: 'x', type: '=', value: '1' }, { name: '__name__', type: '=', value: 'a' }] },
      { matchers: [{ name: '__name__', type: '=', value: 'b' }, { name: 'y', type: '=~', value: 'z' }] },
      { metricName: 'c', matchers: [{ name: '__name__', type: '=', value: 'c' }] },
    ]);
  });
});

function parseError(text: string): PromqlParseError {
  try {
    parseExpr(text);
  } catch (err) {
    if (err instanceof PromqlParseError) return err;
    throw err;
  }
  throw new Error(`expected ${text} to fail`);
}

describe('parse errors carry positions', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['1 +', 3, /unexpected end of input/],
    ['sum(foo', 7, /unclosed left parenthesis/],
    ['foo{a="b"', 9, /unexpected end of input|unexpected/],
    ['rate(foo)', 5, /expected type range vector in call to function "rate", got instant vector/],
    ['rate(foo[5m], 1)', 0, /expected 1 argument\(s\) in call to "rate", got 2/],
    ['round()', 0, /expected at least 1 argument/],
    ['sum(foo[5m])', 4, /expected type instant vector in aggregation expression, got range vector/],
    ['topk("x", foo)', 5, /expected type scalar in aggregation parameter, got string/],
    ['1 > 2', 2, /comparisons between scalars must use BOOL modifier/],
    ['foo + bool bar', 4, /bool modifier can only be used on comparison operators/],
    ['foo and 1', 0, /set operator "and" not allowed in binary scalar expression/],
    ['foo and on(x) group_left bar', 0, /no grouping allowed for "and" operation/],
    ['1 + on(x) foo', 0, /vector matching only allowed between instant vectors/],
    ['foo[5m] + 1', 0, /binary expression must contain only scalar and instant vector types/],
    ['-foo[5m]', 0, /unary expression only allowed on expressions of type scalar or instant vector/],
    ['-foo[5m:]', 0, /unary expression only allowed on expressions of type scalar or instant vector/],
    ['a - b[5m]', 4, /binary expression must contain only scalar and instant vector types/],
    ['(a - b) offset 5m', 0, /offset modifier must be preceded by/],
    ['{a=""}', 0, /at least one non-empty matcher/],
    ['{a=~".*"}', 0, /at least one non-empty matcher/],
    ['foo{__name__="bar"}', 0, /metric name must not be set twice/],
    ['(foo)[5m]', 0, /ranges only allowed for vector selectors/],
    ['foo offset 1m [5m]', 0, /no offset modifiers allowed before range/],
    ['(foo) offset 1m', 0, /offset modifier must be preceded by/],
    ['foo offset 1m offset 2m', 0, /offset may not be set multiple times/],
    ['foo @ 1 @ 2', 0, /may not be set multiple times/],
    ['foo[5m:1m][1m:]', 0, /subquery is only allowed on instant vector/],
    ['foo{a=~"("}', 7, /invalid regular expression/],
    ['foo[5x]', 5, /unexpected|bad duration/],
    ['foo[5m] offset 1m30', 0, /./],
    ['rate(foo[5m]', 12, /unclosed left parenthesis/],
    ['nosuchfn(foo)', 0, /unknown function with name "nosuchfn"/],
    ['holt_winters(foo, 0.5, 0.5)', 13, /expected type range vector in call to function "holt_winters"/],
    ['a + on(x) group_left(x) b', 2, /label "x" must not occur in ON and GROUP clause at once/],
    ['count_values(1, foo)', 13, /expected type string in aggregation parameter/],
    ['topk(foo)', 0, /wrong number of arguments for aggregate expression provided, expected 2, got 1/],
    ['foo{a="\\q"}', 6, /invalid string literal/],
  ];
  for (const [text, start, re] of cases) {
    it(`${text} fails at ${start}: ${re.source}`, () => {
      const err = parseError(text);
      expect(err.code).toBe('SENTINEL_PROMQL_PARSE');
      expect(err.message).toMatch(re);
      if (start > 0) expect(err.pos.start).toBe(start);
    });
  }
});

describe('constructs outside the supported subset are rejected by name', () => {
  const cases: Array<[string, RegExp]> = [
    ['histogram_count(foo)', /native histogram functions are not supported/],
    ['sort_by_label(foo, "a")', /function "sort_by_label" is not supported/],
    ['mad_over_time(foo[5m])', /function "mad_over_time" is not supported/],
    ['limitk(1, foo)', /aggregation "limitk" is not supported/],
    ['limit_ratio(0.5, foo)', /aggregation "limit_ratio" is not supported/],
    ['foo[5m+1m]', /duration expressions .* are not supported/],
    ['foo[step()]', /duration expressions .* are not supported/],
    ['foo offset (1m)', /duration expressions .* are not supported/],
    ['foo + 5m', /a duration is only allowed in a range, subquery or offset/],
    ['{"foo"}', /quoted label names are not supported/],
    ['foo{"a.b"="c"}', /quoted label names are not supported/],
    ['rate(foo[5m] anchored)', /anchored/],
    ['rate(foo[5m] smoothed)', /smoothed/],
    ['a + fill(0) b', /fill modifiers are not supported/],
    ['1_000', /digit separators are not supported/],
    // Prometheus 2.42 reports ParseFloat's error (promtool check rules says the same).
    ['1e400', /error parsing number: strconv.ParseFloat: parsing "1e400": value out of range$/],
  ];
  for (const [text, re] of cases) {
    it(`${text}`, () => {
      const err = parseError(text);
      expect(err.message).toMatch(re);
      expect(err.pos.end).toBeGreaterThan(err.pos.start - 1);
    });
  }
});
