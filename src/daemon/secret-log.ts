/**
 * logSecretFileChanges: one log line per change of a file-backed secret (rotated, unreadable,
 * readable again), naming the setting and the file, never the value. The change is noticed at the
 * first use after it, so the line says from when the new state is in effect.
 */
import type { Logger } from 'pino';
import { FileSecret, secretsIn } from '../config/index.js';
import type { Config } from '../config/index.js';

/** logSecretFileChanges listens to every file secret of `config`; the returned function stops it. */
export function logSecretFileChanges(config: Config, logger: Logger): () => void {
  const stops = secretsIn(config)
    .filter((s): s is FileSecret => s instanceof FileSecret)
    .map((secret) =>
      secret.onChange((event) => {
        const where = { setting: event.key, file: event.path };
        if (event.state === 'rotated') logger.info(where, 'secret file changed; the new value is in effect from this request on');
        else if (event.state === 'restored') logger.info(where, 'secret file readable again; in effect from this request on');
        else logger.error({ ...where, problem: event.problem }, 'secret file cannot be used; what needs it fails with reason config until it is restored');
      }),
    );
  return () => {
    for (const stop of stops) stop();
  };
}
