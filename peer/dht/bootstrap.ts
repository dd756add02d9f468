// Where a node with an empty table starts: well-known routers unless told otherwise (--dht-bootstrap).
import { lookup } from "node:dns/promises";
import { isIPv6, parseIPv4, parseIPv6 } from "../../shared/compact.ts";
import { DhtError } from "./errors.ts";

export const DEFAULT_BOOTSTRAP = ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881"];

export interface HostPort {
  host: string;
  port: number;
}

/** Parses host:port or [v6]:port. */
export function parseHostPort(text: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new DhtError("bad-address", `"${text}" is not host:port`);
  return { host: m[1]!, port };
}

/** Addresses of the bootstrap nodes; a name that does not resolve is skipped. */
export async function resolveBootstrap(list: readonly string[]): Promise<{ ip: string; port: number }[]> {
  const out: { ip: string; port: number }[] = [];
  for (const entry of list) {
    const { host, port } = parseHostPort(entry);
    if (parseIPv4(host) || (isIPv6(host) && parseIPv6(host))) {
      out.push({ ip: host, port });
      continue;
    }
    try {
      for (const a of await lookup(host, { all: true })) out.push({ ip: a.address, port });
    } catch {
      // unresolvable: the other routers, or saved nodes, may do
    }
  }
  return out;
}
