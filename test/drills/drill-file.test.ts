import { describe, expect, it } from 'vitest';
import { parseYamlSource } from '../../src/config/index.js';
import { loadDrillFiles, parseDrillSource } from '../../src/drills/drill-file.js';
import { DrillValidationError } from '../../src/errors.js';

const VALID = `drills:
  - name: partition
    description: cut the link
    environments: [dev, staging]
    proxies:
      - name: spacetimedb
    steady_state:
      - name: delivery ok
        query: min(sentinel_probe_success{probe="delivery"})
        op: '>='
        threshold: 1
    stages:
      - name: cut
        duration: 15s
        probes: [delivery]
        faults:
          - proxy: spacetimedb
            type: timeout
            attributes: { timeout: 0 }
        verify_fault:
          name: delivery fails
          query: min(sentinel_probe_success{probe="delivery"})
          op: '=='
          threshold: 0
`;

function issues(yaml: string): string[] {
  try {
    parseDrillSource(parseYamlSource('d.yaml', yaml), { knownProbes: ['delivery', 'resume'] });
  } catch (err) {
    if (err instanceof DrillValidationError) return [...err.issues];
    throw err;
  }
  return [];
}

describe('drill files', () => {
  it('parses a valid drill with defaults filled in', () => {
    const [d] = parseDrillSource(parseYamlSource('d.yaml', VALID));
    expect(d.stages[0]).toMatchObject({ name: 'cut', durationMs: 15_000, probeIntervalMs: 5000, recoveryMs: 60_000 });
    expect(d.stages[0].faults[0]).toEqual({ kind: 'toxic', proxy: 'spacetimedb', type: 'timeout', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } });
  });

  it.each([
    ['an unknown toxic type', VALID.replace('type: timeout', 'type: lag'), 'd.yaml:18:19: drills[0].stages[0].faults[0].type: invalid value "lag" (expected one of latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, down)'],
    ['a proxy outside the allowlist', VALID.replace('- proxy: spacetimedb', '- proxy: runtime'), "d.yaml:17:20: drills[0].stages[0].faults[0].proxy: proxy 'runtime' is not in this drill's proxies allowlist (expected one of spacetimedb)"],
    ['a bandwidth rate of 0 (stalls the stream)', VALID.replace('type: timeout', 'type: bandwidth').replace('{ timeout: 0 }', '{ rate: 0 }'), 'd.yaml:19:33: drills[0].stages[0].faults[0].attributes.rate: value 0 is too small (expected a number >= 1)'],
    ['a fractional attribute', VALID.replace('{ timeout: 0 }', '{ timeout: 1.5 }'), 'd.yaml:19:36: drills[0].stages[0].faults[0].attributes.timeout: value 1.5 is not an integer (Toxiproxy attributes are integers)'],
    ['an unknown attribute', VALID.replace('{ timeout: 0 }', '{ timeout: 0, latency: 5 }'), 'd.yaml:19:39: drills[0].stages[0].faults[0].attributes.latency: unknown timeout attribute (expected one of timeout)'],
    ['a query that does not parse', VALID.replace('min(sentinel_probe_success{probe="delivery"})', 'min(sentinel_probe_success{probe="delivery"}'), 'd.yaml:9:16: drills[0].steady_state[0].query: query does not parse:'],
    ['a bad duration', VALID.replace('duration: 15s', 'duration: 15 seconds'), 'd.yaml:14:19: drills[0].stages[0].duration: wrong type string (expected a duration like 30s)'],
    ['an unknown probe', VALID.replace('probes: [delivery]', 'probes: [delivery, latency]'), "d.yaml:15:28: drills[0].stages[0].probes[1]: unknown probe 'latency' (expected one of delivery, resume)"],
    ['an unknown key', VALID.replace('    environments:', '    environment: dev\n    environments:'), 'd.yaml:4:5: drills[0].environment: unknown key (expected one of name, description, environments, proxies, steady_state, stages)'],
    ['no steady state', VALID.replace(/ {4}steady_state:[\s\S]*?threshold: 1\n/, '    steady_state: []\n'), 'd.yaml:7:19: drills[0].steady_state: too few items (expected at least 1)'],
    ['a toxicity above 1', VALID.replace('type: timeout', 'type: timeout\n            toxicity: 1.5'), 'd.yaml:19:23: drills[0].stages[0].faults[0].toxicity: value 1.5 is too large (expected a number <= 1)'],
    ['a slicer that would crash Toxiproxy', VALID.replace('type: timeout', 'type: slicer').replace('{ timeout: 0 }', '{ average_size: 10, size_variation: 10 }'), 'd.yaml:19:61: drills[0].stages[0].faults[0].attributes.size_variation: size_variation must be smaller than average_size'],
  ])('rejects %s with file:line:col', (_, yaml, expected) => {
    const got = issues(yaml);
    expect(got.some((line) => line.startsWith(expected)), got.join('\n')).toBe(true);
  });

  it('requires a stage with faults to prove them in effect', () => {
    const got = issues(VALID.replace(/ {8}verify_fault:[\s\S]*$/, ''));
    expect(got).toEqual(['d.yaml:16:9: drills[0].stages[0].faults: a stage with faults needs verify_fault: a condition that holds only while the fault is in effect']);
  });

  it('collects every problem of a file, not just the first', () => {
    const got = issues(VALID.replace('type: timeout', 'type: lag').replace('duration: 15s', 'duration: soon'));
    expect(got).toHaveLength(2);
  });

  it('validates the shipped staging drills', () => {
    const drills = loadDrillFiles(['config/drills/staging.yaml'], { knownProbes: ['runtime_metrics', 'replay_lag', 'delivery', 'resume', 'connections', 'token', 'cutover_state', 'retired_routes', 'preflight'] });
    expect(drills.map((d) => d.name)).toEqual(['temporary-partition', 'service-restart', 'reconnect-storm', 'latency-slow-consumer', 'token-expiry-storm', 'stale-cursor-retention']);
  });
});
