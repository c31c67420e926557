/**
 * series-notation: promtool's input notation. `values` strings use the expanding notation of
 * Prometheus' test language (`a+bxN`, `a-bxN`, `axN`, `_`, `_xN`, `stale`, `NaN`, `Inf`), and
 * series / expected labels use the metric notation `name{label="value", ...}`.
 */
import type { Labels } from '../../store/index.js';

/** SeriesValue is one step of an input series: a value, a missing sample or a stale marker. */
export type SeriesValue = { readonly kind: 'value'; readonly v: number } | { readonly kind: 'omitted' } | { readonly kind: 'stale' };

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

/** parseSeriesValues expands a `values` string into one entry per sample interval. */
export function parseSeriesValues(text: string): SeriesValue[] {
  const out: SeriesValue[] = [];
  for (const item of text.trim().split(/\s+/).filter((s) => s !== '')) {
    let m: RegExpExecArray | null;
    if (item === '_') {
      out.push({ kind: 'omitted' });
    } else if ((m = /^_x(\d+)$/.exec(item))) {
      for (let i = 0; i < Number(m[1]); i++) out.push({ kind: 'omitted' });
    } else if (item === 'stale') {
      out.push({ kind: 'stale' });
    } else if ((m = SINGLE.exec(item))) {
      out.push({ kind: 'value', v: finiteNumber(m[1], item) });
    } else if ((m = TIMES.exec(item))) {
      const n = Number(m[2]);
      const v = finiteNumber(m[1], item);
      for (let i = 0; i <= n; i++) out.push({ kind: 'value', v });
    } else if ((m = STEP.exec(item))) {
      finiteNumber(m[1], item);
      finiteNumber(m[3], item);
      let v = parseNumber(m[1]);
      const step = (m[2] === '-' ? -1 : 1) * parseNumber(m[3]);
      const n = Number(m[4]);
      out.push({ kind: 'value', v });
      // Repeated float addition, as the test language does it (not start + i × step).
      for (let i = 1; i <= n; i++) {
        v += step;
        out.push({ kind: 'value', v });
      }
    } else {
      throw new NotationError(`bad series value ${JSON.stringify(item)}: use a number, _, stale, a+bxN, a-bxN or axN`);
    }
  }
  return out;
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
