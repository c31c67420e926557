/**
 * `sentinel probe NAME|all [--config FILE] [--json]`: runs probes once against the configured
 * target and prints their results. Samples go to a throw-away in-memory store (never the daemon's
 * store, which only the daemon writes). Exit 0 when every probe succeeded, 1 when any failed,
 * 2 on a usage or configuration error.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { loadConfig, PROBE_NAMES } from '../config/index.js';
import { buildProbes, ProbeScheduler } from '../probes/index.js';
import type { ProbeFactories, ProbeRunReport } from '../probes/index.js';
import { MemoryStore } from '../store/index.js';
import { SystemClock } from '../time/index.js';
import type { Clock } from '../time/index.js';
import { configFileOf } from './config-file.js';
import type { Command, CommandIO } from './types.js';
import { ExitCodes } from './types.js';

/** ProbeCommandDeps replace the probe implementations and the clock (tests). */
export interface ProbeCommandDeps {
  readonly factories?: ProbeFactories;
  readonly clock?: Clock;
}

/** createProbeCommand builds the `sentinel probe` command. */
export function createProbeCommand(deps: ProbeCommandDeps = {}): Command {
  return {
    options: { config: { type: 'string' }, json: { type: 'boolean' } },
    async run(args, io) {
      if (args.positionals.length !== 1) {
        io.stderr.write(`sentinel probe: name one probe or 'all', e.g. sentinel probe replay_lag; probes: ${PROBE_NAMES.join(', ')}\n`);
        return ExitCodes.usage;
      }
      const name = args.positionals[0];
      const configFile = configFileOf(args, io);
      const config = loadConfig(configFile, { env: io.env, cwd: io.cwd });
      if (name !== 'all' && !(PROBE_NAMES as readonly string[]).includes(name)) {
        io.stderr.write(`sentinel probe: unknown probe '${name}'; probes: ${PROBE_NAMES.join(', ')}\n`);
        return ExitCodes.usage;
      }
      if (name !== 'all' && config.probes[name as (typeof PROBE_NAMES)[number]]?.enabled !== true) {
        io.stderr.write(`sentinel probe: probe '${name}' is not configured (or not enabled) in ${config.file}; add probes.${name} to run it\n`);
        return ExitCodes.usage;
      }
      const clock = deps.clock ?? new SystemClock();
      const logger = pino({ level: 'silent' });
      const registry = new Registry();
      const probes = buildProbes(config, { registry, clock, logger, env: io.env, factories: deps.factories });
      const selected = name === 'all' ? probes : probes.filter((p) => p.probe.name === name);
      if (selected.length === 0) {
        io.stderr.write(`sentinel probe: no enabled probes in ${config.file}\n`);
        return ExitCodes.usage;
      }
      const scheduler = new ProbeScheduler({ probes: selected, store: new MemoryStore(), registry, clock, logger });
      let reports: ProbeRunReport[];
      try {
        reports = await scheduler.runOnce('all', io.signal);
      } finally {
        await scheduler.closeProbes();
      }
      if (args.options.json === true) printJson(io, reports);
      else printTable(io, reports);
      return reports.every((r) => r.outcome.result.ok) ? ExitCodes.ok : ExitCodes.failed;
    },
  };
}

/** probeCommand implements `sentinel probe` with the real probes. */
export const probeCommand: Command = createProbeCommand();

function printJson(io: CommandIO, reports: readonly ProbeRunReport[]): void {
  const out = reports.map((r) => ({
    probe: r.probe,
    ok: r.outcome.result.ok,
    reason: r.outcome.reason,
    duration_ms: r.outcome.result.durationMs,
    attempts: r.outcome.attempts,
    detail: r.outcome.result.detail,
    samples: r.outcome.result.samples.map((s) => ({ name: s.name, labels: s.labels ?? {}, value: jsonNumber(s.value) })),
  }));
  io.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

/** jsonNumber keeps NaN and ±Inf visible in JSON the way Prometheus' API writes them (as strings). */
function jsonNumber(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

function printTable(io: CommandIO, reports: readonly ProbeRunReport[]): void {
  const rows = reports.map((r) => [r.probe, r.outcome.result.ok ? 'ok' : 'FAIL', r.outcome.reason, `${Math.round(r.outcome.result.durationMs)} ms`, summarize(r.outcome.result.detail)]);
  const header = ['PROBE', 'RESULT', 'REASON', 'DURATION', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  io.stdout.write(line(header) + '\n');
  for (const row of rows) io.stdout.write(line(row) + '\n');
  const failed = reports.filter((r) => !r.outcome.result.ok).length;
  io.stdout.write(`\n${reports.length - failed}/${reports.length} probes ok\n`);
}

/** summarize prints a detail record on one line, short enough for a terminal. */
function summarize(detail: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(detail)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    parts.push(`${k}=${text}`);
  }
  const joined = parts.join(' ');
  return joined.length > 120 ? `${joined.slice(0, 117)}...` : joined;
}
