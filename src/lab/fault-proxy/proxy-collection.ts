import { AddrError, formatAddr, resolveTcpAddr } from './go-addr.js';
import type { ProxyOptions } from './proxy.js';
import { Proxy } from './proxy.js';
import { apiError } from './toxic-collection.js';

/** ProxyInput is a create/populate entry after decoding. */
export interface ProxyInput {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
}

/** ProxyCollection holds the proxies by name (Toxiproxy's ProxyCollection). */
export class ProxyCollection {
  private readonly proxies = new Map<string, Proxy>();

  constructor(private readonly opts: ProxyOptions) {}

  /** sorted returns the proxies ordered by name (Go marshals map keys sorted). */
  sorted(): Proxy[] {
    return [...this.proxies.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): Proxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw apiError('proxy not found', 404);
    return proxy;
  }

  /** add creates a proxy: 409 if the name exists (checked before binding); not kept if binding fails. */
  async add(input: ProxyInput): Promise<Proxy> {
    if (this.proxies.has(input.name)) throw apiError('proxy already exists', 409);
    const proxy = new Proxy(input.name, input.listen, input.upstream, this.opts);
    if (input.enabled) await proxy.start();
    if (this.proxies.has(input.name)) {
      await proxy.stop();
      throw apiError('proxy already exists', 409);
    }
    this.proxies.set(input.name, proxy);
    return proxy;
  }

  /**
   * addOrReplace is populate's step: an existing proxy with the same resolved listen and the same
   * upstream is kept untouched (enabled state and toxics included); otherwise it is stopped and
   * replaced by a fresh one.
   */
  async addOrReplace(input: ProxyInput): Promise<Proxy> {
    const existing = this.proxies.get(input.name);
    if (existing) {
      let resolvedListen: string | undefined;
      try {
        resolvedListen = formatAddr(await resolveTcpAddr(input.listen));
      } catch (err) {
        if (!(err instanceof AddrError)) throw err;
      }
      if (existing.listen === resolvedListen && existing.upstream === input.upstream) return existing;
      await existing.stop();
    }
    const proxy = new Proxy(input.name, input.listen, input.upstream, this.opts);
    if (input.enabled) await proxy.start();
    this.proxies.set(input.name, proxy);
    return proxy;
  }

  /** remove stops a proxy and forgets it together with its toxics. */
  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    this.proxies.delete(name);
    await proxy.stop();
  }

  /** closeAll stops every proxy (server shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((p) => p.stop()));
  }
}
