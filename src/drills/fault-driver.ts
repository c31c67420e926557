/**
 * FaultDriver is everything a drill needs from a fault proxy. The real one is Toxiproxy, reached
 * only through toxiproxy-node-client (`ToxiproxyFaultDriver`); the lab's fault proxy speaks the
 * same API, so drills cannot tell them apart.
 */

/** ToxicTypes are Toxiproxy 2.12's built-in toxics (`down` is a proxy state, not a toxic). */
export const ToxicTypes = ['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data'] as const;
export type ToxicType = (typeof ToxicTypes)[number];

/** ToxicStreams are the two link directions: upstream = client→server, downstream = server→client. */
export const ToxicStreams = ['upstream', 'downstream'] as const;
export type ToxicStream = (typeof ToxicStreams)[number];

/** ProxySpec is one allowlisted proxy of a drill file. */
export interface ProxySpec {
  readonly name: string;
  /** listen and upstream create the proxy when it is missing; without them it must exist. */
  readonly listen?: string;
  readonly upstream?: string;
}

/** ToxicSpec is one toxic to add, already validated. */
export interface ToxicSpec {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: ToxicStream;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

/** ProxyState is what the fault proxy reports for one proxy. */
export interface ProxyState {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly ToxicSpec[];
}

/** FaultDriver adds and removes faults; every call is bounded by `timeoutMs` of its options. */
export interface FaultDriver {
  /** endpoint names the fault proxy for messages (its base URL). */
  readonly endpoint: string;
  version(): Promise<string>;
  listProxies(): Promise<ProxyState[]>;
  /** ensureProxies creates missing proxies that have addresses; it fails naming a missing one without. Existing proxies are never changed. */
  ensureProxies(proxies: readonly ProxySpec[]): Promise<void>;
  addToxic(proxy: string, toxic: ToxicSpec): Promise<void>;
  /** removeToxic succeeds when the toxic is already gone from a proxy that exists; a missing proxy is an error (nothing proves the toxic gone). */
  removeToxic(proxy: string, toxicName: string): Promise<void>;
  setProxyEnabled(proxy: string, enabled: boolean): Promise<void>;
}
