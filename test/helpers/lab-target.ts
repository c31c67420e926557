/**
 * The one way the suites that start the lab themselves point a sentinel.yaml at it: the `target`
 * section with the lab's URLs and its database, the control's credentials read from the secret
 * files the lab wrote (as `${file:...}` references, the way an operator keeps them).
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
