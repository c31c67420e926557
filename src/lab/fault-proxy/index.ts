export { startFaultProxy, FAULT_PROXY_VERSION } from './fault-proxy-server.js';
export type { FaultProxyOptions, FaultProxyServer } from './fault-proxy-server.js';
export { TOXIC_KINDS } from './toxics/index.js';
