/**
 * resolveFileGlobs: expands the file globs of `rules.files` and `drills.files` (`*`, `?`,
 * `[abc]` within a path segment, `**` for any number of directories). Node 20 has no fs.glob.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, parse, sep } from 'node:path';

const MAGIC = /[*?[]/;

function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  // Like shells, `*` does not match names starting with a dot unless the pattern does.
  return new RegExp(`^${segment.startsWith('.') ? '' : '(?!\\.)'}${re}$`);
}

function entries(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((d) => ({ name: d.name, isDir: d.isDirectory() || (d.isSymbolicLink() && isDirectory(join(dir, d.name))) }));
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

function expand(dir: string, segments: readonly string[], out: Set<string>): void {
  if (segments.length === 0) return;
  const [head, ...rest] = segments;
  if (head === '**') {
    expand(dir, rest, out);
    for (const e of entries(dir)) if (e.isDir && !e.name.startsWith('.')) expand(join(dir, e.name), segments, out);
    return;
  }
  if (!MAGIC.test(head)) {
    const path = join(dir, head);
    if (rest.length === 0) {
      try {
        if (statSync(path).isFile()) out.add(path);
      } catch {
        // a literal name that does not exist simply matches nothing
      }
    } else expand(path, rest, out);
    return;
  }
  const re = segmentRegExp(head);
  for (const e of entries(dir)) {
    if (!re.test(e.name)) continue;
    if (rest.length === 0) {
      if (!e.isDir) out.add(join(dir, e.name));
    } else if (e.isDir) expand(join(dir, e.name), rest, out);
  }
}

/**
 * resolveFileGlobs returns the files matching any of the absolute `patterns`, sorted and
 * deduplicated. A pattern without glob characters is returned as is, even if the file is
 * missing, so the caller reports it by name.
 */
export function resolveFileGlobs(patterns: readonly string[]): string[] {
  const out = new Set<string>();
  for (const pattern of patterns) {
    if (!isAbsolute(pattern)) throw new TypeError(`resolveFileGlobs: pattern must be absolute: ${pattern}`);
    if (!MAGIC.test(pattern)) {
      out.add(pattern);
      continue;
    }
    const { root } = parse(pattern);
    expand(root, pattern.slice(root.length).split(sep).filter((s) => s !== ''), out);
  }
  return [...out].sort();
}
