// Where a udp:// tracker URL points: the host resolved to one address of one family, and the port.
// BEP 15 URLs carry a path (`/announce`) that the protocol itself does not send; it is ignored.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Family } from "../../shared/udp-tracker/index.ts";
import { UdpTrackerError } from "./udp-tracker-error.ts";

export interface UdpTarget {
  address: string;
  port: number;
  family: Family;
}

/** Host and port of a udp:// URL (IPv6 literals without their brackets); throws "bad-url". */
export function parseUdpTrackerUrl(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UdpTrackerError("bad-url", `not a URL: ${url}`);
  }
  const port = Number(parsed.port);
  if (parsed.protocol !== "udp:" || parsed.hostname === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UdpTrackerError("bad-url", `not a udp://host:port tracker URL: ${url}`);
  }
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port };
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }>;

/** The system resolver (getaddrinfo), in its order of preference. */
export const systemResolver: Resolver = (host) => lookup(host);

/** The URL's target; IP literals are taken as they are, names go through `resolve`. */
export async function resolveUdpTarget(url: string, resolve: Resolver = systemResolver): Promise<UdpTarget> {
  const { host, port } = parseUdpTrackerUrl(url);
  const literal = isIP(host);
  if (literal === 4 || literal === 6) return { address: host, port, family: literal };
  let found: { address: string; family: number };
  try {
    found = await resolve(host);
  } catch (error) {
    throw new UdpTrackerError("unresolvable", `cannot resolve ${host}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (found.family !== 4 && found.family !== 6) throw new UdpTrackerError("unresolvable", `cannot resolve ${host}: family ${found.family}`);
  return { address: found.address, port, family: found.family };
}
