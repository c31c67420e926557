/**
 * SATS values as SpacetimeDB 2.0.x prints them in JSON (`crates/sats/src/ser/serde.rs`; rows in
 * v1.json messages per `crates/client-api-messages/src/websocket.rs`), decoded against a
 * column schema into plain values keyed by column name. Decoding is permissive about shape (a
 * row may be an object keyed by column or an array in column order; a sum may be `[tag, v]`,
 * `{"name": v}` or `{"<tag>": v}`; an Option may be `null`), and strict about types: a string
 * where a u64 belongs is an error naming the column.
 */
import { isJsonObject } from './json.js';
import type { JsonObject, JsonValue } from './json.js';

/** AlgebraicType is a SATS type as SpacetimeDB prints it (`{"U64": []}`, `{"Product": {...}}`, ...). */
export type AlgebraicType = JsonValue;

/** SatsValue is a decoded value: u64/u128 beyond 2^53 are `bigint`, Options are the value or `null`. */
export type SatsValue = null | boolean | number | bigint | string | SatsValue[] | { [key: string]: SatsValue };

/** Column is one named element of a row's product type. */
export interface Column {
  readonly name: string;
  readonly type: AlgebraicType;
}

/** SatsDecodeError is a value that does not fit its type; `path` names the column (and field). */
export class SatsDecodeError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
    this.name = 'SatsDecodeError';
  }
}

const INT_TYPES = new Set(['U8', 'U16', 'U32', 'U64', 'U128', 'I8', 'I16', 'I32', 'I64', 'I128']);
const WIDE_INT_TYPES = new Set(['U256', 'I256']);

/** typeTag returns the single key of a type object (`U64`, `Product`, `Sum`, ...). */
function typeTag(t: AlgebraicType): [string, JsonValue] {
  if (!isJsonObject(t)) throw new SatsDecodeError('<schema>', `not an algebraic type: ${short(t)}`);
  const keys = Object.keys(t);
  if (keys.length !== 1) throw new SatsDecodeError('<schema>', `not an algebraic type: ${short(t)}`);
  return [keys[0], t[keys[0]]];
}

/** elementName reads a product element's or sum variant's `{"some": "name"}` / `{"none": []}` name. */
export function elementName(name: JsonValue | undefined): string | undefined {
  if (typeof name === 'string') return name;
  if (isJsonObject(name) && typeof name.some === 'string') return name.some;
  return undefined;
}

/** productElements reads the `elements` of a Product type (or of a `schema` object). */
export function productElements(product: JsonValue | undefined): Column[] {
  const elements = isJsonObject(product) ? product.elements : undefined;
  if (!Array.isArray(elements)) throw new SatsDecodeError('<schema>', 'product type has no elements list');
  return elements.map((e, i) => {
    if (!isJsonObject(e)) throw new SatsDecodeError('<schema>', `element ${i} is not an object`);
    const type = e.algebraic_type;
    if (type === undefined) throw new SatsDecodeError('<schema>', `element ${i} has no algebraic_type`);
    return { name: elementName(e.name) ?? String(i), type };
  });
}

/** decodeRow decodes one row (object keyed by column or array in column order) against its columns. */
export function decodeRow(columns: readonly Column[], raw: JsonValue, path = 'row'): Record<string, SatsValue> {
  const out: Record<string, SatsValue> = {};
  if (Array.isArray(raw)) {
    // A newer module may append columns; the known prefix still decodes.
    if (raw.length < columns.length) {
      throw new SatsDecodeError(path, `row has ${raw.length} values, expected ${columns.length}`);
    }
    columns.forEach((c, i) => {
      out[c.name] = decodeValue(c.type, raw[i], `${path}.${c.name}`);
    });
    return out;
  }
  if (isJsonObject(raw)) {
    for (const c of columns) {
      if (!(c.name in raw)) throw new SatsDecodeError(`${path}.${c.name}`, 'column is missing');
      out[c.name] = decodeValue(c.type, raw[c.name], `${path}.${c.name}`);
    }
    return out;
  }
  throw new SatsDecodeError(path, `row is neither an array nor an object: ${short(raw)}`);
}

/** decodeValue decodes one value of type `t`. */
export function decodeValue(t: AlgebraicType, v: JsonValue | undefined, path: string): SatsValue {
  const [tag, body] = typeTag(t);
  if (v === undefined) throw new SatsDecodeError(path, 'value is missing');
  if (INT_TYPES.has(tag)) {
    if (typeof v === 'bigint') return v;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new SatsDecodeError(path, `expected ${tag} integer, got ${short(v)}`);
    if (tag.startsWith('U') && v < 0) throw new SatsDecodeError(path, `expected ${tag}, got negative ${v}`);
    return v;
  }
  if (WIDE_INT_TYPES.has(tag)) {
    if (typeof v === 'string' && /^-?0x[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
    if (typeof v === 'number' || typeof v === 'bigint') return `0x${BigInt(v).toString(16)}`;
    throw new SatsDecodeError(path, `expected ${tag} hex string, got ${short(v)}`);
  }
  switch (tag) {
    case 'Bool':
      if (typeof v !== 'boolean') throw new SatsDecodeError(path, `expected Bool, got ${short(v)}`);
      return v;
    case 'String':
      if (typeof v !== 'string') throw new SatsDecodeError(path, `expected String, got ${short(v)}`);
      return v;
    case 'F32':
    case 'F64':
      if (typeof v !== 'number') throw new SatsDecodeError(path, `expected ${tag}, got ${short(v)}`);
      return v;
    case 'Array':
      return decodeArray(body, v, path);
    case 'Product':
      return decodeProduct(body, v, path);
    case 'Sum':
      return decodeSum(body, v, path);
    default:
      // Ref and future types need a typespace this client does not load: keep the raw value.
      return toSats(v);
  }
}

function decodeArray(elem: JsonValue, v: JsonValue, path: string): SatsValue {
  if (isJsonObject(elem) && 'U8' in elem && typeof v === 'string') {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(v)) throw new SatsDecodeError(path, 'expected hex bytes');
    return v.toLowerCase();
  }
  if (!Array.isArray(v)) throw new SatsDecodeError(path, `expected an array, got ${short(v)}`);
  return v.map((x, i) => decodeValue(elem, x, `${path}[${i}]`));
}

/** SPECIAL_PRODUCTS are the one-field products SpacetimeDB uses for Identity, ConnectionId and times. */
const SPECIAL_PRODUCTS = ['__identity__', '__connection_id__', '__timestamp_micros_since_unix_epoch__', '__time_duration_micros__'] as const;

function decodeProduct(body: JsonValue, v: JsonValue, path: string): SatsValue {
  const columns = productElements(body);
  const special = columns.length === 1 ? SPECIAL_PRODUCTS.find((s) => s === columns[0].name) : undefined;
  if (special !== undefined) {
    const inner = Array.isArray(v) ? v[0] : isJsonObject(v) ? v[special] : v;
    return decodeSpecial(special, inner, path);
  }
  return decodeRow(columns, v, path);
}

function decodeSpecial(kind: (typeof SPECIAL_PRODUCTS)[number], inner: JsonValue | undefined, path: string): SatsValue {
  switch (kind) {
    case '__identity__':
      return normalizeIdentity(inner, path);
    case '__connection_id__':
      if (typeof inner === 'number' || typeof inner === 'bigint') return BigInt(inner).toString(10);
      if (typeof inner === 'string' && /^[0-9]+$/.test(inner)) return inner;
      throw new SatsDecodeError(path, `expected a u128 connection id, got ${short(inner)}`);
    default:
      if (typeof inner === 'number' && Number.isInteger(inner)) return inner;
      if (typeof inner === 'bigint') return inner;
      throw new SatsDecodeError(path, `expected integer micros, got ${short(inner)}`);
  }
}

/** normalizeIdentity turns `"0xc200…"`, `"c200…"` or `{"__identity__": …}` into 64 lowercase hex digits. */
export function normalizeIdentity(v: JsonValue | undefined, path = 'identity'): string {
  let inner = v;
  if (isJsonObject(inner) && '__identity__' in inner) inner = inner.__identity__;
  if (Array.isArray(inner) && inner.length === 1) inner = inner[0];
  if (typeof inner !== 'string') throw new SatsDecodeError(path, `expected an identity, got ${short(v)}`);
  const hex = inner.toLowerCase().replace(/^0x/, '');
  // u256 JSON drops leading zeros; an identity is always 32 bytes.
  if (!/^[0-9a-f]{1,64}$/.test(hex)) throw new SatsDecodeError(path, `expected an identity, got ${short(v)}`);
  return hex.padStart(64, '0');
}

function variantNames(body: JsonValue): string[] {
  const variants = isJsonObject(body) ? body.variants : undefined;
  if (!Array.isArray(variants)) throw new SatsDecodeError('<schema>', 'sum type has no variants list');
  return variants.map((x, i) => (isJsonObject(x) ? (elementName(x.name) ?? String(i)) : String(i)));
}

function variantType(body: JsonValue, tag: number): AlgebraicType {
  const variants = isJsonObject(body) ? body.variants : undefined;
  const variant = Array.isArray(variants) ? variants[tag] : undefined;
  if (!isJsonObject(variant) || variant.algebraic_type === undefined) throw new SatsDecodeError('<schema>', `sum has no variant ${tag}`);
  return variant.algebraic_type;
}

function decodeSum(body: JsonValue, v: JsonValue, path: string): SatsValue {
  const names = variantNames(body);
  const isOption = names.length === 2 && names[0] === 'some' && names[1] === 'none';
  if (isOption && v === null) return null;
  let tag: number;
  let payload: JsonValue;
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number') {
    tag = v[0];
    payload = v[1];
  } else if (isJsonObject(v) && Object.keys(v).length === 1) {
    const key = Object.keys(v)[0];
    tag = /^\d+$/.test(key) ? Number(key) : names.indexOf(key);
    payload = v[key];
  } else {
    throw new SatsDecodeError(path, `expected a sum value, got ${short(v)}`);
  }
  if (!Number.isInteger(tag) || tag < 0 || tag >= names.length) throw new SatsDecodeError(path, `unknown variant in ${short(v)}`);
  if (isOption) return tag === 1 ? null : decodeValue(variantType(body, 0), payload, path);
  const vt = variantType(body, tag);
  const [vtTag, vtBody] = typeTag(vt);
  // A unit variant (empty product) carries `[]` or `{}`: report just its name.
  if (vtTag === 'Product' && productElements(vtBody).length === 0) return names[tag];
  return { [names[tag]]: decodeValue(vt, payload, path) };
}

function toSats(v: JsonValue): SatsValue {
  if (Array.isArray(v)) return v.map(toSats);
  if (isJsonObject(v)) {
    const out: Record<string, SatsValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toSats(x);
    return out;
  }
  return v;
}

/** short renders a value for an error message, bounded. */
export function short(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  const text = typeof v === 'bigint' ? v.toString() : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** ALGEBRAIC is a small vocabulary for writing schemas in code. */
export const ALGEBRAIC = {
  u64: { U64: [] } as JsonObject,
  u32: { U32: [] } as JsonObject,
  string: { String: [] } as JsonObject,
  bool: { Bool: [] } as JsonObject,
  identity: { Product: { elements: [{ name: { some: '__identity__' }, algebraic_type: { U256: [] } }] } } as JsonObject,
  option(inner: JsonObject): JsonObject {
    return {
      Sum: {
        variants: [
          { name: { some: 'some' }, algebraic_type: inner },
          { name: { some: 'none' }, algebraic_type: { Product: { elements: [] } } },
        ],
      },
    };
  },
} as const;
