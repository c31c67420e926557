/**
 * Test helpers for the text exposition: `promtool check metrics` (the Prometheus project's own
 * parser and linter) and a strict reader of the 0.0.4 format that fails on what expfmt refuses
 * (a second HELP or TYPE for one family, a family split in two, a bad line) and returns the
 * families with their TYPE and every sample.
 */
import { spawnSync } from 'node:child_process';

/** ParsedSample is one sample line. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly timestampMs?: number;
}

/** ParsedFamily is one family: HELP, TYPE and its samples in order. */
export interface ParsedFamily {
  readonly name: string;
  help?: string;
  type?: string;
  readonly samples: ParsedSample[];
}

/** PromtoolResult is `promtool check metrics`' verdict: exit 0 clean, 3 lint problems only, 1 parse error. */
export interface PromtoolResult {
  readonly status: number;
  readonly output: string;
}

/** promtoolCheckMetrics pipes `text` to `promtool check metrics`. */
export function promtoolCheckMetrics(text: string): PromtoolResult {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) throw new Error(`bad sample value ${JSON.stringify(s)}`);
  return v;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function familyOf(sample: string, families: Map<string, ParsedFamily>): string {
  if (families.has(sample)) return sample;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === 'histogram' || f.type === 'summary')) return base;
    }
  }
  return sample;
}

/** parseExposition reads a whole /metrics body; throws naming the line on anything malformed. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  let current: string | undefined;
  const closed = new Set<string>();
  const enter = (name: string): ParsedFamily => {
    if (current !== name) {
      if (closed.has(name)) throw new Error(`family ${name} appears twice, split by another family`);
      if (current !== undefined) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, samples: [] }));
    return f;
  };
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const f = enter(meta[2]);
      if (meta[1] === 'HELP') {
        if (f.help !== undefined) throw new Error(`line ${i + 1}: second HELP for ${f.name}`);
        f.help = unescape(meta[3] ?? '');
      } else {
        if (f.type !== undefined) throw new Error(`line ${i + 1}: second TYPE for ${f.name}`);
        f.type = meta[3];
      }
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const l = LABEL.exec(m[2]);
        if (!l) throw new Error(`line ${i + 1}: bad labels: ${m[2]}`);
        if (labels[l[1]] !== undefined) throw new Error(`line ${i + 1}: label ${l[1]} twice`);
        labels[l[1]] = unescape(l[2]);
      }
    }
    enter(familyOf(m[1], families)).samples.push({ name: m[1], labels, value: parseValue(m[3]), ...(m[4] !== undefined ? { timestampMs: Number(m[4]) } : {}) });
  });
  return families;
}

/** sampleKey identifies a sample by name and sorted labels. */
export function sampleKey(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels)
    .filter((k) => k !== '__name__' && labels[k] !== '')
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;
}
