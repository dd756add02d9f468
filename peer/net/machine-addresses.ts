// The machine's own IP addresses, in the compact codec's canonical forms: what PEX and the DHT compare a
// peer's address with, so that we never dial ourselves. Read once per process, when first needed (a
// daemon holds thousands of torrents; most never need it).
import { networkInterfaces } from "node:os";
import { formatIPv6, parseIPv6 } from "../../shared/compact.ts";

let machineIps: ReadonlySet<string> | null = null;

export function machineAddresses(): ReadonlySet<string> {
  machineIps ??= readInterfaces();
  return machineIps;
}

function readInterfaces(): Set<string> {
  const ips = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      const v6 = info.family === "IPv6" ? parseIPv6(info.address) : null;
      ips.add(v6 ? formatIPv6(v6) : info.address);
    }
  }
  return ips;
}
