/**
 * series-notation: promtool's input notation. `values` strings use the expanding notation of
 * Prometheus' test language (`a+bxN`, `a-bxN`, `axN`, `_`, `_xN`, `stale`, `NaN`, `Inf`), and
 * series / expected labels use the metric notation `name{label="value", ...}`.
 */
import type { Labels } from '../../store/index.js';

/** SeriesValueKind says what one step of an input series holds: a value, nothing, or a stale marker. */
export const SeriesValueKind = { value: 0, omitted: 1, stale: 2 } as const;
export type SeriesValueKind = (typeof SeriesValueKind)[keyof typeof SeriesValueKind];

/**
 * SeriesRun is one item of a values string: `count` steps of one kind; values are `start`
 * repeated, or from `start` by `step` (`a+bxN`, even when b is 0: repeated addition can turn -0
 * into 0).
 */
export interface SeriesRun {
  readonly kind: SeriesValueKind;
  readonly count: number;
  readonly start: number;
  readonly step?: number;
}

/**
 * SeriesValues is a parsed `values` string: its runs, unexpanded (a test holds millions of
 * steps), and how many steps they make. `SeriesCursor` walks them step by step.
 */
export interface SeriesValues {
  readonly length: number;
  readonly runs: readonly SeriesRun[];
}

/**
 * SeriesCursor reads a SeriesValues one step at a time, computing each value by the same float
 * additions as the test language's expansion.
 */
export class SeriesCursor {
  /** index is the step the cursor is at (`length` when done). */
  index = 0;
  /** kind and value describe the step at `index`. */
  kind: SeriesValueKind = SeriesValueKind.omitted;
  value = NaN;
  private run = -1;
  private left = 0;

  constructor(private readonly values: SeriesValues) {
    this.index = -1;
    this.next();
  }

  /** done tells whether every step has been read. */
  get done(): boolean {
    return this.index >= this.values.length;
  }

  /** next moves to the following step. */
  next(): void {
    this.index++;
    if (this.left > 0) {
      this.left--;
      const r = this.values.runs[this.run];
      if (r.step !== undefined) this.value += r.step;
      return;
    }
    const runs = this.values.runs;
    do this.run++;
    while (this.run < runs.length && runs[this.run].count === 0);
    if (this.run >= runs.length) return;
    const r = runs[this.run];
    this.kind = r.kind;
    this.value = r.start;
    this.left = r.count - 1;
  }
}

/** expandSeriesValues lists every step's kind and value (for tests and small inputs). */
export function expandSeriesValues(values: SeriesValues): Array<{ kind: SeriesValueKind; v: number }> {
  const out: Array<{ kind: SeriesValueKind; v: number }> = [];
  for (const c = new SeriesCursor(values); !c.done; c.next()) out.push({ kind: c.kind, v: c.value });
  return out;
}

/** NotationError is a malformed series or label notation; the message says what and where. */
export class NotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotationError';
  }
}

// No hex here: in series values `0x11` means "0 repeated", as the test language lexes it.
// As promtool's series lexer reads them: `Inf`/`NaN` (any case) are words, so `Infx2`,
// `NaNx2`, `stalex2` and `1+Infx2` are single unknown identifiers there, and `Infinity` is not
// a number.
const DECIMAL = String.raw`(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const NUM = String.raw`[+-]?(?:[iI][nN][fF]|[nN][aA][nN]|${DECIMAL})`;
const SINGLE = new RegExp(`^(${NUM})$`);
const TIMES = new RegExp(`^([+-]?${DECIMAL})x(\\d+)$`);
const STEP = new RegExp(`^(${NUM})([+-])(${DECIMAL})x(\\d+)$`);

/** parseNumber reads a PromQL number literal (decimal, hex, Inf, NaN, with sign). */
export function parseNumber(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[+-]/, '');
  const lower = body.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (lower.startsWith('0x')) return sign * parseInt(body.slice(2), 16);
  return sign * Number(body);
}

/** finiteNumber parses a literal, refusing decimals beyond float64 as Go's ParseFloat does. */
function finiteNumber(text: string, item: string): number {
  const v = parseNumber(text);
  if (!Number.isFinite(v) && !/inf|nan/i.test(text)) {
    throw new NotationError(`bad series value ${JSON.stringify(item)}: ${text.replace(/^[+-]/, '')} is out of the float64 range`);
  }
  return v;
}

/** parseSeriesValues parses a `values` string (one entry per sample interval) into runs. */
export function parseSeriesValues(text: string): SeriesValues {
  const runs: SeriesRun[] = [];
  let length = 0;
  const add = (run: SeriesRun): void => {
    runs.push(run);
    length += run.count;
  };
  for (const item of text.trim().split(/\s+/).filter((s) => s !== '')) {
    let m: RegExpExecArray | null;
    if (item === '_') {
      add({ kind: SeriesValueKind.omitted, count: 1, start: NaN });
    } else if ((m = /^_x(\d+)$/.exec(item))) {
      add({ kind: SeriesValueKind.omitted, count: Number(m[1]), start: NaN });
    } else if (item === 'stale') {
      add({ kind: SeriesValueKind.stale, count: 1, start: NaN });
    } else if ((m = SINGLE.exec(item))) {
      add({ kind: SeriesValueKind.value, count: 1, start: finiteNumber(m[1], item) });
    } else if ((m = TIMES.exec(item))) {
      add({ kind: SeriesValueKind.value, count: Number(m[2]) + 1, start: finiteNumber(m[1], item) });
    } else if ((m = STEP.exec(item))) {
      finiteNumber(m[1], item);
      finiteNumber(m[3], item);
      add({ kind: SeriesValueKind.value, count: Number(m[4]) + 1, start: parseNumber(m[1]), step: (m[2] === '-' ? -1 : 1) * parseNumber(m[3]) });
    } else {
      throw new NotationError(`bad series value ${JSON.stringify(item)}: use a number, _, stale, a+bxN, a-bxN or axN`);
    }
  }
  return { length, runs };
}

function unquote(text: string, at: number): { value: string; end: number } {
  const q = text[at];
  if (q === '`') {
    const end = text.indexOf('`', at + 1);
    if (end < 0) throw new NotationError('unterminated raw string');
    return { value: text.slice(at + 1, end), end: end + 1 };
  }
  let out = '';
  let i = at + 1;
  for (; i < text.length && text[i] !== q; i++) {
    const c = text[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = text[++i];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (e in simple) out += simple[e];
    else if (e === 'x') {
      out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === 'u') {
      out += String.fromCodePoint(parseInt(text.slice(i + 1, i + 5), 16));
      i += 4;
    } else if (e === 'U') {
      out += String.fromCodePoint(parseInt(text.slice(i + 1, i + 9), 16));
      i += 8;
    } else if (e >= '0' && e <= '7') {
      out += String.fromCharCode(parseInt(text.slice(i, i + 3), 8));
      i += 2;
    } else throw new NotationError(`invalid escape \\${e} in label value`);
  }
  if (i >= text.length) throw new NotationError('unterminated quoted string');
  return { value: out, end: i + 1 };
}

/**
 * parseMetricNotation parses `name{a="b", c='d'}`, `{__name__="x"}`, `name`, `''` or `'{}'` into
 * a label set (`__name__` included when present), like Prometheus' parser.ParseMetric.
 */
export function parseMetricNotation(text: string): Labels {
  const s = text.trim();
  const labels: Record<string, string> = {};
  let i = 0;
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s);
  if (name) {
    labels.__name__ = name[0];
    i = name[0].length;
  }
  const skipSpace = (): void => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  skipSpace();
  if (i < s.length) {
    if (s[i] !== '{') throw new NotationError(`unexpected ${JSON.stringify(s[i])} in ${JSON.stringify(text)}: expected {`);
    i++;
    for (;;) {
      skipSpace();
      if (s[i] === '}') {
        i++;
        break;
      }
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
      if (!ln) throw new NotationError(`bad label name at ${JSON.stringify(s.slice(i))} in ${JSON.stringify(text)}`);
      i += ln[0].length;
      skipSpace();
      if (s[i] !== '=') throw new NotationError(`expected = after label ${ln[0]} in ${JSON.stringify(text)}`);
      i++;
      skipSpace();
      if (s[i] !== '"' && s[i] !== "'" && s[i] !== '`') throw new NotationError(`expected a quoted value for label ${ln[0]} in ${JSON.stringify(text)}`);
      const v = unquote(s, i);
      if (Object.hasOwn(labels, ln[0])) throw new NotationError(`duplicate label ${ln[0]} in ${JSON.stringify(text)}`);
      labels[ln[0]] = v.value;
      i = v.end;
      skipSpace();
      if (s[i] === ',') {
        i++;
        continue;
      }
      if (s[i] === '}') {
        i++;
        break;
      }
      throw new NotationError(`expected , or } in ${JSON.stringify(text)}`);
    }
    skipSpace();
    if (i < s.length) throw new NotationError(`unexpected text after labels in ${JSON.stringify(text)}`);
  }
  return labels;
}
