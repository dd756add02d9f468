// Whether an IP address is this machine's own: the one test behind the send buffer's local bound
// (net/local-send-buffer.ts), the DHT's loopback-only mode and the API's token rule (daemon/api-token.ts),
// so that no spelling of an address counts as loopback for one of them and not for another.
import { isIPv6, parseIPv4, parseIPv6 } from "../../shared/compact.ts";

/**
 * True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z), in any spelling shared/compact.ts
 * parses ("::0:1", "0:0:0:0:0:0:0:1", "::ffff:7f00:1"; brackets and a zone, which it drops, change nothing).
 * The wildcard addresses (0.0.0.0, ::), the deprecated IPv4-compatible ::127.0.0.1 and anything that is
 * not an address are not loopback.
 */
export function isLoopbackAddress(ip: string): boolean {
  const addr = isIPv6(ip) ? parseIPv6(ip) : parseIPv4(ip);
  if (!addr) return false;
  if (addr.length === 4) return addr[0] === 127;
  for (let i = 0; i < 10; i++) if (addr[i] !== 0) return false;
  if (addr[10] === 0xff && addr[11] === 0xff) return addr[12] === 127; // ::ffff:127.x.y.z
  return addr[10] === 0 && addr[11] === 0 && addr[12] === 0 && addr[13] === 0 && addr[14] === 0 && addr[15] === 1; // ::1
}
