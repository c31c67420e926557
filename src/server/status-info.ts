/**
 * StatusInfo: the body of `GET /api/v1/status`. Built from the Config with secrets removed
 * (only whether each one is set).
 */

/** TargetStatus describes one watched service without its credentials. */
export interface TargetStatus {
  readonly baseUrl: string;
  readonly hasToken: boolean;
  readonly [key: string]: string | number | boolean;
}

/** ScheduleStatus is one scheduled job and its next run. */
export interface ScheduleStatus {
  readonly kind: 'probe' | 'rules' | 'drill';
  readonly name: string;
  readonly schedule: string;
  /** nextRunMs is epoch ms, or null when the job is disabled or not scheduled yet. */
  readonly nextRunMs: number | null;
}

/** StatusInfo is what the status endpoint reports. */
export interface StatusInfo {
  readonly version: string;
  readonly startTimeMs: number;
  readonly uptimeSeconds: number;
  readonly environment: string;
  readonly configFile: string;
  readonly targets: Readonly<Record<string, TargetStatus>>;
  readonly schedules: readonly ScheduleStatus[];
}
