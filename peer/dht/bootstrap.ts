// Where a node with an empty table starts: well-known routers unless told otherwise (--dht-bootstrap).
import { lookup } from "node:dns/promises";
import { isIPv6, parseIPv4, parseIPv6 } from "../../shared/compact.ts";
import { DhtError } from "./errors.ts";
import { isLoopbackAddress } from "../net/loopback.ts";

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

export interface ResolveOptions {
  /**
   * Tests: only loopback addresses, and no name is looked up (a DNS query may leave the machine), save
   * "localhost": the default routers are then skipped, never asked.
   */
  loopbackOnly?: boolean;
  /** The resolver (default node:dns lookup). */
  lookup?: (host: string) => Promise<{ address: string }[]>;
}

/** Addresses of the bootstrap nodes, resolved only now (when a node with no saved table needs them); a name that does not resolve is skipped. */
export async function resolveBootstrap(list: readonly string[], options: ResolveOptions = {}): Promise<{ ip: string; port: number }[]> {
  const out: { ip: string; port: number }[] = [];
  const resolve = options.lookup ?? ((host: string) => lookup(host, { all: true }));
  for (const entry of list) {
    const { host, port } = parseHostPort(entry);
    if (parseIPv4(host) || (isIPv6(host) && parseIPv6(host))) {
      if (!options.loopbackOnly || isLoopbackAddress(host)) out.push({ ip: host, port });
      continue;
    }
    if (options.loopbackOnly) {
      if (host === "localhost") out.push({ ip: "127.0.0.1", port });
      continue;
    }
    try {
      for (const a of await resolve(host)) out.push({ ip: a.address, port });
    } catch {
      // unresolvable: the other routers, or saved nodes, may do
    }
  }
  return out;
}
