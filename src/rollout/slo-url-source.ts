/**
 * HttpSloUrlSource: reads an external SLO snapshot (`--slo-snapshot-url`) the way the operators'
 * script does: a plain GET with no credentials, any non-2xx or transport failure is a failure
 * (`curl -fsS`), and the values are read top level first, else under `sync`.
 */
import { bodyExcerpt, httpRequest, parseJsonBig } from '../spacetime/index.js';
import type { SloUrlFetch, SloUrlSource } from './rollout-deps.js';
import { readSloValues } from './slo-snapshot.js';

/** HttpSloUrlSource fetches one URL. */
export class HttpSloUrlSource implements SloUrlSource {
  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async fetch(signal: AbortSignal): Promise<SloUrlFetch> {
    try {
      const res = await httpRequest({ method: 'GET', url: new URL(this.url), headers: { accept: 'application/json' }, timeoutMs: this.timeoutMs, maxResponseBytes: 1024 * 1024, signal });
      if (res.status < 200 || res.status > 299) return { ok: false, error: `HTTP ${res.status}${res.body ? `: ${bodyExcerpt(res.body)}` : ''}` };
      let doc: unknown;
      try {
        doc = parseJsonBig(res.body);
      } catch {
        doc = undefined;
      }
      return { ok: true, body: res.body, values: readSloValues(doc) };
    } catch (err) {
      if (signal.aborted) throw err;
      return { ok: false, error: (err as Error).message };
    }
  }
}
