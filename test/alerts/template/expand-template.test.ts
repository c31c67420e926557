import { describe, expect, it } from 'vitest';
import { checkTemplate, expandTemplate, goSprintf, TemplateError } from '../../../src/alerts/index.js';
import { formatGoFloat } from '../../../src/go-strconv/index.js';
import type { AlertTemplateData } from '../../../src/alerts/index.js';

const data = (value: number, labels: Record<string, string> = { job: 'api', instance: 'host-1:9090' }): AlertTemplateData => ({
  labels, externalLabels: { cluster: 'stg' }, externalURL: 'https://s.example', value,
});
const x = (text: string, value = 1, labels?: Record<string, string>): string => expandTemplate({ name: '__alert_T', text }, data(value, labels));

describe('formatGoFloat (Go %v of float64)', () => {
  it.each([
    [15000, '15000'], [100000, '100000'], [999999, '999999'], [0.000123, '0.000123'], [0.1 + 0.2, '0.30000000000000004'],
    [1234567, '1.234567e+06'], [1e21, '1e+21'], [0.00001, '1e-05'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [NaN, 'NaN'], [0, '0'], [-0, '-0'], [-2.5, '-2.5'],
  ])('%s → %s', (v, want) => {
    expect(formatGoFloat(v)).toBe(want);
  });
});

describe('printf', () => {
  it.each([
    ['%.2f', [0.125], '0.12'], ['%.2f', [2.675], '2.67'], ['%.0f', [0.5], '0'], ['%.0f', [2.5], '2'], ['%.0f', [1234.5], '1234'],
    ['%.0f', [3.5], '4'], ['%.1f', [0.25], '0.2'], ['%.3e', [123456], '1.235e+05'], ['%g', [1e-7], '1e-07'], ['%5.1f|', [3.14159], '  3.1|'],
    ['%-4s|', ['ab'], 'ab  |'], ['%s', [1.5], '%!s(float64=1.5)'], ['%d %d', [], '%!d(MISSING) %!d(MISSING)'], ['%%', [], '%'], ['%v', [true], 'true'],
    ['%q', ['a"b'], '"a\\"b"'], ['%08.3f', [-3.14159], '-003.142'], ['%+.1f', [2], '+2.0'], ['%x', ['hi'], '6869'], ['%.4g', [1234567], '1.235e+06'],
  ])('printf %j of %j', (format, args, want) => {
    expect(goSprintf(format, args as never[])).toBe(want);
  });
});

describe('expandTemplate', () => {
  it.each([
    ['{{ $value }}', 1234567, '1.234567e+06'],
    ['{{ .Value }} {{ $labels.job }} {{ .Labels.instance }}', 5, '5 api host-1:9090'],
    ['[{{ $labels.nonexistent }}]', 1, '[]'],
    ['{{ humanize $value }}', 999999, '1000k'], ['{{ humanize $value }}', 1234.5, '1.234k'], ['{{ humanize $value }}', 0.5, '500m'], ['{{ humanize 0 }}', 1, '0'],
    ['{{ humanize1024 $value }}', 1048576, '1Mi'], ['{{ humanize1024 $value }}', 0.5, '0.5'],
    ['{{ humanizeDuration $value }}', 3600, '1h 0m 0s'], ['{{ humanizeDuration $value }}', 86405, '1d 0h 0m 5s'], ['{{ humanizeDuration $value }}', 45.25, '45.25s'],
    ['{{ humanizeDuration $value }}', 0.5, '500ms'], ['{{ humanizeDuration $value }}', 0, '0s'], ['{{ humanizeDuration $value }}', -90, '-1m 30s'],
    ['{{ humanizePercentage $value }}', 0.0525, '5.25%'], ['{{ humanizeTimestamp $value }}', 1435065584.128, '2015-06-23 13:19:44.128 +0000 UTC'],
    ['{{ $value | humanize }}', 2e9, '2G'], ['{{ printf "%.2f" $value }}', 2.675, '2.67'],
    ['{{ title "replay worker-a" }} {{ toUpper "x" }} {{ toLower "Y" }}', 1, 'Replay Worker-A X y'],
    ['{{ reReplaceAll "(.*):(.*)" "$1" $labels.instance }}', 1, 'host-1'], ['{{ reReplaceAll "a*" "-" "baaac" }}', 1, '-b-c-'],
    ['{{ reReplaceAll "(a)" "${1-}$1|$01|$1é" "a" }}', 1, '${1-}a||'],
    ['{{ if gt $value 5.0 }}big{{ else if gt $value 1.0 }}mid{{ else }}small{{ end }}', 3, 'mid'],
    ['{{ if and (ge $value 1.0) (lt $value 2.0) }}in{{ end }}{{ if not (eq $labels.job "db") }}!db{{ end }}', 1.5, 'in!db'],
    ['{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}', 1, 'instance=host-1:9090;job=api;'],
    ['{{ with $labels.job }}job={{ . }}{{ end }}{{ with $labels.none }}never{{ else }}none{{ end }}', 1, 'job=apinone'],
    ['a  {{- " b " -}}  c', 1, 'a b c'], ['{{/* comment */}}x', 1, 'x'], ['{{ $externalLabels.cluster }} {{ $externalURL }}', 1, 'stg https://s.example'],
    ['{{ $x := 3 }}{{ $x }}{{ $x = "y" }}{{ $x }}', 1, '3y'], ['{{ len $labels }} {{ index $labels "job" }}', 1, '2 api'],
    ['{{ print 1 2 "a" "b" 3 }}', 1, '1 2ab3'], ['{{ or "" "fallback" }}', 1, 'fallback'], ['{{ match "^host" $labels.instance }}', 1, 'true'],
    ['{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" $labels.job }}{{ template "x" }}', 1, '[api][<no value>]'],
    ['{{ block "b" $value }}<{{ . }}>{{ end }}', 2, '<2>'],
    ['{{ slice $labels.instance 0 6 }}|{{ slice "abc" 1 }}', 1, 'host-1|bc'],
    ['{{ "quoted\\tstr" }}', 1, 'quoted\tstr'], ['{{ `raw\\n` }}', 1, 'raw\\n'],
  ])('%s with $value=%s', (text, value, want) => {
    expect(x(text, value)).toBe(want);
  });

  it('runs query "…" | first | value through the query function at the evaluation time', () => {
    const out = expandTemplate({ name: '__alert_Q', text: '{{ query "sum(x)" | first | value | humanize }} {{ with query "none" }}{{ . | first }}{{ else }}empty{{ end }}' }, data(1), {
      query: (expr) => (expr === 'sum(x)' ? [{ labels: {}, value: 2500 }] : []),
    });
    expect(out).toBe('2.5k empty');
  });

  it('reports execution errors the way Go does, with position and context', () => {
    expect(() => x('{{ humanize "x" }}')).toThrow(TemplateError);
    expect(() => x('{{ humanize "x" }}')).toThrow(
      'error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <humanize "x">: error calling humanize: strconv.ParseFloat: parsing "x": invalid syntax',
    );
    expect(() => x('{{ if gt $value 5 }}x{{ end }}')).toThrow(/error calling gt: incompatible types for comparison/);
    expect(() => x('{{ query "x" | first }}')).toThrow(/queries are not available here/);
  });

  it('reports parse errors like Go text/template', () => {
    expect(checkTemplate('__alert_T', '{{ .Foo ')).toBe('template: __alert_T:1: unclosed action');
    expect(checkTemplate('__alert_T', '{{ nofunc 1 }}')).toBe('template: __alert_T:1: function "nofunc" not defined');
    expect(checkTemplate('__alert_T', '{{ if true }}x')).toBe('template: __alert_T:1: unexpected EOF');
    expect(checkTemplate('__alert_T', '{{ end }}')).toBe('template: __alert_T:1: unexpected {{end}}');
    expect(checkTemplate('__alert_T', '{{ $undefined }}')).toBe('template: __alert_T:1: undefined variable "$undefined"');
    expect(checkTemplate('__alert_T', 'line1\n{{ .Foo')).toBe('template: __alert_T:2: unclosed action');
    expect(checkTemplate('__alert_T', '{{ $value | humanize }} {{ range $k, $v := $labels }}{{ end }}')).toBeUndefined();
  });
});
