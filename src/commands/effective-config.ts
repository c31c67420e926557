/**
 * effectiveConfig: the configuration the daemon runs with, as it logs it at start, so an operator
 * sees what a container's file, environment and flags added up to. Nothing secret survives:
 * `Secret` values print as `<redacted>`; a URL's user info and query values are redacted, since a
 * `${ENV}` reference can put a credential into any string; and any secret's value that still
 * appears anywhere (copied into another field) is cut out of the result.
 */
import { secretsIn } from '../config/index.js';
import type { Config } from '../config/index.js';
import { redactSecrets, REDACTED } from '../spacetime/index.js';

/** secretValues collects the current value of every Secret in the configuration (one that cannot be read has none to leak). */
function secretValues(config: Config): string[] {
  const out: string[] = [];
  for (const secret of secretsIn(config)) {
    try {
      out.push(secret.reveal());
    } catch {
      continue;
    }
  }
  return out;
}

const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i;
const QUERY_VALUE = /([?&][^=&#]*)=[^&#]*/g;

/** redactUrl blanks the user info and the query values of a URL; other text is returned as is. */
function redactUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  return text.replace(URL_USERINFO, `$1${REDACTED}@`).replace(QUERY_VALUE, `$1=${REDACTED}`);
}

/**
 * effectiveConfig returns the configuration as plain JSON data with every secret redacted, and
 * `overridden` (which settings came from a flag or the environment) beside it.
 */
export function effectiveConfig(config: Config, overridden: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  const text = JSON.stringify({ ...config, overridden }, (_key, value: unknown) => (typeof value === 'string' ? redactUrl(value) : value));
  const secrets = secretValues(config).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  return JSON.parse(redactSecrets(text, secrets)) as Record<string, unknown>;
}
