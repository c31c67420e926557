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

  const WITH_EXPECT = (expect: string): string =>
    VALID.replace('probes: [delivery]', 'probes: [delivery, resume]') +
    `        expect:
${expect}`;

  it('infers what an expectation stands on from its probe label or metric', () => {
    const [d] = parseDrillSource(
      parseYamlSource(
        'd.yaml',
        WITH_EXPECT(`          - { name: gaps, query: 'sum(increase(sentinel_resume_total{outcome="gap"}[$window]))', op: '<=', threshold: 0 }
          - { name: delivered, query: 'min(sentinel_probe_success{probe="delivery",stage="$stage"})', op: '>=', threshold: 1 }
          - { name: stated, query: 'vector(0)', op: '<=', threshold: 0, exercised: [{ probe: delivery, runs: 2, phase: stage }] }
          - { name: nothing needed, query: 'vector(0)', op: '<=', threshold: 0, exercised: [] }
`),
      ),
      { knownProbes: ['delivery', 'resume'] },
    );
    const [gaps, delivered, stated, nothing] = d.stages[0].expect;
    expect(gaps).toMatchObject({ exercised: [{ probe: 'resume', runs: 1, phase: 'recovery' }], exercisedFrom: 'inferred' });
    expect(delivered.exercised).toEqual([{ probe: 'delivery', runs: 1, phase: 'recovery' }]);
    expect(stated).toMatchObject({ exercised: [{ probe: 'delivery', runs: 2, phase: 'stage' }], exercisedFrom: 'file' });
    expect(nothing.exercised).toEqual([]);
    expect(d.stages[0].recoveryHoldMs).toBe(15_000);
    expect(d.probes).toEqual(['delivery', 'resume']);
  });

  it.each([
    [
      'an expectation whose query names no probe',
      `          - { name: x, query: 'sum(sentinel_probe_success)', op: '>=', threshold: 1 }
`,
      `d.yaml:26:31: drills[0].stages[0].expect[0].query: cannot tell which probe's runs this query stands on`,
    ],
    [
      'an expectation on a probe the drill never runs',
      `          - { name: x, query: 'max(sentinel_token_contract_ok)', op: '>=', threshold: 1 }
`,
      "d.yaml:26:31: drills[0].stages[0].expect[0].query: the query reads probe 'token', which this drill never runs",
    ],
    [
      'an exercised probe that is not configured',
      `          - { name: x, query: 'vector(0)', op: '<=', threshold: 0, exercised: [{ probe: connections, phase: stage }] }
`,
      "d.yaml:26:89: drills[0].stages[0].expect[0].exercised[0].probe: unknown probe 'connections'",
    ],
    [
      'zero required runs',
      `          - { name: x, query: 'vector(0)', op: '<=', threshold: 0, exercised: [{ probe: resume, runs: 0 }] }
`,
      'd.yaml:26:103: drills[0].stages[0].expect[0].exercised[0].runs: value 0 is too small',
    ],
  ])('rejects %s with file:line:col', (_, expectYaml, expected) => {
    const got = issues(WITH_EXPECT(expectYaml));
    expect(got.some((line) => line.startsWith(expected)), got.join('\n')).toBe(true);
  });

  it('validates the shipped staging drills', () => {
    const drills = loadDrillFiles(['config/drills/staging.yaml'], { knownProbes: ['runtime_metrics', 'replay_lag', 'delivery', 'resume', 'connections', 'token', 'cutover_state', 'retired_routes', 'preflight'] });
    expect(drills.map((d) => d.name)).toEqual(['temporary-partition', 'service-restart', 'reconnect-storm', 'latency-slow-consumer', 'token-expiry-storm', 'stale-cursor-retention']);
  });
});
