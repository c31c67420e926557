/**
 * A unit-test file's `rule_files` are globbed as promtool globs them: Go's filepath.Glob, which
 * differs from the config's globs (dot files match, `[^x]` negates, `\` escapes, `**` is just
 * two stars, directories match, a literal path must exist).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goFilepathGlob } from '../../../src/config/index.js';

const dir = mkdtempSync(join(os.tmpdir(), 'sentinel-go-glob-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('goFilepathGlob (rule_files of `rules test`)', () => {
  mkdirSync(join(dir, 'r/team'), { recursive: true });
  mkdirSync(join(dir, 'r/d.yaml'));
  for (const f of ['r/a.yaml', 'r/b.yaml', 'r/.hidden.yaml', 'r/*.yaml', 'r/team/c.yaml']) writeFileSync(join(dir, f), '');
  const at = (...names: string[]): string[] => names.map((n) => join(dir, n));

  it('matches dot files and directories with *, as Go does', () => {
    expect(goFilepathGlob(join(dir, 'r/*.yaml'))).toEqual(at('r/*.yaml', 'r/.hidden.yaml', 'r/a.yaml', 'r/b.yaml', 'r/d.yaml'));
  });

  it('negates a class with ^ and escapes with a backslash', () => {
    expect(goFilepathGlob(join(dir, 'r/[^a.*].yaml'))).toEqual(at('r/b.yaml', 'r/d.yaml'));
    expect(goFilepathGlob(join(dir, 'r/\\*.yaml'))).toEqual(at('r/*.yaml'));
  });

  it('reads ** as two stars within one segment, not as any depth', () => {
    expect(goFilepathGlob(join(dir, 'r/**/c.yaml'))).toEqual(at('r/team/c.yaml'));
    expect(goFilepathGlob(join(dir, '**/c.yaml'))).toEqual([]);
  });

  it('returns a literal path only when it exists', () => {
    expect(goFilepathGlob(join(dir, 'r/a.yaml'))).toEqual(at('r/a.yaml'));
    expect(goFilepathGlob(join(dir, 'r/missing.yaml'))).toEqual([]);
  });
});
