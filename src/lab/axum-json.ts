/**
 * axum-json: axum 0.7.9's `Json<T>` extractor over a serde-derived struct, so the lab's control
 * service refuses bodies with the real texts (axum `src/json.rs:117-183`,
 * `src/extract/rejection.rs:10-40`; serde_json 1.0.149 `de.rs`, `read.rs`, `error.rs`;
 * serde_path_to_error for the `field: ` prefix):
 * - a missing or non-JSON content-type: 415 `Expected request with \`Content-Type: application/json\``;
 * - a syntax error or early end: 400 `Failed to parse the request body as JSON: <error>`;
 * - a wrong shape: 422 `Failed to deserialize the JSON body into the target type: [<path>: ]<error>`;
 * where `<error>` is serde_json's message with its `at line L column C` position. Bytes after the
 * value are not looked at (axum never calls `Deserializer::end`). The deserializer below walks the
 * bytes in serde_json's order so that each message names the same position serde_json would.
 */
import type { LabRequest, LabResponse } from './axum-router.js';
import { textResponse } from './axum-router.js';

/** FieldKind is the Rust type of one struct field. */
export type FieldKind = 'string' | 'vec_string' | 'option_string' | 'option_u32' | 'option_bool' | 'option_value';

/** StructField is one field; `defaulted` is `#[serde(default)]`. */
export interface StructField {
  readonly name: string;
  readonly kind: FieldKind;
  readonly defaulted?: boolean;
}

/** StructSchema is a `#[derive(Deserialize)] struct`. */
export interface StructSchema {
  readonly name: string;
  readonly fields: readonly StructField[];
}

/** FieldValue is one deserialized field: `null` is None; `option_value` fields hold any parsed JSON. */
export type FieldValue = string | string[] | number | boolean | null | { readonly json: unknown };

/** JsonValues are the deserialized fields by name. */
export type JsonValues = Record<string, FieldValue>;

/** JsonExtraction is the extracted struct or axum's rejection. */
export type JsonExtraction = { readonly ok: true; readonly value: JsonValues } | { readonly ok: false; readonly response: LabResponse };

/** MISSING_JSON_CONTENT_TYPE is axum's 415 text. */
export const MISSING_JSON_CONTENT_TYPE = 'Expected request with `Content-Type: application/json`';

/** isJsonContentType is axum's `json_content_type`: `application/json` or `application/*+json`. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const essence = header.split(';')[0]?.trim().toLowerCase() ?? '';
  const m = /^application\/([a-z0-9.+-]+)$/.exec(essence);
  if (!m) return false;
  const sub = m[1] as string;
  return sub === 'json' || sub.endsWith('+json');
}

/** extractJson runs the extractor: content-type, then deserialization. */
export function extractJson(req: LabRequest, schema: StructSchema): JsonExtraction {
  const ct = req.headers['content-type'];
  if (!isJsonContentType(Array.isArray(ct) ? ct[0] : ct)) return { ok: false, response: textResponse(415, MISSING_JSON_CONTENT_TYPE) };
  try {
    return { ok: true, value: new StructDeserializer(req.body).deserializeStruct(schema) };
  } catch (err) {
    if (!(err instanceof SerdeError)) throw err;
    const text = err.path ? `${err.path}: ${err.message}` : err.message;
    if (err.category === 'data') return { ok: false, response: textResponse(422, `Failed to deserialize the JSON body into the target type: ${text}`) };
    return { ok: false, response: textResponse(400, `Failed to parse the request body as JSON: ${text}`) };
  }
}

type Category = 'syntax' | 'eof' | 'data';

/** SerdeError is a serde_json error with its position already in the message. */
class SerdeError extends Error {
  constructor(
    readonly category: Category,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** PendingDataError is a serde `de::Error` not yet given a position (serde_json's `fix_position`). */
class PendingDataError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

const EOF_CODES = new Set(['EOF while parsing a list', 'EOF while parsing an object', 'EOF while parsing a string', 'EOF while parsing a value']);

/** Unexpected is serde's `de::Unexpected`, printed as serde prints it. */
type Unexpected = string;

function floatText(v: number): string {
  // serde's WithDecimalPoint: Rust's Display of f64 (never an exponent) plus `.0` when integral.
  let s = Number.isInteger(v) && Math.abs(v) >= 1e21 ? BigInt(v).toString() : String(v);
  if (/e-/.test(s)) s = v.toFixed(20).replace(/0+$/, '');
  return /[.]/.test(s) || !Number.isFinite(v) ? s : `${s}.0`;
}

type ParsedNumber = { readonly kind: 'u64'; readonly value: bigint } | { readonly kind: 'i64'; readonly value: bigint } | { readonly kind: 'f64'; readonly value: number };

function unexpectedNumber(n: ParsedNumber): Unexpected {
  return n.kind === 'f64' ? `floating point \`${floatText(n.value)}\`` : `integer \`${n.value.toString()}\``;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

class StructDeserializer {
  private i = 0;
  private readonly path: string[] = [];

  constructor(private readonly b: Buffer) {}

  // --- reader -------------------------------------------------------------------------------

  private peek(): number | undefined {
    return this.i < this.b.length ? this.b[this.i] : undefined;
  }

  private next(): number | undefined {
    const c = this.peek();
    if (c !== undefined) this.i += 1;
    return c;
  }

  private whitespace(): number | undefined {
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) this.i += 1;
      else return c;
    }
  }

  private positionOf(index: number): string {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < index; k += 1) {
      if (this.b[k] === 0x0a) {
        line += 1;
        lineStart = k + 1;
      }
    }
    return `line ${line} column ${index - lineStart}`;
  }

  private pathText(): string {
    let out = '';
    for (const seg of this.path) out += seg.startsWith('[') || out === '' ? seg : `.${seg}`;
    return out;
  }

  /** error is serde_json's `self.error(code)`: the position of the next unread byte. */
  private error(code: string): SerdeError {
    return new SerdeError(EOF_CODES.has(code) ? 'eof' : 'syntax', `${code} at ${this.positionOf(this.i)}`, this.pathText());
  }

  /** peekError is `self.peek_error(code)`: one byte further (the peeked byte counts as read). */
  private peekError(code: string): SerdeError {
    return new SerdeError(EOF_CODES.has(code) ? 'eof' : 'syntax', `${code} at ${this.positionOf(Math.min(this.i + 1, this.b.length))}`, this.pathText());
  }

  /** fix turns a data error into a positioned one at the current position. */
  private fix(err: unknown): unknown {
    if (err instanceof PendingDataError) return new SerdeError('data', `${err.message} at ${this.positionOf(this.i)}`, err.path);
    return err;
  }

  private data(message: string): PendingDataError {
    return new PendingDataError(message, this.pathText());
  }

  // --- scalars ------------------------------------------------------------------------------

  private ident(rest: string): void {
    for (const ch of rest) {
      const c = this.next();
      if (c === undefined) throw this.error('EOF while parsing a value');
      if (c !== ch.charCodeAt(0)) throw this.error('expected ident');
    }
  }

  private hex4(): number {
    if (this.i + 4 > this.b.length) {
      this.i = this.b.length;
      throw this.error('EOF while parsing a string');
    }
    let n = 0;
    for (let k = 0; k < 4; k += 1) {
      const c = this.b[this.i] as number;
      this.i += 1;
      const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (v < 0) throw this.error('invalid escape');
      n = n * 16 + v;
    }
    return n;
  }

  /** stringBody parses a string whose opening quote was eaten. */
  private stringBody(): string {
    const bytes: number[] = [];
    const pushCodePoint = (cp: number): void => {
      for (const byte of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(byte);
    };
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error('EOF while parsing a string');
      this.i += 1;
      if (c === 0x22) break;
      if (c === 0x5c) {
        const e = this.next();
        if (e === undefined) throw this.error('EOF while parsing a string');
        const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };
        if (simple[e] !== undefined) {
          bytes.push(simple[e] as number);
        } else if (e === 0x75) {
          const n = this.hex4();
          if (n >= 0xd800 && n <= 0xdbff) {
            if (this.b[this.i] !== 0x5c || this.b[this.i + 1] !== 0x75) throw this.error('lone leading surrogate in hex escape');
            this.i += 2;
            const low = this.hex4();
            if (low < 0xdc00 || low > 0xdfff) throw this.error('lone leading surrogate in hex escape');
            pushCodePoint(0x10000 + ((n - 0xd800) << 10) + (low - 0xdc00));
          } else if (n >= 0xdc00 && n <= 0xdfff) {
            throw this.error('lone leading surrogate in hex escape');
          } else {
            pushCodePoint(n);
          }
        } else {
          throw this.error('invalid escape');
        }
        continue;
      }
      if (c < 0x20) throw this.error('control character (\\u0000-\\u001F) found while parsing a string');
      bytes.push(c);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      throw this.error('invalid unicode code point');
    }
  }

  private digits(): string {
    let s = '';
    for (let c = this.peek(); c !== undefined && c >= 0x30 && c <= 0x39; c = this.peek()) {
      s += String.fromCharCode(c);
      this.i += 1;
    }
    return s;
  }

  /** number parses a number whose `-` (if any) was eaten. */
  private number(positive: boolean): ParsedNumber {
    const first = this.next();
    if (first === undefined) throw this.error('EOF while parsing a value');
    let text: string;
    if (first === 0x30) {
      const c = this.peek();
      if (c !== undefined && c >= 0x30 && c <= 0x39) throw this.peekError('invalid number');
      text = '0';
    } else if (first >= 0x31 && first <= 0x39) {
      text = String.fromCharCode(first) + this.digits();
    } else {
      throw this.error('invalid number');
    }
    let isFloat = false;
    if (this.peek() === 0x2e) {
      this.i += 1;
      const frac = this.digits();
      if (frac === '') {
        const c = this.next();
        throw this.error(c === undefined ? 'EOF while parsing a value' : 'invalid number');
      }
      text += `.${frac}`;
      isFloat = true;
    }
    if (this.peek() === 0x65 || this.peek() === 0x45) {
      this.i += 1;
      let exp = 'e';
      if (this.peek() === 0x2b || this.peek() === 0x2d) exp += String.fromCharCode(this.next() as number);
      const ds = this.digits();
      if (ds === '') {
        const c = this.next();
        throw this.error(c === undefined ? 'EOF while parsing a value' : 'invalid number');
      }
      text += exp + ds;
      isFloat = true;
    }
    if (!isFloat) {
      const big = BigInt(text) * (positive ? 1n : -1n);
      if (positive && big <= U64_MAX) return { kind: 'u64', value: big };
      if (!positive && big >= I64_MIN) return { kind: 'i64', value: big };
    }
    return { kind: 'f64', value: Number(`${positive ? '' : '-'}${text}`) };
  }

  /** invalidType is serde_json's `peek_invalid_type`: consumes a scalar, not a container. */
  private invalidType(expected: string): unknown {
    const c = this.peek() ?? 0;
    let unexpected: Unexpected;
    if (c === 0x6e) {
      this.i += 1;
      this.ident('ull');
      unexpected = 'null';
    } else if (c === 0x74) {
      this.i += 1;
      this.ident('rue');
      unexpected = 'boolean `true`';
    } else if (c === 0x66) {
      this.i += 1;
      this.ident('alse');
      unexpected = 'boolean `false`';
    } else if (c === 0x2d) {
      this.i += 1;
      unexpected = unexpectedNumber(this.number(false));
    } else if (c >= 0x30 && c <= 0x39) {
      unexpected = unexpectedNumber(this.number(true));
    } else if (c === 0x22) {
      this.i += 1;
      unexpected = `string ${JSON.stringify(this.stringBody())}`;
    } else if (c === 0x5b) {
      unexpected = 'sequence';
    } else if (c === 0x7b) {
      unexpected = 'map';
    } else {
      return this.peekError('expected value');
    }
    return this.fix(this.data(`invalid type: ${unexpected}, expected ${expected}`));
  }

  private string(): string {
    const c = this.whitespace();
    if (c === undefined) throw this.peekError('EOF while parsing a value');
    if (c !== 0x22) throw this.invalidType('a string');
    this.i += 1;
    return this.stringBody();
  }

  private optionalNull(): boolean {
    if (this.whitespace() !== 0x6e) return false;
    this.i += 1;
    this.ident('ull');
    return true;
  }

  private u32(): number {
    const c = this.whitespace();
    if (c === undefined) throw this.peekError('EOF while parsing a value');
    let n: ParsedNumber;
    if (c === 0x2d) {
      this.i += 1;
      n = this.number(false);
    } else if (c >= 0x30 && c <= 0x39) {
      n = this.number(true);
    } else {
      throw this.invalidType('u32');
    }
    if (n.kind === 'f64') throw this.fix(this.data(`invalid type: ${unexpectedNumber(n)}, expected u32`));
    if (n.value < 0n || n.value > 0xffffffffn) throw this.fix(this.data(`invalid value: ${unexpectedNumber(n)}, expected u32`));
    return Number(n.value);
  }

  // --- containers ---------------------------------------------------------------------------

  /** hasNextElement is serde_json's SeqAccess::has_next_element. */
  private hasNextElement(first: boolean): boolean {
    let c = this.whitespace();
    if (c === 0x5d) return false;
    if (c === 0x2c && !first) {
      this.i += 1;
      c = this.whitespace();
    } else if (c === undefined) {
      throw this.peekError('EOF while parsing a list');
    } else if (!first) {
      throw this.peekError('expected `,` or `]`');
    }
    if (c === 0x5d) throw this.peekError('trailing comma');
    if (c === undefined) throw this.peekError('EOF while parsing a value');
    return true;
  }

  private endSeq(): void {
    const c = this.whitespace();
    if (c === 0x5d) {
      this.i += 1;
      return;
    }
    if (c === undefined) throw this.peekError('EOF while parsing a list');
    if (c === 0x2c) {
      this.i += 1;
      throw this.whitespace() === 0x5d ? this.peekError('trailing comma') : this.peekError('trailing characters');
    }
    throw this.peekError('trailing characters');
  }

  /** hasNextKey is serde_json's MapAccess::has_next_key. */
  private hasNextKey(first: boolean): boolean {
    const c = this.whitespace();
    if (c === undefined) throw this.peekError('EOF while parsing an object');
    if (c === 0x7d) return false;
    if (first) {
      if (c !== 0x22) throw this.peekError('key must be a string');
      return true;
    }
    if (c !== 0x2c) throw this.peekError('expected `,` or `}`');
    this.i += 1;
    const d = this.whitespace();
    if (d === 0x22) return true;
    if (d === 0x7d) throw this.peekError('trailing comma');
    if (d === undefined) throw this.peekError('EOF while parsing a value');
    throw this.peekError('key must be a string');
  }

  /** elements runs `each` on every element of a sequence whose `[` is consumed (up to, not through, its `]`). */
  private elements(each: (index: number) => void): void {
    for (let index = 0; this.hasNextElement(index === 0); index++) each(index);
  }

  /** keys runs `each` with every key of a map whose `{` is consumed; `each` reads the `:` and the value. */
  private keys(each: (key: string) => void): void {
    for (let first = true; this.hasNextKey(first); first = false) {
      this.i += 1;
      each(this.stringBody());
    }
  }

  private colon(): void {
    const c = this.whitespace();
    if (c === 0x3a) {
      this.i += 1;
      return;
    }
    throw c === undefined ? this.peekError('EOF while parsing an object') : this.peekError('expected `:`');
  }

  private vecString(): string[] {
    const c = this.whitespace();
    if (c === undefined) throw this.peekError('EOF while parsing a value');
    if (c !== 0x5b) throw this.invalidType('a sequence');
    this.i += 1;
    const out: string[] = [];
    try {
      this.elements((index) => {
        this.path.push(`[${index}]`);
        out.push(this.string());
        this.path.pop();
      });
      this.endSeq();
    } catch (err) {
      throw this.fix(err);
    }
    return out;
  }

  /** ignoreValue is `IgnoredAny`: a syntax check of any value. */
  private ignoreValue(): void {
    const c = this.whitespace();
    if (c === undefined) throw this.peekError('EOF while parsing a value');
    if (c === 0x6e || c === 0x74 || c === 0x66) {
      this.i += 1;
      this.ident(c === 0x6e ? 'ull' : c === 0x74 ? 'rue' : 'alse');
    } else if (c === 0x2d) {
      this.i += 1;
      this.number(false);
    } else if (c >= 0x30 && c <= 0x39) {
      this.number(true);
    } else if (c === 0x22) {
      this.i += 1;
      this.stringBody();
    } else if (c === 0x5b) {
      this.i += 1;
      this.elements(() => this.ignoreValue());
      this.endSeq();
    } else if (c === 0x7b) {
      this.i += 1;
      this.keys(() => {
        this.colon();
        this.ignoreValue();
      });
      this.i += 1;
    } else {
      throw this.peekError('expected value');
    }
  }

  private bool(): boolean {
    const c = this.whitespace();
    if (c === undefined) throw this.peekError('EOF while parsing a value');
    if (c === 0x74 || c === 0x66) {
      this.i += 1;
      this.ident(c === 0x74 ? 'rue' : 'alse');
      return c === 0x74;
    }
    throw this.invalidType('a boolean');
  }

  /** value is `serde_json::Value`: any JSON, kept as parsed. */
  private value(): { readonly json: unknown } {
    this.whitespace();
    const start = this.i;
    this.ignoreValue();
    return { json: JSON.parse(this.b.subarray(start, this.i).toString('utf8')) as unknown };
  }

  private field(f: StructField): FieldValue {
    switch (f.kind) {
      case 'string':
        return this.string();
      case 'vec_string':
        return this.vecString();
      case 'option_string':
        return this.optionalNull() ? null : this.string();
      case 'option_u32':
        return this.optionalNull() ? null : this.u32();
      case 'option_bool':
        return this.optionalNull() ? null : this.bool();
      case 'option_value':
        return this.optionalNull() ? null : this.value();
    }
  }

  private defaults(schema: StructSchema, values: JsonValues): JsonValues {
    const out: JsonValues = {};
    for (const f of schema.fields) {
      const v = values[f.name];
      if (v !== undefined) out[f.name] = v;
      else if (f.kind === 'vec_string') out[f.name] = [];
      else out[f.name] = null;
    }
    return out;
  }

  private visitMap(schema: StructSchema): JsonValues {
    const values: JsonValues = {};
    this.keys((key) => {
      const f = schema.fields.find((x) => x.name === key);
      if (f && values[key] !== undefined) throw this.data(`duplicate field \`${key}\``);
      this.path.push(key);
      this.colon();
      if (f) values[key] = this.field(f);
      else this.ignoreValue();
      this.path.pop();
    });
    for (const f of schema.fields) {
      if (values[f.name] === undefined && f.kind === 'string' && !f.defaulted) throw this.data(`missing field \`${f.name}\``);
    }
    return this.defaults(schema, values);
  }

  private visitSeq(schema: StructSchema): JsonValues {
    const values: JsonValues = {};
    let first = true;
    for (const [index, f] of schema.fields.entries()) {
      if (!this.hasNextElement(first)) {
        if (f.defaulted) continue;
        throw this.data(`invalid length ${index}, expected struct ${schema.name} with ${schema.fields.length} elements`);
      }
      first = false;
      this.path.push(`[${index}]`);
      values[f.name] = this.field(f);
      this.path.pop();
    }
    return this.defaults(schema, values);
  }

  /** deserializeStruct is serde_json's `deserialize_struct` (map or sequence form). */
  deserializeStruct(schema: StructSchema): JsonValues {
    const c = this.whitespace();
    if (c === undefined) throw this.peekError('EOF while parsing a value');
    if (c === 0x7b || c === 0x5b) {
      this.i += 1;
      let result: JsonValues | undefined;
      let failure: unknown;
      try {
        result = c === 0x7b ? this.visitMap(schema) : this.visitSeq(schema);
      } catch (err) {
        failure = err;
        this.path.length = 0;
      }
      // serde_json evaluates end_map/end_seq even after the visitor failed; the first error wins.
      try {
        if (c === 0x7b) {
          const d = this.whitespace();
          if (d === 0x7d) this.i += 1;
          else if (failure === undefined) throw d === undefined ? this.peekError('EOF while parsing an object') : this.peekError('trailing characters');
        } else if (failure === undefined) {
          this.endSeq();
        } else if (this.whitespace() === 0x5d) {
          this.i += 1;
        }
      } catch (err) {
        failure ??= err;
      }
      if (failure !== undefined) throw this.fix(failure);
      return result as JsonValues;
    }
    throw this.invalidType(`struct ${schema.name}`);
  }
}
