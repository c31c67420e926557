/**
 * The README's Prometheus section: its sentinel config snippets (compat_metrics, remote_write, query_source)
 * are accepted by `sentinel config check` (merged into the shipped template, as a user would add
 * them) and its Prometheus config, with the shipped rule files it names, by `promtool check config`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/commands/lab-environment.js';
import { checkSource, parseYamlSource } from '../../src/config/index.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const TEMPLATE = join(REPO_ROOT, 'config', 'sentinel.yaml');
const ENV = { SENTINEL_RUNTIME_ADMIN_TOKEN: 'a', SENTINEL_CONTROL_SESSION_TOKEN: 'b' };

/** snippets returns the bodies of the README's ```yaml <kind> blocks. */
function snippets(kind: string): string[] {
  return [...README.matchAll(new RegExp('```yaml ' + kind + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** withSnippet sets the snippet's top-level keys into the shipped template, as a user would add them. */
function withSnippet(snippet: string): string {
  const doc = parseDocument(readFileSync(TEMPLATE, 'utf8'));
  const add = parseDocument(snippet).toJS() as Record<string, unknown>;
  for (const [key, value] of Object.entries(add)) {
    // Merge a section the template already has (export:) key by key.
    const current = doc.get(key, true);
    if (current && typeof value === 'object' && value !== null && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) doc.setIn([key, k], doc.createNode(v));
    else doc.set(key, doc.createNode(value));
  }
  return doc.toString();
}

describe('README, Prometheus', () => {
  it('its sentinel config snippets pass sentinel config check inside the shipped template', () => {
    const found = snippets('sentinel');
    expect(found.length).toBeGreaterThan(0);
    for (const snippet of found) {
      const doc = parseDocument(readFileSync(TEMPLATE, 'utf8'));
      const add = parseDocument(snippet).toJS() as Record<string, unknown>;
      for (const [key, value] of Object.entries(add)) doc.set(key, doc.createNode(value));
      const result = checkSource(parseYamlSource(TEMPLATE, doc.toString()), TEMPLATE, ENV);
      expect(result.ok ? [] : result.issues, snippet).toEqual([]);
      if (result.ok) expect(result.config.export.compatMetrics).toBe(true);
    }
    // And a bad value gets one clear line naming the key.
    const bad = checkSource(parseYamlSource(TEMPLATE, readFileSync(TEMPLATE, 'utf8').replace('compat_metrics: false', 'compat_metrics: yes please')), TEMPLATE, ENV);
    expect(bad.ok ? [] : bad.issues).toEqual([expect.stringMatching(/sentinel\.yaml:\d+:\d+: export\.compat_metrics: .*true or false/)]);
  });

  it('its remote_write snippet passes sentinel config check inside the shipped template', () => {
    const [snippet] = snippets('sentinel-remote-write');
    expect(snippet).toBeTruthy();
    const result = checkSource(parseYamlSource(TEMPLATE, withSnippet(snippet)), TEMPLATE, { ...ENV, SENTINEL_REMOTE_WRITE_TOKEN: 'rw' });
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (result.ok) expect(result.config.export.remoteWrite.map((r) => [r.name, r.url, r.externalLabels])).toEqual([['central', 'https://prometheus.example/api/v1/write', { replica: 'a' }]]);
    // Without the token in the environment: one line naming the key.
    const missing = checkSource(parseYamlSource(TEMPLATE, withSnippet(snippet)), TEMPLATE, ENV);
    expect(missing.ok ? [] : missing.issues).toEqual([expect.stringMatching(/sentinel\.yaml:\d+:\d+: export\.remote_write\[0\]\.bearer_token: .*SENTINEL_REMOTE_WRITE_TOKEN/)]);
  });

  it('its query_source snippet passes sentinel config check inside the shipped template', () => {
    const [snippet] = snippets('sentinel-query-source');
    expect(snippet).toBeTruthy();
    const result = checkSource(parseYamlSource(TEMPLATE, withSnippet(snippet)), TEMPLATE, { ...ENV, SENTINEL_QUERY_SOURCE_TOKEN: 'q' });
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (result.ok) expect([result.config.querySource?.url, result.config.querySource?.timeoutMs]).toEqual(['https://prometheus.example', 30_000]);
    const bad = checkSource(parseYamlSource(TEMPLATE, withSnippet(snippet.replace('timeout: 30s', 'timeout: soon'))), TEMPLATE, { ...ENV, SENTINEL_QUERY_SOURCE_TOKEN: 'q' });
    expect(bad.ok ? [] : bad.issues).toEqual([expect.stringMatching(/sentinel\.yaml:\d+:\d+: query_source\.timeout: invalid duration "soon"/)]);
  });

  it('its Prometheus config and the rule files it loads pass promtool check config', () => {
    const [snippet] = snippets('prometheus');
    expect(snippet).toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-readme-'));
    try {
      // The snippet names the rule files relative to a checkout, as the README tells to copy them.
      symlinkSync(join(REPO_ROOT, 'config'), join(dir, 'config'));
      writeFileSync(join(dir, 'prometheus.yml'), snippet);
      const r = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
