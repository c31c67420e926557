/**
 * `sentinel demo` (`npm start`): the lab and its fault proxy, the daemon watching the lab through
 * the proxy, one staged drill with a live progress view, then the verdict and the report's path.
 *
 * Everything runs in this process on ephemeral loopback ports, so it needs no root, no network
 * and no free fixed port. The daemon's configuration is `config/lab.yaml` itself, with only the
 * addresses and paths of this run substituted, so the demo exercises the shipped configuration.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { checkConfig } from '../config/index.js';
import { progressReporter, readVerdict, ToxiproxyFaultDriver } from '../drills/index.js';
import type { DrillRunResult } from '../drills/index.js';
import { startComponents, stopComponents } from '../server/index.js';
import type { Component } from '../server/index.js';
import { createLogger, createMetricsRegistry, startTracing } from '../telemetry/index.js';
import { SystemClock } from '../time/index.js';
import { labStackOptionsFromConfig, startLabStack } from './lab.js';
import { buildDaemon, findVersion } from './run.js';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** DEMO_DRILL is the staged drill the demo runs. */
const DEMO_DRILL = 'temporary-partition';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** demoConfigYaml rewrites config/lab.yaml for this run's ports and paths. */
function demoConfigYaml(urls: { spacetimedb: string; runtime: string; control: string; toxiproxy: string }, paths: { secrets: string; data: string; evidence: string }): string {
  const doc = parseDocument(readFileSync(join(repoRoot, 'config', 'lab.yaml'), 'utf8'));
  doc.setIn(['target', 'spacetimedb', 'base_url'], urls.spacetimedb);
  doc.setIn(['target', 'runtime', 'base_url'], urls.runtime);
  doc.setIn(['target', 'runtime', 'token'], `\${file:${join(paths.secrets, 'runtime-admin-token')}}`);
  doc.setIn(['target', 'control', 'base_url'], urls.control);
  doc.setIn(['target', 'control', 'session_token'], `\${file:${join(paths.secrets, 'control-session-token')}}`);
  doc.setIn(['target', 'control', 'jwt_signing_key'], `\${file:${join(paths.secrets, 'jwt-signing-key')}}`);
  doc.setIn(['rules', 'files'], [join(repoRoot, 'config', 'rules', '*.rules.yaml')]);
  doc.setIn(['drills', 'files'], [join(repoRoot, 'config', 'drills', '*.yaml')]);
  doc.setIn(['drills', 'toxiproxy_url'], urls.toxiproxy);
  doc.setIn(['drills', 'evidence_dir'], paths.evidence);
  doc.setIn(['server', 'listen'], '127.0.0.1:0');
  doc.setIn(['storage', 'data_dir'], paths.data);
  doc.setIn(['log', 'level'], 'warn');
  doc.deleteIn(['lab']);
  return doc.toString();
}

/** demoCommand implements `sentinel demo`. */
export const demoCommand: Command = {
  usage: 'demo [--out DIR]                                     lab + daemon + one staged drill; prints the verdict',
  options: { out: { type: 'string' } },
  async run(args, io) {
    const say = (line: string): void => void io.stdout.write(`${line}\n`);
    const work = mkdtempSync(join(tmpdir(), 'sentinel-demo-'));
    const evidence = resolve(io.cwd, typeof args.options.out === 'string' ? args.options.out : join('output', 'chaos', 'spacetime'));
    const clock = new SystemClock();
    const started: Component[] = [];
    const labOptions = labStackOptionsFromConfig(join(repoRoot, 'config', 'lab.yaml'), io.cwd);
    say('sentinel demo: starting the lab (SpacetimeDB, runtime, control) and its fault proxy on ephemeral loopback ports');
    const stack = await startLabStack({
      ...labOptions,
      lab: { ...labOptions.lab, stateDir: join(work, 'lab'), ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 } },
      faultProxyApiPort: 0,
      proxyPorts: { spacetimedb: 0, runtime: 0, control: 0 },
    });
    // Errors only: the drill's progress is the demo's view, and probe warnings during a partition are expected.
    const logger = createLogger({ level: 'error', destination: io.stderr as NodeJS.WritableStream, base: { service: 'spacetime-sentinel' } });
    const tracing = await startTracing({ serviceName: 'spacetime-sentinel', env: io.env });
    let result: DrillRunResult | undefined;
    try {
      const faultProxyUrl = stack.faultProxy?.url ?? '';
      // The proxies were created on port 0: read the ports they were given.
      const proxies = new Map((await new ToxiproxyFaultDriver({ url: faultProxyUrl }).listProxies()).map((p) => [p.name, `http://${p.listen}`]));
      const urls = { spacetimedb: proxies.get('spacetimedb') ?? '', runtime: proxies.get('runtime') ?? '', control: proxies.get('control') ?? '', toxiproxy: faultProxyUrl };
      say(`  lab SpacetimeDB ${stack.lab.urls.spacetimedb}, watched through the fault proxy at ${urls.spacetimedb}`);
      say(`  lab admin ${stack.lab.urls.admin}/lab/state, fault proxy API ${faultProxyUrl}`);
      const configFile = join(work, 'sentinel.yaml');
      writeFileSync(configFile, demoConfigYaml(urls, { secrets: join(work, 'lab', 'secrets'), data: join(work, 'data'), evidence }));
      const checked = checkConfig(configFile, { env: io.env, cwd: io.cwd });
      if (!checked.ok) {
        for (const line of checked.issues) io.stderr.write(`${line}\n`);
        return ExitCodes.usage;
      }
      const version = findVersion();
      const progress = progressReporter(io.stdout);
      const daemon = buildDaemon(checked.config, { clock, logger, registry: createMetricsRegistry({ version }), tracer: tracing.tracer, version, env: io.env, drillEvents: [progress] });
      try {
        started.push(...(await startComponents(daemon.components, { signal: io.signal, logger, clock, deadlineMs: () => clock.nowMs() + 10_000 })));
        say(`sentinel daemon: ${daemon.server.address()?.url ?? '?'} (try /metrics, /api/v1/status, /api/v1/alerts, /api/v1/drills)`);
        say(`running the staged drill '${DEMO_DRILL}'`);
        result = await daemon.drillScheduler.runNow(DEMO_DRILL);
      } finally {
        progress.stop();
        await stopComponents(started, { deadlineMs: clock.nowMs() + 10_000, clock, logger });
      }
    } finally {
      await tracing.shutdown().catch(() => undefined);
      await stack.close();
      rmSync(work, { recursive: true, force: true });
    }
    if (!result) {
      io.stderr.write(io.signal.aborted ? 'sentinel demo: interrupted\n' : 'sentinel demo: the drill could not run; see the log above\n');
      return ExitCodes.failed;
    }
    // The verdict is re-derived from the evidence on disk, as a release manager would.
    const verdict = await readVerdict(result.dir);
    say('');
    say(verdict.kind === 'invalid' ? `Verdict: invalid evidence (${verdict.problems.join('; ')})` : `Verdict: ${verdict.report.decision}`);
    say(`Evidence: ${result.dir}`);
    say(`Report:   ${join(result.dir, 'report.html')}`);
    say(`Check it: npx sentinel verdict ${result.dir}`);
    return verdict.kind === 'decided' && verdict.report.decision === 'allow' ? ExitCodes.ok : ExitCodes.failed;
  },
};
