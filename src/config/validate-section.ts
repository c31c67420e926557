/**
 * validateSection: validates one part of a YAML file against a zod schema and reports every
 * problem as a `FILE:LINE:COL: key.path: what is wrong (expected ...)` line.
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { formatIssues } from './config-issue.js';
import type { ConfigIssue } from './config-issue.js';
import { resolveReferences } from './resolve-references.js';
import type { ReferenceContext } from './resolve-references.js';
import { Secret } from './secret.js';
import type { YamlFile, YamlPath } from '../yaml/index.js';

/**
 * EXPECT marks a schema's error text as the description of what it expects ("a duration like
 * 30s"), so the issue is printed as a missing key or wrong type with that description.
 */
export const EXPECT = '\u0000expected:';

/** expecting builds the zod `error` option that describes what a field expects (for type mismatches only). */
export function expecting(description: string): { error: (issue: { code: string }) => string | undefined } {
  return { error: (issue) => (issue.code === 'invalid_type' || issue.code === 'custom' ? EXPECT + description : undefined) };
}

/** KeyHints maps key paths (`*` matches any key or index) to the message for a removed or renamed key. */
export type KeyHints = Readonly<Record<string, string>>;

/** ValidateOptions are the inputs of validateSection besides the document. */
export interface ValidateOptions {
  /** references: resolve `${...}` references and secrets against these; omit to leave strings as written. */
  readonly references?: ReferenceContext;
  /** keyHints name the replacement of removed or renamed keys. */
  readonly keyHints?: KeyHints;
}

/** SectionResult is either the parsed value or every issue found. */
export type SectionResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

type Def = { type: string; innerType?: Schema; in?: Schema; shape?: Record<string, Schema>; element?: Schema; valueType?: Schema };
type Schema = { _zod: { def: unknown } };

function unwrap(schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let i = 0; s && i < 20; i++) {
    const def = s._zod.def as Def;
    if (def.innerType && ['optional', 'default', 'nullable', 'readonly', 'prefault', 'catch', 'nonoptional'].includes(def.type)) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else break;
  }
  return s;
}

/** knownKeysAt lists the keys the schema allows in the mapping at `path` (relative to the schema). */
function knownKeysAt(schema: Schema, path: YamlPath): string[] {
  let s = unwrap(schema);
  for (const step of path) {
    const def = s?._zod.def as Def | undefined;
    if (!def) return [];
    if (def.type === 'object' && def.shape) s = unwrap(def.shape[String(step)]);
    else if (def.type === 'array') s = unwrap(def.element);
    else if (def.type === 'record') s = unwrap(def.valueType);
    else return [];
  }
  const def = s?._zod.def as Def | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function valueAt(root: unknown, path: YamlPath): unknown {
  let v = root;
  for (const step of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[String(step)];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Secret) return 'secret';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}

const EXPECTED_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function describeValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function matchesHint(pattern: string, path: YamlPath): boolean {
  const parts = pattern.split('.');
  return parts.length === path.length && parts.every((p, i) => p === '*' || p === String(path[i]));
}

function toIssues(zodIssue: z.core.$ZodIssue, base: YamlPath, input: unknown, schema: Schema, hints: KeyHints): ConfigIssue[] {
  const rel = zodIssue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const path = [...base, ...rel];
  const value = valueAt(input, rel);
  if (zodIssue.message.startsWith(EXPECT) || zodIssue.code === 'invalid_type') {
    const expected = zodIssue.message.startsWith(EXPECT)
      ? zodIssue.message.slice(EXPECT.length)
      : (EXPECTED_NAMES[(zodIssue as { expected?: string }).expected ?? ''] ?? String((zodIssue as { expected?: string }).expected));
    if (value === undefined) return [{ path, at: 'key', message: `missing required key (expected ${expected})` }];
    return [{ path, at: 'value', message: `wrong type ${typeName(value)} (expected ${expected})` }];
  }
  switch (zodIssue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, rel);
      return zodIssue.keys.map((key) => {
        const keyPath = [...path, key];
        const hint = Object.entries(hints).find(([pattern]) => matchesHint(pattern, keyPath));
        if (hint) return { path: keyPath, at: 'key' as const, message: hint[1] };
        if (known.length === 0) return { path: keyPath, at: 'key' as const, message: 'unknown key (expected no keys here)' };
        return { path: keyPath, at: 'key' as const, message: `unknown key (expected one of ${known.join(', ')})` };
      });
    }
    case 'invalid_value':
      if (value === undefined) return [{ path, at: 'key', message: `missing required key (expected one of ${zodIssue.values.map((v) => String(v)).join(', ')})` }];
      return [{ path, at: 'value', message: `invalid value ${describeValue(value)} (expected one of ${zodIssue.values.map((v) => String(v)).join(', ')})` }];
    case 'too_small': {
      if (zodIssue.origin === 'array') return [{ path, at: 'value', message: `too few items (expected at least ${String(zodIssue.minimum)})` }];
      if (zodIssue.origin === 'string') return [{ path, at: 'value', message: 'empty string (expected a non-empty string)' }];
      const op = zodIssue.inclusive ? '>=' : '>';
      return [{ path, at: 'value', message: `value ${describeValue(value)} is too small (expected a number ${op} ${String(zodIssue.minimum)})` }];
    }
    case 'too_big': {
      const op = zodIssue.inclusive ? '<=' : '<';
      return [{ path, at: 'value', message: `value ${describeValue(value)} is too large (expected a number ${op} ${String(zodIssue.maximum)})` }];
    }
    case 'invalid_key':
      return [{ path, at: 'key', message: zodIssue.issues[0]?.message ?? zodIssue.message }];
    default:
      return [{ path, at: 'value', message: zodIssue.message }];
  }
}

/**
 * checkSection parses the node at `path` of `source` with `schema`, resolving references
 * first when asked. It returns the value or every issue (never throws for user errors).
 */
export function checkSection<S extends z.ZodType>(source: YamlFile, path: YamlPath, schema: S, options: ValidateOptions = {}): SectionResult<z.output<S>> {
  const raw = toPlain(source, path);
  const issues: ConfigIssue[] = [];
  let input = raw;
  if (options.references) {
    const resolved = resolveReferences(raw, {
      ...options.references,
      isPlain: (p) => options.references?.isPlain?.([...path, ...p]) ?? false,
      isNameMap: (p) => options.references?.isNameMap?.([...path, ...p]) ?? false,
    });
    issues.push(...resolved.issues.map((i) => ({ ...i, path: [...path, ...i.path] })));
    input = resolved.value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const reported = new Set(issues.map((i) => JSON.stringify(i.path)));
    for (const zi of result.error.issues) {
      for (const issue of toIssues(zi, path, input, schema as unknown as Schema, options.keyHints ?? {})) {
        // A reference that failed to resolve was already reported; its knock-on errors are noise.
        if (!reported.has(JSON.stringify(issue.path))) issues.push(issue);
      }
    }
  }
  if (issues.length > 0 || !result.success) return { ok: false, issues };
  return { ok: true, value: result.data };
}

function toPlain(source: YamlFile, path: YamlPath): unknown {
  const js: unknown = source.doc.toJS({ maxAliasCount: 100 });
  return valueAt(js, path);
}

/** validateSection is checkSection that throws a ConfigError whose `issues` are the printed lines. */
export function validateSection<S extends z.ZodType>(source: YamlFile, path: YamlPath, schema: S, options: ValidateOptions = {}): z.output<S> {
  const result = checkSection(source, path, schema, options);
  if (result.ok) return result.value;
  const lines = formatIssues(source, result.issues);
  throw new ConfigError(lines.join('\n'), lines);
}
