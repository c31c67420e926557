/**
 * `sentinel query EXPR [--time T | --start S --end E --step D] [--config FILE | --data-dir DIR] [--json]`:
 * PromQL over the daemon's sample store, opened read-only so it is safe while the daemon runs.
 * Exit 0 on a result, 1 when evaluation fails, 2 on a bad expression, option or configuration.
 */
import path from 'node:path';
import { loadConfig } from '../config/index.js';
import { PromqlParseError, QueryError, UsageError } from '../errors.js';
import { createEngine, formatQueryValue, parseExpr, toApiQueryData } from '../promql/index.js';
import type { QueryResult } from '../promql/index.js';
import { DEFAULT_RETENTION_MS, openSampleStore } from '../store/index.js';
import { parseDurationMs, SystemClock } from '../time/index.js';
import { configFileOf } from './config-file.js';
import { createConfiguredEngine } from './query-engine.js';
import type { Command, CommandIO } from './types.js';
import { ExitCodes } from './types.js';

/** MAX_POINTS mirrors Prometheus' 11,000-points-per-series limit of range queries. */
const MAX_POINTS = 11_000;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** parseTimeArg reads a time option as Prometheus' API does: Unix seconds (fractions allowed) or RFC 3339. */
export function parseTimeArg(text: string, option: string): number {
  if (/^-?\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (RFC3339.test(text)) {
    const ms = Date.parse(text.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`--${option} ${JSON.stringify(text)} is neither an RFC 3339 time (2026-11-25T17:55:00Z) nor Unix seconds (1764093300)`);
}

/** parseStepArg reads a step as a Prometheus duration (15s, 1m) or a number of seconds. */
export function parseStepArg(text: string): number {
  const ms = /^\d+(?:\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : parseDurationMs(text);
  if (ms === undefined || !(ms > 0)) throw new UsageError(`--step ${JSON.stringify(text)} must be a positive duration (15s, 1m) or number of seconds`);
  return ms;
}

function stringOption(args: { options: Readonly<Record<string, string | boolean | undefined>> }, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}

/** queryCommand implements `sentinel query`. */
export const queryCommand: Command = {
  options: {
    time: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    step: { type: 'string' },
    config: { type: 'string' },
    'data-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    if (args.positionals.length !== 1) {
      io.stderr.write("sentinel query: give exactly one PromQL expression in quotes, e.g. sentinel query 'sentinel_probe_success == 0'\n");
      return ExitCodes.usage;
    }
    const exprText = args.positionals[0];
    const nowMs = new SystemClock().nowMs();
    const time = stringOption(args, 'time');
    const start = stringOption(args, 'start');
    const end = stringOption(args, 'end');
    const step = stringOption(args, 'step');
    const isRange = start !== undefined || end !== undefined || step !== undefined;
    if (isRange && time !== undefined) throw new UsageError('use either --time (instant query) or --start/--end/--step (range query), not both');
    if (isRange && (start === undefined || step === undefined)) throw new UsageError('a range query needs --start and --step (--end defaults to now)');

    let expr;
    try {
      expr = parseExpr(exprText);
    } catch (err) {
      if (err instanceof PromqlParseError) {
        io.stderr.write(`sentinel query: ${err.message} (at character ${err.pos.start + 1})\n  ${exprText}\n  ${' '.repeat(err.pos.start)}^\n`);
        return ExitCodes.usage;
      }
      throw err;
    }

    const dataDirArg = stringOption(args, 'data-dir');
    let dataDir: string;
    let retentionMs = DEFAULT_RETENTION_MS;
    let engine = createEngine();
    if (dataDirArg !== undefined) {
      dataDir = path.resolve(io.cwd, dataDirArg);
    } else {
      const config = loadConfig(configFileOf(args, io), { env: io.env, cwd: io.cwd });
      dataDir = config.storage.dataDir;
      retentionMs = config.storage.retentionMs;
      engine = createConfiguredEngine(config);
    }

    const store = openSampleStore({ dataDir, retentionMs, readOnly: true });
    try {
      let result: QueryResult;
      try {
        if (isRange) {
          const startMs = parseTimeArg(start as string, 'start');
          const endMs = end === undefined ? nowMs : parseTimeArg(end, 'end');
          const stepMs = parseStepArg(step as string);
          if (endMs < startMs) throw new UsageError('--end is before --start; swap them');
          if ((endMs - startMs) / stepMs + 1 > MAX_POINTS) {
            throw new UsageError(`exceeded maximum resolution of ${MAX_POINTS} points per timeseries; try a larger --step`);
          }
          result = engine.rangeQuery(store, expr, startMs, endMs, stepMs, io.signal);
        } else {
          const tMs = time === undefined ? nowMs : parseTimeArg(time, 'time');
          result = engine.instantQuery(store, expr, tMs, io.signal);
        }
      } catch (err) {
        if (err instanceof QueryError) {
          io.stderr.write(`sentinel query: ${err.message}\n`);
          return ExitCodes.failed;
        }
        throw err;
      }
      printResult(io, result, args.options.json === true);
      return ExitCodes.ok;
    } finally {
      await store.close();
    }
  },
};

function printResult(io: CommandIO, result: QueryResult, asJson: boolean): void {
  // Warnings go to stderr in both modes: the API's `data` member has no place for them.
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  if (asJson) {
    io.stdout.write(JSON.stringify(toApiQueryData(result.value)) + '\n');
    return;
  }
  const text = formatQueryValue(result.value);
  if (text !== '') io.stdout.write(text + '\n');
}
