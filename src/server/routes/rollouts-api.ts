/**
 * Rollout routes: `POST /api/v1/rollouts` starts a staging or production rollout in the daemon
 * (admin token; body `{"kind":"staging","flags":{"cohorts":"5,10","cohort-soak-seconds":"600"}}`,
 * the flags named as on the command line, or `{"kind":..., "resume": DIR}`), `GET
 * /api/v1/rollouts/current` shows it, `POST /api/v1/rollouts/current/confirm` (`{"cohort":N}`)
 * confirms a cohort when runtime-routing status cannot show it, `POST .../abort` interrupts it.
 */
import { ApiError, isSentinelError } from '../../errors.js';
import { ROLLOUT_FLAGS, ROLLOUT_KINDS } from '../../rollout/index.js';
import type { RolloutKind, RolloutService } from '../../rollout/index.js';
import type { HttpServer } from '../http-server.js';

/** RolloutsApiDeps are what the routes use. */
export interface RolloutsApiDeps {
  readonly service: RolloutService;
}

function object(body: unknown, what: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'bad_data', `${what}: send a JSON object`);
  return body as Record<string, unknown>;
}

/** parseFlags checks the flags object against the command line's flags. */
function parseFlags(raw: unknown): Record<string, string | boolean> {
  if (raw === undefined) return {};
  const flags = object(raw, 'flags');
  const out: Record<string, string | boolean> = {};
  for (const [name, value] of Object.entries(flags)) {
    const type = (ROLLOUT_FLAGS as Record<string, string>)[name];
    if (!type) throw new ApiError(400, 'bad_data', `unknown flag '${name}'; known: ${Object.keys(ROLLOUT_FLAGS).join(', ')}`);
    if (typeof value !== type) throw new ApiError(400, 'bad_data', `flag '${name}' must be a ${type === 'boolean' ? 'boolean' : 'string'} (as on the command line: ${type === 'boolean' ? `--${name}` : `--${name} VALUE`})`);
    out[name] = value as string | boolean;
  }
  return out;
}

/** registerRolloutsApi adds the rollout routes to `server`. */
export function registerRolloutsApi(server: HttpServer, deps: RolloutsApiDeps): void {
  server.route('GET', '/api/v1/rollouts/current', () => ({ body: { status: 'success', data: deps.service.status() } }));

  server.route(
    'POST',
    '/api/v1/rollouts',
    (req) => {
      const body = object(req.json(), 'POST /api/v1/rollouts');
      const kind = body.kind;
      if (typeof kind !== 'string' || !(ROLLOUT_KINDS as readonly string[]).includes(kind)) throw new ApiError(400, 'bad_data', `kind must be one of ${ROLLOUT_KINDS.join(', ')}`);
      if (body.resume !== undefined && typeof body.resume !== 'string') throw new ApiError(400, 'bad_data', 'resume must be the output directory of the rollout to continue');
      try {
        const started = deps.service.begin(kind as RolloutKind, parseFlags(body.flags), body.resume as string | undefined);
        return { status: 202, body: { status: 'success', data: { kind, outputDir: started.outputDir, started: true } } };
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (isSentinelError(err)) throw new ApiError(deps.service.status().state === 'running' ? 409 : 400, deps.service.status().state === 'running' ? 'unavailable' : 'bad_data', err.message);
        throw err;
      }
    },
    { admin: true },
  );

  server.route(
    'POST',
    '/api/v1/rollouts/current/confirm',
    (req) => {
      const body = object(req.json(), 'POST /api/v1/rollouts/current/confirm');
      const cohort = body.cohort;
      if (typeof cohort !== 'number' || !Number.isInteger(cohort) || cohort < 0 || cohort > 100) throw new ApiError(400, 'bad_data', 'cohort must be the cohort percentage in effect, an integer 0..100');
      try {
        const dir = deps.service.confirm(cohort, typeof body.by === 'string' ? body.by : undefined);
        return { body: { status: 'success', data: { cohort, outputDir: dir } } };
      } catch (err) {
        if (isSentinelError(err)) throw new ApiError(409, 'unavailable', err.message);
        throw err;
      }
    },
    { admin: true },
  );

  server.route(
    'POST',
    '/api/v1/rollouts/current/abort',
    () => {
      try {
        deps.service.abort('aborted through the admin API');
        return { status: 202, body: { status: 'success', data: { aborting: true } } };
      } catch (err) {
        if (isSentinelError(err)) throw new ApiError(409, 'unavailable', err.message);
        throw err;
      }
    },
    { admin: true },
  );
}
