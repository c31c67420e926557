/**
 * go-json: just enough of Go's encoding/json to answer exactly as Toxiproxy does.
 *
 * Why not JSON.parse: Toxiproxy's error bodies quote Go's decoder verbatim (syntax errors like
 * `invalid character 'x' looking for beginning of value`, type errors naming the Go struct field
 * and the raw number literal), Go matches keys case-insensitively, ignores trailing bytes after
 * the first value and keeps decoding after a type error. A recorded session replays only if we
 * reproduce those rules.
 */

/** JsonValue is a parsed JSON value that keeps number literals as written. */
export type JsonValue =
  | { readonly t: 'object'; readonly entries: ReadonlyArray<readonly [string, JsonValue]> }
  | { readonly t: 'array'; readonly items: readonly JsonValue[] }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'number'; readonly raw: string }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'null' };

/** GoJsonError is a decode failure whose `message` is Go's error text, e.g. `unexpected EOF`. */
export class GoJsonError extends Error {}

function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const s = JSON.stringify(String.fromCharCode(c));
  return `'${s.slice(1, -1)}'`;
}

class Scanner {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  private eof(): never {
    throw new GoJsonError('unexpected EOF');
  }

  private bad(c: number, context: string): never {
    throw new GoJsonError(`invalid character ${quoteChar(c)} ${context}`);
  }

  skipSpace(): void {
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos];
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  peek(): number | undefined {
    return this.pos < this.buf.length ? this.buf[this.pos] : undefined;
  }

  value(context = 'looking for beginning of value'): JsonValue {
    const c = this.nonSpace();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return { t: 'string', v: this.string() };
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal('true', { t: 'bool', v: true });
    if (c === 0x66) return this.literal('false', { t: 'bool', v: false });
    if (c === 0x6e) return this.literal('null', { t: 'null' });
    return this.bad(c, context);
  }

  private literal(word: string, result: JsonValue): JsonValue {
    for (let i = 0; i < word.length; i++) {
      const c = this.peek();
      if (c === undefined) this.eof();
      if (c !== word.charCodeAt(i)) this.bad(c, `in literal ${word} (expecting ${quoteChar(word.charCodeAt(i))})`);
      this.pos++;
    }
    return result;
  }

  private object(): JsonValue {
    const entries: Array<[string, JsonValue]> = [];
    this.members(
      0x7d,
      () => {
        const c = this.nonSpace();
        if (c !== 0x22) this.bad(c, 'looking for beginning of object key string');
        const key = this.string();
        const colon = this.nonSpace();
        if (colon !== 0x3a) this.bad(colon, 'after object key');
        this.pos++;
        entries.push([key, this.value()]);
      },
      'after object key:value pair',
    );
    return { t: 'object', entries };
  }

  private array(): JsonValue {
    const items: JsonValue[] = [];
    this.members(0x5d, () => items.push(this.value()), 'after array element');
    return { t: 'array', items };
  }

  /**
   * members reads the comma-separated members of an object or array, from its opening byte
   * through `close`; `member` reads one, `afterMember` is Go's context for a byte that is
   * neither `,` nor `close` after it.
   */
  private members(close: number, member: () => void, afterMember: string): void {
    this.pos++;
    if (this.nonSpace() === close) {
      this.pos++;
      return;
    }
    for (;;) {
      member();
      const c = this.nonSpace();
      if (c === close) {
        this.pos++;
        return;
      }
      if (c !== 0x2c) this.bad(c, afterMember);
      this.pos++;
    }
  }

  /** nonSpace skips white space and returns the byte after it; input ending first is Go's `unexpected EOF`. */
  private nonSpace(): number {
    this.skipSpace();
    const c = this.peek();
    if (c === undefined) this.eof();
    return c;
  }

  private string(): string {
    this.pos++;
    const parts: Buffer[] = [];
    let start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.eof();
      if (c === 0x22) {
        parts.push(this.buf.subarray(start, this.pos));
        this.pos++;
        return Buffer.concat(parts).toString('utf8');
      }
      if (c < 0x20) this.bad(c, 'in string literal');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      parts.push(this.buf.subarray(start, this.pos));
      this.pos++;
      const e = this.peek();
      if (e === undefined) this.eof();
      this.pos++;
      const simple: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };
      if (simple[e] !== undefined) {
        parts.push(Buffer.from(simple[e], 'utf8'));
      } else if (e === 0x75) {
        let code = 0;
        for (let i = 0; i < 4; i++) {
          const h = this.peek();
          if (h === undefined) this.eof();
          const d = hexDigit(h);
          if (d < 0) this.bad(h, 'in \\u hexadecimal character escape');
          code = code * 16 + d;
          this.pos++;
        }
        parts.push(Buffer.from(String.fromCharCode(code), 'utf8'));
      } else {
        this.bad(e, 'in string escape code');
      }
      start = this.pos;
    }
  }

  private number(): JsonValue {
    const start = this.pos;
    const digits = (context: string): void => {
      const c = this.peek();
      if (c === undefined) this.eof();
      if (c < 0x30 || c > 0x39) this.bad(c, context);
      while (this.peek() !== undefined && (this.peek() as number) >= 0x30 && (this.peek() as number) <= 0x39) this.pos++;
    };
    if (this.peek() === 0x2d) {
      this.pos++;
      const c = this.peek();
      if (c === undefined) this.eof();
      if (c < 0x30 || c > 0x39) this.bad(c, 'in numeric literal');
    }
    if (this.peek() === 0x30) this.pos++;
    else digits('in numeric literal');
    if (this.peek() === 0x2e) {
      this.pos++;
      digits('after decimal point in numeric literal');
    }
    const e = this.peek();
    if (e === 0x65 || e === 0x45) {
      this.pos++;
      const s = this.peek();
      if (s === 0x2b || s === 0x2d) this.pos++;
      digits('in exponent of numeric literal');
    }
    // A number at the very end of the body is complete only because the body ended; inside a
    // container Go would need the next byte, which the container parser then checks.
    return { t: 'number', raw: this.buf.toString('latin1', start, this.pos) };
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * parseGoJson reads the first JSON value of `body` as Go's `json.Decoder.Decode` does: an empty
 * body is `EOF`, bytes after the first value are ignored, errors carry Go's wording.
 */
export function parseGoJson(body: Buffer): JsonValue {
  const s = new Scanner(body);
  s.skipSpace();
  if (s.peek() === undefined) throw new GoJsonError('EOF');
  return s.value();
}

/** GoKind is the Go type of one decoded struct field. */
export type GoKind = 'string' | 'bool' | 'int64' | 'int' | 'float32' | 'ptrbool' | { readonly struct: string };

/** GoField describes one JSON-tagged field of a Go struct. */
export interface GoField {
  readonly key: string;
  readonly kind: GoKind;
}

/** DecodeContext carries Go's error context: the struct being filled and the field path so far. */
export interface DecodeContext {
  readonly structName: string;
  readonly path: readonly string[];
  /** firstError collects the first type error; decoding goes on after it, as in Go. */
  firstError?: string;
}

function kindName(v: JsonValue): string {
  return v.t === 'bool' ? 'bool' : v.t;
}

function goTypeName(kind: GoKind): string {
  if (typeof kind === 'object') return kind.struct;
  return kind === 'ptrbool' ? 'bool' : kind;
}

function typeError(ctx: DecodeContext, value: string, kind: GoKind, field: string): void {
  if (ctx.firstError !== undefined) return;
  const path = [...ctx.path, field].join('.');
  ctx.firstError = `json: cannot unmarshal ${value} into Go struct field ${ctx.structName}.${path} of type ${goTypeName(kind)}`;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * decodeGoStruct assigns `obj`'s entries to `out` by the Go field list (keys matched exactly,
 * else case-insensitively; null leaves a field alone; the last duplicate wins). Nested struct
 * fields are passed to `nested`, which decodes them with its own context.
 */
export function decodeGoStruct(
  obj: Extract<JsonValue, { t: 'object' }>,
  fields: readonly GoField[],
  ctx: DecodeContext,
  out: Record<string, unknown>,
  nested?: (key: string, value: Extract<JsonValue, { t: 'object' }>, path: readonly string[]) => void,
): void {
  for (const [rawKey, value] of obj.entries) {
    const field = fields.find((f) => f.key === rawKey) ?? fields.find((f) => f.key.toLowerCase() === rawKey.toLowerCase());
    if (!field) continue;
    const kind = field.kind;
    if (value.t === 'null') {
      if (kind === 'ptrbool') out[field.key] = undefined;
      continue;
    }
    if (typeof kind === 'object') {
      if (value.t !== 'object') typeError(ctx, kindName(value), kind, field.key);
      else nested?.(field.key, value, [...ctx.path, field.key]);
      continue;
    }
    switch (kind) {
      case 'string':
        if (value.t === 'string') out[field.key] = value.v;
        else typeError(ctx, kindName(value), kind, field.key);
        break;
      case 'bool':
      case 'ptrbool':
        if (value.t === 'bool') out[field.key] = value.v;
        else typeError(ctx, kindName(value), kind, field.key);
        break;
      case 'int':
      case 'int64': {
        if (value.t !== 'number') {
          typeError(ctx, kindName(value), kind, field.key);
          break;
        }
        if (!/^-?\d+$/.test(value.raw)) {
          typeError(ctx, `number ${value.raw}`, kind, field.key);
          break;
        }
        const n = BigInt(value.raw);
        if (n < INT64_MIN || n > INT64_MAX) typeError(ctx, `number ${value.raw}`, kind, field.key);
        else out[field.key] = Number(n);
        break;
      }
      case 'float32': {
        if (value.t !== 'number') {
          typeError(ctx, kindName(value), kind, field.key);
          break;
        }
        const f = Number(value.raw);
        if (!Number.isFinite(f) || Math.abs(f) > FLOAT32_MAX) typeError(ctx, `number ${value.raw}`, kind, field.key);
        else out[field.key] = Math.fround(f);
        break;
      }
    }
  }
}

/** goValueTypeError is Go's message for a top-level value of the wrong kind. */
export function goValueTypeError(value: JsonValue, goType: string): string {
  return `json: cannot unmarshal ${kindName(value)} into Go value of type ${goType}`;
}

/**
 * goJsonString encodes a string as Go's json.Marshal does: like JSON.stringify, plus `<`, `>`,
 * `&`, U+2028 and U+2029 escaped.
 */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** formatFloat32 prints a float32 as Go's encoding/json does (shortest digits that round-trip). */
export function formatFloat32(f: number): string {
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return String(candidate);
  }
  return String(f);
}

/** formatInt prints an integer attribute value. */
export function formatInt(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}
