import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkPromqlExpr, loadRuleFiles, parseRuleFile } from '../../src/alerts/index.js';
import { RuleFileError } from '../../src/errors.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const PROMTOOL = '/usr/bin/promtool';
// promtool is required (npm test installs Debian's prometheus package): these tests never skip.

function parse(name: string): ReturnType<typeof parseRuleFile> {
  return parseRuleFile(readFileSync(join(FIX, name), 'utf8'), name, { checkExpr: checkPromqlExpr });
}

describe('parseRuleFile', () => {
  it('reads groups, durations, limits, labels and annotations', () => {
    const { file, errors } = parse('valid-rules.yaml');
    expect(errors).toEqual([]);
    expect(file.groups.map((g) => [g.name, g.intervalMs, g.limit, g.rules.length])).toEqual([['sync', 30_000, 10, 2], ['other', undefined, 0, 1]]);
    expect(file.groups[0].rules[0]).toMatchObject({ kind: 'recording', name: 'job:lag:max', labels: { source: 'sentinel' } });
    expect(file.groups[0].rules[1]).toMatchObject({ kind: 'alerting', name: 'LagHigh', forMs: 300_000, keepFiringForMs: 120_000, labels: { severity: 'page' }, line: 10 });
  });

  it('collects every problem with FILE:LINE:COL, like promtool check rules', () => {
    expect(parse('invalid-rules.yaml').errors).toEqual([
      'invalid-rules.yaml:6:17: group "g", rule 1, "A": only one of \'record\' and \'alert\' must be set',
      'invalid-rules.yaml:8:17: group "g", rule 2, "bad name": invalid field \'annotations\' in recording rule',
      'invalid-rules.yaml:8:17: group "g", rule 2, "bad name": invalid field \'for\' in recording rule',
      'invalid-rules.yaml:8:17: group "g", rule 2, "bad name": invalid recording rule name: bad name',
      'invalid-rules.yaml:9:15: group "g", rule 2, "bad name": could not parse expression: 1:4: parse error: unexpected end of input inside braces',
      'invalid-rules.yaml:16:11: group "g", rule 3, "C": invalid label name: 0bad',
      'invalid-rules.yaml:17:11: group "g", rule 3, "C": invalid label name: __name__',
      'invalid-rules.yaml:19:14: group "g", rule 3, "C": annotation "s": template: __alert_C:1: unclosed action',
      'invalid-rules.yaml:20:5: groupname: "g" is repeated in the same file',
      'invalid-rules.yaml:24:16: group "g", rule 2, "": one of \'record\' or \'alert\' must be set',
      'invalid-rules.yaml:25:15: group "g", rule 2, "": field \'expr\' must be set in rule',
    ]);
  });

  it('rejects unknown fields, bad durations, keep_firing_for on recording rules, bad templates and annotation names together', () => {
    expect(parse('more-invalid-rules.yaml').errors).toEqual([
      'more-invalid-rules.yaml:3:15: not a valid duration string: "1x"',
      'more-invalid-rules.yaml:5:17: group "x", rule 1, "r": invalid field \'keep_firing_for\' in recording rule',
      'more-invalid-rules.yaml:8:9: field bogus not found in type rulefmt.RuleNode',
      'more-invalid-rules.yaml:12:15: group "x", rule 2, "T": label "ok": template: __alert_T:1: unclosed action',
      'more-invalid-rules.yaml:14:11: group "x", rule 2, "T": invalid annotation name: bad-name',
    ]);
  });

  it('reports the node-positioned problems promtool reports, at the same line:column', () => {
    const r = spawnSync(PROMTOOL, ['check', 'rules', 'invalid-rules.yaml'], { cwd: FIX, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    const ours = parse('invalid-rules.yaml').errors;
    const positioned = r.stderr.split('\n').filter((l) => /^invalid-rules\.yaml: \d+:\d+: /.test(l) && !l.includes('parse error') && !l.startsWith('invalid-rules.yaml: 0:0'));
    expect(positioned.length).toBeGreaterThan(5);
    for (const line of positioned) {
      const m = /^invalid-rules\.yaml: (\d+:\d+): (?:\d+:\d+: )?(.*)$/.exec(line);
      expect(m).not.toBeNull();
      expect(ours).toContain(`invalid-rules.yaml:${m![1]}: ${m![2]}`);
    }
  });

  it('loadRuleFiles throws one RuleFileError listing the problems of every file', async () => {
    const err = await loadRuleFiles([join(FIX, 'valid-rules.yaml'), join(FIX, 'invalid-rules.yaml'), join(FIX, 'missing.yaml')], { checkExpr: checkPromqlExpr }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuleFileError);
    const issues = (err as RuleFileError).issues;
    expect(issues).toHaveLength(12);
    expect(issues[11]).toMatch(/missing\.yaml: cannot read rule file: no such file; check the path$/);
    expect((err as RuleFileError).code).toBe('SENTINEL_RULE_FILE_INVALID');
  });

  it('loadRuleFiles returns the files when all are valid', async () => {
    const files = await loadRuleFiles([join(FIX, 'valid-rules.yaml')]);
    expect(files[0].groups[0].file).toBe(join(FIX, 'valid-rules.yaml'));
  });
});
