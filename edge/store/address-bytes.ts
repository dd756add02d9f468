// Address bytes for new peer entries, remembered per address text: parsing the same client address
// again for each announce (split, digit checks, a fresh array) was a measurable share of one.
// Bounded: the memory starts over when full.
import { encodeCompactPeer, isIPv6, parseIPv4, parseIPv6 } from "../../shared/compact.ts";

const REMEMBERED = 4096;

export class AddressBytes {
  private readonly known = new Map<string, Uint8Array | null>();

  /**
   * The 4 or 16 address bytes of `ip`, after checking `ip` and `port` as encodeCompactPeer does (and
   * throwing its error). The bytes are shared: read them, never change them.
   */
  address(ip: string, port: number): Uint8Array {
    let addr = this.known.get(ip);
    if (addr === undefined) {
      if (this.known.size >= REMEMBERED) this.known.clear();
      addr = isIPv6(ip) ? parseIPv6(ip) : parseIPv4(ip);
      this.known.set(ip, addr);
    }
    // Bad input takes the encoder's own path, for its error.
    if (addr === null || !Number.isInteger(port) || port < 1 || port > 65535) encodeCompactPeer({ ip, port });
    return addr!;
  }

  /** The compact form (6 or 18 bytes) of `ip` and `port`; throws as encodeCompactPeer does. */
  compact(ip: string, port: number): Uint8Array {
    const addr = this.address(ip, port);
    const n = addr.length;
    const out = new Uint8Array(n + 2);
    for (let i = 0; i < n; i++) out[i] = addr[i]!;
    out[n] = port >> 8;
    out[n + 1] = port & 0xff;
    return out;
  }
}
