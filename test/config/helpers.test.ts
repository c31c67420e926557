import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { count, durationMs, parseYamlSource, resolveFileGlobs, validateSection } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-globs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('validateSection (for sections other modules own, like lab:)', () => {
  const schema = z.strictObject({ ports: z.strictObject({ admin: count(0).default(17303) }).prefault({}), idle: durationMs.default(30_000) });

  it('returns the parsed section with defaults', () => {
    const source = parseYamlSource('lab.yaml', 'environment: dev\nlab:\n  ports:\n    admin: 0\n');
    expect(validateSection(source, ['lab'], schema)).toEqual({ ports: { admin: 0 }, idle: 30_000 });
  });

  it('reports problems with the file position and the full key path', () => {
    const source = parseYamlSource('lab.yaml', 'environment: dev\nlab:\n  ports:\n    admin: -1\n    web: 1\n  idle: soon\n');
    let caught: unknown;
    try {
      validateSection(source, ['lab'], schema);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues).toEqual([
      'lab.yaml:4:12: lab.ports.admin: value -1 is too small (expected a number >= 0)',
      'lab.yaml:5:5: lab.ports.web: unknown key (expected one of admin)',
      'lab.yaml:6:9: lab.idle: invalid duration "soon" (expected a duration like 30s, 5m or 1h30m)',
    ]);
  });
});

describe('resolveFileGlobs', () => {
  it('expands *, ? and ** within the base directory, sorted, ignoring dot-files and directories', () => {
    mkdirSync(join(dir, 'rules/team/deep'), { recursive: true });
    for (const f of ['rules/a.rules.yaml', 'rules/b.rules.yaml', 'rules/.hidden.rules.yaml', 'rules/notes.txt', 'rules/team/c.rules.yaml', 'rules/team/deep/d.rules.yaml']) {
      writeFileSync(join(dir, f), '');
    }
    mkdirSync(join(dir, 'rules/x.rules.yaml'));
    expect(resolveFileGlobs([join(dir, 'rules/*.rules.yaml')])).toEqual([join(dir, 'rules/a.rules.yaml'), join(dir, 'rules/b.rules.yaml')]);
    expect(resolveFileGlobs([join(dir, 'rules/?.rules.yaml'), join(dir, 'rules/a.rules.yaml')])).toEqual([join(dir, 'rules/a.rules.yaml'), join(dir, 'rules/b.rules.yaml')]);
    expect(resolveFileGlobs([join(dir, 'rules/**/*.rules.yaml')])).toEqual([
      join(dir, 'rules/a.rules.yaml'),
      join(dir, 'rules/b.rules.yaml'),
      join(dir, 'rules/team/c.rules.yaml'),
      join(dir, 'rules/team/deep/d.rules.yaml'),
    ]);
  });

  it('keeps a literal path even when it does not exist, so the caller can name it', () => {
    expect(resolveFileGlobs([join(dir, 'missing.yaml'), join(dir, 'none/*.yaml')])).toEqual([join(dir, 'missing.yaml')]);
  });
});
