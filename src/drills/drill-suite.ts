/**
 * A drill suite: several drills (and the probe checks that stand for the operators' route and
 * publish scenarios) run as one, summarised the way the operators' chaos gate reads it: one
 * `SUMMARY.md` with `- Failures: N` over every scenario and `results.jsonl` lines
 * `{"scenario","status","duration_seconds","log_file"}` (OpenAgents
 * `scripts/spacetime/run-chaos-drills.sh:84-129` at 9b2b978949; promotion rule `Failures: 0`,
 * `docs/sync/SPACETIME_CHAOS_DRILLS.md:54-56`). Each drill keeps its own evidence directory;
 * the suite links them and re-derives each decision with `readVerdict`.
 *
 * Where a scenario of the operators' nine has a live counterpart, its row names it
 * (`OPERATORS_CHAOS_MATRIX`); the others are source-level tests of the OpenAgents repository.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../time/index.js';
import { formatDurationMs } from '../time/index.js';
import type { DrillSpec } from './drill-file.js';
import type { DrillRunResult } from './drill-runner.js';
import { latestEvidence } from './evidence-index.js';
import { evidenceDirName } from './evidence.js';
import { readVerdict } from './verdict.js';

/** OperatorsScenario is one of the nine scenarios of the operators' chaos gate and its live counterpart. */
export interface OperatorsScenario {
  readonly scenario: string;
  /** drillPattern matches the names of drills that exercise the same property live. */
  readonly drillPattern?: RegExp;
  /** probe is the probe whose run exercises it live. */
  readonly probe?: string;
  /** why says what the counterpart checks, or why there is none. */
  readonly why: string;
}

/** OPERATORS_CHAOS_MATRIX maps the operators' chaos scenarios (run-chaos-drills.sh:104-112) to live counterparts. */
export const OPERATORS_CHAOS_MATRIX: readonly OperatorsScenario[] = [
  { scenario: 'replay_resume_harness', drillPattern: /partition|restart/, why: 'clients resume after a partition or restart without gap, duplicate or reorder' },
  { scenario: 'runtime_desktop_e2e_suite', why: 'no live counterpart: desktop client tests in the OpenAgents repository' },
  { scenario: 'legacy_symbol_guard', why: 'no live counterpart: a source grep for retired symbols' },
  { scenario: 'runtime_publish_observability', probe: 'runtime_metrics', why: 'the runtime publishes its sync mirror counters' },
  { scenario: 'runtime_retired_spacetime_routes', probe: 'retired_routes', why: 'retired routes answer 404' },
  { scenario: 'shared_client_stale_cursor', drillPattern: /stale-cursor/, why: 'a client behind retention rebootstraps cleanly' },
  { scenario: 'shared_client_reconnect_helpers', why: 'no live counterpart: unit tests of the client reconnect helpers' },
  { scenario: 'shared_client_reconnect_storm', drillPattern: /reconnect/, why: 'a reconnect storm recovers within bounds' },
  { scenario: 'desktop_reconnect_backoff', why: 'no live counterpart: desktop backoff unit test' },
];

/** operatorsScenarioOf names the operators' scenario a drill or probe stands for, if any. */
export function operatorsScenarioOf(kind: 'drill' | 'probe', name: string): string | undefined {
  return OPERATORS_CHAOS_MATRIX.find((s) => (kind === 'drill' ? s.drillPattern?.test(name) : s.probe === name))?.scenario;
}

/** SuiteProbeCheck is a probe run as a scenario of the suite. */
export interface SuiteProbeCheck {
  readonly probe: string;
  run(signal: AbortSignal): Promise<{ readonly ok: boolean; readonly reason: string; readonly detail: unknown }>;
}

/** SuiteRunnerOptions wire a suite. */
export interface SuiteRunnerOptions {
  /** runDrill runs one drill and returns its result (the drill runner). */
  readonly runDrill: (drill: DrillSpec, signal: AbortSignal) => Promise<DrillRunResult>;
  readonly drills: readonly DrillSpec[];
  readonly probes?: readonly SuiteProbeCheck[];
  readonly evidenceRoot: string;
  /** suiteRoot receives `<UTC>-<name>/` per suite run. */
  readonly suiteRoot: string;
  readonly hmacKey?: string;
  /** reuseFreshMs reuses a drill's newest allow evidence younger than this instead of running it (0: always run). */
  readonly reuseFreshMs: number;
  readonly clock: Clock;
  readonly environment: string;
}

/** SuiteScenario is one line of the suite's results.jsonl. */
export interface SuiteScenario {
  readonly scenario: string;
  readonly status: 'passed' | 'failed';
  readonly duration_seconds: number;
  readonly log_file: string;
  readonly kind: 'drill' | 'probe';
  readonly operators_scenario?: string;
  readonly evidence?: string;
  readonly reused?: boolean;
  readonly reason?: string;
}

/** SuiteResult is a finished suite. */
export interface SuiteResult {
  readonly dir: string;
  readonly failures: number;
  readonly scenarios: readonly SuiteScenario[];
}

/** SuiteEvents observe a suite (progress). */
export interface SuiteEvents {
  scenarioStarted?(name: string, kind: 'drill' | 'probe'): void;
  scenarioFinished?(s: SuiteScenario): void;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** renderSuiteSummary is SUMMARY.md in run-chaos-drills.sh's format, plus the matrix and the decision. */
export function renderSuiteSummary(input: { readonly timestamp: string; readonly dir: string; readonly scenarios: readonly SuiteScenario[]; readonly commands: ReadonlyMap<string, string> }): string {
  const failures = input.scenarios.filter((s) => s.status !== 'passed').length;
  const total = input.scenarios.reduce((n, s) => n + s.duration_seconds, 0);
  const lines = ['# Spacetime Chaos Drill Summary', '', `- Timestamp (UTC): ${input.timestamp}`, `- Output directory: ${input.dir}`, `- Scenario count: ${input.scenarios.length}`, `- Failures: ${failures}`, `- Total duration: ${total}s`, ''];
  lines.push('| Scenario | Status | Duration | Command |', '| --- | --- | --- | --- |');
  for (const s of input.scenarios) lines.push(`| ${s.scenario} | ${s.status} | ${s.duration_seconds}s | ${cell(input.commands.get(s.scenario) ?? '')} |`);
  lines.push('', "## Operators' chaos matrix", '', '| Operators scenario | Live counterpart | Status |', '| --- | --- | --- |');
  for (const m of OPERATORS_CHAOS_MATRIX) {
    const live = input.scenarios.filter((s) => s.operators_scenario === m.scenario);
    const status = live.length === 0 ? 'not exercised' : live.every((s) => s.status === 'passed') ? 'passed' : 'failed';
    lines.push(`| ${m.scenario} | ${live.length > 0 ? live.map((s) => s.scenario).join(', ') : cell(m.why)} | ${status} |`);
  }
  if (failures > 0) {
    lines.push('', '## Failures', '');
    for (const s of input.scenarios.filter((x) => x.status !== 'passed')) lines.push(`- ${s.scenario}: ${s.reason ?? s.status}`);
  }
  lines.push('', `Decision: ${failures === 0 && input.scenarios.length > 0 ? 'allow' : 'block'}`);
  return lines.join('\n') + '\n';
}

/** runDrillSuite runs `names` (drills, then the probe checks) and writes the suite's evidence. */
export async function runDrillSuite(o: SuiteRunnerOptions, name: string, names: readonly string[], signal: AbortSignal, events: SuiteEvents = {}): Promise<SuiteResult> {
  const started = o.clock.nowMs();
  const timestamp = evidenceDirName(started);
  const dir = join(o.suiteRoot, `${timestamp}-${name}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const scenarios: SuiteScenario[] = [];
  const commands = new Map<string, string>();
  const unknown = names.filter((n) => !o.drills.some((d) => d.name === n) && !(o.probes ?? []).some((p) => p.probe === n));
  if (unknown.length > 0) throw new Error(`unknown drill(s) in the suite: ${unknown.join(', ')}; known: ${o.drills.map((d) => d.name).join(', ')}`);
  for (const drillName of names) {
    const drill = o.drills.find((d) => d.name === drillName);
    if (!drill) continue;
    signal.throwIfAborted();
    events.scenarioStarted?.(drill.name, 'drill');
    const logFile = join(dir, 'logs', `${drill.name}.log`);
    const operators = operatorsScenarioOf('drill', drill.name);
    const t0 = o.clock.nowMs();
    let scenario: SuiteScenario;
    const reuse = o.reuseFreshMs > 0 ? await freshAllow(o, drill.name, t0) : undefined;
    if (reuse) {
      commands.set(drill.name, `fresh evidence reused: ${reuse}`);
      writeFileSync(logFile, `reused the newest allow evidence, younger than ${formatDurationMs(o.reuseFreshMs)}: ${reuse}\n`);
      scenario = { scenario: drill.name, status: 'passed', duration_seconds: 0, log_file: logFile, kind: 'drill', ...(operators ? { operators_scenario: operators } : {}), evidence: reuse, reused: true };
    } else {
      commands.set(drill.name, `sentinel drill run ${drill.name}`);
      try {
        const result = await o.runDrill(drill, signal);
        // The decision is re-derived from the sealed evidence, not taken from memory.
        const verdict = await readVerdict(result.dir, { hmacKey: o.hmacKey });
        const allow = verdict.kind === 'decided' && verdict.report.decision === 'allow';
        const reason = verdict.kind === 'invalid' ? `evidence invalid: ${verdict.problems.join('; ')}` : verdict.report.reasons.join('; ');
        writeFileSync(logFile, [`evidence: ${result.dir}`, `decision: ${verdict.kind === 'decided' ? verdict.report.decision : 'invalid'}`, ...(reason ? [`reasons: ${reason}`] : [])].join('\n') + '\n');
        scenario = { scenario: drill.name, status: allow ? 'passed' : 'failed', duration_seconds: Math.round((o.clock.nowMs() - t0) / 1000), log_file: logFile, kind: 'drill', ...(operators ? { operators_scenario: operators } : {}), evidence: result.dir, reused: false, ...(allow ? {} : { reason: reason || 'block' }) };
      } catch (err) {
        if (signal.aborted) throw err;
        writeFileSync(logFile, `error: ${(err as Error).message}\n`);
        scenario = { scenario: drill.name, status: 'failed', duration_seconds: Math.round((o.clock.nowMs() - t0) / 1000), log_file: logFile, kind: 'drill', ...(operators ? { operators_scenario: operators } : {}), reason: `error: ${(err as Error).message}` };
      }
    }
    scenarios.push(scenario);
    events.scenarioFinished?.(scenario);
  }
  for (const probe of o.probes ?? []) {
    if (!names.includes(probe.probe)) continue;
    signal.throwIfAborted();
    const scenarioName = probe.probe;
    events.scenarioStarted?.(scenarioName, 'probe');
    const logFile = join(dir, 'logs', `${scenarioName}.log`);
    const operators = operatorsScenarioOf('probe', probe.probe);
    commands.set(scenarioName, `sentinel probe ${probe.probe}`);
    const t0 = o.clock.nowMs();
    const r = await probe.run(signal);
    writeFileSync(logFile, `${JSON.stringify({ ok: r.ok, reason: r.reason, detail: r.detail })}\n`);
    const scenario: SuiteScenario = { scenario: scenarioName, status: r.ok ? 'passed' : 'failed', duration_seconds: Math.round((o.clock.nowMs() - t0) / 1000), log_file: logFile, kind: 'probe', ...(operators ? { operators_scenario: operators } : {}), ...(r.ok ? {} : { reason: `probe ${probe.probe} failed (${r.reason})` }) };
    scenarios.push(scenario);
    events.scenarioFinished?.(scenario);
  }
  writeFileSync(join(dir, 'results.jsonl'), scenarios.map((s) => JSON.stringify(s)).join('\n') + (scenarios.length ? '\n' : ''));
  writeFileSync(join(dir, 'SUMMARY.md'), renderSuiteSummary({ timestamp, dir, scenarios, commands }));
  return { dir, failures: scenarios.filter((s) => s.status !== 'passed').length, scenarios };
}

/** freshAllow is the newest evidence of `drill` when it verifies as allow and is young enough. */
async function freshAllow(o: SuiteRunnerOptions, drill: string, nowMs: number): Promise<string | undefined> {
  const entry = latestEvidence(o.evidenceRoot, drill);
  if (!entry || entry.run.environment !== o.environment) return undefined;
  if (!(nowMs - Date.parse(entry.run.finished_at) <= o.reuseFreshMs)) return undefined;
  const verdict = await readVerdict(entry.dir, { hmacKey: o.hmacKey });
  return verdict.kind === 'decided' && verdict.report.decision === 'allow' ? entry.dir : undefined;
}
