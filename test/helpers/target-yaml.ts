/**
 * The `target` section of the sentinel.yaml files the suites write: pointed at a lab the test
 * started (its URLs and database, the control's credentials read from the secret files the lab
 * wrote, as `${file:...}` references the way an operator keeps them), or at a dead address where
 * nothing answers (for tests of the daemon's start-up, reload and configuration, not of probes).
 */
import type { Lab } from '../../src/lab/index.js';

/** LabTargetOptions choose which of the lab's credentials the target names. */
export interface LabTargetOptions {
  /** signingKey adds the control's JWT signing key (for the token contract checks; default false). */
  readonly signingKey?: boolean;
}

/** labTargetYaml is the `target:` section (top level, newline-terminated) for `lab`. */
export function labTargetYaml(lab: Lab, options: LabTargetOptions = {}): string {
  const files = lab.secretFiles;
  if (!files) throw new Error('the lab wrote no secret files: start it with a stateDir');
  return `target:
  spacetimedb:
    base_url: ${lab.urls.spacetimedb}
    database: ${lab.databaseName}
  runtime:
    base_url: ${lab.urls.runtime}
  control:
    base_url: ${lab.urls.control}
    session_token: \${file:${files.controlSessionToken}}
${options.signingKey ? `    jwt_signing_key: \${file:${files.jwtSigningKey}}\n` : ''}`;
}

/** DEAD_URL is the discard port on loopback: nothing listens there, every probe run fails fast. */
export const DEAD_URL = 'http://127.0.0.1:9';

/**
 * deadTargetYaml is the `target:` section (four lines, newline-terminated) with every service at
 * DEAD_URL and the credentials as given (e.g. `${RT_TOKEN}` or `${file:PATH}`, written as is).
 */
export function deadTargetYaml(credentials: { readonly runtimeToken?: string; readonly sessionToken: string }): string {
  const runtimeToken = credentials.runtimeToken === undefined ? '' : `, token: "${credentials.runtimeToken}"`;
  return `target:
  spacetimedb: {base_url: "${DEAD_URL}", database: autopilot-sync}
  runtime: {base_url: "${DEAD_URL}"${runtimeToken}}
  control: {base_url: "${DEAD_URL}", session_token: "${credentials.sessionToken}"}
`;
}
