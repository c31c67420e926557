/**
 * JSON parsing that keeps large integers exact. SpacetimeDB prints u64/u128 values (row
 * columns, `__connection_id__`, `quanta`, `num_rows`) as bare JSON numbers, and `JSON.parse`
 * rounds anything above 2^53. Node 20's `JSON.parse` has no access to a number's source text,
 * so integers that do not fit a double exactly are read by a small parser instead.
 */

/** JsonValue is a parsed JSON document; integers beyond 2^53 arrive as `bigint`. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** JsonObject is a parsed JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** JsonSyntaxError is a malformed JSON text; `pos` is the character offset of the problem. */
export class JsonSyntaxError extends Error {
  readonly pos: number;
  constructor(message: string, pos: number) {
    super(`${message} at position ${pos}`);
    this.pos = pos;
    this.name = 'JsonSyntaxError';
  }
}

// A run of 16+ digits is the only way an unsafe integer can appear; without one the fast native
// parser gives the same answer.
const LONG_DIGITS = /\d{16,}/;

/** parseJsonBig parses JSON text; integers outside the safe range become `bigint`. */
export function parseJsonBig(text: string): JsonValue {
  if (!LONG_DIGITS.test(text)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch (err) {
      throw new JsonSyntaxError(err instanceof Error ? err.message : 'invalid JSON', 0);
    }
  }
  const parser = new BigJsonParser(text);
  const value = parser.value();
  parser.end();
  return value;
}

/** isJsonObject tells a JSON object from arrays, null and scalars. */
export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class BigJsonParser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  value(): JsonValue {
    this.ws();
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        throw new JsonSyntaxError(c === undefined ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(c)}`, this.pos);
    }
  }

  end(): void {
    this.ws();
    if (this.pos !== this.text.length) throw new JsonSyntaxError('unexpected data after JSON', this.pos);
  }

  private enter(): void {
    // Deep nesting would overflow the stack of this recursive parser; real payloads nest < 10.
    if (++this.depth > 512) throw new JsonSyntaxError('JSON nested too deeply', this.pos);
  }

  private object(): JsonObject {
    const out: JsonObject = {};
    this.members('}', () => {
      this.ws();
      if (this.text[this.pos] !== '"') throw new JsonSyntaxError('expected a string key', this.pos);
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ':') throw new JsonSyntaxError("expected ':'", this.pos);
      this.pos++;
      const v = this.value();
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    });
    return out;
  }

  private array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.members(']', () => out.push(this.value()));
    return out;
  }

  /** members reads what follows an opening bracket: `item (, item)*` then `close`, or `close` alone. */
  private members(close: '}' | ']', item: () => void): void {
    this.enter();
    this.pos++;
    this.ws();
    if (this.text[this.pos] === close) {
      this.pos++;
      this.depth--;
      return;
    }
    for (;;) {
      item();
      this.ws();
      const c = this.text[this.pos++];
      if (c === close) break;
      if (c !== ',') throw new JsonSyntaxError(`expected ',' or '${close}'`, this.pos - 1);
    }
    this.depth--;
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (Number.isNaN(c)) throw new JsonSyntaxError('unterminated string', start);
      if (c === 0x22) break;
      if (c === 0x5c) this.pos++;
      else if (c < 0x20) throw new JsonSyntaxError('control character in string', this.pos);
      this.pos++;
    }
    this.pos++;
    try {
      return JSON.parse(this.text.slice(start, this.pos)) as string;
    } catch {
      throw new JsonSyntaxError('invalid string escape', start);
    }
  }

  private number(): number | bigint {
    NUMBER_RE.lastIndex = this.pos;
    const m = NUMBER_RE.exec(this.text);
    if (!m) throw new JsonSyntaxError('invalid number', this.pos);
    this.pos += m[0].length;
    const n = Number(m[0]);
    if (/^-?\d+$/.test(m[0]) && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  }

  private literal<T extends JsonValue>(word: string, v: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return v;
    }
    throw new JsonSyntaxError(`unexpected token, expected ${word}`, this.pos);
  }

  private ws(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t') this.pos++;
      else return;
    }
  }
}
