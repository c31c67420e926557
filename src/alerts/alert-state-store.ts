/**
 * alert-state-store: the alerting rules' state on disk, so a restarted daemon resumes a pending
 * alert's `for` clock, keeps a firing alert firing without announcing it again, and keeps
 * sending the resolution of one that resolved shortly before the restart.
 *
 * Format: one JSON file (`AlertStateSnapshot`, `version: 1`), replaced atomically (write a
 * temporary file, fsync, rename, fsync the directory) when what a restart needs changed: an alert
 * came, went or changed state (its `for` clock, firing and resolution times), or the rules did;
 * and at shutdown. What moves every evaluation (the evaluation time, an alert's `$value` and the
 * annotations that print it, resend bookkeeping) rides along with those writes but never causes
 * one: after a crash, a restarted daemon re-evaluates them at once and at worst re-sends an alert
 * Alertmanager already has. A file that cannot be read is moved aside and reported, never fatal:
 * losing state costs one `for` period, refusing to start would cost all alerting.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Labels } from '../store/types.js';
import { AlertStates } from './alerting-rule.js';
import type { AlertState } from './alerting-rule.js';


/** PersistedAlert is one alert instance of an alerting rule; all times are epoch ms. */
export interface PersistedAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly state: AlertState;
  /** value is the last `$value`; JSON has no NaN, so a NaN comes back as null. */
  readonly value: number | null;
  readonly activeAtMs: number;
  readonly firedAtMs?: number;
  readonly resolvedAtMs?: number;
  /** lastSentAtMs is when the alert was last handed to the notifiers (resend bookkeeping). */
  readonly lastSentAtMs?: number;
  /** validUntilMs is the `endsAt` lease last sent for the alert. */
  readonly validUntilMs?: number;
  readonly keepFiringSinceMs?: number;
  /** drillLabels are the `drill` and `stage` of the drill the alert was raised in, if any. */
  readonly drillLabels?: { readonly drill: string; readonly stage: string };
}

/** PersistedRule is the alert instances of one alerting rule, identified by name and expression. */
export interface PersistedRule {
  readonly name: string;
  readonly expr: string;
  readonly alerts: readonly PersistedAlert[];
}

/** PersistedGroup is the alerting state of one rule group (`file` + `name`, Prometheus' GroupKey). */
export interface PersistedGroup {
  readonly file: string;
  readonly name: string;
  /** lastEvalTimestampMs is the slotted evaluation time of the group's last evaluation. */
  readonly lastEvalTimestampMs: number;
  readonly rules: readonly PersistedRule[];
}

/** AlertStateSnapshot is the whole file. */
export interface AlertStateSnapshot {
  readonly version: 1;
  readonly savedAtMs: number;
  readonly groups: readonly PersistedGroup[];
}

/** AlertStateStoreOptions locate the state file. */
export interface AlertStateStoreOptions {
  /** path is the JSON file, e.g. `<dataDir>/alerts/state.json`. */
  readonly path: string;
  readonly logger?: Logger;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isLabels(v: unknown): v is Labels {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

function optionalNumber(v: unknown): boolean {
  return v === undefined || typeof v === 'number';
}

function isPersistedAlert(v: unknown): v is PersistedAlert {
  return (
    isObject(v) &&
    isLabels(v.labels) &&
    isLabels(v.annotations) &&
    (AlertStates as readonly unknown[]).includes(v.state) &&
    // JSON has no NaN; the value is kept only for display, so null (NaN) is accepted.
    (typeof v.value === 'number' || v.value === null) &&
    typeof v.activeAtMs === 'number' &&
    ['firedAtMs', 'resolvedAtMs', 'lastSentAtMs', 'validUntilMs', 'keepFiringSinceMs'].every((k) => optionalNumber(v[k])) &&
    (v.drillLabels === undefined || (isLabels(v.drillLabels) && typeof v.drillLabels.drill === 'string' && typeof v.drillLabels.stage === 'string'))
  );
}

/** parseAlertStateSnapshot validates a decoded state file; it returns undefined for anything else. */
export function parseAlertStateSnapshot(data: unknown): AlertStateSnapshot | undefined {
  if (!isObject(data) || data.version !== 1 || typeof data.savedAtMs !== 'number' || !Array.isArray(data.groups)) return undefined;
  for (const g of data.groups) {
    if (!isObject(g) || typeof g.file !== 'string' || typeof g.name !== 'string' || typeof g.lastEvalTimestampMs !== 'number' || !Array.isArray(g.rules)) return undefined;
    for (const r of g.rules) {
      if (!isObject(r) || typeof r.name !== 'string' || typeof r.expr !== 'string' || !Array.isArray(r.alerts)) return undefined;
      for (const a of r.alerts as unknown[]) if (!isPersistedAlert(a)) return undefined;
    }
  }
  return data as unknown as AlertStateSnapshot;
}

/**
 * restartKey is the part of a snapshot a restart depends on: which alerts exist, in which state,
 * since when. Two snapshots with the same key need not both be written.
 */
function restartKey(snapshot: AlertStateSnapshot): string {
  return JSON.stringify(
    snapshot.groups.map((g) => [
      g.file,
      g.name,
      g.rules.map((r) => [
        r.name,
        r.expr,
        r.alerts.map((a) => [a.labels, a.state, a.activeAtMs, a.firedAtMs ?? 0, a.resolvedAtMs ?? 0, a.keepFiringSinceMs ?? 0, a.drillLabels ?? null]),
      ]),
    ]),
  );
}

/** AlertStateStore reads and atomically replaces the alert state file. */
export class AlertStateStore {
  readonly path: string;
  private readonly logger: Logger;
  /** lastWritten is the restart key of what the file holds. */
  private lastWritten: string | undefined;
  private writeCount = 0;

  constructor(options: AlertStateStoreOptions) {
    this.path = options.path;
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  /** writes is how many times this store replaced the file. */
  get writes(): number {
    return this.writeCount;
  }

  /** load returns the saved snapshot, or undefined when there is none or it was unreadable. */
  load(): AlertStateSnapshot | undefined {
    if (!existsSync(this.path)) return undefined;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      this.logger.error({ path: this.path, err: (err as Error).message }, 'cannot read the alert state file; starting without saved alert state');
      return undefined;
    }
    let snapshot: AlertStateSnapshot | undefined;
    try {
      snapshot = parseAlertStateSnapshot(JSON.parse(text));
    } catch {
      snapshot = undefined;
    }
    if (!snapshot) {
      const aside = `${this.path}.corrupt`;
      try {
        renameSync(this.path, aside);
      } catch (err) {
        this.logger.error({ path: this.path, err: (err as Error).message }, 'cannot move the unreadable alert state file aside');
      }
      this.logger.error({ path: this.path, movedTo: aside }, 'alert state file is not valid; moved it aside and starting without saved alert state');
      return undefined;
    }
    this.lastWritten = restartKey(snapshot);
    return snapshot;
  }

  /**
   * save replaces the file atomically when what a restart needs differs from what the file
   * holds, or always with `force` (shutdown: the freshest values and resend times go to disk).
   * Returns whether it wrote.
   */
  save(snapshot: AlertStateSnapshot, options: { force?: boolean } = {}): boolean {
    const key = restartKey(snapshot);
    if (options.force !== true && this.lastWritten === key) return false;
    const text = JSON.stringify(snapshot);
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${process.pid}.alert-state.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    this.lastWritten = key;
    this.writeCount++;
    return true;
  }
}
