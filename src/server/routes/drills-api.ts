/**
 * Drill routes: `GET /api/v1/drills` (each drill with its newest evidence and re-derived verdict,
 * plus what the scheduler is doing) and `POST /api/v1/drills/:name/run` (start a drill now; admin
 * token). Handlers hold no state: the scheduler and the evidence index are closed over. The
 * listing reads the index (no directory scan, verdicts re-derived only when a file changed), so it
 * answers in the same time whatever the history holds.
 */
import { ApiError, isSentinelError } from '../../errors.js';
import { EvidenceIndex } from '../../drills/index.js';
import type { DrillScheduler, DrillSpec } from '../../drills/index.js';
import type { HttpServer } from '../http-server.js';

/** DrillsApiDeps are what the routes read. */
export interface DrillsApiDeps {
  readonly scheduler: DrillScheduler;
  readonly drills: readonly DrillSpec[];
  readonly evidenceRoot: string;
  /** evidence indexes `evidenceRoot` (default: a new index owned by the routes). */
  readonly evidence?: EvidenceIndex;
  readonly hmacKey?: string;
}

/** registerDrillsApi adds the drill routes to `server`. */
export function registerDrillsApi(server: HttpServer, deps: DrillsApiDeps): void {
  const evidence = deps.evidence ?? new EvidenceIndex(deps.evidenceRoot);
  server.route('GET', '/api/v1/drills', async () => {
    const drills = [];
    for (const d of deps.drills) {
      const latest = evidence.latest(d.name);
      let verdict: unknown = null;
      if (latest) {
        const v = await evidence.verdict(latest, deps.hmacKey);
        verdict = v.kind === 'invalid' ? { decision: 'invalid', problems: v.problems } : { decision: v.report.decision, failures: v.report.failures, reasons: v.report.reasons, protection: v.protection };
      }
      drills.push({
        name: d.name,
        description: d.description,
        environments: d.environments,
        stages: d.stages.map((s) => s.name),
        latest: latest ? { dir: latest.dir, run_id: latest.run.run_id, status: latest.run.status, started_at: latest.run.started_at, finished_at: latest.run.finished_at, verdict } : null,
      });
    }
    return { body: { status: 'success', data: { drills, scheduler: deps.scheduler.status() } } };
  });

  server.route(
    'POST',
    '/api/v1/drills/:name/run',
    async (req) => {
      const name = req.params.name ?? '';
      if (!deps.drills.some((d) => d.name === name)) {
        throw new ApiError(404, 'not_found', `unknown drill '${name}'; known: ${deps.drills.map((d) => d.name).join(', ')}`);
      }
      try {
        // The drill runs in the background; its result shows in GET /api/v1/drills when done.
        await deps.scheduler.launch(name);
      } catch (err) {
        // Busy, or refused by the environment guard or a firing critical alert.
        if (isSentinelError(err)) throw new ApiError(409, 'unavailable', err.message);
        throw err;
      }
      return { status: 202, body: { status: 'success', data: { drill: name, started: true } } };
    },
    { admin: true },
  );
}
