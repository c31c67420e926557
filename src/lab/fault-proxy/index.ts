/**
 * lab/fault-proxy: the lab's Toxiproxy 2.12.0 stand-in. `startFaultProxy` serves Toxiproxy's
 * HTTP API (statuses, bodies, quirks and check order as Toxiproxy's `api.go`) and proxies TCP
 * through live-changeable toxics, so drills drive it with toxiproxy-node-client unchanged.
 */
export { startFaultProxy, FAULT_PROXY_VERSION } from './fault-proxy-server.js';
export type { FaultProxyOptions, FaultProxyServer } from './fault-proxy-server.js';
export { TOXIC_KINDS } from './toxics/index.js';
export type { ToxicKind } from './toxics/index.js';
