/**
 * resolveReferences: replaces `${ENV_VAR}` and `${file:PATH}` references in a parsed YAML tree,
 * and turns the values of secret-named keys into `Secret`s.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { FileSecret, isSecretKey, isSecretListKey, Secret } from './secret.js';
import type { ConfigIssue } from './config-issue.js';
import { formatPath } from '../yaml/index.js';
import type { YamlPath } from '../yaml/index.js';

/** ReferenceContext is what references resolve against. */
export interface ReferenceContext {
  /** baseDir is the directory `${file:PATH}` is relative to (the config file's). */
  readonly baseDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** isPlain marks subtrees whose keys are data, not options (label maps), so no key there is a secret. */
  readonly isPlain?: (path: YamlPath) => boolean;
  /** isNameMap marks mappings keyed by names (`probes`), whose own keys are not secrets even when named `token`. */
  readonly isNameMap?: (path: YamlPath) => boolean;
}

/** ResolvedTree is the tree with references replaced, plus the paths that failed (already reported). */
export interface ResolvedTree {
  readonly value: unknown;
  readonly issues: readonly ConfigIssue[];
}

const REFERENCE_RE = /\$\$\{|\$\{([^}]*)\}/g;
const SINGLE_REFERENCE_RE = /^\$\{([^}]*)\}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Lookup = { ok: true; value: string; source: string } | { ok: false; problem: string };

function filePath(ref: string, ctx: ReferenceContext): { ok: true; path: string; given: string } | { ok: false; problem: string } {
  const given = ref.slice('file:'.length);
  if (given === '') return { ok: false, problem: 'empty file reference ${file:} (expected ${file:PATH})' };
  return { ok: true, path: isAbsolute(given) ? given : resolve(ctx.baseDir, given), given };
}

function lookup(ref: string, ctx: ReferenceContext): Lookup {
  if (ref.startsWith('file:')) {
    const file = filePath(ref, ctx);
    if (!file.ok) return file;
    const { path, given } = file;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { ok: false, problem: `cannot read file ${path} (${code}) referenced by \${file:${given}} (expected a readable file)` };
    }
    // Files written by `echo` or editors end in a newline that is not part of the secret.
    return { ok: true, value: text.replace(/\r?\n$/, ''), source: `file:${path}` };
  }
  if (!ENV_NAME_RE.test(ref)) return { ok: false, problem: `invalid reference \${${ref}} (expected \${ENV_VAR} or \${file:PATH})` };
  const value = ctx.env[ref];
  if (value === undefined || value === '') return { ok: false, problem: `environment variable ${ref} is not set (expected it to be set and non-empty)` };
  return { ok: true, value, source: `env:${ref}` };
}

function resolveSecret(value: unknown, path: YamlPath, ctx: ReferenceContext, issues: ConfigIssue[]): unknown {
  if (value === undefined || value === null) return value;
  const m = typeof value === 'string' ? SINGLE_REFERENCE_RE.exec(value.trim()) : null;
  if (!m) {
    issues.push({ path, at: 'value', message: 'literal secrets are not allowed; use ${ENV_VAR} or ${file:PATH}' });
    return new Secret('', 'invalid');
  }
  if (m[1].startsWith('file:')) {
    // A file secret is read again whenever the file changes (see FileSecret).
    const file = filePath(m[1], ctx);
    if (!file.ok) {
      issues.push({ path, at: 'value', message: file.problem });
      return new Secret('', 'invalid');
    }
    const secret = new FileSecret(file.path, formatPath(path));
    const problem = secret.problem();
    if (problem !== undefined) {
      const isEmpty = problem.endsWith('is empty');
      issues.push({ path, at: 'value', message: isEmpty ? `secret from ${secret.source} is empty (expected a non-empty value)` : `${problem} referenced by \${file:${file.given}} (expected a readable file)` });
    }
    return secret;
  }
  const found = lookup(m[1], ctx);
  if (!found.ok) {
    issues.push({ path, at: 'value', message: found.problem });
    return new Secret('', 'invalid');
  }
  if (found.value === '') {
    issues.push({ path, at: 'value', message: `secret from ${found.source} is empty (expected a non-empty value)` });
  }
  return new Secret(found.value, found.source);
}

function resolveString(value: string, path: YamlPath, ctx: ReferenceContext, issues: ConfigIssue[]): string {
  let failed = false;
  const out = value.replace(REFERENCE_RE, (whole: string, ref: string | undefined) => {
    if (ref === undefined) return '${'; // `$${` escapes a literal `${`
    const found = lookup(ref, ctx);
    if (!found.ok) {
      if (!failed) issues.push({ path, at: 'value', message: found.problem });
      failed = true;
      return whole;
    }
    return found.value;
  });
  return out;
}

/** resolveReferences walks `raw`, resolving references and wrapping secrets; it never throws. */
export function resolveReferences(raw: unknown, ctx: ReferenceContext): ResolvedTree {
  const issues: ConfigIssue[] = [];
  const walk = (value: unknown, path: YamlPath, plain: boolean): unknown => {
    if (typeof value === 'string') return resolveString(value, path, ctx, issues);
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i], plain));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      const names = ctx.isNameMap?.(path) ?? false;
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        const childPath = [...path, key];
        const childPlain = plain || (ctx.isPlain?.(childPath) ?? false);
        if (!plain && !names && isSecretListKey(key) && Array.isArray(child)) out[key] = child.map((item, i) => resolveSecret(item, [...childPath, i], ctx, issues));
        else out[key] = !plain && !names && isSecretKey(key) ? resolveSecret(child, childPath, ctx, issues) : walk(child, childPath, childPlain);
      }
      return out;
    }
    return value;
  };
  return { value: walk(raw, [], false), issues };
}
