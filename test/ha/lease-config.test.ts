/**
 * The `drills.lease` section: the README's HA snippet passes `sentinel config check` inside the
 * shipped template, and each mistake gets one FILE:LINE:COL line naming the key; the password
 * never shows in what the check prints or in the loaded config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/commands/lab-environment.js';
import { checkSource, parseYamlSource } from '../../src/config/index.js';
import { drillLease } from '../../src/commands/drill-runtime.js';
import { ManualClock } from '../../src/time/index.js';
import pino from 'pino';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const TEMPLATE = join(REPO_ROOT, 'config', 'sentinel.yaml');
const PASSWORD = 'pg-Pa55word-never-shown';
const ENV = { SENTINEL_CONTROL_SESSION_TOKEN: 'b', SENTINEL_PG_PASSWORD: PASSWORD };

/** withLease is the shipped template with `lease` (YAML text, indented under drills) added. */
function withLease(leaseYaml: string): string {
  const template = readFileSync(TEMPLATE, 'utf8');
  const at = template.indexOf('  schedules: []');
  expect(at).toBeGreaterThan(0);
  return `${template.slice(0, at)}${leaseYaml}${template.slice(at)}`;
}

function check(text: string): ReturnType<typeof checkSource> {
  return checkSource(parseYamlSource(TEMPLATE, text), TEMPLATE, ENV);
}

describe('drills.lease in the configuration', () => {
  it("accepts the README's HA snippet inside the shipped template, with the defaults filled in", () => {
    const [snippet] = [...README.matchAll(/```yaml sentinel-ha\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(snippet, 'README has a ```yaml sentinel-ha block').toBeTruthy();
    const doc = parseDocument(readFileSync(TEMPLATE, 'utf8'));
    const add = parseDocument(snippet).toJS() as { drills: { lease: unknown } };
    doc.setIn(['drills', 'lease'], doc.createNode(add.drills.lease));
    const result = check(doc.toString());
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (!result.ok) return;
    const lease = result.config.drills.lease;
    expect(lease).toMatchObject({ postgres: { url: 'postgres://sentinel@10.20.0.3:5432/sentinel' }, name: 'spacetime-sentinel/staging', holder: 'sentinel-a', ttlMs: 15_000 });
    expect(lease?.postgres.password?.reveal()).toBe(PASSWORD);
    // The loaded config and the lease built from it print without the password.
    expect(JSON.stringify(result.config)).not.toContain(PASSWORD);
    expect(inspect(result.config, { depth: 10 })).not.toContain(PASSWORD);
    const built = drillLease(result.config, new ManualClock(0), pino({ level: 'silent' }));
    expect(built.description).toBe("PostgreSQL advisory lock 'spacetime-sentinel/staging' on 10.20.0.3:5432/sentinel");
    expect(inspect(built, { depth: 10 })).not.toContain(PASSWORD);
  });

  it('without the section, keeps the file lock in the evidence directory', () => {
    const result = check(readFileSync(TEMPLATE, 'utf8'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.drills.lease).toBeUndefined();
    expect(drillLease(result.config, new ManualClock(0), pino({ level: 'silent' })).description).toBe(`the drill lock in ${result.config.drills.evidenceDir}`);
  });

  const cases: Array<[string, string, RegExp]> = [
    [
      'a password inside the URL',
      '  lease:\n    postgres:\n      url: postgres://sentinel:hunter2@db:5432/sentinel\n',
      /^.*sentinel\.yaml:\d+:\d+: drills\.lease\.postgres\.url: URL contains a password \(expected it in the password field via \$\{ENV_VAR\} or \$\{file:PATH\}\)$/,
    ],
    ['an http URL', '  lease:\n    postgres:\n      url: http://db:5432/sentinel\n', /sentinel\.yaml:\d+:\d+: drills\.lease\.postgres\.url: invalid PostgreSQL URL "http:\/\/db:5432\/sentinel" \(expected postgres:\/\/USER@HOST:PORT\/DATABASE/],
    ['a literal password', '  lease:\n    postgres:\n      url: postgres://sentinel@db/sentinel\n      password: hunter2\n', /sentinel\.yaml:\d+:\d+: drills\.lease\.postgres\.password: literal secrets are not allowed; use \$\{ENV_VAR\} or \$\{file:PATH\}/],
    ['a ttl under 3s', '  lease:\n    postgres: {url: "postgres://sentinel@db/sentinel"}\n    ttl: 1s\n', /sentinel\.yaml:\d+:\d+: drills\.lease\.ttl: lease ttl too short \(expected at least 3s\)/],
    ['a holder with a space', '  lease:\n    postgres: {url: "postgres://sentinel@db/sentinel"}\n    holder: sentinel a\n', /sentinel\.yaml:\d+:\d+: drills\.lease\.holder: invalid holder name/],
    ['no postgres', '  lease:\n    ttl: 10s\n', /sentinel\.yaml:\d+:\d+: drills\.lease\.postgres: /],
    ['an unknown key', '  lease:\n    postgres: {url: "postgres://sentinel@db/sentinel"}\n    etcd: {}\n', /sentinel\.yaml:\d+:\d+: drills\.lease\.etcd: unknown key/],
  ];
  for (const [what, yaml, expected] of cases) {
    it(`refuses ${what} with one FILE:LINE:COL line`, () => {
      const result = check(withLease(yaml));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues).toEqual([expect.stringMatching(expected)]);
      expect(result.issues.join('\n')).not.toContain('hunter2');
    });
  }
});
