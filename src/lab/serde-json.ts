/**
 * serde-json: JSON text as the OpenAgents services write it. Their workspace builds serde_json
 * with `preserve_order` (`Cargo.toml:206` at 9b2b978949), so objects keep insertion order; output
 * is compact; an `f64` field always prints with a decimal point (`0.0`, `1.0`), which
 * `JSON.stringify` cannot do, hence the `F64` marker. `undefined` members are skipped, as serde's
 * `skip_serializing_if = "Option::is_none"` skips them.
 */

/** F64 marks a number that the Rust side serializes as an `f64`. */
export class F64 {
  constructor(readonly value: number) {}
}

/** f64 wraps a number to print as a Rust `f64`. */
export function f64(value: number): F64 {
  return new F64(value);
}

/** formatF64 prints a finite float like serde_json (ryu): integral values keep `.0`, exponents have no `+`. */
export function formatF64(v: number): string {
  if (!Number.isFinite(v)) return 'null';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  return String(v).replace('e+', 'e');
}

/** serdeJson serializes `value` compactly in insertion order, F64 values with a decimal point. */
export function serdeJson(value: unknown): string {
  if (value instanceof F64) return formatF64(value.value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((v) => serdeJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${serdeJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return 'null';
}
