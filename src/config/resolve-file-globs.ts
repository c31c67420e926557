/**
 * File globs, in the two dialects the sentinel reads (Node 20 has no fs.glob):
 * - `resolveFileGlobs`, for `rules.files` and `drills.files`: `*`, `?`, `[abc]`/`[!abc]` within
 *   a path segment, `**` for any number of directories; like shells, a wildcard does not match a
 *   leading dot unless the pattern segment starts with one; only files match.
 * - `goFilepathGlob`, for a unit-test file's `rule_files` as promtool reads them: Go's
 *   `path/filepath.Glob` (`*`, `?`, `[abc]`/`[^abc]`, `\` escapes; no `**`; dot files match;
 *   directories match too).
 * One walker serves both; the dialect decides how a segment reads and what may match.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, parse, sep } from 'node:path';

/** GlobDialect is how patterns read. */
interface GlobDialect {
  /** magic tells whether a segment holds wildcard syntax. */
  readonly magic: RegExp;
  /** doubleStar: a `**` segment matches any number of directories (dot directories excepted). */
  readonly doubleStar: boolean;
  /** negation: the character that negates a `[...]` class (`[!abc]` in shells, `[^abc]` in Go). */
  readonly negation: '!' | '^';
  /** escapes: a `\` outside a class makes the next character literal. */
  readonly escapes: boolean;
  /** hiddenNeedsDot: a wildcard does not match a leading dot unless the segment starts with one. */
  readonly hiddenNeedsDot: boolean;
  /** directories: the last segment may match a directory, not only a file. */
  readonly directories: boolean;
  /** literalIfMissing: a pattern without wildcards is returned even when nothing is there. */
  readonly literalIfMissing: boolean;
}

const escapeRegExp = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** segmentRegExp compiles one pattern segment in a dialect. */
function segmentRegExp(segment: string, dialect: GlobDialect): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = segment.slice(i + 1, end);
        re += `[${(dialect.negation === '!' ? body.replace(/^!/, '^') : body).replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (dialect.escapes && c === '\\' && i + 1 < segment.length) re += escapeRegExp(segment[++i]);
    else re += escapeRegExp(c);
  }
  const hidden = dialect.hiddenNeedsDot && !segment.startsWith('.') ? '(?!\\.)' : '';
  return new RegExp(`^${hidden}${re}$`);
}

/** Shell-like globs, for the configuration's file lists. */
const CONFIG_DIALECT: GlobDialect = {
  magic: /[*?[]/,
  doubleStar: true,
  negation: '!',
  escapes: false,
  hiddenNeedsDot: true,
  directories: false,
  literalIfMissing: true,
};

/** GO_DIALECT follows Go's `path/filepath.Match` on Unix (`filepath/match.go`). */
const GO_DIALECT: GlobDialect = {
  magic: /[*?[\\]/,
  doubleStar: false,
  negation: '^',
  escapes: true,
  hiddenNeedsDot: false,
  directories: true,
  literalIfMissing: false,
};

function entries(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .map((d) => ({ name: d.name, isDir: d.isDirectory() || (d.isSymbolicLink() && isDirectory(join(dir, d.name))) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function expand(dir: string, segments: readonly string[], dialect: GlobDialect, out: Set<string>): void {
  if (segments.length === 0) return;
  const [head, ...rest] = segments;
  const last = rest.length === 0;
  if (head === '**' && dialect.doubleStar) {
    expand(dir, rest, dialect, out);
    for (const e of entries(dir)) if (e.isDir && !e.name.startsWith('.')) expand(join(dir, e.name), segments, dialect, out);
    return;
  }
  if (!dialect.magic.test(head)) {
    const path = join(dir, head);
    if (!last) expand(path, rest, dialect, out);
    else if (dialect.directories ? existsSync(path) : isFile(path)) out.add(path);
    return;
  }
  const re = segmentRegExp(head, dialect);
  for (const e of entries(dir)) {
    if (!re.test(e.name)) continue;
    if (!last) {
      if (e.isDir) expand(join(dir, e.name), rest, dialect, out);
    } else if (dialect.directories || !e.isDir) out.add(join(dir, e.name));
  }
}

function glob(patterns: readonly string[], dialect: GlobDialect, caller: string): string[] {
  const out = new Set<string>();
  for (const pattern of patterns) {
    if (!isAbsolute(pattern)) throw new TypeError(`${caller}: pattern must be absolute: ${pattern}`);
    if (!dialect.magic.test(pattern)) {
      if (dialect.literalIfMissing || existsSync(pattern)) out.add(pattern);
      continue;
    }
    const { root } = parse(pattern);
    expand(root, pattern.slice(root.length).split(sep).filter((s) => s !== ''), dialect, out);
  }
  return [...out].sort();
}

/**
 * resolveFileGlobs returns the files matching any of the absolute `patterns`, sorted and
 * deduplicated. A pattern without glob characters is returned as is, even if the file is
 * missing, so the caller reports it by name.
 */
export function resolveFileGlobs(patterns: readonly string[]): string[] {
  return glob(patterns, CONFIG_DIALECT, 'resolveFileGlobs');
}

/**
 * goFilepathGlob is Go's `filepath.Glob(pattern)` for an absolute pattern: the sorted existing
 * paths it matches; a pattern without meta characters matches itself only if it exists.
 */
export function goFilepathGlob(pattern: string): string[] {
  return glob([pattern], GO_DIALECT, 'goFilepathGlob');
}
