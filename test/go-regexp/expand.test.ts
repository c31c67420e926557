import { describe, expect, it } from 'vitest';
import { expandGoTemplate } from '../../src/go-regexp/index.js';
import type { GroupRef } from '../../src/go-regexp/index.js';

/**
 * Go's regexp template expansion, for the match of `(?P<name>a)(b)` in "ab": each row as
 * Prometheus 2.42's reReplaceAll (Go 1.19.8, Debian's promtool) expands it.
 */
const CASES: Array<[string, string]> = [
  ['$1$2', 'ab'],
  ['${1}x', 'ax'],
  ['$1x', ''],
  ['${name}-$name', 'a-a'],
  ['$name_', ''],
  ['${2}${1}', 'ba'],
  ['$3', ''],
  ['$$1', '$1'],
  ['$01', ''],
  ['$1é', ''],
  ['x$', 'x$'],
  ['${', '${'],
  ['${1', '${1'],
  ['${}', '${}'],
];

describe('expandGoTemplate is Go regexp expand', () => {
  const groups = ['ab', 'a', 'b'];
  const names = new Map([['name', 1]]);
  const group = (ref: GroupRef): string => {
    const idx = typeof ref === 'number' ? ref : (names.get(ref) ?? -1);
    return groups[idx] ?? '';
  };
  for (const [template, want] of CASES) {
    it(`${JSON.stringify(template)} -> ${JSON.stringify(want)}`, () => expect(expandGoTemplate(template, group)).toBe(want));
  }
});
