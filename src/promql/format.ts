/**
 * The two ways a query result is shown: the Prometheus text style (promtool, `sentinel query`)
 * and the HTTP API's `data` JSON shape. Numbers and strings print through Go's strconv rules.
 */
import { formatFloatGo, formatGoFloatPlain, quoteGoString } from '../go-strconv/index.js';
import type { Labels } from './queryable.js';
import type { QueryResult, QueryValue } from './types.js';

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

/**
 * formatApiValue prints a sample value as the Prometheus HTTP API does (Prometheus
 * `util/jsonutil/marshal.go` `MarshalValue`): shortest digits, plain unless the magnitude is
 * below 1e-6 or at least 1e21, where it switches to an exponent (`1.7976931348623157e+308`).
 */
export function formatApiValue(v: number): string {
  const abs = Math.abs(v);
  return formatFloatGo(v, abs !== 0 && (abs < 1e-6 || abs >= 1e21) ? 'e' : 'f', -1);
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
        result: value.samples.map((s) => ({ metric: sortedMetric(s.labels), value: [s.t / 1000, formatApiValue(s.v)] })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: value.series.map((s) => ({
          metric: sortedMetric(s.labels),
          values: s.points.map((p): ApiSamplePair => [p.t / 1000, formatApiValue(p.v)]),
        })),
      };
    case 'scalar':
      return { resultType: 'scalar', result: [value.t / 1000, formatApiValue(value.v)] };
    case 'string':
      return { resultType: 'string', result: [value.t / 1000, value.v] };
  }
}

/**
 * apiQueryResponse is the whole body of a successful `/api/v1/query(_range)` answer, serialized:
 * `{"status":"success","data":...}` plus `warnings` when there are any.
 */
export function apiQueryResponse(result: QueryResult): string {
  const data = toApiQueryData(result.value);
  return JSON.stringify(result.warnings.length > 0 ? { status: 'success', data, warnings: result.warnings } : { status: 'success', data });
}
