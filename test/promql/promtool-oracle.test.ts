/**
 * Every expectation in this project's promqltest scripts must also be promtool 2.42's answer.
 * Skipped when promtool is not installed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkWithPromtool } from './promtool-oracle.js';

const PROMTOOL = '/usr/bin/promtool';
const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const files = readdirSync(dir).filter((f) => f.endsWith('.test'));

describe('promqltest scripts agree with promtool', () => {
  it('has promtool to compare with', () => expect(existsSync(PROMTOOL), 'promtool (Debian package prometheus) is required; npm test installs it').toBe(true));
  for (const f of files.sort()) {
    it(f, { timeout: 120_000 }, () => {
      const { cases, mismatches } = checkWithPromtool(join(dir, f), PROMTOOL);
      expect(cases).toBeGreaterThan(0);
      expect(mismatches).toEqual([]);
    });
  }
});
