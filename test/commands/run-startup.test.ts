/**
 * `sentinel run` checks everything that can refuse its configuration before it opens anything:
 * a bad drill file, a schedule naming no drill or a bad rule file ends the command with exit 2
 * and the file's position, and leaves no data directory, notification queue, drill lock or
 * listening socket behind, and no handle open in the process.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/commands/run.js';
import { deadTargetYaml } from '../helpers/target-yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-run-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** BAD_DRILL is a well-formed drill whose stage paces a probe the configuration does not have. */
const BAD_DRILL = `drills:
  - name: broken
    description: paces a probe that does not exist
    environments: [dev]
    proxies:
      - name: spacetimedb
    steady_state:
      - name: delivery works
        query: min(sentinel_probe_success{probe="delivery"})
        op: '>='
        threshold: 1
    stages:
      - name: partition
        duration: 5s
        probes: [no_such_probe]
        faults:
          - proxy: spacetimedb
            type: timeout
            stream: downstream
            attributes: { timeout: 0 }
        recovery: 5s
`;

function writeConfig(name: string, extra: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `environment: dev
${deadTargetYaml({ sessionToken: '${CT_TOKEN}' })}server:
  listen: 127.0.0.1:0
storage:
  data_dir: data-${name}
alerting:
  webhooks:
    - url: http://127.0.0.1:9/hook
${extra}`,
  );
  return file;
}

/** openHandles lists the kinds of handles the process holds (timers aside: vitest keeps its own). */
function openHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'Timeout' && r !== 'Immediate')
    .sort();
}

async function run(file: string): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const code = await runCommand.run(
    { positionals: [], options: { config: file } },
    {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      env: { CT_TOKEN: 'ct-token' },
      cwd: dir,
      signal: new AbortController().signal,
    },
  );
  return { code, stderr, stdout };
}

describe('sentinel run refuses a configuration before it opens anything', () => {
  it.each([
    ['a drill file naming an unknown probe', 'bad-drill', () => {
      writeFileSync(join(dir, 'broken-drill.yaml'), BAD_DRILL);
      return `drills:\n  files: [broken-drill.yaml]\n  evidence_dir: evidence-bad-drill\n`;
    }, /broken-drill\.yaml:\d+:\d+: .*no_such_probe/],
    ['a drill schedule naming no drill', 'bad-schedule', () => `drills:\n  files: []\n  evidence_dir: evidence-bad-schedule\n  schedules:\n    - drill: nowhere\n      cron: "0 3 * * *"\n`, /drills\.schedules: drill 'nowhere' is not defined/],
    ['a rule file that does not parse', 'bad-rules', () => {
      writeFileSync(join(dir, 'broken.rules.yaml'), 'groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up ==\n');
      return `rules:\n  files: [broken.rules.yaml]\ndrills:\n  evidence_dir: evidence-bad-rules\n`;
    }, /broken\.rules\.yaml:5:\d+:/],
  ])('%s: exit 2 with the position, no data dir, queue, lock or handle left', async (_what, name, extra, message) => {
    const file = writeConfig(name, extra());
    const before = openHandles();
    const { code, stderr } = await run(file);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    // Nothing was opened: no store, no notification queue (both under the data dir), no drill lock.
    expect(existsSync(join(dir, `data-${name}`))).toBe(false);
    const evidence = join(dir, `evidence-${name}`);
    expect(existsSync(evidence) ? readdirSync(evidence) : []).toEqual([]);
    // A file read to check the configuration may still be closing: give it a moment, then compare.
    for (let i = 0; i < 50 && openHandles().join() !== before.join(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(openHandles()).toEqual(before);
  });
});
