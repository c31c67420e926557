/**
 * The function table of alert templates: Go's text/template builtins plus Prometheus' helpers
 * (template/template.go of 2.42): humanize*, title, toUpper, reReplaceAll, query, first, ...
 */
import { RE2JS } from 're2js';
import { parseDurationMs } from '../../time/index.js';
import type { FunctionTable, TemplateFunction } from './execute.js';
import { formatFloatGo, parseGoFloat } from '../../go-strconv/index.js';
import { expandGoTemplate } from '../../go-regexp/index.js';
import { goSprint, goSprintf, goSprintln } from './sprintf.js';
import { GoInt, GoMap, GoStruct, goTypeName, labelsMap, truth } from './values.js';
import type { TemplateValue } from './values.js';

/** TemplateSample is one element of a `query` result as templates see it. */
export interface TemplateSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** TemplateQueryFn runs an instant query at the template's evaluation time. */
export type TemplateQueryFn = (expr: string) => readonly TemplateSample[];

/** TemplateFunctionOptions carry what Prometheus' helpers need from their surroundings. */
export interface TemplateFunctionOptions {
  readonly query?: TemplateQueryFn;
  readonly externalURL?: string;
}

function sampleStruct(s: TemplateSample): GoStruct {
  return new GoStruct('*template.sample', { Labels: labelsMap(s.labels), Value: s.value });
}

function toFloat(v: TemplateValue): number {
  if (typeof v === 'number') return v;
  if (v instanceof GoInt) return v.value;
  if (typeof v === 'string') {
    // Prometheus' convertToFloat returns ParseFloat's error, out of range included.
    const { value, error } = parseGoFloat(v);
    if (error !== undefined) throw error;
    return value;
  }
  throw new Error(`can't convert ${goTypeName(v)} to float`);
}

const g4 = (v: number): string => formatFloatGo(v, 'g', 4);

/**
 * scaled is the loop of Prometheus' humanize helpers (`template/template.go`): while |v| is at
 * least `factor` (`down`) or below 1 (`up`), divide (multiply) it by `factor`, one prefix a step;
 * printed with %.4g.
 */
function scaled(v: number, factor: number, direction: 'down' | 'up', prefixes: readonly string[]): string {
  let prefix = '';
  for (const p of prefixes) {
    if (direction === 'down' ? Math.abs(v) < factor : Math.abs(v) >= 1) break;
    prefix = p;
    v = direction === 'down' ? v / factor : v * factor;
  }
  return g4(v) + prefix;
}

const SI_LARGE = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SI_SMALL = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
const IEC = ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];

function humanize(v: number): string {
  if (v === 0 || Number.isNaN(v) || !Number.isFinite(v)) return g4(v);
  return Math.abs(v) >= 1 ? scaled(v, 1000, 'down', SI_LARGE) : scaled(v, 1000, 'up', SI_SMALL);
}

function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || Number.isNaN(v) || !Number.isFinite(v)) return g4(v);
  return scaled(v, 1024, 'down', IEC);
}

function humanizeDuration(v: number): string {
  if (Number.isNaN(v) || !Number.isFinite(v)) return g4(v);
  if (v === 0) return `${g4(v)}s`;
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    // Go's int64(v): out-of-range conversions yield math.MinInt64 on amd64.
    const duration = v >= 9.223372036854776e18 ? -(2n ** 63n) : BigInt(Math.trunc(v));
    const seconds = duration % 60n;
    const minutes = (duration / 60n) % 60n;
    const hours = (duration / 3600n) % 24n;
    const days = duration / 86400n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  return `${scaled(v, 1000, 'up', SI_SMALL)}s`;
}

/**
 * floatToTimeMs is Prometheus' floatToTime: seconds to nanoseconds (int64, overflow refused),
 * then model.TimeFromUnixNano, which keeps whole milliseconds only (truncated toward zero).
 */
function floatToTimeMs(v: number): bigint {
  if (Number.isNaN(v) || !Number.isFinite(v)) throw new Error('value is NaN or Inf');
  const ts = v * 1e9;
  if (ts > 9.223372036854776e18 || ts < -9.223372036854776e18) {
    throw new Error(`${formatFloatGo(v, 'g', -1)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  }
  // Go's int64(2^63) on amd64 is MinInt64.
  const ns = ts >= 9.223372036854776e18 ? -(1n << 63n) : BigInt(Math.trunc(ts));
  return ns / 1_000_000n;
}

/** formatGoTime prints a UTC instant in ms like Go's time.Time String() ("2015-06-23 13:19:44.128 +0000 UTC"). */
function formatGoTime(ms: bigint): string {
  let secs = ms / 1000n;
  let frac = (ms % 1000n) * 1_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    secs -= 1n;
  }
  const d = new Date(Number(secs) * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  let out = `${String(d.getUTCFullYear()).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  if (frac > 0n) out += `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${out} +0000 UTC`;
}

function humanizeTimestamp(v: number): string {
  if (Number.isNaN(v) || !Number.isFinite(v)) return g4(v);
  return formatGoTime(floatToTimeMs(v));
}

/** goTitle is Go's strings.Title: upper-cases the first letter after any non-word character. */
function goTitle(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const isSep = !/[\p{L}\p{N}_]/u.test(prev) || /\s/u.test(prev);
    out += isSep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function compile(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    throw new Error(`error parsing regexp: ${(err as Error).message}`);
  }
}

/** reReplaceAll is Go's regexp.ReplaceAllString, including its handling of empty matches. */
function reReplaceAll(pattern: string, repl: string, text: string): string {
  const re = compile(pattern);
  const m = re.matcher(text);
  const names = new Map<string, number>(Object.entries(re.namedGroups() as Record<string, number>));
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= text.length) {
    if (!m.find(searchPos)) break;
    const start = m.start();
    const end = m.end();
    out += text.slice(lastMatchEnd, start);
    // No replacement for an empty match right after another match, as in Go.
    if (end > lastMatchEnd || start === 0) {
      const groups: Array<string | null> = [];
      for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g));
      out += expandGoTemplate(repl, (ref) => {
        const idx = typeof ref === 'number' ? ref : (names.get(ref) ?? -1);
        return idx >= 0 && idx < groups.length ? (groups[idx] ?? '') : '';
      });
    }
    lastMatchEnd = end;
    const width = searchPos < text.length ? (text.codePointAt(searchPos)! > 0xffff ? 2 : 1) : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + text.slice(lastMatchEnd);
}

function compare(name: string, a: TemplateValue, b: TemplateValue): number | undefined {
  const kind = (v: TemplateValue): string =>
    typeof v === 'number' ? 'float' : v instanceof GoInt ? 'int' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : 'other';
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== kb) {
    if (name === 'eq' || name === 'ne') {
      if (a === null || b === null) return a === b ? 0 : 1;
    }
    throw new Error('incompatible types for comparison');
  }
  if (ka === 'other' || (ka === 'bool' && name !== 'eq' && name !== 'ne')) {
    if (name === 'eq' || name === 'ne') return a === b ? 0 : 1;
    throw new Error('invalid type for comparison');
  }
  const x = a instanceof GoInt ? a.value : (a as number | string | boolean);
  const y = b instanceof GoInt ? b.value : (b as number | string | boolean);
  if (x === y) return 0;
  if (x < y) return -1;
  if (x > y) return 1;
  return undefined; // NaN: neither equal nor ordered
}

function fn(params: TemplateFunction['params'], call: TemplateFunction['call'], variadic = false): TemplateFunction {
  return { params, call, variadic };
}

function sampleOf(v: TemplateValue): GoStruct {
  if (v instanceof GoStruct && v.typeName === '*template.sample') return v;
  throw new Error(`wrong type for value; expected *template.sample; got ${goTypeName(v)}`);
}

function vectorOf(v: TemplateValue): readonly TemplateValue[] {
  if (Array.isArray(v)) return v as readonly TemplateValue[];
  throw new Error(`wrong type for value; expected template.queryResult; got ${goTypeName(v)}`);
}

/** TEMPLATE_FUNCTION_NAMES is every name a template may call (checked when parsing). */
export const TEMPLATE_FUNCTION_NAMES: ReadonlySet<string> = new Set([
  'and', 'or', 'not', 'len', 'index', 'slice', 'print', 'printf', 'println', 'html', 'js', 'urlquery', 'call',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'query', 'first', 'label', 'value', 'strvalue', 'args', 'reReplaceAll', 'safeHtml', 'match', 'title', 'toUpper',
  'toLower', 'graphLink', 'tableLink', 'sortByLabel', 'humanize', 'humanize1024', 'humanizeDuration',
  'humanizePercentage', 'humanizeTimestamp', 'pathPrefix', 'externalURL', 'parseDuration', 'toTime', 'stripPort',
  'stripDomain',
]);

/** templateFunctions builds the function table for one expansion. */
export function templateFunctions(opts: TemplateFunctionOptions): FunctionTable {
  // Go derives le from lt and eq, and gt/ge as their negations, so with NaN (unordered)
  // lt, le and eq are false while gt, ge and ne are true.
  const cmp = (name: string, ok: (c: number | undefined) => boolean): TemplateFunction => fn(['any', 'any'], ([a, b]) => ok(compare(name, a, b)));
  const graphLink = (expr: string, tab: number): string =>
    `/graph?g0.expr=${encodeURIComponent(expr).replace(/%20/g, '+')}&g0.tab=${tab}`;
  const table = new Map<string, TemplateFunction>([
    ['not', fn(['any'], ([a]) => !truth(a))],
    ['len', fn(['any'], ([a]) => {
      if (typeof a === 'string') return new GoInt(Buffer.byteLength(a, 'utf8'));
      if (a instanceof GoMap) return new GoInt(a.entries.size);
      if (Array.isArray(a)) return new GoInt(a.length);
      throw new Error(`len of type ${goTypeName(a)}`);
    })],
    ['index', fn(['any', 'any'], ([item, ...keys]) => {
      let cur = item;
      for (const k of keys) {
        if (cur instanceof GoMap) {
          if (typeof k !== 'string') throw new Error(`value has type ${goTypeName(k)}; should be string`);
          cur = cur.entries.has(k) ? (cur.entries.get(k) ?? null) : cur.elemZero;
        } else if (Array.isArray(cur)) {
          const i = k instanceof GoInt ? k.value : NaN;
          if (!(i >= 0 && i < cur.length)) throw new Error(`index out of range: ${k instanceof GoInt ? k.value : String(k)}`);
          cur = (cur as readonly TemplateValue[])[i];
        } else {
          throw new Error(`can't index item of type ${goTypeName(cur)}`);
        }
      }
      return cur;
    }, true)],
    ['slice', fn(['any', 'any'], ([item, ...idx]) => {
      const ints = idx.map((k) => {
        if (!(k instanceof GoInt)) throw new Error(`cannot index slice/array with type ${goTypeName(k)}`);
        return k.value;
      });
      if (ints.length > 3) throw new Error(`too many slice indexes: ${ints.length}`);
      if (typeof item === 'string') {
        if (ints.length === 3) throw new Error('cannot 3-index slice a string');
        const bytes = Buffer.from(item, 'utf8');
        const [i = 0, j = bytes.length] = ints;
        if (i < 0 || j < i || j > bytes.length) throw new Error(`index out of range: ${j > bytes.length ? j : i}`);
        return bytes.subarray(i, j).toString('utf8');
      }
      if (Array.isArray(item)) {
        const arr = item as readonly TemplateValue[];
        const [i = 0, j = arr.length] = ints;
        if (i < 0 || j < i || j > arr.length) throw new Error(`index out of range: ${j > arr.length ? j : i}`);
        return arr.slice(i, j);
      }
      throw new Error(`can't slice item of type ${goTypeName(item)}`);
    }, true)],
    ['print', fn(['any'], (args) => goSprint(args), true)],
    ['printf', fn(['string', 'any'], ([f, ...rest]) => goSprintf(f as string, rest), true)],
    ['println', fn(['any'], (args) => goSprintln(args), true)],
    ['html', fn(['any'], (args) => goSprint(args).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'), true)],
    ['js', fn(['any'], (args) => goSprint(args).replace(/[\\'"<>&=]/g, (c) => `\\u00${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).replace(/\\u005C/g, '\\\\').replace(/\\u0027/g, "\\'").replace(/\\u0022/g, '\\"'), true)],
    ['urlquery', fn(['any'], (args) => encodeURIComponent(goSprint(args)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`), true)],
    ['eq', fn(['any', 'any'], ([a, ...rest]) => {
      if (rest.length === 0) throw new Error('missing argument for comparison');
      return rest.some((b) => compare('eq', a, b) === 0);
    }, true)],
    ['ne', cmp('ne', (c) => c !== 0)],
    ['lt', cmp('lt', (c) => c !== undefined && c < 0)],
    ['le', cmp('le', (c) => c !== undefined && c <= 0)],
    ['gt', cmp('gt', (c) => !(c !== undefined && c <= 0))],
    ['ge', cmp('ge', (c) => !(c !== undefined && c < 0))],
    ['query', fn(['string'], ([q]) => {
      if (!opts.query) throw new Error('queries are not available here');
      return opts.query(q as string).map(sampleStruct);
    })],
    ['first', fn(['any'], ([v]) => {
      const vec = vectorOf(v);
      if (vec.length === 0) throw new Error('first() called on vector with no elements');
      return vec[0];
    })],
    ['label', fn(['string', 'any'], ([name, s]) => {
      const labels = sampleOf(s).fields.Labels as GoMap;
      return labels.entries.get(name as string) ?? '';
    })],
    ['value', fn(['any'], ([s]) => sampleOf(s).fields.Value)],
    ['strvalue', fn(['any'], ([s]) => ((sampleOf(s).fields.Labels as GoMap).entries.get('__value__') ?? ''))],
    ['args', fn(['any'], (args) => new GoMap(new Map(args.map((a, i) => [`arg${i}`, a])), 'map[string]interface {}', null), true)],
    ['reReplaceAll', fn(['string', 'string', 'string'], ([p, r, t]) => reReplaceAll(p as string, r as string, t as string))],
    ['safeHtml', fn(['string'], ([s]) => s)],
    ['match', fn(['string', 'string'], ([p, s]) => compile(p as string).matcher(s as string).find())],
    ['title', fn(['string'], ([s]) => goTitle(s as string))],
    ['toUpper', fn(['string'], ([s]) => (s as string).toUpperCase())],
    ['toLower', fn(['string'], ([s]) => (s as string).toLowerCase())],
    ['graphLink', fn(['string'], ([e]) => graphLink(e as string, 0))],
    ['tableLink', fn(['string'], ([e]) => graphLink(e as string, 1))],
    ['sortByLabel', fn(['string', 'any'], ([name, v]) => {
      const vec = [...vectorOf(v)];
      const key = (s: TemplateValue): string => ((sampleOf(s).fields.Labels as GoMap).entries.get(name as string) as string | undefined) ?? '';
      return vec.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    })],
    ['humanize', fn(['any'], ([v]) => humanize(toFloat(v)))],
    ['humanize1024', fn(['any'], ([v]) => humanize1024(toFloat(v)))],
    ['humanizeDuration', fn(['any'], ([v]) => humanizeDuration(toFloat(v)))],
    ['humanizePercentage', fn(['any'], ([v]) => `${g4(toFloat(v) * 100)}%`)],
    ['humanizeTimestamp', fn(['any'], ([v]) => humanizeTimestamp(toFloat(v)))],
    ['pathPrefix', fn([], () => {
      try {
        return new URL(opts.externalURL ?? '').pathname.replace(/\/$/, '');
      } catch {
        return '';
      }
    })],
    ['externalURL', fn([], () => opts.externalURL ?? '')],
    ['parseDuration', fn(['string'], ([d]) => {
      const ms = parseDurationMs(d as string);
      if (ms === undefined) throw new Error(`not a valid duration string: ${JSON.stringify(d)}`);
      return ms / 1000;
    })],
    ['toTime', fn(['any'], ([v]) => formatGoTime(floatToTimeMs(toFloat(v))))],
    ['stripPort', fn(['string'], ([hp]) => {
      const s = hp as string;
      const m = /^\[?([^\]]*?)\]?:\d*$/.exec(s);
      return m ? m[1] : s;
    })],
    ['stripDomain', fn(['string'], ([hp]) => {
      const s = hp as string;
      const m = /^(.*?)(:\d+)?$/.exec(s);
      const host = m?.[1] ?? s;
      if (/^[\d.]+$/.test(host) || host.includes(':')) return s;
      const dot = host.indexOf('.');
      return dot < 0 ? s : host.slice(0, dot) + (m?.[2] ?? '');
    })],
  ]);
  return table;
}
