/**
 * `POST /-/reload` (admin token): Prometheus' lifecycle endpoint (`web/web.go`, `reload`). The
 * daemon reads its configuration file again and puts it in effect, or refuses it with every
 * `FILE:LINE:COL` problem and keeps running the configuration it has (400). SIGHUP does the same.
 */
import { ApiError } from '../../errors.js';
import type { RouteTarget } from './prometheus-api.js';

/** ReloadAnswer is the outcome of one reload: what changed, or why nothing did. */
export type ReloadAnswer = { readonly ok: true; readonly data: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly issues: readonly string[] };

/** ConfigReloader is what `POST /-/reload` asks to reload (the daemon). */
export interface ConfigReloader {
  reload(): Promise<ReloadAnswer>;
}

/** registerReloadRoute adds `POST /-/reload` behind the admin token. */
export function registerReloadRoute(server: RouteTarget, reloader: ConfigReloader): void {
  server.route(
    'POST',
    '/-/reload',
    async () => {
      const answer = await reloader.reload();
      if (!answer.ok) throw new ApiError(400, 'bad_data', `reload refused, the running configuration stays: ${answer.issues.join('; ')}`);
      return { body: { status: 'success', data: answer.data } };
    },
    { admin: true },
  );
}
