/**
 * ToxiproxyFaultDriver drives Toxiproxy (or the lab's compatible fault proxy) through
 * toxiproxy-node-client, the only way drills talk to it. The client has no timeouts and hides
 * the server's error bodies, so every call is raced against a deadline here and failures become
 * FaultProxyError naming the endpoint and the operation.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import type { ICreateToxicBody } from 'toxiproxy-node-client';
import { FaultProxyError } from '../errors.js';
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
      if (err instanceof FaultProxyError && err.status === 404) return;
      throw err;
    }
  }

  async setProxyEnabled(proxy: string, enabled: boolean): Promise<void> {
    // Send only {enabled}: re-sending listen "...:0" would rebind to a new port (PROTOCOLS §B.3).
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
      const message = err instanceof Error ? err.message : String(err);
      const status = /status code (\d{3})/.exec(message)?.[1];
      if (status !== undefined) {
        throw new FaultProxyError(`${operation} at ${this.endpoint} failed with HTTP ${status}`, { cause: err, status: Number(status) });
      }
      throw new FaultProxyError(`${operation} at ${this.endpoint} failed: ${message}; is the fault proxy running?`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
