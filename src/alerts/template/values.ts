/**
 * The values a template works with, typed the way Go's reflection sees them, because Go's
 * template builtins (eq, lt, printf, truth) behave differently on int, float64, string, map.
 */
import { formatGoFloat } from '../../go-strconv/index.js';

/** GoInt is a Go `int` (template integer constants, `len`); plain JS numbers are float64. */
export class GoInt {
  constructor(readonly value: number) {}
}

/** GoStruct is a Go struct (or pointer to one), e.g. a query sample with `.Labels` and `.Value`. */
export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: Readonly<Record<string, TemplateValue>>,
  ) {}
}

/** GoMap is a Go `map[string]T`; `elemZero` is the zero value a missing key yields. */
export class GoMap {
  constructor(
    readonly entries: ReadonlyMap<string, TemplateValue>,
    readonly typeName: string,
    readonly elemZero: TemplateValue,
  ) {}
}

/** TemplateValue is any value a template expression can produce. */
export type TemplateValue = string | number | boolean | null | GoInt | GoStruct | GoMap | readonly TemplateValue[];

/** goTypeName is what Go's `%T` prints for a value. */
export function goTypeName(v: TemplateValue): string {
  if (v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return 'int';
  if (v instanceof GoStruct) return v.typeName;
  if (v instanceof GoMap) return v.typeName;
  return '[]interface {}';
}

/** labelsMap wraps a label set as the `map[string]string` Prometheus passes to templates. */
export function labelsMap(labels: Readonly<Record<string, string>>): GoMap {
  return new GoMap(new Map(Object.entries(labels)), 'map[string]string', '');
}

/** truth is Go template truthiness: zero values and empty collections are false. */
export function truth(v: TemplateValue): boolean {
  if (v === null) return false;
  if (typeof v === 'string') return v !== '';
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (v instanceof GoInt) return v.value !== 0;
  if (v instanceof GoStruct) return true;
  if (v instanceof GoMap) return v.entries.size > 0;
  return v.length > 0;
}

/** printValue is Go's `fmt.Sprint` of one value (`%v`). */
export function printValue(v: TemplateValue): string {
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  // Go's %v of float64, the one formatter shared with `sentinel query` and the HTTP API.
  if (typeof v === 'number') return formatGoFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof GoInt) return String(v.value);
  if (v instanceof GoStruct) {
    const inner = Object.values(v.fields).map(printValue).join(' ');
    return v.typeName.startsWith('*') ? `&{${inner}}` : `{${inner}}`;
  }
  if (v instanceof GoMap) {
    const keys = [...v.entries.keys()].sort();
    return `map[${keys.map((k) => `${k}:${printValue(v.entries.get(k) ?? null)}`).join(' ')}]`;
  }
  return `[${v.map(printValue).join(' ')}]`;
}
