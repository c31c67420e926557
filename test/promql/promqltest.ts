/**
 * A reader for Prometheus' promqltest script language (`load`, `eval instant at`, `eval range`,
 * `eval_fail`, `eval_ordered`, `clear`) and an array-backed Queryable to run it against.
 * Used by the one runner, promqltest.test.ts.
 */
import { RE2JS } from 're2js';
import { parseExpr } from '../../src/promql/index.js';
import type { LabelMatcher, Labels, Queryable, SeriesColumns } from '../../src/promql/index.js';
import type { Sample, SeriesData } from '../../src/store/index.js';
import { parseDurationMs } from '../../src/time/index.js';

/** toColumns turns object samples into the columns the engine reads. */
export function toColumns(s: SeriesData): SeriesColumns {
  const t = Float64Array.from(s.samples, (p) => p.t);
  const v = Float64Array.from(s.samples, (p) => (p.stale === true ? NaN : p.v));
  const stale = s.samples.some((p) => p.stale === true) ? Uint8Array.from(s.samples, (p) => (p.stale === true ? 1 : 0)) : undefined;
  return { labels: s.labels, t, v, stale, start: 0, end: t.length };
}

/** ArrayQueryable keeps series in memory, sorted by label key as the store returns them. */
export class ArrayQueryable implements Queryable {
  private readonly series = new Map<string, { labels: Labels; samples: Sample[] }>();
  private readonly regexes = new Map<string, RE2JS>();

  add(labels: Labels, samples: Sample[]): void {
    const key = labelsKeyOf(labels);
    const existing = this.series.get(key);
    if (existing === undefined) this.series.set(key, { labels, samples: [...samples] });
    else {
      // A later definition of the same series replaces samples at the same timestamps, as
      // promqltest's loader keys series by label hash.
      const times = new Set(samples.map((s) => s.t));
      existing.samples = [...existing.samples.filter((s) => !times.has(s.t)), ...samples].sort((a, b) => a.t - b.t);
    }
  }

  clear(): void {
    this.series.clear();
  }

  private matches(m: LabelMatcher, value: string): boolean {
    switch (m.type) {
      case '=':
        return value === m.value;
      case '!=':
        return value !== m.value;
      case '=~':
      case '!~': {
        let re = this.regexes.get(m.value);
        if (re === undefined) {
          re = RE2JS.compile(`^(?:${m.value})$`);
          this.regexes.set(m.value, re);
        }
        return re.testExact(value) === (m.type === '=~');
      }
    }
  }

  select(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesData[] {
    const out: SeriesData[] = [];
    const keys = [...this.series.keys()].sort();
    for (const k of keys) {
      const s = this.series.get(k);
      if (s === undefined) continue;
      if (!matchers.every((m) => this.matches(m, s.labels[m.name] ?? ''))) continue;
      const samples = s.samples.filter((p) => p.t >= startMs && p.t <= endMs);
      if (samples.length > 0) out.push({ labels: s.labels, samples });
    }
    return out;
  }

  selectColumns(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesColumns[] {
    return this.select(matchers, startMs, endMs).map((s) => toColumns(s));
  }
}

function labelsKeyOf(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((n) => `${n}\u0000${labels[n]}`)
    .join('\u0001');
}

/** parseSeriesLabels reads `metric{a="b"}` / `{a="b"}` through the PromQL parser. */
export function parseSeriesLabels(text: string): Labels {
  const t = text.trim();
  if (t === '{}' || t === '') return {};
  const e = parseExpr(t);
  if (e.kind !== 'vectorSelector') throw new Error(`not a series description: ${text}`);
  const out: Record<string, string> = {};
  for (const m of e.matchers) {
    if (m.type !== '=') throw new Error(`series description needs = matchers: ${text}`);
    out[m.name] = m.value;
  }
  return out;
}

/** SeriesValue is one expanded value: a number, a stale marker, or a gap. */
export type SeriesValue = number | 'stale' | undefined;

function parseValue(tok: string): number {
  const lower = tok.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  const v = Number(tok);
  if (tok.trim() === '' || Number.isNaN(v)) throw new Error(`bad value "${tok}"`);
  return v;
}

/** expandValues expands promtool's notation: `a+bxN`, `a-bxN`, `axN`, `_`, `_xN`, `stale`, numbers. */
export function expandValues(text: string): SeriesValue[] {
  const out: SeriesValue[] = [];
  for (const tok of text.trim().split(/\s+/)) {
    if (tok === '') continue;
    if (tok === '_') {
      out.push(undefined);
      continue;
    }
    if (tok === 'stale') {
      out.push('stale');
      continue;
    }
    let m = /^_x(\d+)$/.exec(tok);
    if (m) {
      for (let i = 0; i < Number(m[1]); i++) out.push(undefined);
      continue;
    }
    m = /^([^x]+?)([+-])([^x+-][^x]*)x(\d+)$/.exec(tok);
    if (m) {
      const start = parseValue(m[1]);
      const step = parseValue(m[3]) * (m[2] === '-' ? -1 : 1);
      let v = start;
      // Repeated float addition, exactly as promtool accumulates.
      for (let i = 0; i <= Number(m[4]); i++) {
        out.push(v);
        v += step;
      }
      continue;
    }
    m = /^([^x]+)x(\d+)$/.exec(tok);
    if (m) {
      const v = parseValue(m[1]);
      for (let i = 0; i <= Number(m[2]); i++) out.push(v);
      continue;
    }
    out.push(parseValue(tok));
  }
  return out;
}

/** ExpectedSample is one expected line: labels and the values (one for instant, many for range). */
export interface ExpectedSample {
  readonly labels: Labels | undefined;
  readonly values: SeriesValue[];
}

/** Command is one script command. */
export type Command =
  | { kind: 'load'; line: number; intervalMs: number; series: Array<{ labels: Labels; values: SeriesValue[] }> }
  | { kind: 'clear'; line: number }
  | {
      kind: 'eval';
      line: number;
      expr: string;
      mode: 'instant' | 'range';
      atMs: number;
      endMs: number;
      stepMs: number;
      fail: boolean;
      ordered: boolean;
      expected: ExpectedSample[];
    };

function parseTime(text: string): number {
  const d = parseDurationMs(text);
  if (d !== undefined) return d;
  const n = Number(text);
  if (Number.isNaN(n)) throw new Error(`bad time "${text}"`);
  return Math.round(n * 1000);
}

/** splitSeriesLine splits `labels values` at the closing brace or the first space. */
function splitSeriesLine(line: string): [string, string] {
  const brace = line.indexOf('}');
  if (brace >= 0) return [line.slice(0, brace + 1), line.slice(brace + 1)];
  const sp = line.search(/\s/);
  return sp < 0 ? [line, ''] : [line.slice(0, sp), line.slice(sp)];
}

/** parseScript parses a whole `.test` file. */
export function parseScript(text: string): Command[] {
  const lines = text.split('\n');
  const cmds: Command[] = [];
  let i = 0;
  const body = (): Array<{ text: string; line: number }> => {
    const out: Array<{ text: string; line: number }> = [];
    while (i < lines.length) {
      const raw = lines[i];
      const trimmed = raw.trim();
      if (trimmed === '' || !/^\s/.test(raw)) break;
      i++;
      if (trimmed.startsWith('#')) continue;
      out.push({ text: trimmed, line: i });
    }
    return out;
  };
  while (i < lines.length) {
    const raw = lines[i];
    const line = raw.trim();
    const lineNo = i + 1;
    i++;
    if (line === '' || line.startsWith('#')) continue;
    let m = /^load\s+(\S+)$/.exec(line);
    if (m) {
      const intervalMs = parseTime(m[1]);
      const series = body().map((b) => {
        const [l, v] = splitSeriesLine(b.text);
        return { labels: parseSeriesLabels(l), values: expandValues(v) };
      });
      cmds.push({ kind: 'load', line: lineNo, intervalMs, series });
      continue;
    }
    if (line === 'clear') {
      cmds.push({ kind: 'clear', line: lineNo });
      continue;
    }
    m = /^eval(_fail|_ordered)?\s+instant\s+at\s+(\S+)\s+(.+)$/.exec(line);
    const mr = /^eval(_fail|_ordered)?\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.+)$/.exec(line);
    if (m || mr) {
      const variant = (m ?? mr)?.[1];
      const isRange = mr !== null;
      const expected = body().map((b): ExpectedSample => {
        if (/^[-+]?(\d[\d.e+-]*|\.\d[\d.e+-]*|inf|nan)$/i.test(b.text)) return { labels: undefined, values: expandValues(b.text) };
        const [l, v] = splitSeriesLine(b.text);
        return { labels: parseSeriesLabels(l), values: expandValues(v) };
      });
      cmds.push({
        kind: 'eval',
        line: lineNo,
        expr: isRange ? (mr as RegExpExecArray)[5] : (m as RegExpExecArray)[3],
        mode: isRange ? 'range' : 'instant',
        atMs: parseTime(isRange ? (mr as RegExpExecArray)[2] : (m as RegExpExecArray)[2]),
        endMs: isRange ? parseTime((mr as RegExpExecArray)[3]) : 0,
        stepMs: isRange ? parseTime((mr as RegExpExecArray)[4]) : 0,
        fail: variant === '_fail',
        ordered: variant === '_ordered',
        expected,
      });
      continue;
    }
    throw new Error(`line ${lineNo}: unknown command: ${line}`);
  }
  return cmds;
}

/** loadInto appends a `load` command's samples to the queryable, sample i at i × interval. */
export function loadInto(q: ArrayQueryable, cmd: Extract<Command, { kind: 'load' }>): void {
  for (const s of cmd.series) {
    const samples: Sample[] = [];
    s.values.forEach((v, idx) => {
      const t = idx * cmd.intervalMs;
      if (v === undefined) return;
      if (v === 'stale') samples.push({ t, v: NaN, stale: true });
      else samples.push({ t, v });
    });
    q.add(s.labels, samples);
  }
}

/** almostEqual is promqltest's comparison (relative epsilon 1e-6; NaN equals NaN). */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const minNormal = 2.2250738585072014e-308;
  const epsilon = 0.000001;
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || diff < minNormal) return diff < epsilon * minNormal;
  return diff / (Math.abs(a) + Math.abs(b)) < epsilon;
}

/** exactlyEqual is bit-for-bit equality (NaN equals NaN), for this project's own expectations. */
export function exactlyEqual(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || a === b;
}
