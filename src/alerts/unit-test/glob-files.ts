/**
 * globFiles is Go's filepath.Glob for `rule_files` patterns: `*`, `?` and `[...]` in any path
 * segment, no `**`; a pattern without meta characters matches itself only if the file exists.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';

const META = /[*?[\\]/;

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let cls = seg.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < seg.length) {
      re += seg[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** globFiles expands `pattern` to the sorted list of existing paths it matches. */
export function globFiles(pattern: string): string[] {
  if (!META.test(pattern)) return existsSync(pattern) ? [pattern] : [];
  const abs = isAbsolute(pattern);
  const segs = pattern.split(sep).filter((s, i) => s !== '' || i === 0);
  let bases = [abs ? sep : ''];
  for (const seg of segs.slice(abs ? 1 : 0)) {
    const next: string[] = [];
    for (const base of bases) {
      if (!META.test(seg)) {
        const p = base === '' ? seg : join(base, seg);
        if (existsSync(p)) next.push(p);
        continue;
      }
      const dir = base === '' ? '.' : base;
      let entries: string[];
      try {
        if (!statSync(dir).isDirectory()) continue;
        entries = readdirSync(dir);
      } catch {
        continue;
      }
      const re = segmentRegex(seg);
      for (const e of entries.sort()) if (re.test(e)) next.push(base === '' ? e : join(base, e));
    }
    bases = next;
  }
  return bases.sort();
}
