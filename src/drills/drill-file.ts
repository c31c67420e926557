/**
 * Drill files (`config/drills/*.yaml`): parsed and validated whole before any side effect, as
 * Chaos Toolkit's `ensure_experiment_is_valid` does, but collecting every error with its
 * `FILE:LINE:COL`. Besides the schema this checks what a schema cannot: each fault names an
 * allowlisted proxy, toxic attributes are the integers Toxiproxy needs and within the ranges that
 * do not stall or crash it (Toxiproxy `toxics/bandwidth.go`, `toxics/slicer.go`), every
 * condition's PromQL parses, every expectation says (or lets us infer) which probe runs it stands
 * on, and drill names are unique across files.
 */
import { z } from 'zod';
import { checkSection, ENVIRONMENTS, expecting, formatIssues, readYamlSource } from '../config/index.js';
import type { ConfigIssue, Environment } from '../config/index.js';
import type { YamlFile, YamlPath } from '../yaml/index.js';
import { DrillValidationError } from '../errors.js';
import { parseExpr } from '../promql/index.js';
import { parseDurationMs } from '../time/index.js';
import { ExercisePhases, feedingProbes } from './exercise.js';
import type { ExercisePhase, ExerciseRequirement } from './exercise.js';
import { ToxicStreams, ToxicTypes } from './fault-driver.js';
import type { ProxySpec, ToxicStream, ToxicType } from './fault-driver.js';

/** CompareOps are the comparisons a condition may use; the engine evaluates them (`op bool`). */
export const CompareOps = ['<', '<=', '>', '>=', '==', '!='] as const;
export type CompareOp = (typeof CompareOps)[number];

/** Environment is where a drill may be allowed to run (the configuration's environments). */
export type { Environment };

/** ConditionSpec is a PromQL query compared with a threshold. No data is inconclusive, never a pass. */
export interface ConditionSpec {
  readonly name: string;
  /** query may use $window (how far back the condition looks, e.g. 45s), $drill, $stage and $run. */
  readonly query: string;
  readonly op: CompareOp;
  readonly threshold: number;
}

/**
 * ExpectSpec is a property a stage claims. It is judged over the whole span where it can be
 * observed: measured `count` times spread over the stage, on every probe round of the recovery,
 * and once more at the end over everything since the drill's baseline. `exercised` lists the
 * answered probe runs without which its answer would be vacuous (inconclusive).
 */
export interface ExpectSpec extends ConditionSpec {
  readonly count: number;
  /** failureLimit is how many failed measurements are tolerated. */
  readonly failureLimit: number;
  /** consecutiveErrorLimit is how many consecutive inconclusive/error measurements are tolerated. */
  readonly consecutiveErrorLimit: number;
  readonly exercised: readonly ExerciseRequirement[];
  /** exercisedFrom says whether `exercised` was written in the file or inferred from the query. */
  readonly exercisedFrom: 'file' | 'inferred';
}

/** FaultSpec is one fault of a stage: a toxic, or the proxy disabled. */
export type FaultSpec =
  | { readonly kind: 'toxic'; readonly proxy: string; readonly type: ToxicType; readonly stream: ToxicStream; readonly toxicity: number; readonly attributes: Readonly<Record<string, number>> }
  | { readonly kind: 'down'; readonly proxy: string };

/** StageSpec is one step of a drill. */
export interface StageSpec {
  readonly name: string;
  readonly durationMs: number;
  readonly probeIntervalMs: number;
  readonly probes: readonly string[];
  readonly faults: readonly FaultSpec[];
  /** verifyFault proves the fault is in effect; if it never holds, the stage is inconclusive. */
  readonly verifyFault?: ConditionSpec;
  readonly abortWhen: readonly ConditionSpec[];
  readonly expect: readonly ExpectSpec[];
  /** recoveryMs is the longest the steady state may take to return after the faults are removed. */
  readonly recoveryMs: number;
  /** recoveryHoldMs is how long the steady state must keep holding once it has returned. */
  readonly recoveryHoldMs: number;
}

/** DrillSpec is one validated drill. */
export interface DrillSpec {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly environments: readonly Environment[];
  readonly proxies: readonly ProxySpec[];
  readonly steadyState: readonly ConditionSpec[];
  readonly stages: readonly StageSpec[];
  /** probes run in the preflight and in every recovery: every stage's probes plus those the steady state reads. */
  readonly probes: readonly string[];
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const HOST_PORT_RE = /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/;
const duration = z.string(expecting('a duration like 30s')).refine((s) => parseDurationMs(s) !== undefined, { error: () => '\u0000expected:a duration like 30s' });

const conditionSchema = z.strictObject({
  name: z.string(expecting('a string')).min(1),
  query: z.string(expecting('a PromQL expression')).min(1),
  op: z.enum(CompareOps),
  threshold: z.number(expecting('a number')),
});
const exerciseSchema = z.strictObject({
  probe: z.string(expecting('a probe name')).min(1),
  runs: z.number(expecting('a whole number')).int().min(1).default(1),
  phase: z.enum(ExercisePhases).optional(),
});
const expectSchema = conditionSchema.extend({
  count: z.number().int().min(1).default(3),
  failure_limit: z.number().int().min(0).default(0),
  consecutive_error_limit: z.number().int().min(0).default(0),
  exercised: z.array(exerciseSchema).optional(),
});
const faultSchema = z.strictObject({
  proxy: z.string(expecting('a proxy name from the drill\'s proxies')).min(1),
  type: z.enum([...ToxicTypes, 'down']),
  stream: z.enum(ToxicStreams).default('downstream'),
  toxicity: z.number().min(0).max(1).default(1),
  attributes: z.record(z.string(), z.number(expecting('an integer'))).default({}),
});
const stageSchema = z.strictObject({
  name: z.string(expecting('a stage name')).regex(NAME_RE, { error: () => '\u0000expected:lowercase letters, digits and dashes' }),
  duration: duration,
  probe_interval: duration.default('5s'),
  probes: z.array(z.string()).default([]),
  faults: z.array(faultSchema).default([]),
  verify_fault: conditionSchema.optional(),
  abort_when: z.array(conditionSchema).default([]),
  expect: z.array(expectSchema).default([]),
  recovery: duration.default('60s'),
  recovery_hold: duration.optional(),
});
const drillSchema = z.strictObject({
  name: z.string(expecting('a drill name')).regex(NAME_RE, { error: () => '\u0000expected:lowercase letters, digits and dashes' }),
  description: z.string(expecting('a sentence saying what the drill proves')).min(1),
  environments: z.array(z.enum(ENVIRONMENTS)).min(1),
  proxies: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: () => '\u0000expected:letters, digits, dot, dash or underscore' }),
        // listen and upstream are optional: without them the proxy must already exist (staging's
        // Toxiproxy is provisioned by its operators); with them a missing proxy is created.
        listen: z.string(expecting('host:port')).regex(HOST_PORT_RE, { error: () => '\u0000expected:host:port' }).optional(),
        upstream: z.string(expecting('host:port')).regex(HOST_PORT_RE, { error: () => '\u0000expected:host:port' }).optional(),
      }),
    )
    .default([]),
  // At least one condition: without a steady state there is no recovery to prove.
  steady_state: z.array(conditionSchema).min(1),
  stages: z.array(stageSchema).min(1),
});
const fileSchema = z.strictObject({ drills: z.array(drillSchema).min(1) });

type RawCondition = z.output<typeof conditionSchema>;
type RawDrill = z.output<typeof drillSchema>;

/** TOXIC_ATTRIBUTES lists each toxic's attributes with the smallest safe value (Toxiproxy `toxics/bandwidth.go`, `toxics/slicer.go`). */
const TOXIC_ATTRIBUTES: Readonly<Record<ToxicType, Readonly<Record<string, number>>>> = {
  latency: { latency: 0, jitter: 0 },
  // rate 0 stalls the stream forever; a negative rate crashes Toxiproxy.
  bandwidth: { rate: 1 },
  slow_close: { delay: 0 },
  timeout: { timeout: 0 },
  reset_peer: { timeout: 0 },
  // average_size 0 with size_variation 0 crashes Toxiproxy.
  slicer: { average_size: 1, size_variation: 0, delay: 0 },
  limit_data: { bytes: 0 },
};
const REQUIRED_ATTRIBUTES: Readonly<Record<ToxicType, readonly string[]>> = {
  latency: ['latency'],
  bandwidth: ['rate'],
  slow_close: ['delay'],
  timeout: ['timeout'],
  reset_peer: [],
  slicer: ['average_size'],
  limit_data: ['bytes'],
};

/** substituteQueryVariables fills $window, $drill, $stage and $run in a condition query. */
export function substituteQueryVariables(query: string, vars: { window: string; drill: string; stage: string; run: string }): string {
  return query.replace(/\$(window|drill|stage|run)\b/g, (_, name: keyof typeof vars) => vars[name]);
}

function checkQuery(query: string, path: YamlPath, issues: ConfigIssue[]): void {
  try {
    parseExpr(substituteQueryVariables(query, PLACEHOLDER_VARS));
  } catch (err) {
    issues.push({ path, at: 'value', message: `query does not parse: ${(err as Error).message}` });
  }
}

function checkFaultAttributes(type: ToxicType, attributes: Readonly<Record<string, number>>, path: YamlPath, issues: ConfigIssue[]): void {
  const known = TOXIC_ATTRIBUTES[type];
  for (const [key, value] of Object.entries(attributes)) {
    if (!(key in known)) {
      issues.push({ path: [...path, key], at: 'key', message: `unknown ${type} attribute (expected one of ${Object.keys(known).join(', ')})` });
    } else if (!Number.isInteger(value)) {
      issues.push({ path: [...path, key], at: 'value', message: `value ${value} is not an integer (Toxiproxy attributes are integers)` });
    } else if (value < known[key]) {
      issues.push({ path: [...path, key], at: 'value', message: `value ${value} is too small (expected a number >= ${known[key]})` });
    }
  }
  for (const key of REQUIRED_ATTRIBUTES[type]) {
    if (!(key in attributes)) issues.push({ path: [...path, key], at: 'key', message: `missing required key (expected the ${type} toxic's ${key})` });
  }
  if (type === 'slicer' && attributes.size_variation !== undefined && attributes.average_size !== undefined && attributes.size_variation >= attributes.average_size) {
    issues.push({ path: [...path, 'size_variation'], at: 'value', message: 'size_variation must be smaller than average_size' });
  }
}

function toCondition(c: RawCondition): ConditionSpec {
  return { name: c.name, query: c.query, op: c.op, threshold: c.threshold };
}

type RawStage = RawDrill['stages'][number];
type RawExpect = RawStage['expect'][number];

/** PLACEHOLDER_VARS stand in for the query variables when a query is parsed to be checked. */
const PLACEHOLDER_VARS = { window: '1m', drill: 'd', stage: 's', run: 'r' };

/** defaultPhase: with faults, a property counts once it was seen after their removal (where resumes complete). */
function defaultPhase(stage: RawStage): ExercisePhase {
  return stage.faults.length > 0 ? 'recovery' : 'stage';
}

/** exerciseOf returns the stated requirements, or those inferred from the query's probes. */
function exerciseOf(e: RawExpect, stage: RawStage): { exercised: ExerciseRequirement[]; from: 'file' | 'inferred' } {
  if (e.exercised !== undefined) return { exercised: e.exercised.map((x) => ({ probe: x.probe, runs: x.runs, phase: x.phase ?? defaultPhase(stage) })), from: 'file' };
  const { probes } = safeFeedingProbes(e.query);
  return { exercised: probes.map((probe) => ({ probe, runs: 1, phase: defaultPhase(stage) })), from: 'inferred' };
}

function safeFeedingProbes(query: string): { probes: readonly string[]; complete: boolean } {
  try {
    return feedingProbes(substituteQueryVariables(query, PLACEHOLDER_VARS));
  } catch {
    // A query that does not parse is reported by checkQuery.
    return { probes: [], complete: false };
  }
}

/** drillProbeNames: every stage's probes, then those the steady state reads (known ones only, when known). */
function drillProbeNames(raw: RawDrill, knownProbes?: readonly string[]): string[] {
  const out = new Set(raw.stages.flatMap((s) => s.probes));
  for (const c of raw.steady_state) for (const p of safeFeedingProbes(c.query).probes) if (!knownProbes || knownProbes.includes(p)) out.add(p);
  return [...out];
}

function toDrill(raw: RawDrill, file: string, options: DrillFileOptions): DrillSpec {
  return {
    name: raw.name,
    description: raw.description,
    file,
    environments: raw.environments,
    proxies: raw.proxies,
    steadyState: raw.steady_state.map(toCondition),
    probes: drillProbeNames(raw, options.knownProbes),
    stages: raw.stages.map((s) => {
      const probeIntervalMs = parseDurationMs(s.probe_interval) ?? 0;
      return {
        name: s.name,
        durationMs: parseDurationMs(s.duration) ?? 0,
        probeIntervalMs,
        probes: s.probes,
        faults: s.faults.map((f): FaultSpec =>
          f.type === 'down' ? { kind: 'down', proxy: f.proxy } : { kind: 'toxic', proxy: f.proxy, type: f.type, stream: f.stream, toxicity: f.toxicity, attributes: f.attributes },
        ),
        verifyFault: s.verify_fault ? toCondition(s.verify_fault) : undefined,
        abortWhen: s.abort_when.map(toCondition),
        expect: s.expect.map((e) => {
          const { exercised, from } = exerciseOf(e, s);
          return { ...toCondition(e), count: e.count, failureLimit: e.failure_limit, consecutiveErrorLimit: e.consecutive_error_limit, exercised, exercisedFrom: from };
        }),
        recoveryMs: parseDurationMs(s.recovery) ?? 0,
        // Three probe rounds by default: one lucky round is not a recovery.
        recoveryHoldMs: s.recovery_hold === undefined ? 3 * probeIntervalMs : (parseDurationMs(s.recovery_hold) ?? 0),
      };
    }),
  };
}

/** DrillFileOptions constrain validation to what the running sentinel knows. */
export interface DrillFileOptions {
  /** knownProbes are the probe names stages may run. */
  readonly knownProbes?: readonly string[];
}

function semanticIssues(raw: z.output<typeof fileSchema>, options: DrillFileOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  raw.drills.forEach((d, i) => {
    const base: YamlPath = ['drills', i];
    if (names.has(d.name)) issues.push({ path: [...base, 'name'], at: 'value', message: `duplicate drill name '${d.name}' (first at drills[${names.get(d.name)}])` });
    names.set(d.name, i);
    const proxies = new Set(d.proxies.map((p) => p.name));
    d.proxies.forEach((p, j) => {
      if ((p.listen === undefined) !== (p.upstream === undefined)) {
        issues.push({ path: [...base, 'proxies', j, p.listen === undefined ? 'listen' : 'upstream'], at: 'key', message: 'give both listen and upstream (to create the proxy) or neither (it must exist)' });
      }
    });
    d.steady_state.forEach((c, j) => {
      const path: YamlPath = [...base, 'steady_state', j, 'query'];
      checkQuery(c.query, path, issues);
      for (const p of safeFeedingProbes(c.query).probes) {
        if (options.knownProbes && !options.knownProbes.includes(p)) issues.push({ path, at: 'value', message: `the steady state reads probe '${p}', which is not configured (expected one of ${options.knownProbes.join(', ')})` });
      }
    });
    const runByDrill = new Set(drillProbeNames(d, options.knownProbes));
    const stageNames = new Set<string>();
    d.stages.forEach((s, j) => {
      const sp: YamlPath = [...base, 'stages', j];
      if (stageNames.has(s.name)) issues.push({ path: [...sp, 'name'], at: 'value', message: `duplicate stage name '${s.name}'` });
      stageNames.add(s.name);
      const ms = parseDurationMs(s.duration) ?? 0;
      if (ms <= 0) issues.push({ path: [...sp, 'duration'], at: 'value', message: 'a stage must last longer than 0s' });
      if ((parseDurationMs(s.probe_interval) ?? 0) <= 0) issues.push({ path: [...sp, 'probe_interval'], at: 'value', message: 'probe_interval must be longer than 0s' });
      s.faults.forEach((f, k) => {
        const fp: YamlPath = [...sp, 'faults', k];
        if (!proxies.has(f.proxy)) {
          issues.push({ path: [...fp, 'proxy'], at: 'value', message: `proxy '${f.proxy}' is not in this drill's proxies allowlist (expected one of ${[...proxies].join(', ') || 'none declared'})` });
        }
        if (f.type === 'down') {
          if (Object.keys(f.attributes).length > 0) issues.push({ path: [...fp, 'attributes'], at: 'key', message: 'a down fault takes no attributes' });
        } else {
          checkFaultAttributes(f.type, f.attributes, [...fp, 'attributes'], issues);
        }
      });
      s.probes.forEach((p, k) => {
        if (options.knownProbes && !options.knownProbes.includes(p)) {
          issues.push({ path: [...sp, 'probes', k], at: 'value', message: `unknown probe '${p}' (expected one of ${options.knownProbes.join(', ')})` });
        }
      });
      if (s.verify_fault) checkQuery(s.verify_fault.query, [...sp, 'verify_fault', 'query'], issues);
      else if (s.faults.length > 0) {
        // Without it a fault that never took effect (wrong proxy, toxicity 0) would pass as resilience.
        issues.push({ path: [...sp, 'faults'], at: 'key', message: 'a stage with faults needs verify_fault: a condition that holds only while the fault is in effect' });
      }
      s.abort_when.forEach((c, k) => checkQuery(c.query, [...sp, 'abort_when', k, 'query'], issues));
      s.expect.forEach((c, k) => {
        const ep: YamlPath = [...sp, 'expect', k];
        checkQuery(c.query, [...ep, 'query'], issues);
        checkExercise(c, s, ep, runByDrill, options, issues);
      });
      if (s.recovery_hold !== undefined && (parseDurationMs(s.recovery_hold) ?? 0) <= 0) issues.push({ path: [...sp, 'recovery_hold'], at: 'value', message: 'recovery_hold must be longer than 0s' });
    });
  });
  return issues;
}

/**
 * checkExercise: every expectation must stand on probe runs the drill makes. A stated probe must
 * be one the phase runs (the stage's probes while the faults are in effect; the drill's probes in
 * recovery); without `exercised`, the query must name its probes.
 */
function checkExercise(e: RawExpect, stage: RawStage, path: YamlPath, runByDrill: ReadonlySet<string>, options: DrillFileOptions, issues: ConfigIssue[]): void {
  if (e.exercised !== undefined) {
    e.exercised.forEach((x, i) => {
      const xp: YamlPath = [...path, 'exercised', i, 'probe'];
      const phase = x.phase ?? defaultPhase(stage);
      if (options.knownProbes && !options.knownProbes.includes(x.probe)) issues.push({ path: xp, at: 'value', message: `unknown probe '${x.probe}' (expected one of ${options.knownProbes.join(', ')})` });
      else if (phase === 'stage' && !stage.probes.includes(x.probe)) issues.push({ path: xp, at: 'value', message: `probe '${x.probe}' must run while the faults are in effect, but the stage does not run it (add it to the stage's probes)` });
      else if (!runByDrill.has(x.probe)) issues.push({ path: xp, at: 'value', message: `probe '${x.probe}' is not run by this drill (add it to a stage's probes)` });
    });
    return;
  }
  const { probes } = safeFeedingProbes(e.query);
  if (probes.length === 0) {
    issues.push({
      path: [...path, 'query'],
      at: 'value',
      message: "cannot tell which probe's runs this query stands on (no probe=\"...\" matcher and no metric that only one probe writes); state it with exercised: [{probe: NAME}], or exercised: [] if it needs no probe run",
    });
    return;
  }
  for (const p of probes) {
    if (!runByDrill.has(p)) issues.push({ path: [...path, 'query'], at: 'value', message: `the query reads probe '${p}', which this drill never runs, so the expectation could only pass vacuously (add '${p}' to the stage's probes)` });
  }
}

/** parseDrillSource validates one parsed drill file; it throws DrillValidationError listing every problem. */
export function parseDrillSource(source: YamlFile, options: DrillFileOptions = {}): DrillSpec[] {
  const result = checkSection(source, [], fileSchema);
  if (!result.ok) {
    const lines = formatIssues(source, result.issues);
    throw new DrillValidationError(lines.join('\n'), lines);
  }
  const issues = semanticIssues(result.value, options);
  if (issues.length > 0) {
    const lines = formatIssues(source, issues);
    throw new DrillValidationError(lines.join('\n'), lines);
  }
  return result.value.drills.map((d) => toDrill(d, source.file, options));
}

/** loadDrillFiles reads and validates every file; errors of all files are collected together. */
export function loadDrillFiles(files: readonly string[], options: DrillFileOptions = {}): DrillSpec[] {
  const drills: DrillSpec[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      drills.push(...parseDrillSource(readYamlSource(file), options));
    } catch (err) {
      if (err instanceof DrillValidationError) problems.push(...err.issues);
      else if (err instanceof Error && 'issues' in err && Array.isArray((err as { issues: unknown }).issues)) problems.push(...(err as { issues: string[] }).issues);
      else throw err;
    }
  }
  const seen = new Map<string, string>();
  for (const d of drills) {
    const first = seen.get(d.name);
    if (first !== undefined && first !== d.file) problems.push(`${d.file}: drill '${d.name}' is also defined in ${first}`);
    seen.set(d.name, d.file);
  }
  if (problems.length > 0) throw new DrillValidationError(problems.join('\n'), problems);
  return drills;
}
