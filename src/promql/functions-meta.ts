/**
 * Function signatures, kept apart from their implementations (functions.ts) as Prometheus keeps
 * `parser.Functions` apart from `promql.FunctionCalls`. The parser type-checks calls against
 * this table; a name missing here is an unknown or unsupported function.
 */
import type { ValueType } from './ast.js';

/** FunctionMeta is one function's signature. */
export interface FunctionMeta {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  /**
   * variadic: 0 = exactly `argTypes.length` arguments; n > 0 = the last argument type may be
   * omitted or repeated up to n times in total; -1 = the last type repeats without limit.
   */
  readonly variadic: number;
  readonly returnType: ValueType;
}

function fn(name: string, argTypes: readonly ValueType[], returnType: ValueType, variadic = 0): FunctionMeta {
  return { name, argTypes, variadic, returnType };
}

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

const LIST: readonly FunctionMeta[] = [
  fn('abs', [V], V),
  fn('absent', [V], V),
  fn('absent_over_time', [M], V),
  fn('acos', [V], V),
  fn('acosh', [V], V),
  fn('asin', [V], V),
  fn('asinh', [V], V),
  fn('atan', [V], V),
  fn('atanh', [V], V),
  fn('avg_over_time', [M], V),
  fn('ceil', [V], V),
  fn('changes', [M], V),
  fn('clamp', [V, S, S], V),
  fn('clamp_max', [V, S], V),
  fn('clamp_min', [V, S], V),
  fn('cos', [V], V),
  fn('cosh', [V], V),
  fn('count_over_time', [M], V),
  fn('days_in_month', [V], V, 1),
  fn('day_of_month', [V], V, 1),
  fn('day_of_week', [V], V, 1),
  fn('deg', [V], V),
  fn('delta', [M], V),
  fn('deriv', [M], V),
  fn('exp', [V], V),
  fn('floor', [V], V),
  fn('histogram_quantile', [S, V], V),
  fn('holt_winters', [M, S, S], V),
  fn('hour', [V], V, 1),
  fn('idelta', [M], V),
  fn('increase', [M], V),
  fn('irate', [M], V),
  fn('label_replace', [V, STR, STR, STR, STR], V),
  fn('label_join', [V, STR, STR, STR], V, -1),
  fn('last_over_time', [M], V),
  fn('ln', [V], V),
  fn('log10', [V], V),
  fn('log2', [V], V),
  fn('max_over_time', [M], V),
  fn('min_over_time', [M], V),
  fn('minute', [V], V, 1),
  fn('month', [V], V, 1),
  fn('pi', [], S),
  fn('predict_linear', [M, S], V),
  fn('present_over_time', [M], V),
  fn('quantile_over_time', [S, M], V),
  fn('rad', [V], V),
  fn('rate', [M], V),
  fn('resets', [M], V),
  fn('round', [V, S], V, 1),
  fn('scalar', [V], S),
  fn('sgn', [V], V),
  fn('sin', [V], V),
  fn('sinh', [V], V),
  fn('sort', [V], V),
  fn('sort_desc', [V], V),
  fn('sqrt', [V], V),
  fn('stddev_over_time', [M], V),
  fn('stdvar_over_time', [M], V),
  fn('sum_over_time', [M], V),
  fn('tan', [V], V),
  fn('tanh', [V], V),
  fn('time', [], S),
  fn('timestamp', [V], V),
  fn('vector', [S], V),
  fn('year', [V], V, 1),
];

/** FUNCTIONS maps every supported function name to its signature. */
export const FUNCTIONS: ReadonlyMap<string, FunctionMeta> = new Map(LIST.map((f) => [f.name, f]));

/**
 * UNSUPPORTED_FUNCTIONS names functions the grammar (or Prometheus 2.42) knows that this engine
 * rejects at parse time, with the reason given to the user.
 */
export const UNSUPPORTED_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['double_exponential_smoothing', 'double_exponential_smoothing is newer than Prometheus 2.42'],
  ['histogram_count', 'native histogram functions are not supported'],
  ['histogram_sum', 'native histogram functions are not supported'],
  ['histogram_fraction', 'native histogram functions are not supported'],
  ['histogram_avg', 'native histogram functions are not supported'],
  ['histogram_stddev', 'native histogram functions are not supported'],
  ['histogram_stdvar', 'native histogram functions are not supported'],
  ['histogram_quantiles', 'native histogram functions are not supported'],
]);
