/**
 * ToxiproxyFaultDriver drives Toxiproxy (or the lab's compatible fault proxy) through
 * toxiproxy-node-client, the only way drills talk to it. The client has no timeouts and drops
 * the server's error bodies, so its requests get a deadline and keep Toxiproxy's own error text
 * (`{"error": "proxy not found", "status": 404}`, Toxiproxy `api.go` apiError), and failures
 * become FaultProxyError naming the endpoint, the operation and that text.
 */
import { Toxiproxy, ToxiproxyError } from 'toxiproxy-node-client';
import type { ICreateToxicBody } from 'toxiproxy-node-client';
import { FaultProxyError } from '../errors.js';
import { httpExchange } from '../net/index.js';
import type { FaultDriver, ProxySpec, ProxyState, ToxicSpec } from './fault-driver.js';

/** ToxiproxyFaultDriverOptions configure one driver. */
export interface ToxiproxyFaultDriverOptions {
  /** url is the API base, e.g. http://127.0.0.1:8474 (no trailing slash). */
  readonly url: string;
  /** timeoutMs bounds every API call (default 5000). */
  readonly timeoutMs?: number;
}

interface RawToxic {
  name: string;
  type: string;
  stream: string;
  toxicity: number;
  attributes: Record<string, number>;
}
interface RawProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics?: RawToxic[];
}

/** ToxiproxyFaultDriver implements FaultDriver over toxiproxy-node-client 4.x. */
export class ToxiproxyFaultDriver implements FaultDriver {
  readonly endpoint: string;
  private readonly client: Toxiproxy;
  private readonly timeoutMs: number;

  constructor(options: ToxiproxyFaultDriverOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new FaultProxyError(`toxiproxy url '${options.url}' is not a URL; set drills.toxiproxy_url to e.g. http://127.0.0.1:8474`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new FaultProxyError(`toxiproxy url '${options.url}' must be http(s)`);
    }
    this.endpoint = options.url.replace(/\/+$/, '');
    this.client = new Toxiproxy(this.endpoint);
    this.timeoutMs = options.timeoutMs ?? 5000;
    if (!(this.timeoutMs > 0)) throw new FaultProxyError(`toxiproxy timeoutMs must be > 0 (got ${this.timeoutMs})`);
    keepErrorBodies(this.client, this.timeoutMs);
  }

  async version(): Promise<string> {
    const text = await this.call('GET /version', () => this.client.getVersion());
    // 2.7+ answers {"version": "x"}; 2.5 and older answer the bare version string.
    try {
      const parsed = JSON.parse(text) as { version?: unknown };
      if (typeof parsed.version === 'string') return parsed.version;
    } catch {
      // fall through: plain-text versions of old servers
    }
    return String(text).trim();
  }

  async listProxies(): Promise<ProxyState[]> {
    const res = await this.call('GET /proxies', () => this.client.getApi().get<Record<string, RawProxy>>(`${this.endpoint}/proxies`));
    const data = res.data ?? {};
    return Object.values(data).map((p) => ({
      name: p.name,
      listen: p.listen,
      upstream: p.upstream,
      enabled: p.enabled,
      toxics: (p.toxics ?? []).map((t) => ({
        name: t.name,
        type: t.type as ToxicSpec['type'],
        stream: (t.stream.toLowerCase() === 'upstream' ? 'upstream' : 'downstream') as ToxicSpec['stream'],
        toxicity: t.toxicity,
        attributes: t.attributes ?? {},
      })),
    }));
  }

  async ensureProxies(proxies: readonly ProxySpec[]): Promise<void> {
    if (proxies.length === 0) return;
    const existing = new Map((await this.listProxies()).map((p) => [p.name, p]));
    const missing = proxies.filter((p) => !existing.has(p.name));
    // populate keeps equal proxies untouched, but would replace one whose listen differs only
    // by an ephemeral port; creating just the missing ones never disturbs live connections.
    for (const p of missing) {
      const { listen, upstream } = p;
      if (listen === undefined || upstream === undefined) {
        throw new FaultProxyError(`proxy '${p.name}' does not exist on ${this.endpoint}; create it there or give listen and upstream in the drill file`);
      }
      await this.call(`POST /proxies (${p.name})`, () => this.client.createProxy({ name: p.name, listen, upstream, enabled: true }));
    }
  }

  async addToxic(proxy: string, toxic: ToxicSpec): Promise<void> {
    const body: ICreateToxicBody<Record<string, number>> = {
      name: toxic.name,
      type: toxic.type,
      stream: toxic.stream,
      toxicity: toxic.toxicity,
      attributes: { ...toxic.attributes },
    };
    const p = await this.call(`GET /proxies/${proxy}`, () => this.client.get(proxy));
    await this.call(`POST /proxies/${proxy}/toxics (${toxic.name})`, () => p.addToxic(body));
  }

  async removeToxic(proxy: string, toxicName: string): Promise<void> {
    try {
      await this.call(`DELETE /proxies/${proxy}/toxics/${toxicName}`, () => this.client.getApi().delete(`${this.endpoint}/proxies/${proxy}/toxics/${toxicName}`));
    } catch (err) {
      if (!(err instanceof FaultProxyError && err.status === 404)) throw err;
      // Toxiproxy answers 404 both for a missing toxic and for a missing proxy. Only a proxy that
      // still exists without the toxic proves the toxic gone; a vanished proxy proves nothing
      // (it may come back, with the toxic, from the operators' config).
      const state = (await this.listProxies()).find((p) => p.name === proxy);
      if (state === undefined) {
        throw new FaultProxyError(`${err.message}; proxy '${proxy}' no longer exists on ${this.endpoint}, so toxic '${toxicName}' cannot be proven removed`, { cause: err, status: 404 });
      }
      if (state.toxics.some((t) => t.name === toxicName)) throw err;
    }
  }

  async setProxyEnabled(proxy: string, enabled: boolean): Promise<void> {
    // Send only {enabled}: re-sending listen "...:0" would rebind to a new port (Toxiproxy `api.go` ProxyUpdate applies every field sent).
    await this.call(`POST /proxies/${proxy} (enabled=${enabled})`, () => this.client.getApi().post(`${this.endpoint}/proxies/${proxy}`, { enabled }));
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FaultProxyError(`${operation} at ${this.endpoint} timed out after ${this.timeoutMs} ms; is the fault proxy running?`)), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      if (err instanceof FaultProxyError) throw err;
      if (err instanceof ToxiproxyApiError) {
        throw new FaultProxyError(`${operation} at ${this.endpoint} failed with HTTP ${err.status}${err.serverText ? `: ${err.serverText}` : ''}`, { cause: err, status: err.status });
      }
      const message = err instanceof Error ? err.message : String(err);
      throw new FaultProxyError(`${operation} at ${this.endpoint} failed: ${message}; is the fault proxy running?`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** ToxiproxyApiError is a non-2xx answer with the server's own error text. */
class ToxiproxyApiError extends ToxiproxyError {
  constructor(
    readonly status: number,
    readonly serverText: string,
  ) {
    super('ToxiproxyApiError', `Request failed with status code ${status}${serverText ? `: ${serverText}` : ''}`);
  }
}

/** serverErrorText reads Toxiproxy's `{"error": "...", "status": N}` body, or its plain text. */
function serverErrorText(body: string): string {
  const text = body.trim();
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // Not JSON: a proxy in front of Toxiproxy, or an old server; its text is still the best clue.
  }
  return text.slice(0, 200);
}

/** MAX_API_ANSWER_BYTES bounds one answer of the Toxiproxy API (a proxy list is a few KiB). */
const MAX_API_ANSWER_BYTES = 8 << 20;

/** FetchedAnswer is the part of a fetch Response that toxiproxy-node-client's HttpClient reads. */
interface FetchedAnswer {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
}

/**
 * keepErrorBodies replaces the fetch step of this client instance (toxiproxy-node-client's
 * HttpClient reads nothing of a failed response) so a failure carries Toxiproxy's own text, and
 * bounds each request, so an abandoned call does not keep a socket open. The request goes over
 * net/http-exchange.ts rather than the global fetch, which would load undici into the daemon.
 */
function keepErrorBodies(client: Toxiproxy, timeoutMs: number): void {
  const api = client.getApi() as unknown as { doFetch: (url: string, init: { method: string; body?: string; headers?: Record<string, string> }) => Promise<FetchedAnswer> };
  api.doFetch = async (url, init) => {
    let status: number;
    let body: string;
    try {
      const res = await httpExchange({ method: init.method, url: new URL(url), headers: init.headers, body: init.body, timeoutMs, maxResponseBytes: MAX_API_ANSWER_BYTES });
      status = res.status;
      body = res.body.toString('utf8');
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      throw new ToxiproxyError(err.name, err.message, err.stack);
    }
    if (status < 200 || status > 299) throw new ToxiproxyApiError(status, serverErrorText(body));
    return { ok: true, status, text: () => Promise.resolve(body) };
  };
}
