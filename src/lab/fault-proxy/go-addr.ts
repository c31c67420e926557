/**
 * go-addr: Go's `host:port` rules (net.SplitHostPort, ResolveTCPAddr, net.Listen error text),
 * because Toxiproxy reports listen addresses and bind failures in those exact words.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** AddrError is an address Go would refuse; `message` is Go's text for it. */
export class AddrError extends Error {}

/** ResolvedAddr is a resolved TCP address: `host` is an IP literal or '' for all interfaces. */
export interface ResolvedAddr {
  readonly host: string;
  readonly port: number;
}

function addrError(addr: string, why: string): never {
  throw new AddrError(addr !== '' ? `address ${addr}: ${why}` : why);
}

/** splitHostPort is Go's net.SplitHostPort. */
export function splitHostPort(hostport: string): { host: string; port: string } {
  const i = hostport.lastIndexOf(':');
  if (i < 0) addrError(hostport, 'missing port in address');
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0) addrError(hostport, "missing ']' in address");
    if (end + 1 === hostport.length) addrError(hostport, 'missing port in address');
    if (end + 1 !== i) {
      if (hostport[end + 1] === ':') addrError(hostport, 'too many colons in address');
      addrError(hostport, 'missing port in address');
    }
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) addrError(hostport, 'too many colons in address');
  }
  if (hostport.slice(j).includes('[')) addrError(hostport, "unexpected '[' in address");
  if (hostport.slice(k).includes(']')) addrError(hostport, "unexpected ']' in address");
  return { host, port: hostport.slice(i + 1) };
}

function parsePort(port: string): number {
  if (port === '') return 0;
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    if (n > 65535) addrError(port, 'invalid port');
    return n;
  }
  throw new AddrError(`lookup tcp/${port}: unknown port`);
}

/** resolveTcpAddr is Go's net.ResolveTCPAddr("tcp", addr), preferring IPv4 like Go's listener. */
export async function resolveTcpAddr(addr: string, signal?: AbortSignal): Promise<ResolvedAddr> {
  if (addr === '') return { host: '', port: 0 };
  const { host, port } = splitHostPort(addr);
  const portNum = parsePort(port);
  if (host === '' || isIP(host) !== 0) return { host, port: portNum };
  if (host.toLowerCase() === 'localhost') return { host: '127.0.0.1', port: portNum };
  signal?.throwIfAborted();
  try {
    const all = await lookup(host, { all: true });
    const pick = all.find((a) => a.family === 4) ?? all[0];
    if (!pick) throw new AddrError(`lookup ${host}: no such host`);
    return { host: pick.address, port: portNum };
  } catch (err) {
    if (err instanceof AddrError) throw err;
    throw new AddrError(`lookup ${host}: no such host`, { cause: err });
  }
}

/** formatAddr is Go's TCPAddr.String(): `1.2.3.4:80`, `[::1]:80`, `:80` for no host. */
export function formatAddr(a: ResolvedAddr): string {
  if (a.host === '') return `:${a.port}`;
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** listenErrorText is the Go text of a failed `net.Listen("tcp", …)` for a Node bind error. */
export function listenErrorText(resolved: ResolvedAddr, err: NodeJS.ErrnoException): string {
  const where = formatAddr(resolved.host === '' || resolved.host === '0.0.0.0' ? { host: '::', port: resolved.port } : resolved);
  const syscallText: Record<string, string> = {
    EADDRINUSE: 'bind: address already in use',
    EACCES: 'bind: permission denied',
    EADDRNOTAVAIL: 'bind: cannot assign requested address',
  };
  return `listen tcp ${where}: ${syscallText[err.code ?? ''] ?? err.message}`;
}
