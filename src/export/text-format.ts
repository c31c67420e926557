/**
 * The Prometheus text exposition format, version 0.0.4, as client_golang's `expfmt` writes it
 * (`expfmt/text_create.go`): `# HELP` and `# TYPE` once per family, then one line per series,
 * label values escaped (`\\`, `\"`, `\n`), HELP text escaped (`\\`, `\n`), and the special
 * values `+Inf`, `-Inf`, `NaN`, and an optional timestamp in ms after the value.
 */
import type { MetricType } from '../store/index.js';

/** TEXT_CONTENT_TYPE is the content type of the 0.0.4 text format (prom-client's default too). */
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** ExposedSeries is one line of a family: its own name (`_bucket`, `_sum`, `_count` for histograms), labels and value. */
export interface ExposedSeries {
  readonly name: string;
  /** labels exclude `__name__`. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** timestampMs, when set, is printed after the value (the sample's own time). */
  readonly timestampMs?: number;
}

/** ExposedFamily is one metric family with its metadata and current series. */
export interface ExposedFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly series: readonly ExposedSeries[];
}

/** formatValue prints a sample value the way Go's expfmt does for the specials. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** formatLabels prints `{a="1",b="2"}` in the order given, or '' for no labels. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (name === '__name__') continue;
    parts.push(`${name}="${escapeLabelValue(value)}"`);
  }
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

/** renderFamilies prints families in order; a family without series is left out. */
export function renderFamilies(families: readonly ExposedFamily[]): string {
  let out = '';
  for (const f of families) {
    if (f.series.length === 0) continue;
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.series) out += `${s.name}${formatLabels(s.labels)} ${formatValue(s.value)}${s.timestampMs === undefined ? '' : ` ${Math.round(s.timestampMs)}`}\n`;
  }
  return out;
}
