/**
 * The cutover-state announcement (OpenAgents `scripts/spacetime/announce-cutover-state.sh` at
 * 9b2b978949): allow only when the control service's status says
 * `data.syncCutover.defaultTransport = spacetime_ws` and the runtime's sync metrics say
 * `transport = spacetime_ws`. Artifacts with the script's names: `result.json`, `SUMMARY.md`,
 * `control-status.json`, `runtime-spacetime-metrics.json`.
 *
 * Where the script differs from what it can know, the sentinel says so instead:
 * - the emergency-mode flags it reads (`legacyEmergencyModeEnabled`, ...) exist in neither body
 *   (`apps/openagents.com/service/src/lib.rs:14544-14564`, `apps/runtime/src/server.rs:911-937`),
 *   so they are recorded as absent (null, and listed in `absent_fields`), not as empty strings;
 * - control status is read with the session bearer and runtime metrics with no credentials, as
 *   the routes require; a snapshot that fails is an error in result.json and SUMMARY.md and the
 *   decision is block (the script aborts without writing anything).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotSource } from './rollout-deps.js';

/** CUTOVER_FILES are the script's artifact names. */
export const CUTOVER_FILES = {
  result: 'result.json',
  summary: 'SUMMARY.md',
  controlStatus: 'control-status.json',
  runtimeMetrics: 'runtime-spacetime-metrics.json',
} as const;

/** CutoverResult is result.json: the script's keys, in its order, then the sentinel's. */
export interface CutoverResult {
  readonly timestamp_utc: string;
  readonly control_transport: string | null;
  readonly control_legacy_sync_emergency_mode_enabled: string | null;
  readonly control_spacetime_emergency_mode_enabled: string | null;
  readonly runtime_transport: string | null;
  readonly runtime_legacy_sync_emergency_mode_enabled: string | null;
  readonly runtime_spacetime_emergency_mode_enabled: string | null;
  readonly decision: 'allow' | 'block';
  readonly skip_remote: 0;
  /** absent_fields name the fields neither body carries (null above means absent, never false). */
  readonly absent_fields: readonly string[];
  readonly errors: readonly string[];
  readonly reasons: readonly string[];
}

/** CutoverInput says where to write and what to read from. */
export interface CutoverInput {
  readonly outputDir: string;
  readonly timestamp: string;
  readonly snapshots: SnapshotSource;
  /** endpoints name the two URLs for SUMMARY.md (no secrets). */
  readonly endpoints: { readonly controlStatus: string; readonly runtimeMetrics: string };
}

function path(doc: unknown, ...keys: string[]): unknown {
  let cur = doc;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** jqText is what `jq -r` prints for a value; absent (null, false, missing) is null. */
function jqText(v: unknown): string | null {
  if (v === undefined || v === null || v === false) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function firstOf(doc: unknown, paths: ReadonlyArray<readonly string[]>): string | null {
  for (const p of paths) {
    const v = jqText(path(doc, ...p));
    if (v !== null) return v;
  }
  return null;
}

/** announceCutover fetches both snapshots, judges, and writes the four artifacts. */
export async function announceCutover(input: CutoverInput, signal: AbortSignal): Promise<CutoverResult> {
  const errors: string[] = [];
  const fetchDoc = async (what: string, file: string, get: (s: AbortSignal) => Promise<unknown>): Promise<unknown> => {
    try {
      // The snapshot clients carry their own deadlines.
      const doc = await get(signal);
      writeFileSync(join(input.outputDir, file), JSON.stringify(doc, null, 2) + '\n');
      return doc;
    } catch (err) {
      if (signal.aborted) throw err;
      errors.push(`${what} snapshot failed: ${(err as Error).message}`);
      return undefined;
    }
  };
  const control = await fetchDoc('control status', CUTOVER_FILES.controlStatus, (s) => input.snapshots.controlStatus(s));
  const runtime = await fetchDoc('runtime sync metrics', CUTOVER_FILES.runtimeMetrics, (s) => input.snapshots.runtimeMetrics(s));
  const controlTransport = jqText(path(control, 'data', 'syncCutover', 'defaultTransport'));
  const controlEmergency = firstOf(control, [
    ['data', 'syncCutover', 'legacyEmergencyModeEnabled'],
    ['data', 'syncCutover', 'spacetimeEmergencyModeEnabled'],
  ]);
  const runtimeTransport = jqText(path(runtime, 'transport'));
  const runtimeEmergency = firstOf(runtime, [['legacy_sync_emergency_mode_enabled'], ['spacetime_emergency_mode_enabled']]);
  const absent: string[] = [];
  if (control !== undefined && controlEmergency === null) absent.push('control_legacy_sync_emergency_mode_enabled', 'control_spacetime_emergency_mode_enabled');
  if (runtime !== undefined && runtimeEmergency === null) absent.push('runtime_legacy_sync_emergency_mode_enabled', 'runtime_spacetime_emergency_mode_enabled');
  const reasons: string[] = [...errors];
  if (control !== undefined && controlTransport !== 'spacetime_ws') reasons.push(`control default transport is ${controlTransport ?? 'absent'}, not spacetime_ws`);
  if (runtime !== undefined && runtimeTransport !== 'spacetime_ws') reasons.push(`runtime transport is ${runtimeTransport ?? 'absent'}, not spacetime_ws`);
  const decision = reasons.length === 0 ? 'allow' : 'block';
  const result: CutoverResult = {
    timestamp_utc: input.timestamp,
    control_transport: controlTransport,
    control_legacy_sync_emergency_mode_enabled: controlEmergency,
    control_spacetime_emergency_mode_enabled: controlEmergency,
    runtime_transport: runtimeTransport,
    runtime_legacy_sync_emergency_mode_enabled: runtimeEmergency,
    runtime_spacetime_emergency_mode_enabled: runtimeEmergency,
    decision,
    skip_remote: 0,
    absent_fields: absent,
    errors,
    reasons,
  };
  writeFileSync(join(input.outputDir, CUTOVER_FILES.result), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(input.outputDir, CUTOVER_FILES.summary), renderCutoverSummary(input, result, { control: control !== undefined, runtime: runtime !== undefined }));
  return result;
}

function shown(v: string | null, fetched: boolean, body: string): string {
  if (!fetched) return `unknown (the ${body} snapshot failed)`;
  return v ?? `absent (the ${body} has no such field)`;
}

/** renderCutoverSummary is SUMMARY.md with the script's lines, the errors, and `Decision:` last. */
export function renderCutoverSummary(input: CutoverInput, r: CutoverResult, fetched: { readonly control: boolean; readonly runtime: boolean }): string {
  const lines = [
    '# Spacetime Cutover State Announcement',
    '',
    `- Timestamp (UTC): ${r.timestamp_utc}`,
    `- Decision: ${r.decision}`,
    `- Control default transport: ${shown(r.control_transport, fetched.control, 'control status')}`,
    `- Control legacy sync emergency mode enabled: ${shown(r.control_legacy_sync_emergency_mode_enabled, fetched.control, 'control status')}`,
    `- Runtime transport: ${shown(r.runtime_transport, fetched.runtime, 'runtime sync metrics')}`,
    `- Runtime legacy sync emergency mode enabled: ${shown(r.runtime_legacy_sync_emergency_mode_enabled, fetched.runtime, 'runtime sync metrics')}`,
    '- Skip remote probes: 0',
    '',
    '## Evidence',
    '',
    fetched.control ? `- ${join(input.outputDir, CUTOVER_FILES.controlStatus)}` : `- control status: not captured (${input.endpoints.controlStatus})`,
    fetched.runtime ? `- ${join(input.outputDir, CUTOVER_FILES.runtimeMetrics)}` : `- runtime sync metrics: not captured (${input.endpoints.runtimeMetrics})`,
  ];
  if (r.errors.length > 0) {
    lines.push('', '## Errors', '');
    for (const e of r.errors) lines.push(`- ${e}`);
  }
  if (r.reasons.length > 0) {
    lines.push('', '## Reasons', '');
    for (const e of r.reasons) lines.push(`- ${e}`);
  }
  lines.push('', `Decision: ${r.decision}`);
  return lines.join('\n') + '\n';
}
